// SPDX-License-Identifier: MIT
#pragma once

#include <agent/cli/exit_codes.hpp>

#include <string>
#include <vector>

namespace execmark::cli {

// `execmark verify` (audit == false) and `execmark audit`: parse, run, print, exit code.
int run_audit_command(const std::vector<std::string>& args, bool audit);

} // namespace execmark::cli
