// SPDX-License-Identifier: MIT
#include <agent/audit/parallel.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace execmark::audit {

namespace {

constexpr unsigned k_max_threads = 8;

} // namespace

unsigned audit_threads()
{
    if (const char* env = std::getenv("EXECMARK_AUDIT_THREADS"); env != nullptr) {
        const std::string_view text(env);
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec == std::errc{} && end == text.data() + text.size() && value > 0) {
            return std::min(value, k_max_threads);
        }
    }
    return std::clamp(std::thread::hardware_concurrency(), 1U, k_max_threads);
}

void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t)>& fn)
{
    const std::size_t extra =
        std::min<std::size_t>(threads > 0 ? threads - 1 : 0, n > 0 ? n - 1 : 0);
    if (extra == 0) {
        for (std::size_t i = 0; i < n; ++i) {
            fn(i);
        }
        return;
    }
    std::atomic<std::size_t> next{0};
    std::mutex error_mutex;
    std::exception_ptr error;
    const auto run = [&] {
        try {
            for (std::size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
                fn(i);
            }
        } catch (...) {
            const std::lock_guard lock(error_mutex);
            if (!error) {
                error = std::current_exception();
            }
            next.store(n); // the others stop at their next item
        }
    };
    std::vector<std::thread> workers;
    workers.reserve(extra);
    for (std::size_t t = 0; t < extra; ++t) {
        workers.emplace_back(run);
    }
    run();
    for (std::thread& worker : workers) {
        worker.join();
    }
    if (error) {
        std::rethrow_exception(error);
    }
}

WorkPool::WorkPool(unsigned threads, std::size_t queued_limit)
    : m_limit(queued_limit)
{
    for (unsigned t = 1; t < threads; ++t) {
        m_workers.emplace_back([this] { worker(); });
    }
}

WorkPool::~WorkPool()
{
    {
        const std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_work.notify_all();
    for (std::thread& t : m_workers) {
        t.join();
    }
}

void WorkPool::worker()
{
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_work.wait(lock, [this] { return m_stopping || !m_ready.empty(); });
        if (m_ready.empty()) {
            return; // stopping, and nothing left
        }
        run_one(lock);
    }
}

void WorkPool::run_one(std::unique_lock<std::mutex>& lock)
{
    Strand* strand = m_ready.front();
    m_ready.pop_front();
    Strand::Task task = std::move(strand->tasks.front());
    strand->tasks.pop_front();
    const bool skip = static_cast<bool>(strand->error);
    lock.unlock();
    std::exception_ptr error;
    if (!skip) {
        try {
            task.run();
        } catch (...) {
            error = std::current_exception();
        }
    }
    task.run = nullptr; // what it captured is freed outside the lock
    lock.lock();
    if (error && !strand->error) {
        strand->error = error;
    }
    m_queued -= task.cost;
    --strand->pending;
    if (strand->tasks.empty()) {
        strand->scheduled = false;
    } else {
        m_ready.push_back(strand); // its next task, after the other strands' turns
        m_work.notify_one();
    }
    m_done.notify_all();
}

void WorkPool::post(Strand& strand, std::function<void()> task, std::size_t cost)
{
    if (m_workers.empty()) {
        if (!strand.error) {
            task(); // serial: exceptions go straight to the caller, as without a pool
        }
        return;
    }
    std::unique_lock lock(m_mutex);
    strand.tasks.push_back({std::move(task), cost});
    ++strand.pending;
    m_queued += cost;
    if (!strand.scheduled) {
        strand.scheduled = true;
        m_ready.push_back(&strand);
        m_work.notify_one();
    }
    while (m_queued > m_limit) {
        if (!m_ready.empty()) {
            run_one(lock);
        } else {
            m_done.wait(lock);
        }
    }
}

void WorkPool::wait(Strand& strand)
{
    if (!m_workers.empty()) {
        std::unique_lock lock(m_mutex);
        while (strand.pending > 0) {
            if (!m_ready.empty()) {
                run_one(lock);
            } else {
                m_done.wait(lock);
            }
        }
    }
    if (strand.error) {
        std::rethrow_exception(std::exchange(strand.error, nullptr));
    }
}

void WorkPool::discard(Strand& strand) noexcept
{
    if (m_workers.empty()) {
        return;
    }
    std::unique_lock lock(m_mutex);
    if (!strand.tasks.empty()) {
        for (const Strand::Task& task : strand.tasks) {
            m_queued -= task.cost;
        }
        strand.pending -= strand.tasks.size();
        strand.tasks.clear();
        if (strand.pending == 0) {
            // Not running: it is in the ready queue.
            std::erase(m_ready, &strand);
            strand.scheduled = false;
        }
    }
    m_done.wait(lock, [&] { return strand.pending == 0; });
}

} // namespace execmark::audit
