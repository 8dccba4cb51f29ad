// SPDX-License-Identifier: MIT
#pragma once

#include <agent/session/origin.hpp>

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace execmark::session {

// One process that looks like an ssm-session-worker (comm and argv), as seen in /proc.
struct WorkerSeen {
    pid_t pid = 0;
    std::string sid;                     // the session id its argv claims
    WorkerCheck check = WorkerCheck::ok; // check_worker_chain when first seen
    std::int64_t start_ms = 0;           // its start, Unix ms (0 unknown)
    std::int64_t command_alive_ms = 0;   // this scan's time when its command (child) lives
};

// A change between two scans.
struct WatchEvent {
    enum class Kind { seen, gone } kind = Kind::seen;
    pid_t pid = 0;
    std::string sid;
    WorkerCheck check = WorkerCheck::ok;
    std::int64_t start_ms = 0;        // the worker's start, Unix ms
    std::int64_t duration_ms = 0;     // gone: time since seen
    std::int64_t command_last_ms = 0; // gone: last scan that saw the session's command alive
};

// Finds the session workers among the visible processes. Each scan lists /proc's pids (one
// getdents) and reads only processes it has not seen before — their stat, and their cmdline
// when comm is the worker's (15 characters kept by the kernel) — plus, at every scan, the few
// whose comm is one of the SSM agent's (a fork of the agent is named like it until it execs).
// Any other pid still listed is the same process as before: a pid reused between two scans
// (the pid counter wrapping within one interval) is not re-read; docs/threat-model.md says
// what that leaves.
class WorkerScanner {
public:
    explicit WorkerScanner(std::string proc_root = "/proc");

    // now_unix_ms: this scan's wall-clock time (stamped on workers whose command lives).
    std::vector<WorkerSeen> scan(std::int64_t now_unix_ms);

    // Processes read so far (stat files opened), for tests and the idle-cost benchmark.
    [[nodiscard]] std::uint64_t processes_read() const { return m_reads; }

private:
    struct Entry {
        pid_t ppid = 0;
        bool agent = false;  // comm is one of the SSM agent's: read again at every scan
        bool worker = false; // looks like a session worker (comm and argv)
        WorkerChain chain;   // when worker
    };

    std::string m_root;
    std::map<pid_t, Entry> m_known;
    std::uint64_t m_reads = 0;
};

// Tracks workers between scans; update() returns what appeared and what went away.
class SessionWatcher {
public:
    // now_ms: a monotonic clock reading.
    std::vector<WatchEvent> update(const std::vector<WorkerSeen>& current, std::int64_t now_ms);

    [[nodiscard]] std::size_t tracked() const { return m_known.size(); }

private:
    struct Known {
        WorkerSeen seen;
        std::int64_t since_ms = 0;
        std::int64_t command_last_ms = 0;
    };

    std::map<pid_t, Known> m_known;
};

} // namespace execmark::session
