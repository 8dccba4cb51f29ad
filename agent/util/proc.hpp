// SPDX-License-Identifier: MIT
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace execmark::util {

// The fields of /proc/<pid>/stat that process-tree walks need.
struct ProcStat {
    pid_t pid = 0;
    std::string comm;
    char state = '?';
    pid_t ppid = 0;
    pid_t pgrp = 0;
    pid_t session = 0;            // 0 when the line was too short to say
    std::uint64_t start_time = 0; // clock ticks after boot (field 22); 0 when absent
};

// Parses one /proc/<pid>/stat line. comm may hold spaces and ')' — the last ')' ends it.
std::optional<ProcStat> parse_proc_stat(std::string_view line);

// Reads and parses /proc/<pid>/stat (nullopt if the process is gone or unreadable).
std::optional<ProcStat> read_proc_stat(pid_t pid, const std::string& proc_root = "/proc");

// Every numeric entry of /proc, i.e. the visible processes.
std::vector<pid_t> list_pids(const std::string& proc_root = "/proc");

// Descendants of root among the given processes (transitively by ppid), root excluded.
std::vector<pid_t> descendants_of(pid_t root, const std::vector<ProcStat>& procs);

// Snapshot of all visible processes' stat lines; vanished ones are skipped.
std::vector<ProcStat> snapshot_processes(const std::string& proc_root = "/proc");

// NUL-separated /proc/<pid>/cmdline split into arguments (at most max_bytes read).
std::optional<std::vector<std::string>>
read_cmdline(pid_t pid, const std::string& proc_root = "/proc", std::size_t max_bytes = 65536);

// The executable of a process: the target of /proc/<pid>/exe (nullopt when unreadable or gone),
// with its device and inode (from stat through the link, i.e. the file that runs).
struct ProcExe {
    std::string path;
    std::uint64_t dev = 0;
    std::uint64_t ino = 0;
};

std::optional<ProcExe> read_exe(pid_t pid, const std::string& proc_root = "/proc");

// The TracerPid of /proc/<pid>/status: 0 when not traced; nullopt when unreadable.
std::optional<pid_t> read_tracer_pid(pid_t pid, const std::string& proc_root = "/proc");

// A process start time (clock ticks after boot, ProcStat::start_time) as Unix milliseconds, from
// the boot time in <proc_root>/stat ("btime", whole seconds). nullopt when unknown.
std::optional<std::int64_t> start_time_unix_ms(std::uint64_t start_ticks,
                                               const std::string& proc_root = "/proc");

} // namespace execmark::util
