// SPDX-License-Identifier: MIT
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace execmark::session {

// Name of the SSM agent's per-session process; its argv[1] is the session id.
inline constexpr std::string_view k_worker_name = "ssm-session-worker";
// How far up the process tree the walk goes before giving up.
inline constexpr int k_max_ancestry_depth = 64;
// Longest SSM session id accepted (real ones are ~40 characters).
inline constexpr std::size_t k_max_session_id = 128;

// Where a process that asks for a marker sits: under an SSM session worker or not.
struct SessionOrigin {
    std::string sid; // SSM session id, or "local-<leader>-<start>" when not under SSM
    bool under_ssm = false;
    pid_t worker_pid = 0;  // the ssm-session-worker (0 when not under SSM)
    pid_t command_pid = 0; // the session's command: the worker's child, else the peer's parent
};

// A session id as SSM makes them: [A-Za-z0-9._@-], starting with a letter or digit,
// 1..k_max_session_id characters. Anything else
// (a '/', spaces, control bytes) is refused so it can never reach a path or a marker unescaped.
bool is_valid_session_id(std::string_view sid);

// True for the argv of an ssm-session-worker: exactly two arguments, basename(argv[0]) is the
// worker name and argv[1]
// is a valid session id.
bool is_session_worker(const std::vector<std::string>& argv);

// Walks /proc from peer towards PID 1 and classifies the session. Never fails: a process that
// vanished mid-walk just ends the walk.
SessionOrigin find_session_origin(pid_t peer, const std::string& proc_root = "/proc");

} // namespace execmark::session
