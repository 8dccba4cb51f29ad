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

} // namespace execmark::audit
