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

// Lists the session workers currently visible (cheap: cmdline is read only for processes whose
// comm is the worker's, truncated to 15 characters by the kernel).
std::vector<WorkerSeen> scan_session_workers(const std::string& proc_root = "/proc");

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
