// The pool's contract: every item of every loop runs exactly once, the call returns only after all of them,
// whether the workers were polling (back-to-back loops) or asleep (a pause longer than their polling).
#include <catch2/catch.hpp>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "thread_pool.h"

using trm::ThreadPool;

static void check_loop(ThreadPool& pool, int n) {
    std::vector<std::atomic<int>> hits(size_t(n) + 1);
    for (auto& h : hits) h.store(0);
    pool.parallel_for(n, [&](int i) { hits[size_t(i)].fetch_add(1); });
    int wrong = 0;
    for (int i = 0; i < n; ++i) wrong += hits[size_t(i)].load() != 1;
    CHECK(wrong == 0);
    CHECK(hits[size_t(n)].load() == 0);  // no index past n
}

TEST_CASE("thread pool runs every item once, in back-to-back loops and after its threads slept", "[thread_pool]") {
    for (int threads : {1, 2, 3, 5}) {
        INFO("threads " << threads);
        ThreadPool pool(threads);
        CHECK(pool.size() == threads);
        for (int loop = 0; loop < 2000; ++loop) check_loop(pool, loop % 37);  // includes n = 0 and 1 (inline)
        // Longer than the polling, so the workers sleep on the condition variable and must be woken.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        check_loop(pool, 64);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        // Items that take long enough for the caller to finish first and wait for the workers.
        std::atomic<int> done{0};
        pool.parallel_for(threads, [&](int i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(i == 0 ? 0 : 5));
            done.fetch_add(1);
        });
        CHECK(done.load() == threads);
    }
}

TEST_CASE("thread pool is destroyed cleanly with its threads polling or asleep", "[thread_pool]") {
    { ThreadPool pool(3); }  // never used: workers asleep or polling from the start
    {
        ThreadPool pool(3);
        check_loop(pool, 10);  // destroyed right after a loop, workers polling
    }
    {
        ThreadPool pool(3);
        check_loop(pool, 10);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // workers asleep
    }
    SUCCEED("no hang, no crash");
}
