// SPDX-License-Identifier: MIT
#pragma once

#include <agent/cli/environment.hpp>

#include <string>
#include <vector>

namespace execmark::cli {

// Exit codes shared by the non-init subcommands (docs/exit-codes.md).
inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_failure = 1;
inline constexpr int k_exit_usage = 2;

// One subcommand: parse its arguments (argv after the subcommand name), run, return the exit code.
struct Command {
    const char* name;
    const char* summary;
    int (*run)(const std::vector<std::string>& args, const Environment& env);
};

// `execmark init`; tini_mode: invoked as tini/docker-init (tini's --version format and usage).
int run_init(const std::vector<std::string>& args, const Environment& env, bool tini_mode);

} // namespace execmark::cli
