// SPDX-License-Identifier: MIT
#pragma once

#include <agent/util/fd.hpp>
#include <agent/util/result.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>

namespace execmark::init {

// One epoll loop for PID 1: every event source (signalfd, timers, sockets) is an fd. No periodic
// wake-ups: wait_once() sleeps until an fd is ready.
class EventLoop {
public:
    using Handler = std::function<void(std::uint32_t events)>;

    static util::Result<EventLoop> create();

    // Registers fd (not owned) for events; the handler runs from wait_once().
    util::Status add(int fd, std::uint32_t events, Handler handler);

    // Unregisters fd; safe to call from a handler (even for the fd being handled).
    void remove(int fd);

    // Waits for events (timeout_ms < 0: forever) and dispatches them; EINTR is not an error.
    util::Status wait_once(int timeout_ms = -1);

private:
    explicit EventLoop(util::Fd epoll)
        : m_epoll(std::move(epoll))
    {}

    util::Fd m_epoll;
    std::unordered_map<int, std::shared_ptr<Handler>> m_handlers;
};

} // namespace execmark::init
