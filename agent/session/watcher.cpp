// SPDX-License-Identifier: MIT
#include <agent/session/origin.hpp>
#include <agent/session/watcher.hpp>
#include <agent/util/proc.hpp>

#include <set>
#include <utility>

namespace execmark::session {

WorkerScanner::WorkerScanner(std::string proc_root)
    : m_root(std::move(proc_root))
{}

std::vector<WorkerSeen> WorkerScanner::scan()
{
    // The kernel keeps 15 characters of comm.
    const std::string comm_prefix(k_worker_name.substr(0, 15));
    std::map<pid_t, Entry> now;
    std::vector<WorkerSeen> out;
    for (const pid_t pid : util::list_pids(m_root)) {
        auto known = m_known.find(pid);
        if (known == m_known.end()) {
            ++m_reads;
            const auto st = util::read_proc_stat(pid, m_root);
            if (!st || st->state == 'Z') {
                continue; // gone or a zombie: looked at again next time
            }
            Entry entry;
            if (st->comm == comm_prefix) {
                const auto argv = util::read_cmdline(pid, m_root);
                if (argv && is_session_worker(*argv)) {
                    entry.sid = (*argv)[1];
                }
            }
            known = m_known.emplace(pid, std::move(entry)).first;
        }
        if (!known->second.sid.empty()) {
            out.push_back(WorkerSeen{pid, known->second.sid});
        }
        now.insert(*known);
    }
    m_known = std::move(now);
    return out;
}

std::vector<WatchEvent> SessionWatcher::update(const std::vector<WorkerSeen>& current,
                                               std::int64_t now_ms)
{
    std::vector<WatchEvent> events;
    std::set<pid_t> present;
    for (const auto& w : current) {
        present.insert(w.pid);
        const auto it = m_known.find(w.pid);
        if (it != m_known.end() && it->second.sid == w.sid) {
            continue;
        }
        if (it != m_known.end()) {
            // Same pid, another session: the old worker ended and the pid was reused.
            events.push_back(
                {WatchEvent::Kind::gone, w.pid, it->second.sid, now_ms - it->second.since_ms});
        }
        m_known[w.pid] = Known{w.sid, now_ms};
        events.push_back({WatchEvent::Kind::seen, w.pid, w.sid, 0});
    }
    for (auto it = m_known.begin(); it != m_known.end();) {
        if (!present.contains(it->first)) {
            events.push_back(
                {WatchEvent::Kind::gone, it->first, it->second.sid, now_ms - it->second.since_ms});
            it = m_known.erase(it);
        } else {
            ++it;
        }
    }
    return events;
}

} // namespace execmark::session
