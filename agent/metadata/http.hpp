// SPDX-License-Identifier: MIT
#pragma once

#include <agent/util/result.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace execmark::metadata {

// Bodies above this are refused (the task document of a 10-container task is ~20 KiB).
inline constexpr std::size_t k_max_body_bytes = std::size_t{1024} * 1024;

// Limits of one GET. total_ms bounds everything (connect, headers, body).
struct HttpLimits {
    long connect_ms = 1000;
    long total_ms = 2000;
    std::size_t max_body = k_max_body_bytes;
    // Slower than low_speed_bytes per second for low_speed_seconds aborts the transfer, so a
    // drip-feeding endpoint fails early rather than at total_ms.
    long low_speed_bytes = 16;
    long low_speed_seconds = 2;
};

// How a GET ended. Everything but ok and http_status is a transport-level outcome.
enum class HttpOutcome {
    ok,          // 200 and a body within max_body
    http_status, // the endpoint answered with another status
    refused,     // could not connect (nothing listening yet)
    timeout,     // total_ms or the low-speed limit hit
    transport,   // connection reset, empty reply, short body, ...
    too_large,   // body above max_body (by Content-Length or while streaming)
    bad_url,     // not an http:// URL
    cancelled,   // the cancel fd became readable
};

struct HttpResponse {
    HttpOutcome outcome = HttpOutcome::transport;
    long status = 0;    // HTTP status when one was received
    std::string body;   // the body for ok and http_status (capped at max_body)
    std::string reason; // why, for everything but ok: "HTTP 500", "connection refused", ...
};

// True for "http://" URLs (scheme case-insensitive) with a non-empty host part.
bool is_http_url(std::string_view url);

// A plain-HTTP GET client over libcurl's multi interface, so that a cancel fd can interrupt
// any transfer at once. One thread at a time; owns its libcurl handles (RAII). No proxy is ever
// used, whatever the environment says; no redirects are followed; only http:// is allowed.
class HttpClient {
public:
    static util::Result<HttpClient> create();

    HttpClient(HttpClient&& other) noexcept;
    HttpClient& operator=(HttpClient&& other) noexcept;
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;
    ~HttpClient();

    // GETs url within limits. cancel_fd (not owned, -1 for none): the transfer stops as soon as
    // it is readable (level-triggered: it is never read here).
    HttpResponse get(const std::string& url, const HttpLimits& limits, int cancel_fd);

private:
    struct Handles;
    explicit HttpClient(std::unique_ptr<Handles> handles);
    std::unique_ptr<Handles> m_handles;
};

// libcurl's global initialisation, once per process; not thread-safe in older libcurl, so
// callers that start threads run it first on their own thread. Returns false if it failed.
bool ensure_curl_global_init();

} // namespace execmark::metadata
