// SPDX-License-Identifier: MIT
#include <agent/init/event_loop.hpp>
#include <agent/util/error.hpp>

#include <sys/epoll.h>

#include <array>
#include <cerrno>
#include <memory>

namespace execmark::init {

util::Result<EventLoop> EventLoop::create()
{
    util::Fd fd(::epoll_create1(EPOLL_CLOEXEC));
    if (!fd) {
        return util::sys_error("create", "epoll instance", errno);
    }
    return EventLoop(std::move(fd));
}

util::Status EventLoop::add(int fd, std::uint32_t events, Handler handler)
{
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (::epoll_ctl(m_epoll.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
        return util::sys_error("watch", "fd " + std::to_string(fd), errno);
    }
    m_handlers[fd] = std::make_shared<Handler>(std::move(handler));
    return {};
}

void EventLoop::remove(int fd)
{
    // Errors ignored: the fd may already be closed, which removes it from epoll anyway.
    ::epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, fd, nullptr);
    m_handlers.erase(fd);
}

util::Status EventLoop::wait_once(int timeout_ms)
{
    std::array<epoll_event, 16> events{};
    const int n =
        ::epoll_wait(m_epoll.get(), events.data(), static_cast<int>(events.size()), timeout_ms);
    if (n < 0) {
        if (errno == EINTR) {
            return {};
        }
        return util::sys_error("wait", "for events", errno);
    }
    for (int i = 0; i < n; ++i) {
        const auto& ev = events[static_cast<std::size_t>(i)];
        const auto it = m_handlers.find(ev.data.fd);
        if (it == m_handlers.end()) {
            continue; // removed by an earlier handler in this batch
        }
        // Keep the handler alive even if it removes itself.
        const std::shared_ptr<Handler> handler = it->second;
        (*handler)(ev.events);
    }
    return {};
}

} // namespace execmark::init
