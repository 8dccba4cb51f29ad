// SPDX-License-Identifier: MIT
#include <agent/metadata/http.hpp>
#include <agent/util/error.hpp>

#include <curl/curl.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <set>

namespace execmark::metadata {

namespace {

struct EasyDeleter {
    void operator()(CURL* h) const { curl_easy_cleanup(h); }
};

struct MultiDeleter {
    void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};

using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using MultiHandle = std::unique_ptr<CURLM, MultiDeleter>;

// The longest single wait inside a transfer: a backstop for our own deadline check only; the
// cancel fd and libcurl's own timers wake the wait earlier.
constexpr int k_max_poll_ms = 1000;

// Bytes of an error body quoted in a reason (printable ASCII only).
constexpr std::size_t k_quoted_body_bytes = 120;

std::set<int> open_fds()
{
    std::set<int> fds;
    DIR* dir = ::opendir("/proc/self/fd"); // glibc opens it O_CLOEXEC
    if (dir == nullptr) {
        return fds;
    }
    const int own = ::dirfd(dir); // listed too, but closed below: not an fd that stays open
    while (const dirent* e = ::readdir(dir)) {
        char* end = nullptr;
        const long fd = std::strtol(e->d_name, &end, 10);
        if (end != e->d_name && *end == '\0' && fd != own) {
            fds.insert(static_cast<int>(fd));
        }
    }
    ::closedir(dir);
    return fds;
}

// libcurl (7.88) creates its multi-handle wake-up socketpair without SOCK_CLOEXEC; in PID 1 a
// child spawned meanwhile would inherit it. Marks every descriptor that appeared since `before`
// close-on-exec (harmless for descriptors another thread opened: they all should be).
void mark_new_fds_cloexec(const std::set<int>& before)
{
    for (const int fd : open_fds()) {
        if (before.contains(fd)) {
            continue;
        }
        const int flags = ::fcntl(fd, F_GETFD);
        if (flags >= 0 && (flags & FD_CLOEXEC) == 0) {
            ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
        }
    }
}

// libcurl opens sockets without close-on-exec; this callback opens them with it.
// libcurl's callbacks are noexcept: libcurl is built without unwind tables
// (cmake/StaticCurl.cmake), so an exception must never leave one.
curl_socket_t
open_socket_cloexec(void* /*client*/, curlsocktype /*purpose*/, curl_sockaddr* addr) noexcept
{
    return ::socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

struct Sink {
    std::string body;
    std::size_t max = 0;
    bool overflow = false;
};

// Appends to the body; past the cap it returns 0, which makes libcurl abort the transfer.
// Out of memory also returns 0 (the transfer fails; PID 1 goes on without metadata).
std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) noexcept
{
    auto* sink = static_cast<Sink*>(user);
    const std::size_t n = size * count;
    if (n > sink->max - sink->body.size()) {
        sink->overflow = true;
        return 0;
    }
    try {
        sink->body.append(data, n);
    } catch (...) {
        return 0;
    }
    return n;
}

// The start of an error body for a message: surrounding blanks dropped, other control bytes and
// non-ASCII shown as '?'.
std::string printable_excerpt(std::string_view body)
{
    constexpr std::string_view k_blank = " \t\r\n";
    const auto first = body.find_first_not_of(k_blank);
    if (first == std::string_view::npos) {
        return {};
    }
    body = body.substr(first, body.find_last_not_of(k_blank) - first + 1);
    std::string out;
    for (const char c : body.substr(0, k_quoted_body_bytes)) {
        out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return out;
}

// Sets an option that a reduced libcurl build may not know; only real failures are reported.
bool setopt_optional(CURLcode rc)
{
    return rc == CURLE_OK || rc == CURLE_UNKNOWN_OPTION || rc == CURLE_NOT_BUILT_IN;
}

bool readable_now(int fd)
{
    if (fd < 0) {
        return false;
    }
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0;
}

HttpResponse fail(HttpOutcome outcome, std::string reason)
{
    HttpResponse r;
    r.outcome = outcome;
    r.reason = std::move(reason);
    return r;
}

// libcurl's detailed message when it wrote one, else the generic text of the code with the code
// itself (a libcurl built without verbose strings, the static one, says only "Error").
std::string curl_reason(CURLcode rc, const char* errbuf)
{
    if (errbuf[0] != '\0') {
        return errbuf;
    }
    return std::string(curl_easy_strerror(rc)) + " (curl error " + std::to_string(rc) + ")";
}

HttpResponse
from_curl_code(CURLcode rc, const char* errbuf, const Sink& sink, const HttpLimits& limits)
{
    switch (rc) {
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        if (rc == CURLE_FILESIZE_EXCEEDED || sink.overflow) {
            return fail(HttpOutcome::too_large,
                        "response larger than " + std::to_string(limits.max_body) + " bytes");
        }
        break;
    case CURLE_COULDNT_CONNECT:
        return fail(HttpOutcome::refused, "connection refused or unreachable");
    case CURLE_OPERATION_TIMEDOUT:
        return fail(HttpOutcome::timeout, "timed out: " + curl_reason(rc, errbuf));
    case CURLE_URL_MALFORMAT:
        return fail(HttpOutcome::bad_url, curl_reason(rc, errbuf));
    default:
        break;
    }
    return fail(HttpOutcome::transport, curl_reason(rc, errbuf));
}

} // namespace

bool ensure_curl_global_init()
{
    static std::once_flag once;
    static bool ok = false;
    std::call_once(once, [] { ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; });
    return ok;
}

bool is_http_url(std::string_view url)
{
    constexpr std::string_view k_scheme = "http://";
    if (url.size() <= k_scheme.size()) {
        return false;
    }
    for (std::size_t i = 0; i < k_scheme.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(url[i])) != k_scheme[i]) {
            return false;
        }
    }
    const char first = url[k_scheme.size()];
    return first != '/' && first != '?' && first != '#';
}

struct HttpClient::Handles {
    MultiHandle multi;
};

HttpClient::HttpClient(std::unique_ptr<Handles> handles)
    : m_handles(std::move(handles))
{}

HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;
HttpClient::~HttpClient() = default;

util::Result<HttpClient> HttpClient::create()
{
    if (!ensure_curl_global_init()) {
        return util::make_error("initialise", "libcurl", "curl_global_init failed");
    }
    const std::set<int> before = open_fds();
    MultiHandle multi(curl_multi_init());
    mark_new_fds_cloexec(before);
    if (!multi) {
        return util::make_error("create", "libcurl multi handle", "out of memory");
    }
    auto handles = std::make_unique<Handles>();
    handles->multi = std::move(multi);
    return HttpClient(std::move(handles));
}

HttpResponse HttpClient::get(const std::string& url, const HttpLimits& limits, int cancel_fd)
{
    if (!is_http_url(url)) {
        return fail(HttpOutcome::bad_url, "only http:// URLs are allowed");
    }
    // Declared before the handle that points at them, so they outlive it.
    Sink sink;
    sink.max = limits.max_body;
    std::array<char, CURL_ERROR_SIZE> errbuf{};
    EasyHandle easy(curl_easy_init());
    if (!easy) {
        return fail(HttpOutcome::transport, "create libcurl handle: out of memory");
    }
    CURL* h = easy.get();
    bool ok = true;
    ok = ok && curl_easy_setopt(h, CURLOPT_URL, url.c_str()) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf.data()) == CURLE_OK;
    // No signals from libcurl (SIGALRM for DNS timeouts, SIGPIPE): this may run in PID 1's
    // thread, where every signal is blocked and handled as an fd event by the main loop.
    ok = ok && curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075500
    ok = ok && curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http") == CURLE_OK;
#endif
    // An HTTP_PROXY/http_proxy in the container must never capture the metadata request. A
    // libcurl built without proxy support (the static build) does not know these options.
    ok = ok && setopt_optional(curl_easy_setopt(h, CURLOPT_NOPROXY, "*"));
    ok = ok && setopt_optional(curl_easy_setopt(h, CURLOPT_PROXY, ""));
    ok = ok && curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, limits.connect_ms) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, limits.total_ms) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, limits.low_speed_bytes) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, limits.low_speed_seconds) == CURLE_OK;
    ok = ok
         && curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(limits.max_body))
                == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &write_body) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, &open_socket_cloexec) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_USERAGENT, "execmark") == CURLE_OK;
    if (!ok) {
        return fail(HttpOutcome::transport, "configure libcurl handle: option refused");
    }

    CURLM* multi = m_handles->multi.get();
    if (curl_multi_add_handle(multi, h) != CURLM_OK) {
        return fail(HttpOutcome::transport, "start transfer: curl_multi_add_handle failed");
    }
    // Removed before the easy handle is cleaned up (declared after it, destroyed before it).
    const auto remove = [multi](CURL* e) {
        curl_multi_remove_handle(multi, e);
    };
    const std::unique_ptr<CURL, decltype(remove)> added(h, remove);

    // Backstop only: libcurl enforces total_ms itself; this catches a stuck state machine.
    const auto backstop =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(limits.total_ms + 500);
    for (;;) {
        int running = 0;
        if (curl_multi_perform(multi, &running) != CURLM_OK) {
            return fail(HttpOutcome::transport, "run transfer: curl_multi_perform failed");
        }
        if (running == 0) {
            break;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              backstop - std::chrono::steady_clock::now())
                              .count();
        if (left <= 0) {
            return fail(HttpOutcome::timeout, "timed out");
        }
        curl_waitfd extra{cancel_fd, CURL_WAIT_POLLIN, 0};
        const int wait_ms = static_cast<int>(std::min<long long>(left, k_max_poll_ms));
        if (curl_multi_poll(multi,
                            cancel_fd >= 0 ? &extra : nullptr,
                            cancel_fd >= 0 ? 1U : 0U,
                            wait_ms,
                            nullptr)
            != CURLM_OK) {
            return fail(HttpOutcome::transport, "wait for transfer: curl_multi_poll failed");
        }
        if ((extra.revents & CURL_WAIT_POLLIN) != 0 || readable_now(cancel_fd)) {
            return fail(HttpOutcome::cancelled, "cancelled");
        }
    }

    CURLcode rc = CURLE_OK;
    int queued = 0;
    while (const CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == h) {
            rc = msg->data.result;
        }
    }
    if (rc != CURLE_OK) {
        return from_curl_code(rc, errbuf.data(), sink, limits);
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    HttpResponse r;
    r.status = status;
    if (status == 200) {
        r.outcome = HttpOutcome::ok;
        r.body = std::move(sink.body);
        return r;
    }
    r.outcome = HttpOutcome::http_status;
    r.reason = "HTTP " + std::to_string(status);
    const std::string excerpt = printable_excerpt(sink.body);
    if (!excerpt.empty()) {
        r.reason += " (" + excerpt + ")";
    }
    r.body = std::move(sink.body);
    return r;
}

} // namespace execmark::metadata
