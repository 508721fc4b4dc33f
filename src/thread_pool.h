// A fixed pool of worker threads that runs one parallel loop at a time: parallel_for(n, fn) calls fn(i) for
// i in [0, n) across the pool and the calling thread, and returns when all are done. Threads are created once;
// a loop allocates nothing. With one thread (or a WASM build without pthreads) everything runs inline.
//
// A step runs hundreds of loops of about a millisecond each, so waking a sleeping thread (a futex, in WASM
// Atomics.wait/notify: tens of microseconds, more under load) would cost a visible share of the work. Waiting
// threads therefore spin for a while (kSpinIterations) before they sleep on a condition variable: back to back
// loops never sleep, and an idle pool (between solves) does not burn a core.
#pragma once
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
#define TRM_NO_THREADS 1
#endif

namespace trm {

class ThreadPool {
public:
    // threads <= 0: one per hardware thread.
    explicit ThreadPool(int threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return int(workers_.size()) + 1; }  // the caller takes a share too
    // fn is called through a plain function pointer and context, not std::function, so a loop allocates nothing.
    template <class F>
    void parallel_for(int n, F&& fn) {
        run(n, [](void* f, int i) { (*static_cast<std::remove_reference_t<F>*>(f))(i); }, &fn);
    }

    static int hardware_threads();
    static constexpr int kSpinIterations = 1 << 16;  // polls (tens of microseconds) before a wait sleeps

private:
    using Call = void (*)(void* fn, int i);
    void run(int n, Call call, void* fn);
    void work();
    void take_items();  // runs items of the current loop until none is left
    std::vector<std::thread> workers_;
    std::mutex mu_;  // guards only the sleeping: the loop's fields are published by generation_
    std::condition_variable start_cv_, done_cv_;
    Call call_ = nullptr;
    void* fn_ = nullptr;
    int n_ = 0;
    std::atomic<int> next_{0};           // the next item to take
    std::atomic<int> busy_{0};           // workers not yet done with the current loop
    std::atomic<unsigned> generation_{0};  // incremented to start a loop (release: call_, fn_, n_ are set)
    std::atomic<bool> stop_{false};
};

}  // namespace trm
