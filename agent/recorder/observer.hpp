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

// One descriptor of a process on a terminal.
struct Holder {
    pid_t pid = 0;
    int fd = -1;

    friend bool operator==(const Holder&, const Holder&) = default;
    friend auto operator<=>(const Holder&, const Holder&) = default;
};

// Every descriptor of every visible process whose link reads path (e.g. "/dev/pts/3"), sorted.
// Processes whose descriptors cannot be read (non-dumpable, gone) are not listed.
std::vector<Holder> terminal_holders(const std::string& path,
                                     const std::string& proc_root = "/proc");

// What an open of a terminal (an inotify IN_OPEN) was, from the holders before and after it.
struct OpenVerdict {
    std::vector<pid_t> outside; // new holders outside the session: interference by them
    bool explained = false;     // a process of the session opened it (a new descriptor above 2 of
                                // its own, e.g. less opening ttyname): not interference
};

// New holders (in after, not in before) outside the session are interference; otherwise a new
// descriptor above 2 inside the session explains the open; otherwise the opener is gone (neither
// outside nor explained: reported without a pid). Pure.
OpenVerdict judge_open(const std::vector<Holder>& before,
                       const std::vector<Holder>& after,
                       const std::vector<util::ProcStat>& procs,
                       pid_t recorder,
                       pid_t inner_session);

// The holders a first look at a terminal is judged against when an open happened while that look
// was taken (the watch starts first, so the opener's descriptor may already be in it; zsh opens
// its terminal by name as it starts): only the session's own standard descriptors (0-2). Compared
// with it, a descriptor of the session above 2 explains the open, and every holder outside the
// session is interference. Pure.
std::vector<Holder> startup_baseline(const std::vector<Holder>& holders,
                                     const std::vector<util::ProcStat>& procs,
                                     pid_t recorder,
                                     pid_t inner_session);

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
