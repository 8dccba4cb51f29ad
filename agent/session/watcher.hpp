// SPDX-License-Identifier: MIT
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace execmark::session {

// One ssm-session-worker process as seen in /proc.
struct WorkerSeen {
    pid_t pid = 0;
    std::string sid;
};

// A change between two scans.
struct WatchEvent {
    enum class Kind { seen, gone } kind = Kind::seen;
    pid_t pid = 0;
    std::string sid;
    std::int64_t duration_ms = 0; // gone: time since seen
};

// Finds the session workers among the visible processes. Each scan lists /proc's pids (one
// getdents) and reads only processes it has not seen before: their stat, and their cmdline when
// comm is the worker's (15 characters kept by the kernel). A pid still listed is the same
// process as before — a pid reused between two scans (which needs the pid counter to wrap
// within one interval) is not re-read; docs/threat-model.md says what that leaves.
class WorkerScanner {
public:
    explicit WorkerScanner(std::string proc_root = "/proc");

    std::vector<WorkerSeen> scan();

    // Processes read so far (stat files opened), for tests and the idle-cost benchmark.
    [[nodiscard]] std::uint64_t processes_read() const { return m_reads; }

private:
    struct Entry {
        std::string sid; // empty: not a session worker
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
        std::string sid;
        std::int64_t since_ms = 0;
    };

    std::map<pid_t, Known> m_known;
};

} // namespace execmark::session
