// SPDX-License-Identifier: MIT
#include <agent/signer/recording_order.hpp>

namespace execmark::signer {

std::optional<std::string_view> RecordingOrder::accept(const client::RecordReport& rep,
                                                       std::int64_t now_ms)
{
    if (m_ended) {
        return "the recording ended";
    }
    const bool start = rep.kind == "start";
    const bool typed = rep.kind == "typed";
    const bool checkpoint = client::is_checkpoint_kind(rep.kind);
    if (start) {
        if (m_started) {
            return "the session already has a recorder";
        }
        if (rep.idx != 0 || rep.off != 0) {
            return "a recording starts at checkpoint 0, offset 0";
        }
    } else if (!m_started) {
        return "the recording has not started";
    } else if (typed) {
        if (m_typed || m_idx != 0) {
            return "typed-ahead input is reported once, before the first checkpoint";
        }
    } else if ((checkpoint && rep.idx != m_idx + 1) || rep.off < m_off) {
        return "checkpoints out of order";
    }
    // The window: a new one when a second has passed since the last one began.
    const bool new_window = now_ms - m_window_start_ms >= 1000 || now_ms < m_window_start_ms;
    const int in_window = (new_window ? 0 : m_in_window) + 1;
    if (in_window > k_max_reports_per_second && rep.kind != "end") {
        if (new_window) {
            m_window_start_ms = now_ms;
        }
        m_in_window = in_window;
        return "too many reports";
    }
    if (new_window) {
        m_window_start_ms = now_ms;
    }
    m_in_window = in_window;
    m_started = true;
    m_typed = m_typed || typed;
    m_ended = rep.kind == "end";
    if (checkpoint) {
        m_idx = rep.idx;
    }
    if (!typed) {
        m_off = rep.off; // typed counts input bytes, not output
    }
    return std::nullopt;
}

} // namespace execmark::signer
