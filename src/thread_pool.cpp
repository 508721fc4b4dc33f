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
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i] { work(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    start_cv_.notify_all();
    for (std::thread& t : workers_) t.join();
}

void ThreadPool::run(int n, Call call, void* fn) {
    if (workers_.empty() || n <= 1) {
        for (int i = 0; i < n; ++i) call(fn, i);
        return;
    }
    std::unique_lock<std::mutex> lock(mu_);
    call_ = call;
    fn_ = fn;
    n_ = n;
    next_ = 0;
    busy_ = int(workers_.size());
    ++generation_;
    start_cv_.notify_all();
    // The caller takes items too, then waits for the workers to finish theirs.
    while (next_ < n_) {
        const int i = next_++;
        lock.unlock();
        call(fn, i);
        lock.lock();
    }
    done_cv_.wait(lock, [this] { return busy_ == 0; });
    fn_ = nullptr;
}

void ThreadPool::work(int) {
    unsigned seen = 0;
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
        start_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        while (next_ < n_) {
            const int i = next_++;
            lock.unlock();
            call_(fn_, i);
            lock.lock();
        }
        if (--busy_ == 0) done_cv_.notify_one();
    }
}

}  // namespace trm
