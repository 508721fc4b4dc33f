#include "thread_pool.h"

#include <algorithm>

namespace trm {

int ThreadPool::hardware_threads() {
#ifdef TRM_NO_THREADS
    return 1;
#else
    return std::max(1u, std::thread::hardware_concurrency());
#endif
}

ThreadPool::ThreadPool(int threads) {
    int n = threads <= 0 ? hardware_threads() : threads;
#ifdef TRM_NO_THREADS
    n = 1;
#endif
    for (int i = 1; i < n; ++i) workers_.emplace_back([this] { work(); });
}

ThreadPool::~ThreadPool() {
    stop_.store(true);
    {
        std::lock_guard<std::mutex> lock(mu_);  // a worker between its check and its wait holds mu_: no lost wake-up
    }
    start_cv_.notify_all();
    for (std::thread& t : workers_) t.join();
}

void ThreadPool::take_items() {
    for (int i = next_.fetch_add(1, std::memory_order_relaxed); i < n_; i = next_.fetch_add(1, std::memory_order_relaxed))
        call_(fn_, i);
}

void ThreadPool::run(int n, Call call, void* fn) {
    if (workers_.empty() || n <= 1) {
        for (int i = 0; i < n; ++i) call(fn, i);
        return;
    }
    // The previous loop is over (busy_ reached 0), so no worker reads these until generation_ moves.
    call_ = call;
    fn_ = fn;
    n_ = n;
    next_.store(0, std::memory_order_relaxed);
    busy_.store(int(workers_.size()), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    {
        std::lock_guard<std::mutex> lock(mu_);
    }
    start_cv_.notify_all();  // wakes the workers that went to sleep; spinning ones have seen generation_ already
    take_items();  // the caller takes items too, then waits for the workers to finish theirs
    for (int spin = 0; busy_.load(std::memory_order_acquire) != 0; ++spin) {
        if (spin < kSpinIterations) continue;
        std::unique_lock<std::mutex> lock(mu_);
        done_cv_.wait(lock, [this] { return busy_.load(std::memory_order_acquire) == 0; });
        break;
    }
}

void ThreadPool::work() {
    unsigned seen = 0;
    for (;;) {
        unsigned g = generation_.load(std::memory_order_acquire);
        for (int spin = 0; g == seen && !stop_.load(std::memory_order_relaxed); ++spin) {
            if (spin >= kSpinIterations) {
                std::unique_lock<std::mutex> lock(mu_);
                start_cv_.wait(lock, [&] { return stop_.load() || generation_.load(std::memory_order_acquire) != seen; });
            }
            g = generation_.load(std::memory_order_acquire);
        }
        if (stop_.load()) return;
        seen = g;
        take_items();
        if (busy_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            std::lock_guard<std::mutex> lock(mu_);  // the caller may be between its check and its wait
            done_cv_.notify_one();
        }
    }
}

}  // namespace trm
