// The Solver's activation budget against what its constructor really allocates: both come from one description
// (Solver::buffers in model.cpp); this holds the description to the allocations, counted by a replaced operator new.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <memory>
#include <new>

#include "test_util.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<uint64_t> g_counted{0};
}  // namespace

// The whole test binary's operator new: a malloc that adds up the bytes while counting is on.
void* operator new(size_t n) {
    if (g_counting.load(std::memory_order_relaxed)) g_counted += n;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
// Every form a pair can take is replaced, so that nothing the runtime allocates with its own new (the nothrow one,
// say) is released by this free: AddressSanitizer reports that as an alloc-dealloc mismatch.
void* operator new(size_t n, const std::nothrow_t&) noexcept {
    if (g_counting.load(std::memory_order_relaxed)) g_counted += n;
    return std::malloc(n ? n : 1);
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new[](size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

using namespace trm;

TEST_CASE("the activation budget counts what a Solver allocates, in every kernel path", "[solver]") {
    for (bool mlp_t : {false, true})
        for (bool int8 : {false, true})
            for (bool simd : {false, true})
                for (int threads : {1, 3})
                    for (int batch : {1, 5}) {
                        Config c = test::tiny_config(mlp_t);
                        c.hidden_size = 16;  // two heads of 8; I = 256 > S, D: the int8 scratch is sized by I
                        const auto bytes = test::tiny_model_writer(c, 1, int8).bytes();
                        auto m = Model::load(bytes.data(), bytes.size(), "tiny", simd);
                        REQUIRE(m->int8_kernels() == (int8 && simd));
                        INFO("mlp_t " << mlp_t << ", int8 " << int8 << ", simd " << simd << ", threads " << threads << ", batch " << batch);
                        // Beyond its buffers, a Solver allocates only its thread pool.
                        g_counted = 0;
                        g_counting = true;
                        auto pool = std::make_unique<ThreadPool>(threads);
                        g_counting = false;
                        pool.reset();
                        const uint64_t pool_bytes = g_counted;
                        g_counted = 0;
                        g_counting = true;
                        auto solver = std::make_unique<Solver>(m, batch, threads);
                        g_counting = false;
                        CHECK(g_counted - sizeof(Solver) - pool_bytes == Solver::activation_bytes(*m, batch, threads));
                    }
}
