// SPDX-License-Identifier: MIT
#include <agent/session/origin.hpp>
#include <agent/util/proc.hpp>

#include <optional>

namespace execmark::session {

bool is_valid_session_id(std::string_view sid)
{
    if (sid.empty() || sid.size() > k_max_session_id) {
        return false;
    }
    for (const char c : sid) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                        || c == '-' || c == '_' || c == '.' || c == '@';
        if (!ok) {
            return false;
        }
    }
    // Starts like SSM's ids do (never '-', '.', so never an option or a path component).
    const char first = sid.front();
    return (first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z')
           || (first >= '0' && first <= '9');
}

bool is_session_worker(const std::vector<std::string>& argv)
{
    // The worker is started with exactly its path and the session id.
    if (argv.size() != 2) {
        return false;
    }
    std::string_view arg0 = argv[0];
    if (const auto slash = arg0.rfind('/'); slash != std::string_view::npos) {
        arg0.remove_prefix(slash + 1);
    }
    return arg0 == k_worker_name && is_valid_session_id(argv[1]);
}

SessionOrigin find_session_origin(pid_t peer, const std::string& proc_root)
{
    SessionOrigin origin;
    const auto peer_stat = util::read_proc_stat(peer, proc_root);
    pid_t below = peer; // the process one step below `pid` in the walk
    pid_t pid = peer_stat ? peer_stat->ppid : 0;
    for (int depth = 0; depth < k_max_ancestry_depth && pid > 0; ++depth) {
        const auto argv = util::read_cmdline(pid, proc_root);
        if (argv && is_session_worker(*argv)) {
            origin.sid = (*argv)[1];
            origin.under_ssm = true;
            origin.worker_pid = pid;
            origin.command_pid = below;
            return origin;
        }
        const auto st = util::read_proc_stat(pid, proc_root);
        if (!st || pid == 1) {
            break;
        }
        below = pid;
        pid = st->ppid;
    }
    // Not under SSM: name the session after its leader (a shell on a terminal is one), or after
    // the peer's parent when the leader is outside our PID namespace; the start time makes the
    // name unique within a boot even when pids are reused.
    origin.command_pid = peer_stat ? peer_stat->ppid : 0;
    std::optional<util::ProcStat> anchor;
    if (peer_stat && peer_stat->session > 0) {
        anchor = util::read_proc_stat(peer_stat->session, proc_root);
    }
    if (!anchor && origin.command_pid > 0) {
        anchor = util::read_proc_stat(origin.command_pid, proc_root);
    }
    if (!anchor) {
        anchor = peer_stat;
    }
    origin.sid = "local-" + std::to_string(anchor ? anchor->pid : peer) + "-"
                 + std::to_string(anchor ? anchor->start_time : 0);
    return origin;
}

} // namespace execmark::session
