// SPDX-License-Identifier: MIT
#pragma once

#include <agent/cli/environment.hpp>
#include <agent/init/options.hpp>
#include <agent/util/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace execmark::cli {

// What the init command line asked for: supervise, or print something and exit.
struct InitArgs {
    init::InitOptions options;
    // Attribution service (see docs/configuration.md). nullopt: the mode's default (on for
    // `execmark init`, off when invoked as tini, so a drop-in prints nothing extra).
    std::optional<bool> attribution;
    std::string socket_path;                // --socket / EXECMARK_SOCKET ("" = default)
    std::uint64_t watch_interval_ms = 2000; // --watch-interval / EXECMARK_WATCH_INTERVAL; 0 = off
    bool help = false;
    bool version = false;
    bool license = false;
};

// Parses `execmark init` / `tini` arguments (argv without the program or subcommand name) the way
// tini's getopt does — grouped short options (-sg, -vvv), -e143 or -e 143 — except that options
// stop at the first non-option, so `tini prog -l` runs prog with -l. Then applies tini's
// environment: TINI_SUBREAPER and TINI_KILL_PROCESS_GROUP (presence), TINI_VERBOSITY (absolute,
// wins over -v), and EXECMARK_GRACE. Errors are usage errors ("<option>: <reason>").
util::Result<InitArgs> parse_init_args(const std::vector<std::string>& args,
                                       const Environment& env);

} // namespace execmark::cli
