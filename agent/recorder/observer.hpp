// SPDX-License-Identifier: MIT
#pragma once

#include <agent/util/fd.hpp>
#include <agent/util/proc.hpp>
#include <agent/util/result.hpp>

#include <sys/types.h>

#include <string>
#include <vector>

namespace execmark::recorder {

// A process outside the session that holds one of the session's terminals open.
struct Opener {
    pid_t pid = 0;
    std::string comm;
};

// Of the processes holding a terminal (holders), those that are not the session's own: not the
// recorder, not a descendant of it, not in the inner shell's terminal session (a job reparented
// after its parent died stays there), not an ancestor of the recorder (the SSM worker chain).
// Pure: procs is a snapshot of /proc.
std::vector<pid_t> outside_holders(const std::vector<pid_t>& holders,
                                   const std::vector<util::ProcStat>& procs,
                                   pid_t recorder,
                                   pid_t inner_session);

// Every visible process with a descriptor whose link reads path (e.g. "/dev/pts/3"). Processes
// whose descriptors cannot be read (non-dumpable, gone) are not listed.
std::vector<pid_t> processes_holding(const std::string& path,
                                     const std::string& proc_root = "/proc");

// Watches the session's two terminal device nodes for opens (inotify IN_OPEN): an open by name of
// /dev/pts/N (or of /proc/<pid>/fd/0, the same inode) fires; a program that opens /dev/tty
// inside the session opens another inode and does not.
class TerminalWatch {
public:
    // Watches inner (the shell's pty slave) and outer (the session's terminal; "" for none).
    util::Status start(const std::string& inner, const std::string& outer);

    [[nodiscard]] int fd() const { return m_fd.get(); }

    struct Opened {
        bool inner = false;
        bool outer = false;
    };

    // Reads the pending events (non-blocking).
    Opened read_events();

private:
    util::Fd m_fd;
    int m_inner_wd = -1;
    int m_outer_wd = -1;
};

} // namespace execmark::recorder
