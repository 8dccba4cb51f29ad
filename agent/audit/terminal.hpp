// SPDX-License-Identifier: MIT
#pragma once

// Terminal noise around marker lines: what a pty, `script` and the SSM agent leave in a
// session transcript. Pure functions.

#include <string>
#include <string_view>

namespace execmark::audit {

// Removes terminal control sequences and carriage returns from one line:
// - CSI (ESC [ params intermediates final), OSC (ESC ] ... BEL or ESC \), DCS/SOS/PM/APC
//   (ESC P/X/^/_ ... ESC \), and two- or three-byte ESC sequences (ESC intermediates final);
//   of an unterminated or malformed sequence only its introducer is dropped, so that what
//   follows (perhaps a marker) stays;
// - every CR (a pty turns LF into CR LF, `script`'s second pty makes that CR CR LF; a bare CR
//   only moves the cursor).
// Bytes >= 0x80 are kept: they are UTF-8 text, never 8-bit C1 controls here (stripping them as
// C1, as some ANSI filters do, corrupts UTF-8).
std::string strip_terminal_controls(std::string_view line);

// Columns text takes on a terminal, for aligning tables: UTF-8 decoded; combining marks and
// zero-width characters 0, East Asian wide and fullwidth characters (and emoji) 2, everything
// else — an invalid byte included — 1.
std::size_t display_width(std::string_view text);

} // namespace execmark::audit
