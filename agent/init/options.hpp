// SPDX-License-Identifier: MIT
#pragma once

#include <agent/init/exit_status.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace execmark::init {

// Default grace period: below ECS's default 30 s stopTimeout, so execmark's SIGKILL (and its
// shutdown marker) comes before the agent's.
inline constexpr std::uint64_t k_default_grace_ms = 10'000;

// What `execmark init` (or `tini`) was asked to do; filled by cli from argv and environment.
struct InitOptions {
    std::vector<std::string> command; // PROG and its arguments, never empty when supervising
    bool subreaper = false;           // -s / TINI_SUBREAPER: required (fatal if impossible)
    bool kill_process_group = false;  // -g / TINI_KILL_PROCESS_GROUP: signal the child's group
    int pdeath_signal = 0;            // -p SIG: signal the init gets when its parent dies
    ExitRemap remap;                  // -e CODE: exit codes mapped to 0
    int verbosity = 1;                // 0 fatal, 1 warn, 2 info, 3 debug, 4 trace
    bool warn_on_reap = false;        // -w: warn for every reaped zombie but the child
    std::uint64_t grace_ms = k_default_grace_ms; // --grace: TERM -> KILL window at shutdown
};

} // namespace execmark::init
