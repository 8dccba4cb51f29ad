// SPDX-License-Identifier: MIT
#pragma once

#include <string_view>

namespace execmark::cli {

// Plain (uncoloured) log lines on stderr, "[execmark <component>] <level>: <message>".
// verbosity follows tini: 0 fatal, 1 warn, 2 info, 3 debug, 4 trace.
void setup_logging(std::string_view component, int verbosity);

} // namespace execmark::cli
