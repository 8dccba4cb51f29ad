// SPDX-License-Identifier: MIT
#include <agent/util/io.hpp>
#include <agent/util/proc.hpp>
#include <agent/util/text.hpp>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <unordered_map>

namespace execmark::util {

namespace {

constexpr std::size_t k_max_stat_bytes = 4096;

std::optional<pid_t> parse_pid(std::string_view text)
{
    const auto v = parse_uint(text, 0x7fffffff);
    if (!v) {
        return std::nullopt;
    }
    return static_cast<pid_t>(*v);
}

} // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view line)
{
    const auto open = line.find(" (");
    const auto close = line.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
        return std::nullopt;
    }
    ProcStat st;
    const auto pid = parse_pid(line.substr(0, open));
    if (!pid) {
        return std::nullopt;
    }
    st.pid = *pid;
    st.comm = std::string(line.substr(open + 2, close - open - 2));
    // After ") ": state ppid pgrp ...
    std::string_view rest = line.substr(close + 1);
    std::vector<std::string_view> fields;
    // Fields after comm: state(3) ppid(4) pgrp(5) session(6) ... starttime(22).
    constexpr std::size_t k_wanted = 20;
    while (fields.size() < k_wanted) {
        const auto start = rest.find_first_not_of(' ');
        if (start == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(start);
        const auto end = rest.find(' ');
        fields.push_back(rest.substr(0, end));
        if (end == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(end);
    }
    if (fields.size() < 3 || fields[0].size() != 1) {
        return std::nullopt;
    }
    st.state = fields[0][0];
    const auto ppid = parse_pid(fields[1]);
    const auto pgrp = parse_pid(fields[2]);
    if (!ppid || !pgrp) {
        return std::nullopt;
    }
    st.ppid = *ppid;
    st.pgrp = *pgrp;
    if (fields.size() > 3) {
        if (const auto session = parse_pid(fields[3])) {
            st.session = *session;
        }
    }
    if (fields.size() > 19) {
        if (const auto start = parse_uint(fields[19])) {
            st.start_time = *start;
        }
    }
    return st;
}

std::optional<ProcStat> read_proc_stat(pid_t pid, const std::string& proc_root)
{
    auto text = read_file(proc_root + "/" + std::to_string(pid) + "/stat", k_max_stat_bytes);
    if (!text) {
        return std::nullopt;
    }
    return parse_proc_stat(*text);
}

std::vector<pid_t> list_pids(const std::string& proc_root)
{
    std::vector<pid_t> pids;

    struct DirCloser {
        void operator()(DIR* d) const { closedir(d); }
    };

    const std::unique_ptr<DIR, DirCloser> dir(opendir(proc_root.c_str()));
    if (!dir) {
        return pids;
    }
    while (const dirent* entry = readdir(dir.get())) {
        if (const auto pid = parse_pid(entry->d_name)) {
            pids.push_back(*pid);
        }
    }
    return pids;
}

std::vector<ProcStat> snapshot_processes(const std::string& proc_root)
{
    std::vector<ProcStat> procs;
    for (const pid_t pid : list_pids(proc_root)) {
        if (auto st = read_proc_stat(pid, proc_root)) {
            procs.push_back(std::move(*st));
        }
    }
    return procs;
}

std::vector<pid_t> descendants_of(pid_t root, const std::vector<ProcStat>& procs)
{
    std::unordered_multimap<pid_t, pid_t> children;
    for (const auto& p : procs) {
        if (p.pid != root) {
            children.emplace(p.ppid, p.pid);
        }
    }
    std::vector<pid_t> out;
    std::vector<pid_t> todo{root};
    while (!todo.empty()) {
        const pid_t parent = todo.back();
        todo.pop_back();
        const auto [first, last] = children.equal_range(parent);
        for (auto it = first; it != last; ++it) {
            // A malformed snapshot must not loop forever.
            if (std::find(out.begin(), out.end(), it->second) == out.end()) {
                out.push_back(it->second);
                todo.push_back(it->second);
            }
        }
    }
    return out;
}

std::optional<std::vector<std::string>>
read_cmdline(pid_t pid, const std::string& proc_root, std::size_t max_bytes)
{
    auto text = read_file(proc_root + "/" + std::to_string(pid) + "/cmdline", max_bytes);
    if (!text) {
        return std::nullopt;
    }
    std::vector<std::string> args;
    std::string_view rest = *text;
    while (!rest.empty()) {
        const auto nul = rest.find('\0');
        args.emplace_back(rest.substr(0, nul));
        if (nul == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(nul + 1);
    }
    return args;
}

std::optional<ProcExe> read_exe(pid_t pid, const std::string& proc_root)
{
    const std::string link = proc_root + "/" + std::to_string(pid) + "/exe";
    // A short buffer on the stack first: a PATH_MAX array here made PID 1's deepest stack about
    // 2.5 KB deeper when it ran this at start (one more resident page in half the starts:
    // docs/benchmarks.md). A longer path is read again into the heap.
    char small[256];
    ssize_t n = ::readlink(link.c_str(), small, sizeof small);
    if (n <= 0) {
        return std::nullopt;
    }
    std::string path(small, static_cast<std::size_t>(n));
    if (path.size() == sizeof small) {
        path.resize(PATH_MAX);
        n = ::readlink(link.c_str(), path.data(), path.size());
        if (n <= 0 || static_cast<std::size_t>(n) >= path.size()) {
            return std::nullopt;
        }
        path.resize(static_cast<std::size_t>(n));
    }

    struct stat st {};

    if (::stat(link.c_str(), &st) != 0) {
        return std::nullopt;
    }
    return ProcExe{std::move(path),
                   static_cast<std::uint64_t>(st.st_dev),
                   static_cast<std::uint64_t>(st.st_ino)};
}

std::optional<pid_t> read_tracer_pid(pid_t pid, const std::string& proc_root)
{
    const auto text = read_file(proc_root + "/" + std::to_string(pid) + "/status", 1 << 16);
    if (!text) {
        return std::nullopt;
    }
    const auto at = text->find("\nTracerPid:");
    if (at == std::string::npos) {
        return std::nullopt;
    }
    std::size_t begin = at + 11;
    while (begin < text->size() && ((*text)[begin] == ' ' || (*text)[begin] == '\t')) {
        ++begin;
    }
    const auto end = text->find('\n', begin);
    const auto v = parse_uint(std::string_view(*text).substr(begin, end - begin), 0x7fffffff);
    if (!v) {
        return std::nullopt;
    }
    return static_cast<pid_t>(*v);
}

std::optional<std::int64_t> start_time_unix_ms(std::uint64_t start_ticks,
                                               const std::string& proc_root)
{
    const auto text = read_file(proc_root + "/stat", 1 << 20);
    if (!text) {
        return std::nullopt;
    }
    const auto at = text->find("\nbtime ");
    if (at == std::string::npos) {
        return std::nullopt;
    }
    const auto end = text->find('\n', at + 7);
    const auto btime =
        parse_uint(std::string_view(*text).substr(at + 7, end - (at + 7)), std::uint64_t{1} << 40);
    const long hz = ::sysconf(_SC_CLK_TCK);
    if (!btime || hz <= 0) {
        return std::nullopt;
    }
    return static_cast<std::int64_t>(*btime) * 1000
           + static_cast<std::int64_t>(start_ticks * 1000 / static_cast<std::uint64_t>(hz));
}

} // namespace execmark::util
