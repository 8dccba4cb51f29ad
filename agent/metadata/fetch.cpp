// SPDX-License-Identifier: MIT
#include <agent/metadata/fetch.hpp>

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

namespace execmark::metadata {

namespace {

using Clock = std::chrono::steady_clock;

long ms_between(Clock::time_point from, Clock::time_point to)
{
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count());
}

std::string_view trim(std::string_view s)
{
    constexpr std::string_view k_space = " \t\r\n";
    const auto first = s.find_first_not_of(k_space);
    if (first == std::string_view::npos) {
        return {};
    }
    return s.substr(first, s.find_last_not_of(k_space) - first + 1);
}

// Sleeps ms, or less when cancel_fd becomes readable; true when cancelled.
bool wait_or_cancel(int cancel_fd, long ms)
{
    const auto until = Clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
        const long left = ms_between(Clock::now(), until);
        if (left <= 0) {
            return false;
        }
        pollfd p{cancel_fd, POLLIN, 0};
        const int n = ::poll(cancel_fd >= 0 ? &p : nullptr,
                             cancel_fd >= 0 ? 1U : 0U,
                             static_cast<int>(std::min(left, 60'000L)));
        if (n > 0) {
            return true;
        }
        if (n < 0 && errno != EINTR) {
            return false;
        }
    }
}

struct Body {
    std::string text;
    std::string error;
    bool ok = false;
    bool cancelled = false;
};

// GETs url, retrying what is worth retrying until the deadline.
Body fetch_body(HttpClient& client,
                const std::string& url,
                std::string_view document,
                const FetchConfig& config,
                Clock::time_point start,
                int cancel_fd,
                FetchResult& result)
{
    const auto deadline = start + std::chrono::milliseconds(config.deadline_ms);
    long backoff = config.backoff_initial_ms;
    int attempts = 0;
    Body out;
    const auto give_up = [&](const std::string& reason) {
        out.error = "fetch " + std::string(document) + " " + url + ": " + reason + " ("
                    + std::to_string(attempts) + (attempts == 1 ? " attempt" : " attempts") + " in "
                    + std::to_string(ms_between(start, Clock::now())) + " ms)";
        return out;
    };
    for (;;) {
        const long left = ms_between(Clock::now(), deadline);
        if (left <= 0) {
            return give_up("no time left within the deadline of "
                           + std::to_string(config.deadline_ms) + " ms");
        }
        HttpLimits limits;
        limits.total_ms = std::min(config.request_timeout_ms, left);
        limits.connect_ms = std::min(config.connect_timeout_ms, limits.total_ms);
        limits.max_body = config.max_body;
        HttpResponse r = client.get(url, limits, cancel_fd);
        ++attempts;
        ++result.requests;
        if (r.outcome == HttpOutcome::ok) {
            out.text = std::move(r.body);
            out.ok = true;
            return out;
        }
        if (r.outcome == HttpOutcome::cancelled) {
            out.cancelled = true;
            return out;
        }
        if (!is_retryable(r)) {
            return give_up(r.reason);
        }
        const auto wait = plan_retry_ms(r, backoff, ms_between(Clock::now(), deadline), config);
        if (!wait) {
            return give_up(r.reason);
        }
        add_note(result.retries,
                 "GET " + std::string(document) + ": " + r.reason + "; retrying in "
                     + std::to_string(*wait) + " ms");
        if (wait_or_cancel(cancel_fd, *wait)) {
            out.cancelled = true;
            return out;
        }
        backoff = std::min(backoff * 2, config.backoff_max_ms);
    }
}

FetchResult failed(FetchResult result, std::string error)
{
    result.status = FetchStatus::failed;
    result.error = std::move(error);
    return result;
}

} // namespace

std::optional<Endpoint> choose_endpoint(std::string_view uri_v4, std::string_view uri_v3)
{
    Endpoint e;
    std::string_view base = trim(uri_v4);
    e.source = "v4";
    if (base.empty()) {
        base = trim(uri_v3);
        e.source = "v3";
    }
    while (base.size() > 1 && base.back() == '/') {
        base.remove_suffix(1);
    }
    if (base.empty()) {
        return std::nullopt;
    }
    e.base = std::string(base);
    return e;
}

bool is_retryable(const HttpResponse& response)
{
    switch (response.outcome) {
    case HttpOutcome::refused:
    case HttpOutcome::timeout:
    case HttpOutcome::transport:
        return true;
    case HttpOutcome::http_status:
        return response.status == 404 || response.status == 429 || response.status >= 500;
    case HttpOutcome::ok:
    case HttpOutcome::too_large:
    case HttpOutcome::bad_url:
    case HttpOutcome::cancelled:
        return false;
    }
    return false;
}

long retry_wait_ms(const HttpResponse& response, long backoff_ms, const FetchConfig& config)
{
    if (response.outcome == HttpOutcome::http_status && response.status == 429) {
        return std::max(backoff_ms, config.throttle_ms);
    }
    return backoff_ms;
}

std::optional<long> plan_retry_ms(const HttpResponse& response,
                                  long backoff_ms,
                                  long time_left_ms,
                                  const FetchConfig& config)
{
    const long wait = retry_wait_ms(response, backoff_ms, config);
    if (wait + k_min_attempt_ms <= time_left_ms) {
        return wait;
    }
    const bool throttled = response.outcome == HttpOutcome::http_status && response.status == 429;
    if (throttled || time_left_ms - k_min_attempt_ms <= 0) {
        return std::nullopt;
    }
    return time_left_ms - k_min_attempt_ms;
}

FetchResult fetch_metadata(const FetchConfig& config, int cancel_fd)
{
    FetchResult result;
    const auto endpoint = choose_endpoint(config.uri_v4, config.uri_v3);
    if (!endpoint) {
        result.status = FetchStatus::not_on_ecs;
        return result;
    }
    if (!is_http_url(endpoint->base)) {
        return failed(std::move(result),
                      "fetch container metadata " + endpoint->base
                          + ": only http:// URLs are allowed");
    }
    auto client = HttpClient::create();
    if (!client) {
        return failed(std::move(result), client.error().message);
    }
    const auto start = Clock::now();

    const Body container =
        fetch_body(*client, endpoint->base, "container metadata", config, start, cancel_fd, result);
    if (container.cancelled) {
        result.status = FetchStatus::cancelled;
        return result;
    }
    if (!container.ok) {
        return failed(std::move(result), container.error);
    }
    Notes notes;
    auto self = parse_container_document(container.text, notes);
    if (!self) {
        return failed(std::move(result), self.error().message + " from " + endpoint->base);
    }

    const std::string task_url = endpoint->base + "/task";
    const Body task =
        fetch_body(*client, task_url, "task metadata", config, start, cancel_fd, result);
    if (task.cancelled) {
        result.status = FetchStatus::cancelled;
        return result;
    }
    std::string task_error = task.error;
    std::optional<TaskDocument> task_doc;
    if (task.ok) {
        auto parsed = parse_task_document(task.text, notes);
        if (parsed) {
            task_doc = std::move(*parsed);
        } else {
            task_error = parsed.error().message + " from " + task_url;
        }
    }
    if (!task_doc) {
        if (self->label_task_arn.empty()) {
            return failed(std::move(result), task_error);
        }
        add_note(notes,
                 "task document unavailable, task fields from container labels: " + task_error);
    }
    result.metadata = assemble_metadata(
        *self, task_doc ? &*task_doc : nullptr, endpoint->source, std::move(notes));
    result.status = FetchStatus::ok;
    return result;
}

} // namespace execmark::metadata
