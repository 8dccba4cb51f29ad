// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <vector>

namespace execmark::cli {

// Exit codes of verify and audit (docs/exit-codes.md, "verify / audit").
inline constexpr int k_exit_findings = 1;    // a session or container log is not clean
inline constexpr int k_exit_input_error = 3; // an input could not be read, or there was none

// `execmark verify` (audit == false) and `execmark audit`: parse, run, print, exit code.
int run_audit_command(const std::vector<std::string>& args, bool audit);

} // namespace execmark::cli
