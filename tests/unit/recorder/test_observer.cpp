// SPDX-License-Identifier: MIT
#include <agent/recorder/observer.hpp>

#include <catch2/catch.hpp>

using namespace execmark;
using recorder::Holder;
using recorder::judge_open;
using recorder::outside_holders;

namespace {

util::ProcStat proc(pid_t pid, pid_t ppid, pid_t session, const char* comm = "x")
{
    util::ProcStat p;
    p.pid = pid;
    p.ppid = ppid;
    p.session = session;
    p.comm = comm;
    return p;
}

// PID 1, the agent chain (10, 11, 12 = worker), the recorder 20 (session leader of the outer
// terminal), the shell 21 (its own session), a job 22 reparented to PID 1 but still in the
// shell's session, an attacker 30.
std::vector<util::ProcStat> task()
{
    return {proc(1, 0, 1),
            proc(10, 0, 10, "amazon-ssm-agen"),
            proc(11, 10, 10, "ssm-agent-worke"),
            proc(12, 11, 12, "ssm-session-wor"),
            proc(20, 12, 20, "execmark"),
            proc(21, 20, 21, "bash"),
            proc(23, 21, 21, "less"),
            proc(22, 1, 21, "sleep"),
            proc(30, 1, 30, "python3")};
}

} // namespace

TEST_CASE("the session's own processes and the worker chain never count as outside")
{
    const auto procs = task();
    CHECK(outside_holders({10, 11, 12, 20, 21, 22, 23}, procs, 20, 21).empty());
    CHECK(outside_holders({21, 30, 30}, procs, 20, 21) == std::vector<pid_t>{30});
}

TEST_CASE("a new descriptor outside the session is interference by its process")
{
    const std::vector<Holder> before{{20, 0}, {20, 1}, {20, 2}};
    std::vector<Holder> after = before;
    after.push_back({30, 3});
    const auto v = judge_open(before, after, task(), 20, 21);
    CHECK(v.outside == std::vector<pid_t>{30});
}

TEST_CASE("a program of the session opening its terminal by name is not interference")
{
    // less opens ttyname(), i.e. /dev/pts/N, as descriptor 3.
    const std::vector<Holder> before{{21, 0}, {21, 1}, {21, 2}};
    std::vector<Holder> after = before;
    after.push_back({23, 0});
    after.push_back({23, 3});
    const auto v = judge_open(before, after, task(), 20, 21);
    CHECK(v.outside.empty());
    CHECK(v.explained);
}

TEST_CASE("an open whose opener is gone is neither outside nor explained")
{
    const std::vector<Holder> before{{21, 0}, {21, 1}, {21, 2}};
    std::vector<Holder> after = before;
    after.push_back({23, 0}); // a fork inherits the shell's descriptors: no open by name
    const auto v = judge_open(before, after, task(), 20, 21);
    CHECK(v.outside.empty());
    CHECK_FALSE(v.explained);
}

TEST_CASE("an open while the first look was taken: judged against the session's stdio alone")
{
    // zsh (21) opened its terminal by name as descriptor 10 before the recorder's first look, and
    // an attacker (30) holds it as descriptor 0 (a redirection), both in that look already.
    const std::vector<Holder> first{{21, 0}, {21, 1}, {21, 2}, {21, 10}, {30, 0}};
    const auto base = recorder::startup_baseline(first, task(), 20, 21);
    CHECK(base == std::vector<Holder>{{21, 0}, {21, 1}, {21, 2}});
    const auto v = judge_open(base, first, task(), 20, 21);
    CHECK(v.outside == std::vector<pid_t>{30}); // named, where the first look alone hid it
    // Without the attacker the shell's own descriptor explains the open: no false alarm.
    const std::vector<Holder> honest{{21, 0}, {21, 1}, {21, 2}, {21, 10}};
    const auto h =
        judge_open(recorder::startup_baseline(honest, task(), 20, 21), honest, task(), 20, 21);
    CHECK(h.outside.empty());
    CHECK(h.explained);
    // Judged against the first look itself, that honest open was an unexplained one.
    CHECK_FALSE(judge_open(honest, honest, task(), 20, 21).explained);
}
