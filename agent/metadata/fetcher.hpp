// SPDX-License-Identifier: MIT
#pragma once

#include <agent/metadata/fetch.hpp>
#include <agent/util/result.hpp>

#include <memory>

namespace execmark::metadata {

// Runs fetch_metadata once on a thread of its own, for PID 1. Completion is an fd event:
// completion_fd() becomes readable when the result is ready and stays readable (an eventfd that
// is never drained), so the epoll loop should remove it once handled. Every signal is blocked in
// the thread whatever the caller's mask, so signals keep reaching only PID 1's signalfd.
//
// Thread lifetime: the destructor cancels the fetch (an eventfd that wakes every wait at once)
// and joins, waiting at most k_stop_wait_ms; a thread still busy then (only possible inside a
// blocking DNS lookup of a host-name URL in the static build) is detached. It owns its state
// through a shared_ptr and touches nothing else, and it never logs, so it cannot outlive
// anything it uses nor delay process exit.
class MetadataFetcher {
public:
    static constexpr long k_stop_wait_ms = 200;
    static constexpr const char* k_thread_name = "execmark-meta";

    // Starts the thread. Error if an eventfd or the thread cannot be created.
    static util::Result<std::unique_ptr<MetadataFetcher>> start(FetchConfig config);

    MetadataFetcher(const MetadataFetcher&) = delete;
    MetadataFetcher& operator=(const MetadataFetcher&) = delete;
    MetadataFetcher(MetadataFetcher&&) = delete;
    MetadataFetcher& operator=(MetadataFetcher&&) = delete;
    ~MetadataFetcher();

    // Readable once result() is non-null. Owned by the fetcher; valid for its lifetime.
    [[nodiscard]] int completion_fd() const;

    // The finished result, or null while the fetch runs. Thread-safe; the result never changes
    // once set.
    [[nodiscard]] std::shared_ptr<const FetchResult> result() const;

    // Asks the fetch to stop soon (result: cancelled). Thread-safe, idempotent.
    void cancel();

private:
    struct State;
    explicit MetadataFetcher(std::shared_ptr<State> state);
    std::shared_ptr<State> m_state;
};

} // namespace execmark::metadata
