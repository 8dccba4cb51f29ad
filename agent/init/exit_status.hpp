// SPDX-License-Identifier: MIT
#pragma once

#include <bitset>

namespace execmark::init {

// Exit codes the -e option may map to 0.
using ExitRemap = std::bitset<256>;

// Shell convention: the exit code, or 128 + the signal that killed it.
int exit_code_from_wait_status(int wait_status);

// tini's -e: a code listed in remap becomes 0.
int apply_remap(int code, const ExitRemap& remap);

// 127 when the program was not found, 126 when found but not executable (errno of exec).
int exit_code_for_exec_error(int err);

} // namespace execmark::init
