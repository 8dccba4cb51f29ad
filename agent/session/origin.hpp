// SPDX-License-Identifier: MIT
#pragma once

#include <sys/types.h>

#include <cstdint>
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

// The SSM agent's other two processes above a session worker (docs/threat-model.md); named by
// their executables.
inline constexpr std::string_view k_agent_worker_name = "ssm-agent-worker";
inline constexpr std::string_view k_agent_name = "amazon-ssm-agent";

// The outcome of checking that a process whose argv looks like a session worker is the SSM
// agent's: `ssm-session-worker <sid>` (argv exactly path + id, the executable so named) whose
// parent runs `ssm-agent-worker`, whose parent runs `amazon-ssm-agent` with parent pid 0 in our PID
// namespace — started from outside by the runtime, which no process inside can arrange — all three
// executables in one directory on one device.
enum class WorkerCheck {
    ok,         // the SSM agent's session worker
    none,       // no session worker in the ancestry at all
    argv,       // argv not exactly [path, valid session id]
    exe,        // the executable is not named ssm-session-worker
    parent,     // the parent is not ssm-agent-worker
    agent,      // the grandparent is not amazon-ssm-agent
    agent_ppid, // amazon-ssm-agent was started from inside the container (parent pid != 0)
    directory,  // the three executables are not in one directory on one device
};

// The wire name of a check ("ok", "none", "argv", "exe", "parent", "agent", "agent-ppid",
// "dir"): the `wchk` field of markers.
std::string_view worker_check_name(WorkerCheck check);

struct WorkerChain {
    WorkerCheck check = WorkerCheck::none;
    std::string sid;           // argv[1]: the session id it claims (valid or not)
    std::int64_t start_ms = 0; // the worker's start, Unix ms (0 unknown)
};

// Checks the process chain above `worker` (a process whose argv passed is_session_worker).
// The one rule the signer and the session watcher share.
WorkerChain check_worker_chain(pid_t worker, const std::string& proc_root = "/proc");

// Where a process that asks for a marker sits: under the SSM agent's session worker or not.
struct SessionOrigin {
    std::string sid; // SSM session id, or "local-<leader>-<start>" when not a genuine session
    bool under_ssm = false;
    WorkerCheck check = WorkerCheck::none; // why not, when !under_ssm
    std::string claimed_sid;               // the id a worker-looking ancestor claimed (!ok)
    pid_t worker_pid = 0;                  // the ssm-session-worker (0 when not under SSM)
    pid_t command_pid = 0; // the session's command: the worker's child, else the peer's parent
    std::int64_t worker_start_ms = 0;  // Unix ms (0 unknown / not under SSM)
    std::int64_t command_start_ms = 0; // Unix ms (0 unknown)
};

// A session id as SSM makes them: [A-Za-z0-9._@-], starting with a letter or digit,
// 1..k_max_session_id characters. Anything else
// (a '/', spaces, control bytes) is refused so it can never reach a path or a marker unescaped.
bool is_valid_session_id(std::string_view sid);

// True for the argv of an ssm-session-worker: exactly two arguments, basename(argv[0]) is the
// worker name and argv[1]
// is a valid session id.
bool is_session_worker(const std::vector<std::string>& argv);

// Walks /proc from peer towards PID 1 and classifies the session: the first ancestor whose argv
// looks like a session worker decides — a genuine one (check_worker_chain) gives its session
// id, any other gives a local id with the failed check, and the walk never goes past it (a
// request must never reach a session other than the one its own process chain shows). Never
// fails: a process that vanished mid-walk just ends the walk.
SessionOrigin find_session_origin(pid_t peer, const std::string& proc_root = "/proc");

} // namespace execmark::session
