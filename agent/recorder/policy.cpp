// SPDX-License-Identifier: MIT
#include <agent/recorder/policy.hpp>

#include <algorithm>

namespace execmark::recorder {

CheckpointPolicy::CheckpointPolicy(PolicyTimes times, std::int64_t start_ms)
    : m_t(times)
    , m_last_sent(start_ms)
    , m_last_checkpoint(start_ms)
{}

void CheckpointPolicy::output(std::int64_t now)
{
    if (!m_output) {
        m_output = true;
        m_stream_start = now;
    }
    m_last_output = now;
}

void CheckpointPolicy::enter(std::int64_t now)
{
    if (!m_enter) {
        m_enter = true;
        m_enter_at = now;
    }
}

std::optional<std::string_view> CheckpointPolicy::due(std::int64_t now) const
{
    if (!may_send(now)) {
        return std::nullopt;
    }
    if (m_enter) {
        return "enter";
    }
    if (m_output && now - m_last_output >= m_t.idle_ms) {
        return "idle";
    }
    if (m_output && now - std::max(m_stream_start, m_last_checkpoint) >= m_t.flow_ms) {
        return "flow";
    }
    return std::nullopt;
}

void CheckpointPolicy::sent(std::int64_t now, bool checkpoint)
{
    m_last_sent = now;
    if (checkpoint) {
        const bool late_enter = m_enter && m_output && m_last_output > m_enter_at;
        m_last_checkpoint = now;
        m_enter = false;
        m_output = late_enter;
        m_stream_start = now;
    }
}

std::int64_t CheckpointPolicy::wait_ms(std::int64_t now) const
{
    if (!m_enter && !m_output) {
        return -1;
    }
    std::int64_t at = m_last_sent + m_t.gap_ms;
    if (!m_enter) {
        const std::int64_t idle_at = m_last_output + m_t.idle_ms;
        const std::int64_t flow_at = std::max(m_stream_start, m_last_checkpoint) + m_t.flow_ms;
        at = std::max(at, std::min(idle_at, flow_at));
    }
    return std::max<std::int64_t>(0, at - now);
}

} // namespace execmark::recorder
