// SPDX-License-Identifier: MIT
#pragma once

#include <agent/init/event_loop.hpp>
#include <agent/init/options.hpp>

#include <sys/types.h>

#include <functional>

namespace execmark::init {

// Extension points for what runs beside supervision (the attribution service). Init knows
// nothing of them; a failure inside a hook must be handled by the hook.
struct SupervisorHooks {
    // After the child is spawned and the loop exists: register fds, start services.
    std::function<void(EventLoop& loop, pid_t child)> on_started;
    // Once, just before the init exits with exit_code.
    std::function<void(int exit_code)> on_exit;
};

// Runs the PID 1 contract: block signals, spawn the command at once in its own foreground
// process group, forward signals, reap every zombie, graceful shutdown with a grace period.
// Returns the exit code for the init (the child's, remapped; 126/127 if it could not run).
int supervise(const InitOptions& options, const SupervisorHooks& hooks);

} // namespace execmark::init
