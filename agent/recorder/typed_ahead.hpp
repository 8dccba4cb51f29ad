// SPDX-License-Identifier: MIT
#pragma once

// The input an operator typed while the session's shell started (docs/markers.md §12, "Typed
// ahead"). Until the recorder takes the session's terminal over, that terminal echoes keys
// itself, so they show before the `open` line, where no checkpoint covers them. The recorder
// takes the queued input over right after PID 1 accepted the recording (before the open is
// written), hands it to the shell's own terminal as if typed there, and reports how much it was
// and a digest of its echo; the auditor accepts text before the open only when it is that echo.

#include <agent/util/result.hpp>

#include <termios.h>

#include <optional>
#include <string>

namespace execmark::recorder {

struct TypedAhead {
    std::string bytes;       // the input that was queued (at most client::k_max_rec_typed_bytes)
    std::string echo_digest; // transcript::typed_digest of its echo ("" when none)
    std::optional<termios> outer_found; // the terminal's settings before this took over
};

// On the session's terminal (stdin): stops its echo and line editing (keys still signal, output
// is still processed: the banner is written next), then reads what is queued on it without
// waiting. Not a terminal: nothing.
TypedAhead take_typed_ahead();

// Writes the taken input to the shell's terminal (the pty master), as if typed there.
void give_typed_ahead(int master, const std::string& bytes);

} // namespace execmark::recorder
