// SPDX-License-Identifier: MIT
#pragma once

// The auditor's use of more than one core (docs/ARCHITECTURE.md, "Auditor threads"): pure work
// (signature checks, content checks) runs on worker threads; everything that decides a verdict
// or an order stays on the calling thread, so that the report is the same byte for byte
// whatever the number of threads.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace execmark::audit {

// Threads the auditor uses, the caller's included: EXECMARK_AUDIT_THREADS when set (1 = none
// besides the caller), else the number of cores (at most 8).
unsigned audit_threads();

// Runs fn(i) for every i in [0, n) on up to `threads` threads, the caller's included, and
// returns when all are done. fn must not touch shared state without its own synchronisation.
// The first exception thrown by fn is rethrown here (after all threads are joined).
void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t)>& fn);

// Worker threads running tasks posted in strands: the tasks of one strand run one at a time, in
// the order they were posted (each on whichever thread is free), so a strand's state needs no
// lock of its own; strands run in parallel. A caller that must wait (its queue is full, or it
// waits for a strand) runs queued tasks itself meanwhile. With threads == 1 there are no
// workers and post() runs the task at once: the serial behaviour, unchanged.
class WorkPool {
public:
    class Strand {
    private:
        friend class WorkPool;

        struct Task {
            std::function<void()> run;
            std::size_t cost = 0;
        };

        std::deque<Task> tasks;
        bool scheduled = false; // in the ready queue or running
        std::size_t pending = 0;
        std::exception_ptr error;
    };

    // threads: the caller's included; queued_limit: the cost (bytes) of tasks waiting to run
    // beyond which post() runs tasks itself until it is under it again (bounded memory).
    WorkPool(unsigned threads, std::size_t queued_limit);
    WorkPool(const WorkPool&) = delete;
    WorkPool& operator=(const WorkPool&) = delete;
    WorkPool(WorkPool&&) = delete;
    WorkPool& operator=(WorkPool&&) = delete;
    ~WorkPool(); // every strand must have been waited for or discarded

    [[nodiscard]] bool inline_only() const { return m_workers.empty(); }

    void post(Strand& strand, std::function<void()> task, std::size_t cost);

    // Until every task posted to strand has run; rethrows the first exception one threw (the
    // strand's later tasks are then skipped).
    void wait(Strand& strand);

    // Drops strand's tasks not yet started and waits for a running one (errors are ignored).
    void discard(Strand& strand) noexcept;

private:
    void worker();
    // Runs the first task of the first ready strand; lock is held on entry and on return.
    void run_one(std::unique_lock<std::mutex>& lock);

    std::size_t m_limit;
    std::mutex m_mutex;
    std::condition_variable m_work;
    std::condition_variable m_done;
    std::deque<Strand*> m_ready;
    std::size_t m_queued = 0;
    bool m_stopping = false;
    std::vector<std::thread> m_workers;
};

} // namespace execmark::audit
