// SPDX-License-Identifier: MIT
#include <agent/metadata/fetcher.hpp>
#include <agent/util/error.hpp>
#include <agent/util/fd.hpp>
#include <agent/util/signals.hpp>

#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

namespace execmark::metadata {

struct MetadataFetcher::State {
    util::Fd cancel_fd;
    util::Fd done_fd;
    std::thread thread;
    mutable std::mutex mutex;
    std::condition_variable finished_cv;
    std::shared_ptr<const FetchResult> result; // guarded by mutex
};

namespace {

// Makes an eventfd readable for good (nobody reads it). The counter cannot overflow from 1s.
void signal_event(int fd)
{
    const std::uint64_t one = 1;
    while (::write(fd, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

} // namespace

MetadataFetcher::MetadataFetcher(std::shared_ptr<State> state)
    : m_state(std::move(state))
{}

util::Result<std::unique_ptr<MetadataFetcher>> MetadataFetcher::start(FetchConfig config)
{
    // libcurl's global init is not thread-safe in older versions: do it here, on the caller's
    // thread, before the fetch thread exists.
    if (!ensure_curl_global_init()) {
        return util::make_error("initialise", "libcurl", "curl_global_init failed");
    }
    auto state = std::make_shared<State>();
    state->cancel_fd.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!state->cancel_fd) {
        return util::sys_error("create", "metadata cancel eventfd", errno);
    }
    state->done_fd.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!state->done_fd) {
        return util::sys_error("create", "metadata completion eventfd", errno);
    }

    // Made here so that the thread can report even an allocation failure without throwing.
    auto fallback = std::make_shared<FetchResult>();
    fallback->error = "fetch task metadata: internal error";

    // A new thread inherits the creator's mask: block everything around its creation so that
    // no process-directed signal is ever delivered to it, even if the caller has not.
    // Raw syscall: pthread_sigmask would leave (and later unblock) glibc's reserved 32 and 33.
    const std::uint64_t old = util::block_all_signals_raw();
    std::string spawn_error;
    try {
        state->thread = std::thread([state, fallback, config = std::move(config)] {
            util::block_all_signals_raw(); // whatever glibc gave the new thread
            // Named for ps -T and /proc/<pid>/task/*/comm (at most 15 characters).
            pthread_setname_np(pthread_self(), k_thread_name);
            std::shared_ptr<const FetchResult> result = fallback;
            try {
                result = std::make_shared<const FetchResult>(
                    fetch_metadata(config, state->cancel_fd.get()));
            } catch (...) {
                // Nothing may escape a thread function (std::terminate in PID 1): report failure.
            }
            {
                const std::lock_guard lock(state->mutex);
                state->result = std::move(result);
            }
            state->finished_cv.notify_all();
            signal_event(state->done_fd.get());
        });
    } catch (const std::exception& e) {
        // std::system_error when no thread can be created; bad_alloc copying the config.
        spawn_error = e.what();
    }
    util::set_signal_mask_raw(old);
    if (!spawn_error.empty()) {
        return util::make_error("start", "metadata thread", spawn_error);
    }
    return std::unique_ptr<MetadataFetcher>(new MetadataFetcher(std::move(state)));
}

MetadataFetcher::~MetadataFetcher()
{
    cancel();
    std::unique_lock lock(m_state->mutex);
    const bool done = m_state->finished_cv.wait_for(lock,
                                                    std::chrono::milliseconds(k_stop_wait_ms),
                                                    [&] { return m_state->result != nullptr; });
    lock.unlock();
    if (done) {
        m_state->thread.join();
    } else {
        m_state->thread.detach();
    }
}

int MetadataFetcher::completion_fd() const
{
    return m_state->done_fd.get();
}

std::shared_ptr<const FetchResult> MetadataFetcher::result() const
{
    const std::lock_guard lock(m_state->mutex);
    return m_state->result;
}

void MetadataFetcher::cancel()
{
    signal_event(m_state->cancel_fd.get());
}

} // namespace execmark::metadata
