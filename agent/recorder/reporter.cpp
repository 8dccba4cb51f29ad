// SPDX-License-Identifier: MIT
#include <agent/recorder/reporter.hpp>
#include <agent/util/error.hpp>

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace execmark::recorder {

Reporter::Reporter(std::string socket_path, int deadline_ms)
    : m_socket(std::move(socket_path))
    , m_deadline_ms(deadline_ms)
{}

Reporter::~Reporter()
{
    stop();
}

util::Status Reporter::start()
{
    m_done.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!m_done) {
        return util::sys_error("create", "eventfd", errno);
    }
    try {
        m_thread = std::thread([this] { run(); });
    } catch (const std::system_error& e) {
        return util::make_error("start", "reporter thread", e.what());
    }
    return {};
}

void Reporter::acknowledge()
{
    std::uint64_t value = 0;
    [[maybe_unused]] const ssize_t n = ::read(m_done.get(), &value, sizeof value);
}

bool Reporter::ready()
{
    const std::lock_guard lock(m_mutex);
    return m_thread.joinable() && !m_busy && !m_failure && !m_stop;
}

bool Reporter::broken()
{
    const std::lock_guard lock(m_mutex);
    return m_failure.has_value() || !m_thread.joinable();
}

void Reporter::submit(const client::Request& request)
{
    {
        const std::lock_guard lock(m_mutex);
        m_job = client::format_request(request);
        m_busy = true;
    }
    m_cv.notify_one();
}

std::optional<client::ExchangeResult> Reporter::stop()
{
    {
        const std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_cv.notify_one();
    if (m_thread.joinable()) {
        m_thread.join();
    }
    const std::lock_guard lock(m_mutex);
    if (m_failure) {
        return m_failure;
    }
    if (!m_done) {
        client::ExchangeResult never;
        never.error = client::ClientError{client::ClientFailure::error, "reporter not started"};
        return never;
    }
    return std::nullopt;
}

void Reporter::run()
{
    for (;;) {
        std::string line;
        {
            std::unique_lock lock(m_mutex);
            m_cv.wait(lock, [this] { return m_stop || m_job.has_value(); });
            if (!m_job) {
                return;
            }
            line = std::move(*m_job);
            m_job.reset();
        }
        auto result = client::exchange(m_socket, line, m_deadline_ms);
        std::optional<client::ExchangeResult> failure;
        if (!result.ok || !client::is_ok_response(result.response)) {
            failure = std::move(result);
        }
        {
            const std::lock_guard lock(m_mutex);
            m_busy = false;
            if (failure && !m_failure) {
                m_failure = std::move(failure);
            }
        }
        const std::uint64_t one = 1;
        [[maybe_unused]] const ssize_t n = ::write(m_done.get(), &one, sizeof one);
    }
}

} // namespace execmark::recorder
