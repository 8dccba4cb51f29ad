// SPDX-License-Identifier: MIT
#include <agent/doctor/doctor.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace execmark;
using namespace execmark::doctor;

namespace {

// A container where everything is in place: Debian-like, execmark PID 1, agent up.
Facts healthy()
{
    Facts f;
    f.pid1.exe = "/usr/local/bin/execmark";
    f.pid1.argv = {"/usr/local/bin/execmark", "init", "--", "/app/server"};
    f.agent.socket_path = "/run/execmark/agent.sock";
    f.agent.answered = true;
    f.agent.detail = "kid abc";
    f.image.shells = {{"bash", "/usr/bin/bash"}, {"dash", "/usr/bin/dash"}, {"sh", "/usr/bin/sh"}};
    f.image.bash_builtin_rc = {"/etc/bash.bashrc"};
    f.image.existing_rc = {"/etc/bash.bashrc"};
    f.hook_files = {{hooks::HookKind::posix, true, true}, {hooks::HookKind::zsh, true, true}};
    for (const auto& target : hooks::plan_rc_targets(f.image)) {
        f.rc_files.push_back({target, true, hooks::BlockState::current});
    }
    f.env.value = "/etc/execmark/hook.sh";
    f.env.sources_hook = true;
    f.tools = {{"script", "/usr/bin/script", false}, {"cat", "/usr/bin/cat", false}};
    f.metadata.state = MetadataState::ok;
    f.metadata.detail = "task arn:aws:ecs:eu-west-1:1:task/c/t";
    f.claim.variable = "AWS_USER";
    f.claim.set = true;
    f.caps = CapFacts{true, false};
    return f;
}

const Check& find(const std::vector<Check>& checks, std::string_view name)
{
    for (const auto& c : checks) {
        if (c.name == name) {
            return c;
        }
    }
    FAIL("no check " << name);
    return checks.front();
}

} // namespace

TEST_CASE("a healthy container passes every check, in the documented order")
{
    const auto checks = evaluate(healthy());
    std::vector<std::string> names;
    for (const auto& c : checks) {
        names.push_back(c.name);
        INFO(c.name << ": " << c.detail);
        REQUIRE(c.status == Verdict::ok);
        REQUIRE(c.fix.empty());
    }
    REQUIRE(names
            == std::vector<std::string>{
                "pid1", "agent", "hooks", "env", "tools", "metadata", "claim", "ptrace"});
    REQUIRE(exit_code(checks) == 0);
    REQUIRE(render_text(checks).ends_with("doctor: all checks passed\n"));
}

TEST_CASE("pid1: execmark by exe, by argv when exe is unreadable, tini names, others")
{
    auto f = healthy();
    f.pid1.exe = "/usr/local/bin/execmark (deleted)";
    REQUIRE(find(evaluate(f), "pid1").status == Verdict::ok);

    f.pid1.exe.reset();
    REQUIRE(find(evaluate(f), "pid1").status == Verdict::ok);

    f.pid1.argv = {"/sbin/docker-init", "--", "/app"};
    REQUIRE(find(evaluate(f), "pid1").status == Verdict::warn);

    f.pid1.exe = "/sbin/docker-init";
    const auto fail = find(evaluate(f), "pid1");
    REQUIRE(fail.status == Verdict::fail);
    REQUIRE(fail.fix.find(R"(ENTRYPOINT ["/usr/local/bin/execmark", "init", "--"])")
            != std::string::npos);

    f.pid1.exe.reset();
    f.pid1.argv = {"/app/server", std::string(200, 'x')};
    const auto other = find(evaluate(f), "pid1");
    REQUIRE(other.status == Verdict::fail);
    REQUIRE(other.detail.size() < 120);
}

TEST_CASE("agent: no answer is a failure with the socket and the reason")
{
    auto f = healthy();
    f.agent.answered = false;
    f.agent.detail = "connect /run/execmark/agent.sock: No such file or directory";
    const auto c = find(evaluate(f), "agent");
    REQUIRE(c.status == Verdict::fail);
    REQUIRE(c.detail.find("No such file or directory") != std::string::npos);
    REQUIRE_FALSE(c.fix.empty());
    REQUIRE(exit_code(evaluate(f)) == 1);
}

TEST_CASE("hooks: missing block or file fails, an older block warns")
{
    auto f = healthy();
    f.rc_files.front().state = hooks::BlockState::absent;
    auto c = find(evaluate(f), "hooks");
    REQUIRE(c.status == Verdict::fail);
    REQUIRE(c.detail.find("/etc/bash.bashrc no execmark block") != std::string::npos);
    REQUIRE(c.fix.find("hook\", \"install") != std::string::npos);

    f = healthy();
    f.rc_files.front().exists = false;
    REQUIRE(find(evaluate(f), "hooks").detail.find("/etc/bash.bashrc missing")
            != std::string::npos);

    f = healthy();
    f.hook_files.front().exists = false;
    REQUIRE(find(evaluate(f), "hooks").status == Verdict::fail);

    f = healthy();
    f.rc_files.front().state = hooks::BlockState::outdated;
    REQUIRE(find(evaluate(f), "hooks").status == Verdict::warn);
    f.hook_files.back().current = false;
    REQUIRE(find(evaluate(f), "hooks").status == Verdict::warn);
    REQUIRE(exit_code(evaluate(f)) == 0);
}

TEST_CASE("env: the POSIX shells need ENV to source the hook")
{
    auto f = healthy();
    f.env.value.reset();
    f.env.sources_hook = false;
    auto c = find(evaluate(f), "env");
    REQUIRE(c.status == Verdict::fail);
    REQUIRE(c.detail.find("dash, sh") != std::string::npos);
    REQUIRE(c.fix == "ENV ENV=/etc/execmark/hook.sh in the Dockerfile");

    f.env.value = "/etc/shinit";
    c = find(evaluate(f), "env");
    REQUIRE(c.status == Verdict::fail);
    REQUIRE(c.fix.find("/etc/shinit") != std::string::npos);

    f.env.sources_hook = true;
    REQUIRE(find(evaluate(f), "env").status == Verdict::ok);

    f.env.sources_hook = false;
    f.env.value = "$HOME/.shinit";
    REQUIRE(find(evaluate(f), "env").status == Verdict::warn);

    // No POSIX shell that reads only ENV: nothing to set.
    f.image.shells = {{"bash", "/usr/bin/bash"}};
    f.env.value.reset();
    REQUIRE(find(evaluate(f), "env").status == Verdict::ok);
}

TEST_CASE("tools: script and cat are required, and busybox script is a warning")
{
    auto f = healthy();
    f.tools[0].path.reset();
    auto c = find(evaluate(f), "tools");
    REQUIRE(c.status == Verdict::fail);
    REQUIRE(c.detail.find("script missing") != std::string::npos);
    REQUIRE(c.fix.find("bsdutils") != std::string::npos);
    REQUIRE(c.fix.find("util-linux-misc") != std::string::npos);

    f = healthy();
    f.tools[0].busybox = true;
    REQUIRE(find(evaluate(f), "tools").status == Verdict::warn);
}

TEST_CASE("metadata and claim")
{
    auto f = healthy();
    f.metadata.state = MetadataState::not_set;
    REQUIRE(find(evaluate(f), "metadata").status == Verdict::warn);
    f.metadata.state = MetadataState::failed;
    f.metadata.detail = "fetch task http://169.254.170.2/v4/x/task: timeout";
    const auto m = find(evaluate(f), "metadata");
    REQUIRE(m.status == Verdict::fail);
    REQUIRE(m.detail == f.metadata.detail);

    f = healthy();
    f.claim.variable = "OPERATOR";
    f.claim.set = false;
    const auto c = find(evaluate(f), "claim");
    REQUIRE(c.status == Verdict::warn);
    REQUIRE(c.detail.rfind("OPERATOR is not set", 0) == 0);
}

TEST_CASE("render_text and render_json")
{
    auto f = healthy();
    f.agent.answered = false;
    f.agent.detail = "refused";
    f.claim.set = false;
    const auto checks = evaluate(f);
    const auto text = render_text(checks);
    REQUIRE(text.find("FAIL  agent    no agent on /run/execmark/agent.sock: refused\n")
            == text.find("FAIL"));
    REQUIRE(text.find("\n               fix: ") != std::string::npos);
    REQUIRE(text.find("ok    pid1     ") == 0);
    REQUIRE(text.ends_with("doctor: 1 failed, 1 warning\n"));

    const auto doc = nlohmann::json::parse(render_json(checks));
    REQUIRE(doc["ok"] == false);
    REQUIRE(doc["checks"].size() == 8);
    REQUIRE(doc["checks"][1]["check"] == "agent");
    REQUIRE(doc["checks"][1]["status"] == "fail");
    REQUIRE(doc["checks"][6]["status"] == "warn");
    REQUIRE(doc["checks"][0]["fix"] == "");

    // Bytes that are not UTF-8 (PID 1's argv) do not break the JSON.
    f.pid1.exe.reset();
    f.pid1.argv = {"/app/\xff\xfe"};
    REQUIRE_NOTHROW(nlohmann::json::parse(render_json(evaluate(f))));
}

TEST_CASE("ptrace check warns when CAP_SYS_PTRACE is in the bounding set")
{
    using namespace execmark::doctor;
    Facts facts;
    facts.caps = CapFacts{true, true};
    const auto with = evaluate(facts);
    const auto it =
        std::find_if(with.begin(), with.end(), [](const Check& c) { return c.name == "ptrace"; });
    REQUIRE(it != with.end());
    REQUIRE(it->status == Verdict::warn);
    REQUIRE_FALSE(it->fix.empty());
    facts.caps = CapFacts{true, false};
    const auto without = evaluate(facts);
    const auto ok = std::find_if(
        without.begin(), without.end(), [](const Check& c) { return c.name == "ptrace"; });
    REQUIRE(ok->status == Verdict::ok);
}
