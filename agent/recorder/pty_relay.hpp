// SPDX-License-Identifier: MIT
#pragma once

#include <agent/client/session_marker.hpp>
#include <agent/recorder/child.hpp>
#include <agent/util/fd.hpp>
#include <agent/util/result.hpp>

#include <termios.h>

#include <optional>
#include <string>
#include <vector>

namespace execmark::recorder {

// The shell's new terminal: a pty whose master the recorder holds (docs/markers.md §12).
struct Pty {
    util::Fd master;
    util::Fd slave;
    std::string slave_path; // /dev/pts/N
};

// Opens a pty (close-on-exec) with the outer terminal's (stdin's) termios and window size. Done
// before the recording is announced: a failure here means "not recorded", never a lost shell.
util::Result<Pty> open_pty();

// The least deadline of one report: a slow PID 1 costs checkpoints, never the relay's pace.
inline constexpr int k_report_deadline_ms = 2000;

struct RecordOptions {
    std::vector<std::string> argv; // the shell (PATH search unless exec_path is given)
    std::string exec_path;         // the file to run with argv ("" = argv[0] on PATH)
    std::string socket_path;
    std::string mode;           // the reports' mode: "hook" | "wrapper"
    int report_deadline_ms = 0; // one checkpoint or interference report
    int end_deadline_ms = 0;    // the end report (PID 1 answers with the close marker)
    // The close as the client would ask for it (claims), for the end report and the fallback.
    client::Request close_request;
    client::SessionMarkerOptions marker_options;
    // The outer terminal's settings as found, when the caller changed them before (taking the
    // typed-ahead input): restored at the end instead of those read when the relay starts.
    std::optional<termios> outer_found;
};

// Runs argv on pty as the session leader with the pty as its controlling terminal, like
// script(1): the outer terminal raw, every byte relayed both ways with bounded buffers, window
// size changes forwarded, every byte written to the outer terminal fed to the content
// fingerprint; checkpoints and interference reported to PID 1 without ever waiting for it. At the
// end the outer terminal is restored and "\r\n" plus the close text written (signed by PID 1 from
// the end report, or the unsigned fallback). The caller had `start` accepted.
ChildOutcome run_recorded(Pty pty, const RecordOptions& options);

} // namespace execmark::recorder
