// SPDX-License-Identifier: MIT
#pragma once

#include <agent/client/protocol.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace execmark::signer {

// The order PID 1 holds one session's recorder to (docs/markers.md, "rec"): one start, at
// checkpoint 0 and offset 0; at most one typed report, before the first checkpoint; checkpoints
// numbered one up from the last, with output offsets that never go back; interference reports
// at any point, at an offset not behind the last; nothing after the end; at most
// k_max_reports_per_second reports in any one-second window (an end always passes, so that a
// session can be closed). Who may report (the recorder's identity) is the server's check; this
// is only the order. A refused report changes nothing but the count of reports in the window.
class RecordingOrder {
public:
    // The recorder coalesces its checkpoints below this, so more is a recorder gone wrong (or
    // not ours), and PID 1's work for one session stays bounded.
    static constexpr int k_max_reports_per_second = 20;

    // nullopt when rep is accepted (and the state advanced), else why it is refused.
    // now_ms: a monotonic clock in milliseconds.
    std::optional<std::string_view> accept(const client::RecordReport& rep, std::int64_t now_ms);

    bool started() const { return m_started; }

    bool ended() const { return m_ended; }

    std::uint64_t idx() const { return m_idx; }

    std::uint64_t off() const { return m_off; }

private:
    bool m_started = false;
    bool m_typed = false;
    bool m_ended = false;
    std::uint64_t m_idx = 0;
    std::uint64_t m_off = 0;
    std::int64_t m_window_start_ms = 0;
    int m_in_window = 0;
};

} // namespace execmark::signer
