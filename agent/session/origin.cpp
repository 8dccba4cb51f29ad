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

std::string_view worker_check_name(WorkerCheck check)
{
    switch (check) {
    case WorkerCheck::ok:
        return "ok";
    case WorkerCheck::none:
        return "none";
    case WorkerCheck::argv:
        return "argv";
    case WorkerCheck::exe:
        return "exe";
    case WorkerCheck::parent:
        return "parent";
    case WorkerCheck::agent:
        return "agent";
    case WorkerCheck::agent_ppid:
        return "agent-ppid";
    case WorkerCheck::directory:
        return "dir";
    }
    return "none";
}

namespace {

std::string_view basename_of(std::string_view path)
{
    const auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view dirname_of(std::string_view path)
{
    const auto slash = path.rfind('/');
    return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

// One process of the chain above the worker: its executable (which names it — a process cannot
// fake its /proc/<pid>/exe) and stat. Its argv is not judged: the agent's own arguments are
// not documented for Fargate, and nothing in them is taken.
struct Link {
    util::ProcExe exe;
    util::ProcStat stat;
};

std::optional<Link> agent_link(pid_t pid, std::string_view name, const std::string& proc_root)
{
    const auto exe = util::read_exe(pid, proc_root);
    const auto st = util::read_proc_stat(pid, proc_root);
    if (!exe || !st || basename_of(exe->path) != name) {
        return std::nullopt;
    }
    return Link{*exe, *st};
}

} // namespace

WorkerChain check_worker_chain(pid_t worker, const std::string& proc_root)
{
    WorkerChain chain;
    const auto argv = util::read_cmdline(worker, proc_root);
    const auto st = util::read_proc_stat(worker, proc_root);
    if (!argv || !st || argv->empty()) {
        chain.check = WorkerCheck::argv;
        return chain;
    }
    if (argv->size() > 1) {
        chain.sid = (*argv)[1];
    }
    if (const auto ms = util::start_time_unix_ms(st->start_time, proc_root)) {
        chain.start_ms = *ms;
    }
    if (!is_session_worker(*argv)) {
        chain.check = WorkerCheck::argv;
        return chain;
    }
    const auto exe = util::read_exe(worker, proc_root);
    if (!exe || basename_of(exe->path) != k_worker_name) {
        chain.check = WorkerCheck::exe;
        return chain;
    }
    const auto agent_worker = agent_link(st->ppid, k_agent_worker_name, proc_root);
    if (st->ppid <= 1 || !agent_worker) {
        chain.check = WorkerCheck::parent;
        return chain;
    }
    const pid_t agent_pid = agent_worker->stat.ppid;
    const auto agent =
        agent_pid > 1 ? agent_link(agent_pid, k_agent_name, proc_root) : std::optional<Link>();
    if (!agent) {
        chain.check = WorkerCheck::agent;
        return chain;
    }
    if (agent->stat.ppid != 0) {
        chain.check = WorkerCheck::agent_ppid;
        return chain;
    }
    const std::string_view dir = dirname_of(exe->path);
    if (dir.empty() || dirname_of(agent_worker->exe.path) != dir
        || dirname_of(agent->exe.path) != dir || agent_worker->exe.dev != exe->dev
        || agent->exe.dev != exe->dev) {
        chain.check = WorkerCheck::directory;
        return chain;
    }
    chain.check = WorkerCheck::ok;
    return chain;
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
            const WorkerChain chain = check_worker_chain(pid, proc_root);
            if (chain.check == WorkerCheck::ok) {
                origin.sid = chain.sid;
                origin.under_ssm = true;
                origin.check = WorkerCheck::ok;
                origin.worker_pid = pid;
                origin.command_pid = below;
                origin.worker_start_ms = chain.start_ms;
                if (const auto cst = util::read_proc_stat(below, proc_root)) {
                    origin.command_start_ms =
                        util::start_time_unix_ms(cst->start_time, proc_root).value_or(0);
                }
                return origin;
            }
            // Looks like a worker, is not the agent's: never its session, never further up.
            origin.check = chain.check;
            origin.claimed_sid = chain.sid;
            break;
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
    if (anchor) {
        origin.command_start_ms =
            util::start_time_unix_ms(anchor->start_time, proc_root).value_or(0);
    }
    return origin;
}

} // namespace execmark::session
