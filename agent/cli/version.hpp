// SPDX-License-Identifier: MIT
#pragma once

#include <string>

namespace execmark::cli {

// "<describe>", e.g. "0.1.0" or "0.1.0+gabc1234"
std::string version_string();

// "execmark version <describe> - git.<sha>"
std::string version_line();

// tini's format, which `docker info` parses: "tini version <v>_execmark - git.<sha>".
std::string tini_version_line();

// The licence text printed by -l.
const char* license_text();

} // namespace execmark::cli
