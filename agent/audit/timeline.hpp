// SPDX-License-Identifier: MIT
#pragma once

// A session's verified timeline (`execmark audit --timeline SID`, docs/auditing.md,
// "Timeline"): each command line the operator entered, at PID 1's time of the Enter, with its
// output as a terminal shows it (screen.hpp) and the verification state of its checkpoints.
// Pure: built from the content check's verdict and the rec markers, rendered as text or JSON.

#include <agent/audit/recording.hpp>

#include <optional>
#include <string>
#include <vector>

namespace execmark::audit {

// One command: the line on screen when Enter was pressed, and the output up to the next Enter.
struct TimelineEntry {
    std::optional<CheckedPoint> enter; // none for what came before the first Enter
    std::string command;               // prompt and typed text, as shown
    std::vector<std::string> output;   // rendered lines
    // The worst state of the checkpoints after this Enter and before the next (idle, flow,
    // end); without any, the next Enter's (it covers the output too).
    CheckState output_state = CheckState::verified;
    std::vector<std::uint64_t> checkpoints; // idx of those checkpoints
};

struct Timeline {
    std::string session;
    std::string status;                // the session's primary status
    std::vector<std::string> statuses; // all its findings
    std::string log;                   // the session log the region was read from
    std::uint64_t region_bytes = 0;
    std::optional<std::uint64_t> end_off; // bytes the recorder reported at the end
    bool cut = false;                     // region longer than k_max_timeline_bytes
    std::vector<CheckedPoint> checkpoints;
    std::vector<RecPoint> interference;
    std::vector<TimelineEntry> entries;
};

// Splits the region at the `enter` checkpoints and renders each part.
Timeline build_timeline(const std::string& session,
                        const std::string& log,
                        const ContentVerdict& content,
                        const RecSession* recording);

std::string render_timeline_text(const Timeline& timeline);
// One JSON object on one line ({"type":"timeline", ...}).
std::string render_timeline_json(const Timeline& timeline);

} // namespace execmark::audit
