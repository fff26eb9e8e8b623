// The OpenMP threads of the whole process, shared among the calls that run at once. Without it, eight Java threads
// each making a large call with the default thread count would each open a parallel region of that many threads:
// eight times as many busy threads as cores, each call slower than on its own thread (and libgomp keeps a spinning
// pool per calling thread). With it, a call that leaves the count to the library (num_threads = 0) gets the default
// count less the threads other calls hold at that moment, and at least its own thread: the first large call of a
// burst runs in parallel, the ones that arrive while it runs stay on their callers' threads. A count the caller
// chose (num_threads > 0) is granted as asked, and held like any other. Results do not depend on the count
// (the reduction's blocks are fixed), so the policy changes timing only.
#pragma once

#include <atomic>

namespace bce4j {

class ThreadBudget {
public:
    explicit ThreadBudget(int capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

    // Reserves threads for one call and returns how many it may use (>= 1): `wanted` when `chosen` (the caller's
    // own count), else at most `wanted` and at most what is left of the capacity. Give them back with give_back.
    int take(int wanted, bool chosen) {
        const int held_before = held_.fetch_add(wanted, std::memory_order_relaxed);
        if (chosen) return wanted;
        const int left = capacity_ - held_before;
        const int granted = left >= wanted ? wanted : left < 1 ? 1 : left;
        if (granted < wanted) held_.fetch_sub(wanted - granted, std::memory_order_relaxed);
        return granted;
    }

    void give_back(int threads) { held_.fetch_sub(threads, std::memory_order_relaxed); }

    int capacity() const { return capacity_; }
    int held() const { return held_.load(std::memory_order_relaxed); }

private:
    const int capacity_;
    std::atomic<int> held_{0};
};

// The process's budget: the OpenMP default thread count (bce4j_default_num_threads) at first use.
ThreadBudget& process_thread_budget();

// Threads taken from the process's budget for the duration of one call. A call that wants one thread (its caller's)
// takes nothing: it opens no parallel region, and small calls must not pay for an atomic.
class ThreadLease {
public:
    ThreadLease(int wanted, bool chosen)
        : threads_(wanted > 1 ? process_thread_budget().take(wanted, chosen) : 1), held_(wanted > 1) {}
    ~ThreadLease() {
        if (held_) process_thread_budget().give_back(threads_);
    }
    ThreadLease(const ThreadLease&) = delete;
    ThreadLease& operator=(const ThreadLease&) = delete;

    int threads() const { return threads_; }

private:
    const int threads_;
    const bool held_;
};

}  // namespace bce4j
