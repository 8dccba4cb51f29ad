// SPDX-License-Identifier: MIT
#pragma once

// What a recorded session's transcript shows before its `open` line (docs/markers.md §12,
// "Typed ahead"). No checkpoint covers it: the recorder writes the banner and the open before it
// relays anything. The only honest text there is the session terminal's echo of keys typed while
// the shell started, which the recorder took over and reported (`rec typed`), and the banner.
// Anything else is output of work done before the recording began (an unhooked shell, then the
// recorder started by hand), or an edit.

#include <agent/audit/recording.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace execmark::audit {

// Normalised bytes kept from before the open; more than this is never an echo of typed-ahead
// input (at most 4096 keys), so the rest is only counted.
inline constexpr std::size_t k_max_pre_open_bytes = 64 * 1024;

// lines: the normalised transcript before the open line, complete lines (each ending in LF; the
// reader's framing removed). open_prefix: the open line's text before the marker. typed: the
// session's `rec typed` report (nullptr: none). Returns why that text is not the echo of the
// typed-ahead input, or nullopt when it is (or there is none).
std::optional<std::string> pre_open_problem(std::string_view lines,
                                            std::string_view open_prefix,
                                            bool cut,
                                            const RecPoint* typed);

} // namespace execmark::audit
