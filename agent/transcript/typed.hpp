// SPDX-License-Identifier: MIT
#pragma once

// Input typed ahead of the recorder (docs/markers.md §12, "Typed ahead"): keys an operator
// types while the session's shell starts are echoed by the session's terminal before the
// recorder takes it over, so they show in the transcript before the `open` line, which no
// checkpoint covers. The recorder reports a digest of that echo (`rec` kind `typed`); the
// auditor accepts text before the open only when it is exactly that echo. Pure, no I/O.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace execmark::transcript {

// The text the terminal showed for the queued input `typed` (after its line editing: erased
// keys are no longer queued): nothing without ECHO; otherwise each byte as itself, CR and LF as
// LF, TAB as TAB, other control characters as "^X" with ECHOCTL (dropped without it).
std::string typed_echo_text(std::string_view typed, bool echo, bool echoctl);

// What the terminal's echo left, from the normalised bytes shown before the open (banner
// removed): printable text, TAB and LF kept, each "\b \b" (an erase) removing the character
// before it on its line, control sequences (CSI: ESC [ ... final) dropped, as they show no text.
// nullopt when the bytes hold anything else a terminal's echo never writes (other escape
// sequences, a CR not ending a line, other control characters, an erase with nothing to erase):
// that is output, not echo.
std::optional<std::string> echo_left(std::string_view shown);

// The digest reported for an echo text: 64 lowercase hex digits of
// BLAKE2b-256("execmark/typed/1" 0x00 || text), text with its empty lines removed (and no LF at
// its end).
std::string typed_digest(std::string_view echo_text);

} // namespace execmark::transcript
