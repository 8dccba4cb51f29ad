// SPDX-License-Identifier: MIT
#pragma once

// What PID 1 anchored in the container log about a session's recording: its `rec` markers
// (docs/markers.md §12), as plain data, per session id.

#include <agent/audit/status.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace execmark::audit {

// rec markers kept per session; more are counted (memory stays bounded by this, not by the log).
inline constexpr std::size_t k_max_rec_points_per_session = 1000000;

// One verified `rec` marker of the container log.
struct RecPoint {
    std::string kind;      // start, enter, idle, flow, end, interference
    std::uint64_t idx = 0; // checkpoint number (0 for start)
    std::uint64_t off = 0; // normalised bytes relayed so far
    std::string hash;      // h_idx (64 hex), "" for start and interference
    std::string ts;        // PID 1's time of the report
    std::string where;     // container-log location
    std::string kid;       // the key that signed it
    std::string fin;       // end only
    std::optional<std::int64_t> rc;
    std::int64_t rpid = 0;
    std::int64_t opid = 0;   // interference only
    std::string ocomm, side; // interference only
};

// The rec markers of one session in container-log order.
struct RecSession {
    std::vector<RecPoint> points;
    std::size_t dropped = 0; // beyond k_max_rec_points_per_session

    // The first point of a kind, or nullptr.
    [[nodiscard]] const RecPoint* first(const std::string& kind) const;
    // The checkpoints (every kind but start and interference), by idx, duplicates removed.
    [[nodiscard]] std::vector<RecPoint> checkpoints() const;
};

using RecIndex = std::map<std::string, RecSession, std::less<>>;

// Region text kept for a timeline (--timeline); beyond it the timeline says it is cut.
inline constexpr std::size_t k_max_timeline_bytes = 64 * 1024 * 1024;

enum class CheckState {
    verified,    // the recomputed hash equals PID 1's
    diverged,    // it differs (and so does every later one: the chain carries it)
    not_reached, // the recorded region ends before its offset
};

std::string_view check_state_name(CheckState s); // "verified", "diverged", "not-reached"

// One checkpoint as the content check saw it.
struct CheckedPoint {
    RecPoint point;
    CheckState state = CheckState::not_reached;
    std::uint64_t line = 0; // transcript line (1-based) holding the byte before its offset
};

// The outcome for one session log.
struct ContentVerdict {
    bool checked = false;             // the log had a region to check (an open marker of its own)
    bool close_found = false;         // the region ends at a close line (else: at the end)
    std::uint64_t region_bytes = 0;   // normalised bytes of the region
    std::uint64_t first_line = 0;     // transcript line where the region starts
    std::vector<CheckedPoint> points; // kept only for a timeline (capture), else emptied
    std::size_t checkpoints = 0;      // checkpoints compared
    std::size_t verified = 0;         // of them, verified
    std::vector<Problem> problems;    // EDITED, TRUNCATED
    std::string region;               // the region's bytes (timeline only)
    bool region_cut = false;          // region longer than k_max_timeline_bytes
};

} // namespace execmark::audit
