// SPDX-License-Identifier: MIT
#include "fixtures.hpp"

#include <agent/metadata/fetch.hpp>
#include <agent/metadata/fetcher.hpp>
#include <agent/metadata/http.hpp>
#include <agent/util/fd.hpp>

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

using namespace execmark::metadata;
using execmark::test::metadata_fixture;
using execmark::util::Fd;
using Clock = std::chrono::steady_clock;

namespace {

struct Route {
    int status = 200;
    std::string body;
};

// A loopback HTTP/1.1 server on its own thread: answers GETs from a route table, or (silent)
// accepts connections and never answers. Every connection is closed after one response.
class TinyServer {
public:
    explicit TinyServer(std::map<std::string, Route> routes, bool silent = false)
        : m_routes(std::move(routes))
        , m_silent(silent)
    {
        m_listen.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        REQUIRE(m_listen);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(m_listen.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(m_listen.get(), 16) == 0);
        socklen_t len = sizeof addr;
        REQUIRE(::getsockname(m_listen.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
        m_port = ntohs(addr.sin_port);
        m_thread = std::thread([this] { serve(); });
    }

    TinyServer(const TinyServer&) = delete;
    TinyServer& operator=(const TinyServer&) = delete;

    ~TinyServer()
    {
        m_stop = true;
        m_thread.join();
    }

    [[nodiscard]] std::string base() const { return "http://127.0.0.1:" + std::to_string(m_port); }

    [[nodiscard]] int requests() const { return m_requests; }

private:
    void serve()
    {
        std::vector<Fd> held;
        while (!m_stop) {
            pollfd p{m_listen.get(), POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) {
                continue;
            }
            Fd conn(::accept4(m_listen.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (!conn) {
                continue;
            }
            ++m_requests;
            if (m_silent) {
                held.push_back(std::move(conn));
                continue;
            }
            answer(conn.get());
        }
    }

    void answer(int fd)
    {
        std::string request;
        char buf[4096];
        while (request.find("\r\n\r\n") == std::string::npos) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 2000) <= 0) {
                return;
            }
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n <= 0) {
                return;
            }
            request.append(buf, static_cast<std::size_t>(n));
        }
        std::istringstream line(request.substr(0, request.find("\r\n")));
        std::string method;
        std::string path;
        line >> method >> path;
        const auto it = m_routes.find(path);
        const Route route = it != m_routes.end() ? it->second : Route{404, "\"not found\""};
        const std::string response = "HTTP/1.1 " + std::to_string(route.status)
                                     + " X\r\nContent-Type: application/json\r\nContent-Length: "
                                     + std::to_string(route.body.size())
                                     + "\r\nConnection: close\r\n\r\n" + route.body;
        std::size_t off = 0;
        while (off < response.size()) {
            const ssize_t n =
                ::send(fd, response.data() + off, response.size() - off, MSG_NOSIGNAL);
            if (n <= 0) {
                return;
            }
            off += static_cast<std::size_t>(n);
        }
    }

    std::map<std::string, Route> m_routes;
    bool m_silent;
    Fd m_listen;
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_requests{0};
    std::thread m_thread;
};

std::map<std::string, Route> fixture_routes(const std::string& name, int task_status = 200)
{
    return {
        {"/v4/ep-1", Route{200, metadata_fixture(name + "-container.json")}},
        {"/v4/ep-1/task", Route{task_status, metadata_fixture(name + "-task.json")}},
    };
}

std::set<int> open_fds()
{
    std::set<int> fds;
    DIR* dir = ::opendir("/proc/self/fd");
    REQUIRE(dir != nullptr);
    const int own = ::dirfd(dir);
    while (const dirent* e = ::readdir(dir)) {
        if (e->d_name[0] != '.' && std::atoi(e->d_name) != own) {
            fds.insert(std::atoi(e->d_name));
        }
    }
    ::closedir(dir);
    return fds;
}

// Descriptors opened since before that lack FD_CLOEXEC.
std::vector<int> new_fds_without_cloexec(const std::set<int>& before)
{
    std::vector<int> bad;
    for (const int fd : open_fds()) {
        const int flags = ::fcntl(fd, F_GETFD);
        if (!before.contains(fd) && flags >= 0 && (flags & FD_CLOEXEC) == 0) {
            char target[256] = {};
            const auto link = "/proc/self/fd/" + std::to_string(fd);
            const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
            UNSCOPED_INFO("fd " << fd << " without FD_CLOEXEC: " << (n > 0 ? target : "?"));
            bad.push_back(fd);
        }
    }
    return bad;
}

bool readable_within(int fd, int ms)
{
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) == 1 && (p.revents & POLLIN) != 0;
}

long elapsed_ms(Clock::time_point since)
{
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count());
}

FetchConfig config_for(const std::string& base, long deadline_ms)
{
    FetchConfig c;
    c.uri_v4 = base + "/v4/ep-1";
    c.deadline_ms = deadline_ms;
    c.backoff_initial_ms = 20;
    c.backoff_max_ms = 50;
    return c;
}

} // namespace

TEST_CASE("choose_endpoint: v4 first, v3 fallback, blank means not on ECS")
{
    auto e = choose_endpoint(" http://169.254.170.2/v4/abc/\n", "http://169.254.170.2/v3/abc");
    REQUIRE(e);
    CHECK(e->base == "http://169.254.170.2/v4/abc");
    CHECK(e->source == "v4");

    e = choose_endpoint("  ", "http://169.254.170.2/v3");
    REQUIRE(e);
    CHECK(e->base == "http://169.254.170.2/v3");
    CHECK(e->source == "v3");

    CHECK_FALSE(choose_endpoint("", ""));
    CHECK_FALSE(choose_endpoint(" \t", "\n"));
}

TEST_CASE("is_http_url accepts only plain http with a host")
{
    CHECK(is_http_url("http://169.254.170.2/v4/x"));
    CHECK(is_http_url("HTTP://127.0.0.1:8080"));
    CHECK_FALSE(is_http_url("https://169.254.170.2/v4/x"));
    CHECK_FALSE(is_http_url("file:///etc/passwd"));
    CHECK_FALSE(is_http_url("http://"));
    CHECK_FALSE(is_http_url("http:///path"));
    CHECK_FALSE(is_http_url("169.254.170.2/v4/x"));
}

TEST_CASE("retry policy: transient failures and 404/429/5xx retried, the rest not")
{
    const auto status = [](long s) {
        HttpResponse r;
        r.outcome = HttpOutcome::http_status;
        r.status = s;
        return r;
    };
    const auto outcome = [](HttpOutcome o) {
        HttpResponse r;
        r.outcome = o;
        return r;
    };
    CHECK(is_retryable(status(500)));
    CHECK(is_retryable(status(503)));
    CHECK(is_retryable(status(404)));
    CHECK(is_retryable(status(429)));
    CHECK_FALSE(is_retryable(status(400)));
    CHECK_FALSE(is_retryable(status(403)));
    CHECK_FALSE(is_retryable(status(301)));
    CHECK(is_retryable(outcome(HttpOutcome::refused)));
    CHECK(is_retryable(outcome(HttpOutcome::timeout)));
    CHECK(is_retryable(outcome(HttpOutcome::transport)));
    CHECK_FALSE(is_retryable(outcome(HttpOutcome::too_large)));
    CHECK_FALSE(is_retryable(outcome(HttpOutcome::bad_url)));
    CHECK_FALSE(is_retryable(outcome(HttpOutcome::cancelled)));

    FetchConfig c;
    CHECK(retry_wait_ms(status(500), 100, c) == 100);
    CHECK(retry_wait_ms(status(429), 100, c) == c.throttle_ms);
    CHECK(retry_wait_ms(status(429), 5000, c) == 5000);

    // Enough time: the backoff as is.
    CHECK(plan_retry_ms(status(500), 400, 2000, c) == 400L);
    // Not enough for the whole wait: one last request just before the deadline.
    CHECK(plan_retry_ms(status(500), 800, 500, c) == 500 - k_min_attempt_ms);
    CHECK(plan_retry_ms(outcome(HttpOutcome::refused), 800, 500, c) == 500 - k_min_attempt_ms);
    // No time for another request at all.
    CHECK_FALSE(plan_retry_ms(status(500), 100, k_min_attempt_ms, c));
    // Throttled: never sooner than asked.
    CHECK(plan_retry_ms(status(429), 100, 5000, c) == c.throttle_ms);
    CHECK_FALSE(plan_retry_ms(status(429), 100, 900, c));
}

TEST_CASE("HttpClient refuses non-http URLs without a request")
{
    auto client = HttpClient::create();
    REQUIRE(client);
    const auto r = client->get("https://127.0.0.1:1/", HttpLimits{}, -1);
    CHECK(r.outcome == HttpOutcome::bad_url);
}

TEST_CASE("libcurl's descriptors are all close-on-exec")
{
    const auto before = open_fds();
    auto client = HttpClient::create(); // libcurl 7.88 opens its wake-up socketpair here
    REQUIRE(client);
    CHECK(new_fds_without_cloexec(before).empty());
}

TEST_CASE("fetch_metadata: not on ECS without URIs")
{
    const FetchResult r = fetch_metadata(FetchConfig{});
    CHECK(r.status == FetchStatus::not_on_ecs);
    CHECK(r.requests == 0);
}

TEST_CASE("fetch_metadata: both documents from a loopback server")
{
    TinyServer server(fixture_routes("fargate"));
    const FetchResult r = fetch_metadata(config_for(server.base(), 5000));
    REQUIRE(r.status == FetchStatus::ok);
    CHECK(r.metadata.complete);
    CHECK(r.metadata.source == "v4");
    CHECK(r.metadata.container_name == "api");
    CHECK(r.metadata.cluster_name == "checkout-prod");
    CHECK(r.requests == 2);
    CHECK(server.requests() == 2);
}

TEST_CASE("fetch_metadata: /task failing to the deadline gives a partial result from labels")
{
    TinyServer server(fixture_routes("ec2", 500));
    const auto start = Clock::now();
    const FetchResult r = fetch_metadata(config_for(server.base(), 700));
    CHECK(elapsed_ms(start) < 3000);
    REQUIRE(r.status == FetchStatus::ok);
    CHECK_FALSE(r.metadata.complete);
    CHECK(r.metadata.cluster == "batch-workers");
    CHECK(r.metadata.region == "us-gov-west-1");
    CHECK(r.requests > 2); // the task document was retried
    CHECK_FALSE(r.retries.empty());
    const bool noted = std::any_of(r.metadata.notes.begin(), r.metadata.notes.end(), [](auto& n) {
        return n.find("task document unavailable") != std::string::npos
               && n.find("HTTP 500") != std::string::npos;
    });
    CHECK(noted);
}

TEST_CASE("fetch_metadata: an error status to the deadline is a failure naming the status")
{
    TinyServer server({{"/v4/ep-1", Route{503, "\"agent not ready\""}}});
    const FetchResult r = fetch_metadata(config_for(server.base(), 400));
    REQUIRE(r.status == FetchStatus::failed);
    CHECK(r.error.find("fetch container metadata " + server.base() + "/v4/ep-1: HTTP 503") == 0);
    CHECK(r.error.find("agent not ready") != std::string::npos);
    CHECK(r.requests >= 2);
}

TEST_CASE("MetadataFetcher reports completion on its fd")
{
    TinyServer server(fixture_routes("v3"));
    FetchConfig config;
    config.uri_v3 = server.base() + "/v4/ep-1"; // the path is opaque; v3 by variable only
    auto fetcher = MetadataFetcher::start(config);
    REQUIRE(fetcher);
    REQUIRE(readable_within((*fetcher)->completion_fd(), 5000));
    const auto result = (*fetcher)->result();
    REQUIRE(result != nullptr);
    CHECK(result->status == FetchStatus::ok);
    CHECK(result->metadata.source == "v3");
    CHECK(result->metadata.partition == "aws-cn");
    // The result is cached: the same object every time.
    CHECK((*fetcher)->result() == result);
}

TEST_CASE("MetadataFetcher: not on ECS completes at once")
{
    auto fetcher = MetadataFetcher::start(FetchConfig{});
    REQUIRE(fetcher);
    REQUIRE(readable_within((*fetcher)->completion_fd(), 2000));
    REQUIRE((*fetcher)->result() != nullptr);
    CHECK((*fetcher)->result()->status == FetchStatus::not_on_ecs);
}

namespace {

// The SigBlk mask of the thread named name, from /proc/self/task/*/status.
std::optional<unsigned long long> blocked_mask_of_thread(const std::string& name)
{
    DIR* dir = ::opendir("/proc/self/task");
    if (dir == nullptr) {
        return std::nullopt;
    }
    std::optional<unsigned long long> mask;
    while (const dirent* e = ::readdir(dir)) {
        const std::string base = std::string("/proc/self/task/") + e->d_name;
        std::ifstream comm(base + "/comm");
        std::string c;
        if (!std::getline(comm, c) || c != name) {
            continue;
        }
        std::ifstream status(base + "/status");
        for (std::string line; std::getline(status, line);) {
            if (line.rfind("SigBlk:", 0) == 0) {
                mask = std::stoull(line.substr(7), nullptr, 16);
            }
        }
    }
    ::closedir(dir);
    return mask;
}

bool blocked(unsigned long long mask, int sig)
{
    return ((mask >> (sig - 1)) & 1U) != 0;
}

} // namespace

TEST_CASE("MetadataFetcher: a hung endpoint is cancelled promptly on destruction")
{
    TinyServer server({}, /*silent=*/true);
    const auto before = open_fds();
    auto fetcher = MetadataFetcher::start(config_for(server.base(), 60'000));
    REQUIRE(fetcher);
    // Connected and waiting for an answer that never comes.
    for (int i = 0; i < 100 && server.requests() == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    REQUIRE(server.requests() == 1);
    CHECK_FALSE(readable_within((*fetcher)->completion_fd(), 200));
    CHECK((*fetcher)->result() == nullptr);

    // The connection socket and curl's own descriptors are close-on-exec.
    CHECK(new_fds_without_cloexec(before).empty());

    // Every signal that PID 1 handles through its signalfd is blocked in the fetch thread,
    // although this (test) thread blocks none.
    const auto mask = blocked_mask_of_thread(MetadataFetcher::k_thread_name);
    REQUIRE(mask);
    for (const int sig : {SIGTERM, SIGINT, SIGCHLD, SIGHUP, SIGUSR1, SIGQUIT, SIGWINCH}) {
        INFO(sig);
        CHECK(blocked(*mask, sig));
    }

    const auto start = Clock::now();
    fetcher->reset();
    CHECK(elapsed_ms(start) < MetadataFetcher::k_stop_wait_ms);
}

TEST_CASE("MetadataFetcher::cancel ends the fetch with `cancelled`")
{
    TinyServer server({}, /*silent=*/true);
    auto fetcher = MetadataFetcher::start(config_for(server.base(), 60'000));
    REQUIRE(fetcher);
    (*fetcher)->cancel();
    REQUIRE(readable_within((*fetcher)->completion_fd(), 2000));
    REQUIRE((*fetcher)->result() != nullptr);
    CHECK((*fetcher)->result()->status == FetchStatus::cancelled);
}
