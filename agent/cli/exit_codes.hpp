// SPDX-License-Identifier: MIT
#pragma once

// The exit codes of the non-init subcommands, in one place (docs/exit-codes.md). `init` exits
// with its program's status (init/exit_status.hpp).
namespace execmark::cli {

inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_failure = 1;
inline constexpr int k_exit_usage = 2;
// verify / audit: a session or container log is not clean.
inline constexpr int k_exit_findings = 1;
// verify / audit: an input could not be read, or there was none.
inline constexpr int k_exit_input_error = 3;
// metadata: not on ECS (no metadata endpoint in the environment).
inline constexpr int k_exit_not_on_ecs = 3;

} // namespace execmark::cli
