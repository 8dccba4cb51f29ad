// SPDX-License-Identifier: MIT
#include <agent/doctor/doctor.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace execmark::doctor {

namespace {

constexpr std::size_t k_max_cmdline_shown = 72;
constexpr std::string_view k_entrypoint = R"(ENTRYPOINT ["/usr/local/bin/execmark", "init", "--"])";

std::string base_name(std::string_view path)
{
    const auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string join(const std::vector<std::string>& parts, std::string_view sep)
{
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty()) {
            out.append(sep);
        }
        out.append(p);
    }
    return out;
}

Check check_pid1(const Pid1Facts& pid1)
{
    Check c{"pid1", Verdict::ok, "", ""};
    const std::string argv0 = pid1.argv.empty() ? std::string() : base_name(pid1.argv.front());
    std::string cmdline = join(pid1.argv, " ");
    if (cmdline.size() > k_max_cmdline_shown) {
        cmdline.resize(k_max_cmdline_shown - 3);
        cmdline.append("...");
    }
    if (pid1.exe) {
        // An upgraded binary shows as "/usr/local/bin/execmark (deleted)".
        std::string exe = *pid1.exe;
        if (exe.ends_with(" (deleted)")) {
            exe.resize(exe.size() - std::string_view(" (deleted)").size());
        }
        if (base_name(exe) == "execmark") {
            c.detail = "PID 1 is " + *pid1.exe + " (" + cmdline + ")";
            return c;
        }
        c.status = Verdict::fail;
        c.detail = "PID 1 is " + *pid1.exe + " (" + cmdline + "), not execmark";
    } else if (argv0 == "execmark") {
        c.detail = "PID 1 is execmark (" + cmdline + ")";
        return c;
    } else if (argv0 == "tini" || argv0 == "docker-init" || argv0 == "tini-static") {
        // Real tini is dumpable, so its /proc/1/exe would be readable: most likely execmark
        // under a tini name, but only the agent check can tell.
        c.status = Verdict::warn;
        c.detail = "PID 1 runs as " + argv0 + " and /proc/1/exe is unreadable: execmark linked as "
                   + argv0 + ", or the real one";
        c.fix = "make execmark PID 1: " + std::string(k_entrypoint)
                + " (and initProcessEnabled off in the task definition)";
        return c;
    } else {
        c.status = Verdict::fail;
        c.detail = pid1.argv.empty() ? std::string("cannot read PID 1's command line")
                                     : "PID 1 is " + cmdline + ", not execmark";
    }
    c.fix = "make execmark PID 1: " + std::string(k_entrypoint)
            + " (and initProcessEnabled off in the task definition)";
    return c;
}

Check check_agent(const AgentFacts& agent)
{
    Check c{"agent", Verdict::ok, "", ""};
    if (agent.answered) {
        c.detail = "agent answers on " + agent.socket_path
                   + (agent.detail.empty() ? std::string() : " (" + agent.detail + ")");
        return c;
    }
    c.status = Verdict::fail;
    c.detail = "no agent on " + agent.socket_path + ": " + agent.detail;
    c.fix = "run the image with execmark init as PID 1 (it serves the socket); EXECMARK_SOCKET, "
            "if set, must name the same path for init and for the shells";
    return c;
}

std::string_view state_text(const RcFileFacts& rc)
{
    if (!rc.exists) {
        return "missing";
    }
    switch (rc.state) {
    case hooks::BlockState::absent:
        return "no execmark block";
    case hooks::BlockState::current:
        return "ok";
    case hooks::BlockState::outdated:
        return "older execmark block";
    case hooks::BlockState::damaged:
        return "damaged execmark block";
    }
    return "?";
}

Check check_hooks(const Facts& facts)
{
    Check c{"hooks", Verdict::ok, "", ""};
    std::vector<std::string> parts;
    bool missing = false;
    bool outdated = false;
    for (const auto& file : facts.hook_files) {
        const std::string path(hooks::hook_path(file.kind));
        if (!file.exists) {
            missing = true;
            parts.push_back(path + " missing");
        } else if (!file.current) {
            outdated = true;
            parts.push_back(path + " from another version");
        }
    }
    for (const auto& rc : facts.rc_files) {
        const auto state = state_text(rc);
        parts.push_back(rc.target.path + " " + std::string(state));
        if (!rc.exists || rc.state == hooks::BlockState::absent
            || rc.state == hooks::BlockState::damaged) {
            missing = true;
        } else if (rc.state == hooks::BlockState::outdated) {
            outdated = true;
        }
    }
    if (facts.rc_files.empty()) {
        parts.emplace_back("no bash or zsh here");
    }
    c.detail = join(parts, "; ");
    if (missing) {
        c.status = Verdict::fail;
        c.fix = R"(RUN ["/usr/local/bin/execmark", "hook", "install"] in the Dockerfile)";
    } else if (outdated) {
        c.status = Verdict::warn;
        c.fix = "run `execmark hook install` again (this binary's hooks differ)";
    }
    return c;
}

Check check_env(const Facts& facts)
{
    Check c{"env", Verdict::ok, "", ""};
    const auto shells = hooks::env_shells(facts.image);
    const std::string hook(hooks::k_posix_hook_path);
    const std::string fix = "ENV ENV=" + hook + " in the Dockerfile";
    if (shells.empty()) {
        c.detail = "no POSIX shell that reads only ENV (dash, ash, mksh, sh)";
        return c;
    }
    const std::string names = join(shells, ", ");
    if (!facts.env.value || facts.env.value->empty()) {
        c.status = Verdict::fail;
        c.detail = "ENV is not set: " + names + " will open sessions without a banner";
        c.fix = fix;
    } else if (facts.env.sources_hook) {
        c.detail = "ENV=" + *facts.env.value + " sources the hook for " + names;
    } else if (facts.env.value->find('$') != std::string::npos) {
        c.status = Verdict::warn;
        c.detail = "ENV=" + *facts.env.value + " is expanded by the shell; not checked";
        c.fix = "make sure it sources " + hook + ", or " + fix;
    } else {
        c.status = Verdict::fail;
        c.detail = "ENV=" + *facts.env.value + " does not source " + hook;
        c.fix = fix + ", or source " + hook + " from " + *facts.env.value;
    }
    return c;
}

Check check_tools(const std::vector<ToolFacts>& tools)
{
    Check c{"tools", Verdict::ok, "", ""};
    std::vector<std::string> parts;
    std::vector<std::string> missing;
    bool busybox = false;
    for (const auto& tool : tools) {
        if (!tool.path) {
            missing.push_back(tool.name);
            parts.push_back(tool.name + " missing");
        } else {
            parts.push_back(tool.name + " " + *tool.path + (tool.busybox ? " (busybox)" : ""));
            busybox = busybox || (tool.busybox && tool.name == "script");
        }
    }
    c.detail = join(parts, "; ");
    if (!missing.empty()) {
        c.status = Verdict::fail;
        c.detail += ": SSM uploads no session log without them";
        c.fix = "install " + join(missing, " and ")
                + ": Debian/Ubuntu apt-get install bsdutils coreutils; Alpine apk add "
                  "util-linux-misc coreutils; Amazon Linux dnf install util-linux coreutils";
    } else if (busybox) {
        c.status = Verdict::warn;
        c.detail += ": SSM is documented with util-linux script; busybox's is untested";
        c.fix = "Alpine: apk add util-linux-misc";
    }
    return c;
}

Check check_metadata(const MetadataFacts& metadata)
{
    Check c{"metadata", Verdict::ok, metadata.detail, ""};
    switch (metadata.state) {
    case MetadataState::ok:
        break;
    case MetadataState::not_set:
        c.status = Verdict::warn;
        c.detail = "ECS_CONTAINER_METADATA_URI_V4 is not set: not on ECS (markers will carry no "
                   "task or cluster)";
        c.fix = "nothing to do outside ECS; on ECS run doctor in the container (ECS Exec) so it "
                "sees the task's environment";
        break;
    case MetadataState::failed:
        c.status = Verdict::fail;
        c.fix = "the task metadata endpoint must be reachable from the container (awsvpc/bridge "
                "networking; no proxy for 169.254.170.2)";
        break;
    }
    return c;
}

Check check_claim(const ClaimFacts& claim)
{
    Check c{"claim", Verdict::ok, "", ""};
    if (claim.set) {
        c.detail = claim.variable + " is set: markers carry it as the claimed user";
        return c;
    }
    c.status = Verdict::warn;
    c.detail = claim.variable
               + " is not set: markers carry no claimed user (CloudTrail still "
                 "names the caller)";
    c.fix = "set " + claim.variable
            + " per task (run-task container override, or the task definition's environment)";
    return c;
}

} // namespace

std::string_view verdict_name(Verdict status)
{
    switch (status) {
    case Verdict::ok:
        return "ok";
    case Verdict::warn:
        return "warn";
    case Verdict::fail:
        return "FAIL";
    }
    return "FAIL";
}

Check check_ptrace(const CapFacts& caps)
{
    Check c{"ptrace", Verdict::ok, "", ""};
    if (!caps.known) {
        c.status = Verdict::warn;
        c.detail = "could not read the capability bounding set";
        return c;
    }
    if (caps.sys_ptrace) {
        c.status = Verdict::warn;
        c.detail = "CAP_SYS_PTRACE is available: a root shell could read PID 1's signing key";
        c.fix = "remove SYS_PTRACE from linuxParameters.capabilities.add in the task definition";
        return c;
    }
    c.detail = "CAP_SYS_PTRACE not available: the signing key is out of reach";
    return c;
}

std::vector<Check> evaluate(const Facts& facts)
{
    return {check_pid1(facts.pid1),
            check_agent(facts.agent),
            check_hooks(facts),
            check_env(facts),
            check_tools(facts.tools),
            check_metadata(facts.metadata),
            check_claim(facts.claim),
            check_ptrace(facts.caps)};
}

int exit_code(const std::vector<Check>& checks)
{
    return std::any_of(checks.begin(),
                       checks.end(),
                       [](const Check& c) { return c.status == Verdict::fail; })
               ? 1
               : 0;
}

std::string render_text(const std::vector<Check>& checks)
{
    std::string out;
    int fails = 0;
    int warns = 0;
    for (const auto& c : checks) {
        std::string status(verdict_name(c.status));
        status.resize(6, ' ');
        std::string name = c.name;
        name.resize(std::max<std::size_t>(name.size(), 9), ' ');
        out.append(status).append(name).append(c.detail).append("\n");
        if (!c.fix.empty()) {
            out.append(std::string(15, ' ')).append("fix: ").append(c.fix).append("\n");
        }
        fails += c.status == Verdict::fail ? 1 : 0;
        warns += c.status == Verdict::warn ? 1 : 0;
    }
    if (fails == 0 && warns == 0) {
        out.append("doctor: all checks passed\n");
    } else {
        out.append("doctor: ")
            .append(std::to_string(fails))
            .append(" failed, ")
            .append(std::to_string(warns))
            .append(" warning")
            .append(warns == 1 ? "" : "s")
            .append("\n");
    }
    return out;
}

std::string render_json(const std::vector<Check>& checks)
{
    auto list = nlohmann::json::array();
    for (const auto& c : checks) {
        list.push_back({{"check", c.name},
                        {"status", c.status == Verdict::fail ? "fail" : verdict_name(c.status)},
                        {"detail", c.detail},
                        {"fix", c.fix}});
    }
    const nlohmann::json doc{{"ok", exit_code(checks) == 0}, {"checks", list}};
    // Replace invalid UTF-8 (from file names or PID 1's argv) rather than throw.
    return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

} // namespace execmark::doctor
