// GEMM microbenchmark: every packed SIMD kernel (kernels.h kGemmPackedKernels) and the Eigen path (gemm_nt) on the
// shapes a TRM step runs, plus a large square for the machine's peak. Built natively (build/native/gemm_bench) and
// for WASM (build/wasm/gemm_bench.mjs, scripts/build_wasm_tests.sh); scripts/bench.mjs runs it.
//   gemm_bench [--reps N] [--min-ms T] [--shapes peak|all|NAME] [--cold 1]
// --cold 1: each call reads another copy of the packed weights (copies enough to pass 32 MB), so that the weights
// come from L3 or memory as in a step, which cycles through more weights than L2 holds; the x block stays warm.
// Each figure is the best of N repetitions, each running the product enough times to take T ms: on a shared,
// loaded machine the best is the least disturbed. Output: one JSON line per (shape, kernel), then one summary line
// {"summary": ...} with the best float kernel per shape and the peak (the best float kernel on the large square),
// with the clock estimated from a dependent multiply chain and the peak's flops per cycle.
// The integer kernels (int8 weights, kGemmI16Kernels) are timed on the same shapes, their operands quantised
// beforehand (the engine quantises activations once per product: O(MK) against the product's O(MNK)); their rows
// carry "int8":true and stay out of the float summary. On the gate_up shapes the fused SwiGLU kernels
// (kGemmSwigluKernels: the same product plus the gating) are timed too.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "kernels.h"

using namespace trm;

namespace {

struct Shape {
    const char* name;
    int M, N, K;
};

// y[M, N] = x[M, K] w[N, K]^T as the engine runs them (S = 97 sudoku, 916 maze/ARC; D 512, I 1536).
const Shape kShapes[] = {
    {"square512", 512, 512, 512},
    {"sudoku_mlp_gate_up", 97, 3072, 512},
    {"sudoku_mlp_down", 97, 512, 1536},
    {"sudoku_mlp_t_gate_up", 1024, 512, 97},   // [2I_t, S] x h [S, D] (h packed as the right operand)
    {"sudoku_mlp_t_down", 97, 512, 512},       // [S, I_t] x act [I_t, D]
    {"att_qkv", 916, 1536, 512},
    {"att_scores", 916, 916, 64},
    {"att_pv", 916, 64, 916},
    {"att_mlp_gate_up", 916, 3072, 512},
    {"att_mlp_down", 916, 512, 1536},
};

double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::vector<float> rnd(size_t n, unsigned seed) {
    std::vector<float> v(n);
    for (float& x : v) {
        seed = seed * 1664525u + 1013904223u;
        x = float(int(seed >> 9) % 2001 - 1000) / 1000.f;
    }
    return v;
}

// Iterations of f that take about min_ms.
template <typename F>
int calibrate(F&& f, double min_ms) {
    f();  // warm-up (and page-in)
    int iters = 1;
    for (;;) {
        const double t0 = now_ms();
        for (int i = 0; i < iters; ++i) f();
        const double t = now_ms() - t0;
        if (t >= min_ms || iters >= (1 << 20)) return iters;
        iters = t <= 0 ? iters * 8 : std::max(iters + 1, int(iters * min_ms / t * 1.1));
    }
}

template <typename F>
double time_ms(F&& f, int iters) {
    const double t0 = now_ms();
    for (int i = 0; i < iters; ++i) f();
    return (now_ms() - t0) / iters;
}

// The core's clock, estimated from a chain of dependent 64-bit multiplies: 3 cycles each on current x86 cores
// (imul r64; WASM i64.mul compiles to it), so the chain runs at clock / 3. Divides the peak into flops per cycle.
double clock_ghz_estimate() {
    volatile uint64_t seed = 3;
    const long n = 100000000;
    double best = 0;
    for (int rep = 0; rep < 3; ++rep) {
        uint64_t x = seed;
        const double t0 = now_ms();
        for (long i = 0; i < n; ++i) x *= x;
        const double ms = now_ms() - t0;
        seed = x;  // keeps the chain alive
        best = std::max(best, 3.0 * double(n) / ms / 1e6);
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    int reps = 7;
    double min_ms = 20;
    bool all = true, cold = false;
    const char* only = nullptr;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--min-ms")) min_ms = std::atof(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--shapes")) {
            all = std::strcmp(argv[i + 1], "peak") != 0;
            if (all && std::strcmp(argv[i + 1], "all") != 0) only = argv[i + 1];
        } else if (!std::strcmp(argv[i], "--cold")) cold = std::atoi(argv[i + 1]) != 0;
    }
    std::string summary = "{\"summary\":{\"isa\":\"" + std::string(simd_name()) + "\",\"shapes\":{";
    double peak = 0;
    std::string peak_kernel;
    bool first_shape = true;
    for (const Shape& s : kShapes) {
        if (!all && std::strcmp(s.name, "square512") != 0) continue;
        if (only && std::strcmp(s.name, only) != 0) continue;
        const auto x = rnd(size_t(s.M) * s.K, 1), w = rnd(size_t(s.N) * s.K, 2);
        const size_t copies = cold ? (size_t(32) << 20) / (packed_size(s.N, s.K) * sizeof(float)) + 1 : 1;
        std::vector<std::vector<float>> panel_copies(copies, pack_panels(w.data(), s.N, s.K));
        size_t turn = 0;
        auto panels_next = [&]() -> const float* { return panel_copies[turn++ % copies].data(); };
        std::vector<float> y(size_t(s.M) * s.N);
        const double flop = 2.0 * s.M * s.N * s.K;
        std::string best_name;
        double best_gf = 0;
        auto report = [&](const char* kernel, double ms, bool int8) {
            const double gf = flop / ms / 1e6;
            std::printf("{\"shape\":\"%s\",\"M\":%d,\"N\":%d,\"K\":%d,\"kernel\":\"%s\",\"ms\":%.4f,\"gflops\":%.2f%s}\n", s.name,
                        s.M, s.N, s.K, kernel, ms, gf, int8 ? ",\"int8\":true" : "");
            std::fflush(stdout);
            if (!int8 && gf > best_gf) best_gf = gf, best_name = kernel;
        };
        // int8 operands: w rounded to int8, x quantised per row.
        std::vector<int8_t> w8(w.size());
        for (size_t i = 0; i < w.size(); ++i) w8[i] = int8_t(w[i] * 127.f);
        std::vector<int16_t> pairs(pair_panels_size(s.N, s.K)), xq(size_t(s.M) * i16_padded_k(s.K));
        std::vector<float> xs(size_t(s.M)), ws(size_t(s.N), 1.f / 127.f);
        pack_pair_panels_i8(s.N, s.K, w8.data(), pairs.data());
        quantize_rows_i16(s.M, s.K, x.data(), s.K, i16_range(s.K), xq.data(), i16_padded_k(s.K), xs.data());
        // Candidates are timed in turns (rep 1 of each, rep 2 of each, ...) so that a busy spell of a shared
        // machine slows every candidate a little rather than one a lot.
        struct Candidate {
            const char* name;
            std::function<void()> run;
            bool int8;
        };
        std::vector<Candidate> cands;
        cands.push_back({"eigen_gemm_nt", [&] { gemm_nt(s.M, s.N, s.K, x.data(), s.K, w.data(), s.K, y.data(), s.N); }, false});
        for (int k = 0; k < kGemmPackedKernelCount; ++k) {
            const GemmPackedKernel& g = kGemmPackedKernels[k];
            cands.push_back({g.name, [&, g] { g.fn(s.M, s.N, s.K, x.data(), s.K, panels_next(), y.data(), s.N); }, false});
        }
        // The fused SwiGLU kernels on the gate_up shapes: the same products (N = 2I), plus the gating.
        const bool gate_up = std::strstr(s.name, "mlp_gate_up") != nullptr;
        std::vector<std::vector<float>> pair_copies;
        if (gate_up) {
            std::vector<float> pairs(swiglu_packed_size(s.N / 2, s.K));
            pack_swiglu_panels_into(s.N / 2, s.K, w.data(), pairs.data());
            pair_copies.assign(copies, pairs);
            for (int k = 0; k < kGemmSwigluKernelCount; ++k) {
                const GemmSwigluKernel& g = kGemmSwigluKernels[k];
                cands.push_back({g.name, [&, g] {
                    g.fn(s.M, s.N / 2, s.K, x.data(), s.K, pair_copies[turn++ % copies].data(), y.data(), s.N / 2);
                }, false});
            }
        }
        for (int k = 0; k < kGemmI16KernelCount; ++k) {
            const GemmI16Kernel& g = kGemmI16Kernels[k];
            cands.push_back({g.name, [&, g] {
                g.fn(s.M, s.N, s.K, xq.data(), i16_padded_k(s.K), xs.data(), pairs.data(), ws.data(), y.data(), s.N);
            }, true});
        }
        std::vector<int> iters;
        std::vector<double> best(cands.size(), 1e300);
        for (auto& c : cands) iters.push_back(calibrate(c.run, min_ms));
        for (int r = 0; r < reps; ++r)
            for (size_t c = 0; c < cands.size(); ++c) best[c] = std::min(best[c], time_ms(cands[c].run, iters[c]));
        for (size_t c = 0; c < cands.size(); ++c) report(cands[c].name, best[c], cands[c].int8);
        summary += std::string(first_shape ? "" : ",") + "\"" + s.name + "\":{\"kernel\":\"" + best_name +
                   "\",\"gflops\":" + std::to_string(best_gf) + "}";
        first_shape = false;
        if (!std::strcmp(s.name, "square512")) peak = best_gf, peak_kernel = best_name;
    }
    const double ghz = clock_ghz_estimate();
    std::printf("%s},\"peak_gflops\":%.2f,\"peak_kernel\":\"%s\",\"clock_ghz_estimate\":%.2f,\"peak_flops_per_cycle\":%.1f}}\n",
                summary.c_str(), peak, peak_kernel.c_str(), ghz, ghz > 0 ? peak / ghz : 0.0);
    return 0;
}
