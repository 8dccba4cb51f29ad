// SPDX-License-Identifier: MIT
#include <agent/recorder/observer.hpp>
#include <agent/util/error.hpp>

#include <dirent.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <unordered_map>

namespace execmark::recorder {

std::vector<pid_t> outside_holders(const std::vector<pid_t>& holders,
                                   const std::vector<util::ProcStat>& procs,
                                   pid_t recorder,
                                   pid_t inner_session)
{
    std::vector<pid_t> own = util::descendants_of(recorder, procs);
    own.push_back(recorder);
    std::unordered_map<pid_t, const util::ProcStat*> by_pid;
    for (const auto& p : procs) {
        by_pid.emplace(p.pid, &p);
        if (inner_session > 0 && p.session == inner_session) {
            own.push_back(p.pid);
        }
    }
    // The recorder's ancestors: the SSM session worker and its chain up to PID 1.
    for (auto it = by_pid.find(recorder); it != by_pid.end() && it->second->ppid > 0;) {
        const pid_t parent = it->second->ppid;
        if (std::find(own.begin(), own.end(), parent) != own.end()) {
            break;
        }
        own.push_back(parent);
        it = by_pid.find(parent);
    }
    std::vector<pid_t> out;
    for (const pid_t h : holders) {
        if (std::find(own.begin(), own.end(), h) == own.end()
            && std::find(out.begin(), out.end(), h) == out.end()) {
            out.push_back(h);
        }
    }
    return out;
}

std::vector<Holder> terminal_holders(const std::string& path, const std::string& proc_root)
{
    std::vector<Holder> out;
    std::array<char, 256> target{};
    for (const pid_t pid : util::list_pids(proc_root)) {
        const std::string dir = proc_root + "/" + std::to_string(pid) + "/fd";
        const std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), &::closedir);
        if (!d) {
            continue;
        }
        while (const dirent* e = ::readdir(d.get())) {
            if (e->d_name[0] == '.') {
                continue;
            }
            const std::string link = dir + "/" + e->d_name;
            const ssize_t n = ::readlink(link.c_str(), target.data(), target.size());
            if (n > 0 && static_cast<std::size_t>(n) == path.size()
                && std::memcmp(target.data(), path.data(), path.size()) == 0) {
                out.push_back({pid, std::atoi(e->d_name)});
            }
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

OpenVerdict judge_open(const std::vector<Holder>& before,
                       const std::vector<Holder>& after,
                       const std::vector<util::ProcStat>& procs,
                       pid_t recorder,
                       pid_t inner_session)
{
    std::vector<Holder> fresh;
    std::set_difference(
        after.begin(), after.end(), before.begin(), before.end(), std::back_inserter(fresh));
    std::vector<pid_t> fresh_pids;
    for (const auto& h : fresh) {
        fresh_pids.push_back(h.pid);
    }
    OpenVerdict v;
    v.outside = outside_holders(fresh_pids, procs, recorder, inner_session);
    if (v.outside.empty()) {
        v.explained =
            std::any_of(fresh.begin(), fresh.end(), [](const Holder& h) { return h.fd > 2; });
    }
    return v;
}

std::vector<Holder> startup_baseline(const std::vector<Holder>& holders,
                                     const std::vector<util::ProcStat>& procs,
                                     pid_t recorder,
                                     pid_t inner_session)
{
    std::vector<pid_t> pids;
    for (const auto& h : holders) {
        pids.push_back(h.pid);
    }
    const std::vector<pid_t> outside = outside_holders(pids, procs, recorder, inner_session);
    std::vector<Holder> kept;
    for (const auto& h : holders) {
        if (h.fd <= 2 && std::find(outside.begin(), outside.end(), h.pid) == outside.end()) {
            kept.push_back(h);
        }
    }
    return kept;
}

util::Status TerminalWatch::start(const std::string& inner, const std::string& outer)
{
    m_fd.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!m_fd) {
        return util::sys_error("create", "inotify", errno);
    }
    m_inner_wd = ::inotify_add_watch(m_fd.get(), inner.c_str(), IN_OPEN);
    if (m_inner_wd < 0) {
        return util::sys_error("watch", inner, errno);
    }
    if (!outer.empty() && outer != inner) {
        m_outer_wd = ::inotify_add_watch(m_fd.get(), outer.c_str(), IN_OPEN);
        if (m_outer_wd < 0) {
            return util::sys_error("watch", outer, errno);
        }
    }
    return {};
}

TerminalWatch::Opened TerminalWatch::read_events()
{
    Opened opened;
    alignas(inotify_event) std::array<char, 4096> buf{};
    for (;;) {
        const ssize_t n = ::read(m_fd.get(), buf.data(), buf.size());
        if (n <= 0) {
            break;
        }
        for (std::size_t at = 0; at + sizeof(inotify_event) <= static_cast<std::size_t>(n);) {
            inotify_event ev{};
            std::memcpy(&ev, buf.data() + at, sizeof ev);
            if ((ev.mask & IN_OPEN) != 0 || (ev.mask & IN_Q_OVERFLOW) != 0) {
                // An overflow loses which terminal: both are looked at.
                opened.inner = opened.inner || ev.wd == m_inner_wd || (ev.mask & IN_Q_OVERFLOW);
                opened.outer = opened.outer || (m_outer_wd >= 0 && ev.wd == m_outer_wd)
                               || ((ev.mask & IN_Q_OVERFLOW) && m_outer_wd >= 0);
            }
            at += sizeof(inotify_event) + ev.len;
        }
    }
    return opened;
}

} // namespace execmark::recorder
