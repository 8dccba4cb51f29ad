// SPDX-License-Identifier: MIT
#pragma once

#include <agent/metadata/document.hpp>
#include <agent/metadata/http.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace execmark::metadata {

// What to fetch and how long to try. The URIs are the values of the environment variables; the
// caller reads the environment (modules never do).
struct FetchConfig {
    std::string uri_v4; // ECS_CONTAINER_METADATA_URI_V4 (empty when unset)
    std::string uri_v3; // ECS_CONTAINER_METADATA_URI (empty when unset)
    // Overall deadline for both documents and every retry.
    long deadline_ms = 5000;
    // Per request: the endpoint is on a link-local address and answers in milliseconds.
    long request_timeout_ms = 2000;
    long connect_timeout_ms = 1000;
    // Retry waits double from initial to max; after a 429 the wait is at least throttle_ms. The
    // agent allows 40 requests/s per task IP shared with SDK credential refreshes: stay far below.
    long backoff_initial_ms = 100;
    long backoff_max_ms = 1000;
    long throttle_ms = 1000;
    std::size_t max_body = k_max_body_bytes;
};

enum class FetchStatus {
    ok,         // metadata holds what was learned (see TaskMetadata::complete)
    not_on_ecs, // neither URI is set: a normal case (local docker run), not an error
    failed,     // error says why
    cancelled,  // the cancel fd became readable
};

struct FetchResult {
    FetchStatus status = FetchStatus::failed;
    TaskMetadata metadata;
    std::string error; // "fetch <document> <url>: <reason> (<n> attempts in <ms> ms)"
    int requests = 0;  // HTTP requests made
    Notes retries;     // one line per failed request that was retried (capped)
};

// The endpoint used: v4 when its variable is set (non-blank), else v3. The value is an opaque
// base URL (whitespace trimmed, trailing '/' dropped): the path is never interpreted.
struct Endpoint {
    std::string base;
    std::string source; // "v4" or "v3"
};

std::optional<Endpoint> choose_endpoint(std::string_view uri_v4, std::string_view uri_v3);

// Whether a failed request is worth repeating within the deadline: refused connections, time-outs,
// transport errors, 404 (an endpoint id not yet known right after start), 429 and 5xx. Not: other
// statuses, bad URLs, oversized bodies.
bool is_retryable(const HttpResponse& response);

// The wait before the next request after response, given the current backoff.
long retry_wait_ms(const HttpResponse& response, long backoff_ms, const FetchConfig& config);

// A request is not started with less time than this left before the deadline.
inline constexpr long k_min_attempt_ms = 100;

// When to retry after a retryable response with time_left_ms before the deadline: the
// retry_wait_ms wait, shortened so that one last request still fits; nullopt when none fits (or
// the endpoint throttled us, 429, and the full wait does not fit).
std::optional<long> plan_retry_ms(const HttpResponse& response,
                                  long backoff_ms,
                                  long time_left_ms,
                                  const FetchConfig& config);

// Fetches the container document (${base}) and the task document (${base}/task), with retries
// until config.deadline_ms, and assembles the metadata. If only the task document cannot be had,
// the result is still ok when the container document's labels name the task (complete = false,
// with a note). cancel_fd (not owned, -1 for none): returns `cancelled` soon after it becomes
// readable. Blocking; thread-safe (no shared state but libcurl's global init, done once).
FetchResult fetch_metadata(const FetchConfig& config, int cancel_fd = -1);

} // namespace execmark::metadata
