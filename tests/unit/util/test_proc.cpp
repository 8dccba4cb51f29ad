// SPDX-License-Identifier: MIT
#include "../hooks/temp_root.hpp"

#include <agent/util/proc.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

using namespace execmark::util;

TEST_CASE("parse_proc_stat handles hostile comm values")
{
    const auto st = parse_proc_stat("42 (a) b (c)) S 7 42 42 0 -1 4194304 1 0 0 0");
    REQUIRE(st);
    REQUIRE(st->pid == 42);
    REQUIRE(st->comm == "a) b (c)");
    REQUIRE(st->state == 'S');
    REQUIRE(st->ppid == 7);
    REQUIRE(st->pgrp == 42);

    const auto sp = parse_proc_stat("9 (ssm-session-worker) Z 1 9 9");
    REQUIRE(sp);
    REQUIRE(sp->comm == "ssm-session-worker");
    REQUIRE(sp->state == 'Z');
}

TEST_CASE("parse_proc_stat refuses malformed lines")
{
    REQUIRE_FALSE(parse_proc_stat(""));
    REQUIRE_FALSE(parse_proc_stat("42 (x"));
    REQUIRE_FALSE(parse_proc_stat("x (x) S 1 1"));
    REQUIRE_FALSE(parse_proc_stat("42 (x) S"));
    REQUIRE_FALSE(parse_proc_stat("42 (x) SS 1 1"));
    REQUIRE_FALSE(parse_proc_stat("42 (x) S -1 1"));
}

TEST_CASE("descendants_of walks the tree and survives cycles")
{
    const std::vector<ProcStat> procs{
        {1, "init", 'S', 0, 1},
        {10, "a", 'S', 1, 10},
        {11, "b", 'S', 10, 10},
        {12, "c", 'S', 11, 12},
        {20, "x", 'S', 2, 20},
        {30, "y", 'S', 31, 30},
        {31, "z", 'S', 30, 31},
    };
    auto d = descendants_of(1, procs);
    std::sort(d.begin(), d.end());
    REQUIRE(d == std::vector<pid_t>{10, 11, 12});
    REQUIRE(descendants_of(12, procs).empty());
    auto cyc = descendants_of(30, procs);
    REQUIRE(cyc == std::vector<pid_t>{31}); // the cycle back to the root ends the walk
}

TEST_CASE("reading our own /proc entries")
{
    const auto st = read_proc_stat(::getpid());
    REQUIRE(st);
    REQUIRE(st->pid == ::getpid());
    REQUIRE(st->ppid == ::getppid());
    const auto args = read_cmdline(::getpid());
    REQUIRE(args);
    REQUIRE_FALSE(args->empty());
    REQUIRE_FALSE(read_proc_stat(0x7ffffff0));
}

TEST_CASE("parse_proc_stat reads session and start time when present")
{
    const auto st = parse_proc_stat(
        "77 (bash) S 70 77 77 34816 77 4194560 900 0 0 0 1 2 0 0 20 0 1 0 123456 9000 100");
    REQUIRE(st);
    REQUIRE(st->session == 77);
    REQUIRE(st->start_time == 123456U);
    const auto short_line = parse_proc_stat("9 (x) S 1 9 9");
    REQUIRE(short_line);
    REQUIRE(short_line->session == 9);
    REQUIRE(short_line->start_time == 0U);
}

TEST_CASE("read_exe reads short and long executable paths")
{
    const execmark::test::TempRoot root;
    // Lengths around the short buffer (256) and one far past it, each an existing file.
    for (const std::size_t len : {60UL, 255UL, 256UL, 257UL, 1500UL}) {
        std::string dir = root.path() + "/bin";
        while (dir.size() + 2 + 40 < len) {
            dir += "/" + std::string(std::min<std::size_t>(len - dir.size() - 2, 40), 'd');
        }
        std::string file = dir + "/";
        file += std::string(len - file.size(), 'x');
        REQUIRE(file.size() == len);
        root.write(file.substr(root.path().size()), "exe");
        const std::string proc = root.path() + "/proc" + std::to_string(len);
        std::filesystem::create_directories(proc + "/42");
        std::filesystem::create_symlink(file, proc + "/42/exe");
        const auto exe = read_exe(42, proc);
        REQUIRE(exe);
        CHECK(exe->path == file);

        struct stat st {};

        REQUIRE(::stat(file.c_str(), &st) == 0);
        CHECK(exe->ino == static_cast<std::uint64_t>(st.st_ino));
    }
    CHECK_FALSE(read_exe(43, root.path() + "/proc60"));
}
