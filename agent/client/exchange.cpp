// SPDX-License-Identifier: MIT
#include <agent/client/exchange.hpp>
#include <agent/client/protocol.hpp>
#include <agent/marker/marker.hpp>
#include <agent/util/clock.hpp>
#include <agent/util/error.hpp>
#include <agent/util/fd.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace execmark::client {

namespace {

ExchangeResult fail(ClientFailure kind, std::string message)
{
    ExchangeResult r;
    r.error = ClientError{kind, std::move(message)};
    return r;
}

// Waits for events on fd until the absolute deadline; false on timeout.
bool wait_for(int fd, short events, std::int64_t deadline)
{
    for (;;) {
        const std::int64_t left = deadline - util::monotonic_ms();
        if (left <= 0) {
            return false;
        }
        pollfd p{fd, events, 0};
        const int n = ::poll(&p, 1, static_cast<int>(left));
        if (n > 0) {
            return true;
        }
        if (n < 0 && errno != EINTR) {
            return true; // let the following call report the error
        }
    }
}

} // namespace

std::string_view failure_reason(ClientFailure kind)
{
    switch (kind) {
    case ClientFailure::no_agent:
        return marker::k_reason_no_agent;
    case ClientFailure::timeout:
        return marker::k_reason_agent_timeout;
    case ClientFailure::error:
        return marker::k_reason_agent_error;
    case ClientFailure::bad_response:
        return marker::k_reason_bad_response;
    }
    return marker::k_reason_agent_error;
}

ExchangeResult exchange(const std::string& socket_path, std::string_view request, int deadline_ms)
{
    const std::int64_t deadline = util::monotonic_ms() + deadline_ms;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path) {
        return fail(ClientFailure::no_agent, "agent socket path is empty or too long");
    }
    std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
    const util::Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) {
        return fail(ClientFailure::error, util::sys_error("create", "socket", errno).message);
    }
    // AF_UNIX connect never completes asynchronously: with a full backlog it fails with EAGAIN
    // and must be retried, here with short pauses until the deadline.
    for (;;) {
        if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
            break;
        }
        const int err = errno;
        if (err == EINTR) {
            continue;
        }
        if (err == ENOENT || err == ECONNREFUSED || err == ENOTDIR || err == EACCES) {
            return fail(ClientFailure::no_agent,
                        util::sys_error("connect", socket_path, err).message);
        }
        if (err != EAGAIN && err != EINPROGRESS) {
            return fail(ClientFailure::error, util::sys_error("connect", socket_path, err).message);
        }
        if (util::monotonic_ms() + 2 >= deadline) {
            return fail(ClientFailure::timeout,
                        "connect " + socket_path + ": agent busy, timed out");
        }
        const timespec pause{0, 2'000'000};
        ::nanosleep(&pause, nullptr);
    }
    std::string_view rest = request;
    while (!rest.empty()) {
        const ssize_t n = ::send(fd.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
        if (n > 0) {
            rest.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN)) {
            if (!wait_for(fd.get(), POLLOUT, deadline)) {
                return fail(ClientFailure::timeout, "send request: timed out");
            }
            continue;
        }
        return fail(ClientFailure::error, util::sys_error("send", "request", errno).message);
    }
    std::string response;
    char buf[4096];
    for (;;) {
        if (!wait_for(fd.get(), POLLIN, deadline)) {
            return fail(ClientFailure::timeout, "read response: timed out");
        }
        const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            return fail(ClientFailure::error, util::sys_error("read", "response", errno).message);
        }
        if (n == 0) {
            return fail(ClientFailure::bad_response, "agent closed the connection without answer");
        }
        response.append(buf, static_cast<std::size_t>(n));
        if (const auto nl = response.find('\n'); nl != std::string::npos) {
            response.resize(nl);
            ExchangeResult r;
            r.ok = true;
            r.response = std::move(response);
            return r;
        }
        if (response.size() > k_max_response_bytes) {
            return fail(ClientFailure::bad_response, "response too long");
        }
    }
}

} // namespace execmark::client
