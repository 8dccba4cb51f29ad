// SPDX-License-Identifier: MIT
#pragma once

#include <agent/cli/environment.hpp>
#include <agent/cli/exit_codes.hpp>

#include <string>
#include <vector>

namespace execmark::cli {

// One subcommand: parse its arguments (argv after the subcommand name), run, return the exit code.
struct Command {
    const char* name;
    const char* summary;
    int (*run)(const std::vector<std::string>& args, const Environment& env);
};

// `execmark init`; tini_mode: invoked as tini/docker-init (tini's --version format and usage).
int run_init(const std::vector<std::string>& args, const Environment& env, bool tini_mode);

// `execmark metadata [--json] [--timeout SECONDS]`: exit 0 printed, 1 endpoint failed, 2 usage,
// 3 not on ECS.
int run_metadata(const std::vector<std::string>& args, const Environment& env);

// `execmark session open|close`: the signed session markers for shell hooks; exit 0 always but
// for usage errors (2).
int run_session(const std::vector<std::string>& args, const Environment& env);

// `execmark shell [-- SHELL ARGS]`: wrapper mode; exits with the shell's status.
int run_shell(const std::vector<std::string>& args, const Environment& env);

// `execmark hook install [--root DIR] [--bin PATH] [--dry-run]` | `hook print SHELL`: exit 0 done,
// 1 install failed, 2 usage.
int run_hook(const std::vector<std::string>& args, const Environment& env);

// `execmark doctor [--json] [--root DIR]`: exit 0 nothing required missing, 1 something is, 2
// usage.
int run_doctor(const std::vector<std::string>& args, const Environment& env);

// `execmark verify [--container-log PATH]... [--key B64]... FILES...`: exit 0 clean, 1 findings,
// 2 usage, 3 an input could not be read (docs/exit-codes.md).
int run_verify(const std::vector<std::string>& args, const Environment& env);

// `execmark audit --cloudtrail PATH... [...] SESSION-LOGS...`: verify plus the CloudTrail join;
// exit codes as verify.
int run_audit(const std::vector<std::string>& args, const Environment& env);

} // namespace execmark::cli
