// SPDX-License-Identifier: MIT
#include <agent/session/origin.hpp>
#include <agent/session/watcher.hpp>
#include <agent/util/proc.hpp>

#include <algorithm>
#include <set>
#include <utility>

namespace execmark::session {

WorkerScanner::WorkerScanner(std::string proc_root)
    : m_root(std::move(proc_root))
{}

namespace {

// comm (15 characters kept by the kernel) of the SSM agent's three executables.
bool is_agent_comm(std::string_view comm)
{
    return comm == k_worker_name.substr(0, 15) || comm == k_agent_worker_name.substr(0, 15)
           || comm == k_agent_name.substr(0, 15);
}

} // namespace

std::vector<WorkerSeen> WorkerScanner::scan(std::int64_t now_unix_ms)
{
    const std::string_view worker_comm = k_worker_name.substr(0, 15);
    std::map<pid_t, Entry> now;
    for (const pid_t pid : util::list_pids(m_root)) {
        auto known = m_known.find(pid);
        // The agent's own processes are read again at every scan (a few per container): a
        // process forked by one of them carries its name and argv until it execs.
        if (known == m_known.end() || known->second.agent) {
            ++m_reads;
            const auto st = util::read_proc_stat(pid, m_root);
            if (!st || st->state == 'Z') {
                continue; // gone or a zombie: looked at again next time
            }
            Entry entry;
            entry.ppid = st->ppid;
            entry.agent = is_agent_comm(st->comm);
            if (st->comm == worker_comm) {
                const auto argv = util::read_cmdline(pid, m_root);
                if (argv && is_session_worker(*argv)) {
                    entry.worker = true;
                    entry.chain = check_worker_chain(pid, m_root);
                }
            }
            known = m_known.insert_or_assign(pid, std::move(entry)).first;
        }
        now.insert(*known);
    }
    m_known = std::move(now);
    std::vector<WorkerSeen> out;
    for (const auto& [pid, entry] : m_known) {
        if (!entry.worker) {
            continue;
        }
        // A worker's own child before its exec (the worker runs `script` at the end) looks
        // like the worker: same argv, the worker as parent. It is not another worker.
        if (const auto parent = m_known.find(entry.ppid);
            parent != m_known.end() && parent->second.worker
            && parent->second.chain.sid == entry.chain.sid) {
            continue;
        }
        WorkerSeen seen{pid, entry.chain.sid, entry.chain.check, entry.chain.start_ms, 0};
        // The session's command is the worker's child (in memory: no system call).
        for (const auto& [cpid, child] : m_known) {
            if (child.ppid == pid && !child.worker) {
                seen.command_alive_ms = now_unix_ms;
                break;
            }
        }
        out.push_back(std::move(seen));
    }
    return out;
}

std::vector<WatchEvent> SessionWatcher::update(const std::vector<WorkerSeen>& current,
                                               std::int64_t now_ms)
{
    std::vector<WatchEvent> events;
    std::set<pid_t> present;
    const auto gone = [&events, now_ms](pid_t pid, const Known& k) {
        events.push_back({WatchEvent::Kind::gone,
                          pid,
                          k.seen.sid,
                          k.seen.check,
                          k.seen.start_ms,
                          now_ms - k.since_ms,
                          k.command_last_ms});
    };
    for (const auto& w : current) {
        present.insert(w.pid);
        const auto it = m_known.find(w.pid);
        if (it != m_known.end() && it->second.seen.sid == w.sid) {
            it->second.command_last_ms = std::max(it->second.command_last_ms, w.command_alive_ms);
            continue;
        }
        if (it != m_known.end()) {
            // Same pid, another session: the old worker ended and the pid was reused.
            gone(w.pid, it->second);
        }
        m_known[w.pid] = Known{w, now_ms, w.command_alive_ms};
        events.push_back({WatchEvent::Kind::seen, w.pid, w.sid, w.check, w.start_ms, 0, 0});
    }
    for (auto it = m_known.begin(); it != m_known.end();) {
        if (!present.contains(it->first)) {
            gone(it->first, it->second);
            it = m_known.erase(it);
        } else {
            ++it;
        }
    }
    return events;
}

} // namespace execmark::session
