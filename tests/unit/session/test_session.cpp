// SPDX-License-Identifier: MIT
#include <agent/session/origin.hpp>
#include <agent/session/owner.hpp>
#include <agent/session/watcher.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

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
        // btime 1000 s: a start of N ticks is 1,000,000 + N*1000/HZ ms.
        std::ofstream(root / "stat") << "cpu 1 2 3\nbtime 1000\nprocesses 9\n";
    }

    // A real file standing for an executable at root/bin/<dir>/<name>; returns its path.
    fs::path binary(const std::string& dir, const std::string& name)
    {
        const fs::path path = root / "bin" / dir / name;
        fs::create_directories(path.parent_path());
        std::ofstream(path) << "#!/bin/false\n";
        return path;
    }

    // Sets the exe link of pid.
    void exe(int pid, const fs::path& target)
    {
        fs::remove(root / std::to_string(pid) / "exe");
        fs::create_symlink(target, root / std::to_string(pid) / "exe");
    }

    // The SSM agent's chain: agent (ppid 0) -> agent worker -> session worker <sid> -> shell, all
    // three executables in bin/agent/. Returns the shell's pid.
    int genuine_session(int base, const std::string& sid)
    {
        const auto agent = binary("agent", "amazon-ssm-agent");
        const auto agent_worker = binary("agent", "ssm-agent-worker");
        const auto worker = binary("agent", "ssm-session-worker");
        add(base, 0, "amazon-ssm-agen", {agent.string()});
        exe(base, agent);
        add(base + 1, base, "ssm-agent-worke", {agent_worker.string()});
        exe(base + 1, agent_worker);
        add(base + 2, base + 1, "ssm-session-wor", {worker.string(), sid}, 0, 500);
        exe(base + 2, worker);
        add(base + 3, base + 2, "bash", {"/bin/bash"}, 0, 600);
        return base + 3;
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
    const int shell = proc.genuine_session(50, "ecs-execute-command-0abc");
    REQUIRE(shell == 53);
    proc.add(80, 53, "execmark", {"execmark", "session", "open"});
    const auto o = find_session_origin(80, proc.root.string());
    REQUIRE(o.under_ssm);
    REQUIRE(o.check == WorkerCheck::ok);
    REQUIRE(o.sid == "ecs-execute-command-0abc");
    REQUIRE(o.worker_pid == 52);
    REQUIRE(o.command_pid == 53);
    const long hz = ::sysconf(_SC_CLK_TCK);
    REQUIRE(o.worker_start_ms == 1'000'000 + 500 * 1000 / hz);
    REQUIRE(o.command_start_ms == 1'000'000 + 600 * 1000 / hz);
    // Wrapper mode: the asking process is the worker's child itself.
    proc.add(90, 52, "execmark", {"execmark", "shell"});
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

TEST_CASE("worker chain: only the SSM agent's chain is a session worker")
{
    // Each case breaks one link of a genuine chain and names the failed check.
    struct Case {
        const char* what;
        WorkerCheck expected;
        void (*spoil)(FakeProc&);
    };

    const Case cases[] = {
        {"genuine",
         WorkerCheck::ok,
         [](FakeProc&) {
         }},
        {"agent started from inside (ppid != 0)",
         WorkerCheck::agent_ppid,
         [](FakeProc& p) {
             const auto agent = p.binary("agent", "amazon-ssm-agent");
             p.add(50, 7, "amazon-ssm-agen", {agent.string()});
             p.exe(50, agent);
         }},
        {"parent is a shell, not ssm-agent-worker",
         WorkerCheck::parent,
         [](FakeProc& p) {
             p.add(51, 50, "bash", {"/bin/bash"});
             p.exe(51, p.binary("usr", "bash"));
         }},
        {"grandparent is not amazon-ssm-agent",
         WorkerCheck::agent,
         [](FakeProc& p) {
             const auto fake = p.binary("agent", "sshd");
             p.add(50, 0, "sshd", {fake.string()});
             p.exe(50, fake);
         }},
        {"the worker's executable is another program",
         WorkerCheck::exe,
         [](FakeProc& p) {
             p.exe(52, p.binary("usr", "python3"));
         }},
        {"a copy of the worker elsewhere",
         WorkerCheck::directory,
         [](FakeProc& p) {
             p.exe(52, p.binary("tmp", "ssm-session-worker"));
         }},
        {"an extra argument",
         WorkerCheck::argv,
         [](FakeProc& p) {
             p.add(52,
                   51,
                   "ssm-session-wor",
                   {(p.root / "bin/agent/ssm-session-worker").string(), "-c", "ecs-x"});
             p.exe(52, p.root / "bin/agent/ssm-session-worker");
         }},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        FakeProc proc;
        proc.genuine_session(50, "ecs-execute-command-victim");
        c.spoil(proc);
        const auto chain = check_worker_chain(52, proc.root.string());
        REQUIRE(chain.check == c.expected);
        // The signer and the watcher share the rule.
        WorkerScanner scanner(proc.root.string());
        const auto seen = scanner.scan(5000);
        proc.add(60, 53, "execmark", {"execmark", "session", "open"});
        const auto o = find_session_origin(60, proc.root.string());
        REQUIRE(o.under_ssm == (c.expected == WorkerCheck::ok));
        if (c.expected == WorkerCheck::argv) {
            // Not even worker-looking: neither reported nor taken, the walk goes on and finds
            // no worker at all.
            REQUIRE(seen.empty());
            REQUIRE(o.check == WorkerCheck::none);
        } else {
            REQUIRE(seen.size() == 1);
            REQUIRE(seen[0].check == c.expected);
            REQUIRE(o.check == c.expected);
        }
        if (c.expected != WorkerCheck::ok) {
            REQUIRE(o.sid.starts_with("local-"));
        }
    }
}

TEST_CASE("origin: a fake worker under a genuine session never reaches either session")
{
    // The attacker, in their own genuine session A, runs a fake worker claiming victim B's id.
    FakeProc proc;
    proc.genuine_session(50, "ecs-execute-command-attacker");
    const auto copy = proc.binary("tmp", "ssm-session-worker");
    proc.add(70, 53, "ssm-session-wor", {copy.string(), "ecs-execute-command-victim"});
    proc.exe(70, copy);
    proc.add(71, 70, "bash", {"/bin/bash"}, 0, 900);
    proc.add(72, 71, "execmark", {"execmark", "session", "open"}, 71);
    const auto o = find_session_origin(72, proc.root.string());
    REQUIRE_FALSE(o.under_ssm);
    REQUIRE(o.check == WorkerCheck::parent);
    REQUIRE(o.claimed_sid == "ecs-execute-command-victim");
    REQUIRE(o.sid != "ecs-execute-command-victim");
    REQUIRE(o.sid != "ecs-execute-command-attacker");
    REQUIRE(worker_check_name(o.check) == "parent");
}

TEST_CASE("scanner: the session's command is tracked while it lives")
{
    FakeProc proc;
    proc.genuine_session(50, "ecs-execute-command-aaa");
    WorkerScanner scanner(proc.root.string());
    SessionWatcher watcher;
    auto ev = watcher.update(scanner.scan(10'000), 1);
    REQUIRE(ev.size() == 1);
    REQUIRE(ev[0].check == WorkerCheck::ok);
    REQUIRE(watcher.update(scanner.scan(12'000), 2).empty());
    fs::remove_all(proc.root / "53"); // the shell ended; the worker uploads the transcript
    REQUIRE(watcher.update(scanner.scan(14'000), 3).empty());
    fs::remove_all(proc.root / "52");
    ev = watcher.update(scanner.scan(16'000), 4);
    REQUIRE(ev.size() == 1);
    REQUIRE(ev[0].kind == WatchEvent::Kind::gone);
    REQUIRE(ev[0].command_last_ms == 12'000);
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
    for (int pid = 100; pid < 150; ++pid) {
        proc.add(pid, 1, "app", {"/app"});
    }
    WorkerScanner scanner(proc.root.string());
    auto found = scanner.scan(0);
    REQUIRE(found.size() == 1);
    REQUIRE(found[0].pid == 32);
    REQUIRE(found[0].sid == "ecs-execute-command-aaa");
    REQUIRE(scanner.processes_read() == 54);
    // Nothing new: only the agent's two processes are read again, the worker is still reported.
    REQUIRE(scanner.scan(0).size() == 1);
    REQUIRE(scanner.processes_read() == 56);
    // A new process is read once; a process gone is forgotten.
    proc.add(41, 32, "ssm-session-wor", {"/x/ssm-session-worker", "ecs-execute-command-bbb"});
    fs::remove_all(proc.root / "32");
    found = scanner.scan(0);
    REQUIRE(scanner.processes_read() == 58); // the agent again, the new one
    REQUIRE(found.size() == 1);
    REQUIRE(found[0].sid == "ecs-execute-command-bbb");
}

TEST_CASE("scanner: an agent fork is read again until it execs, and a worker fork is no worker")
{
    FakeProc proc;
    proc.genuine_session(50, "ecs-execute-command-aaa");
    // The agent worker has just forked the next session worker, which has not exec'd yet.
    proc.add(60, 51, "ssm-agent-worke", {(proc.root / "bin/agent/ssm-agent-worker").string()});
    // The session worker forked to run `script`, not exec'd yet: its copy looks like it.
    proc.add(61,
             52,
             "ssm-session-wor",
             {(proc.root / "bin/agent/ssm-session-worker").string(), "ecs-execute-command-aaa"});
    WorkerScanner scanner(proc.root.string());
    auto found = scanner.scan(0);
    REQUIRE(found.size() == 1);
    REQUIRE(found[0].pid == 52);
    // Now the fork execs into the next session's worker: seen at the next scan.
    const auto worker = proc.binary("agent", "ssm-session-worker");
    proc.add(60, 51, "ssm-session-wor", {worker.string(), "ecs-execute-command-bbb"});
    proc.exe(60, worker);
    found = scanner.scan(0);
    REQUIRE(found.size() == 2);
    REQUIRE(found[0].pid == 52);
    REQUIRE(found[1].pid == 60);
    REQUIRE(found[1].check == WorkerCheck::ok);
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
