// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace execmark::recorder {

// When the recorder takes a checkpoint (docs/markers.md §12). Pure: times are monotonic ms.
struct PolicyTimes {
    std::int64_t idle_ms = 400;  // output stopped this long after output: "idle"
    std::int64_t flow_ms = 5000; // output streaming without such a pause: "flow" at most this often
    std::int64_t gap_ms = 100;   // between two reports of any kind (<= 10/s; PID 1 allows 20/s)
};

// Decides the next checkpoint kind. A checkpoint is taken only when it will be sent (the reporter
// is free), so an Enter typed while a report is in flight is coalesced into the next one.
class CheckpointPolicy {
public:
    explicit CheckpointPolicy(PolicyTimes times, std::int64_t start_ms);

    // Bytes were shown to the operator at now.
    void output(std::int64_t now);
    // The operator's input held CR or LF at now.
    void enter(std::int64_t now);

    // The kind due now ("enter", "idle", "flow"), if any; only asked when the reporter is free.
    [[nodiscard]] std::optional<std::string_view> due(std::int64_t now) const;
    // A report (checkpoint or not) was handed to the reporter at now; checkpoint: it covers
    // everything shown so far. An Enter checkpoint that could only be taken after output of the
    // command had arrived leaves that output pending, so an idle still follows it.
    void sent(std::int64_t now, bool checkpoint);

    // Whether a report of any kind may be sent now (the gap since the last one).
    [[nodiscard]] bool may_send(std::int64_t now) const { return now - m_last_sent >= m_t.gap_ms; }

    // Milliseconds until due() may change without new events; -1 when nothing is pending.
    [[nodiscard]] std::int64_t wait_ms(std::int64_t now) const;

private:
    PolicyTimes m_t;
    std::int64_t m_last_sent;
    std::int64_t m_last_checkpoint;
    bool m_enter = false;
    std::int64_t m_enter_at = 0;     // the first Enter not yet covered
    bool m_output = false;           // output since the last checkpoint
    std::int64_t m_last_output = 0;  // time of the latest output
    std::int64_t m_stream_start = 0; // first output since the last checkpoint
};

} // namespace execmark::recorder
