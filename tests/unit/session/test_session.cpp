// SPDX-License-Identifier: MIT
#include <agent/session/origin.hpp>
#include <agent/session/owner.hpp>
#include <agent/session/watcher.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

using namespace execmark::session;
namespace fs = std::filesystem;

namespace {

// A fake /proc: stat and cmdline files for the given processes.
struct FakeProc {
    fs::path root;

    FakeProc()
    {
        char tmpl[] = "/tmp/execmark-fakeproc-XXXXXX";
        root = ::mkdtemp(tmpl);
    }

    ~FakeProc() { fs::remove_all(root); }

    void add(int pid,
             int ppid,
             const std::string& comm,
             const std::vector<std::string>& argv,
             int session = 0,
             int start = 100)
    {
        const fs::path dir = root / std::to_string(pid);
        fs::create_directories(dir);
        std::ofstream(dir / "stat") << pid << " (" << comm << ") S " << ppid << " " << pid << " "
                                    << (session == 0 ? pid : session)
                                    << " 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 " << start << " 0 0\n";
        std::string cmdline;
        for (const auto& a : argv) {
            cmdline += a;
            cmdline.push_back('\0');
        }
        std::ofstream(dir / "cmdline", std::ios::binary) << cmdline;
    }
};

} // namespace

TEST_CASE("session ids and worker argv")
{
    REQUIRE(is_valid_session_id("ecs-execute-command-0dfcb1f8c2e47585a"));
    REQUIRE(is_valid_session_id("alice@example.com-0a1b2c"));
    REQUIRE_FALSE(is_valid_session_id(""));
    REQUIRE_FALSE(is_valid_session_id("-c"));
    REQUIRE_FALSE(is_valid_session_id(".."));
    REQUIRE_FALSE(is_valid_session_id("a/b"));
    REQUIRE_FALSE(is_valid_session_id("a b"));
    REQUIRE_FALSE(is_valid_session_id("a\nb"));
    REQUIRE_FALSE(is_valid_session_id(std::string(129, 'a')));
    REQUIRE(is_session_worker({"/managed-agents/execute-command/ssm-session-worker", "ecs-x-1"}));
    REQUIRE(is_session_worker({"ssm-session-worker", "ecs-x-1"}));
    REQUIRE_FALSE(is_session_worker({"ssm-session-worker"}));
    REQUIRE_FALSE(is_session_worker({"ssm-session-worker", "-c", "cmd", "ecs-x"}));
    REQUIRE_FALSE(is_session_worker({"/bin/ssm-session-worker-2", "ecs-x-1"}));
    REQUIRE_FALSE(is_session_worker({"ssm-session-worker", "../../etc/passwd"}));
}

TEST_CASE("origin: the walk finds the worker and the session's command")
{
    FakeProc proc;
    proc.add(1, 0, "execmark", {"/execmark", "init", "--", "app"});
    proc.add(50, 0, "amazon-ssm-agen", {"/managed-agents/execute-command/amazon-ssm-agent"});
    proc.add(60,
             50,
             "ssm-session-wor",
             {"/managed-agents/execute-command/ssm-session-worker", "ecs-execute-command-0abc"});
    proc.add(70, 60, "bash", {"/bin/bash"});
    proc.add(80, 70, "execmark", {"execmark", "session", "open"});
    const auto o = find_session_origin(80, proc.root.string());
    REQUIRE(o.under_ssm);
    REQUIRE(o.sid == "ecs-execute-command-0abc");
    REQUIRE(o.worker_pid == 60);
    REQUIRE(o.command_pid == 70);
    // Wrapper mode: the asking process is the worker's child itself.
    proc.add(90, 60, "execmark", {"execmark", "shell"});
    const auto w = find_session_origin(90, proc.root.string());
    REQUIRE(w.under_ssm);
    REQUIRE(w.command_pid == 90);
}

TEST_CASE("origin: not under SSM gives a stable local id per terminal session")
{
    FakeProc proc;
    proc.add(1, 0, "execmark", {"/execmark", "init"});
    proc.add(30, 1, "bash", {"bash"}, 30, 777);
    proc.add(31, 30, "execmark", {"execmark", "session", "open"}, 30);
    proc.add(32, 30, "execmark", {"execmark", "session", "close"}, 30);
    const auto a = find_session_origin(31, proc.root.string());
    const auto b = find_session_origin(32, proc.root.string());
    REQUIRE_FALSE(a.under_ssm);
    REQUIRE(a.sid == "local-30-777");
    REQUIRE(a.sid == b.sid);
    // A worker with a hostile argv is not a worker.
    proc.add(40, 1, "ssm-session-wor", {"ssm-session-worker", "x y"});
    proc.add(41, 40, "sh", {"sh"}, 41, 900);
    proc.add(42, 41, "execmark", {"execmark"}, 41);
    REQUIRE_FALSE(find_session_origin(42, proc.root.string()).under_ssm);
    // A vanished peer ends the walk without failing.
    REQUIRE_FALSE(find_session_origin(4242, proc.root.string()).under_ssm);
}

TEST_CASE("watcher: seen, gone with duration, pid reuse")
{
    SessionWatcher w;
    auto ev = w.update({{100, "s-1"}}, 1000);
    REQUIRE(ev.size() == 1);
    REQUIRE(ev[0].kind == WatchEvent::Kind::seen);
    REQUIRE(w.update({{100, "s-1"}}, 2000).empty());
    ev = w.update({{100, "s-2"}, {101, "s-3"}}, 3000);
    REQUIRE(ev.size() == 3); // s-1 gone (pid reused), s-2 seen, s-3 seen
    REQUIRE(ev[0].kind == WatchEvent::Kind::gone);
    REQUIRE(ev[0].sid == "s-1");
    REQUIRE(ev[0].duration_ms == 2000);
    ev = w.update({}, 4500);
    REQUIRE(ev.size() == 2);
    REQUIRE(ev[0].kind == WatchEvent::Kind::gone);
    REQUIRE(w.tracked() == 0);
}

TEST_CASE("scanner: finds workers and reads each process once, not at every scan")
{
    FakeProc proc;
    proc.add(1, 0, "execmark", {"/execmark", "init"});
    proc.add(7, 0, "amazon-ssm-agen", {"/managed-agents/execute-command/amazon-ssm-agent"});
    proc.add(32,
             20,
             "ssm-session-wor",
             {"/managed-agents/execute-command/ssm-session-worker", "ecs-execute-command-aaa"});
    proc.add(40, 32, "bash", {"/bin/bash"});
    WorkerScanner scanner(proc.root.string());
    auto found = scanner.scan();
    REQUIRE(found.size() == 1);
    REQUIRE(found[0].pid == 32);
    REQUIRE(found[0].sid == "ecs-execute-command-aaa");
    REQUIRE(scanner.processes_read() == 4);
    // Nothing new: nothing is read again, the worker is still reported.
    REQUIRE(scanner.scan().size() == 1);
    REQUIRE(scanner.processes_read() == 4);
    // A new process is read once; a process gone is forgotten.
    proc.add(41, 32, "ssm-session-wor", {"/x/ssm-session-worker", "ecs-execute-command-bbb"});
    fs::remove_all(proc.root / "32");
    found = scanner.scan();
    REQUIRE(scanner.processes_read() == 5);
    REQUIRE(found.size() == 1);
    REQUIRE(found[0].sid == "ecs-execute-command-bbb");
}

TEST_CASE("owner: read from the SSM state file, hostile files ignored")
{
    FakeProc tmp; // reuse the temp-dir holder
    const fs::path state = tmp.root / "ecs:prod_task_ctr" / "document" / "state" / "current";
    fs::create_directories(state);
    std::ofstream(state / "ecs-execute-command-0abc")
        << R"({"DocumentInformation":{"SessionOwner":"arn:aws:sts::1:assumed-role/Dev/alice","RunAsUser":""}})";
    std::ofstream(state / "ecs-execute-command-bad") << "{not json";
    REQUIRE(find_session_owner("ecs-execute-command-0abc", tmp.root.string())
            == "arn:aws:sts::1:assumed-role/Dev/alice");
    REQUIRE_FALSE(find_session_owner("ecs-execute-command-bad", tmp.root.string()));
    REQUIRE_FALSE(find_session_owner("ecs-execute-command-none", tmp.root.string()));
    REQUIRE_FALSE(find_session_owner("../../../etc/passwd", tmp.root.string()));
    REQUIRE_FALSE(find_session_owner("ecs-execute-command-0abc", "/nonexistent"));
}
