// SPDX-License-Identifier: MIT
#include <agent/client/exchange.hpp>
#include <agent/client/protocol.hpp>
#include <agent/doctor/doctor.hpp>
#include <agent/hooks/root_fs.hpp>
#include <agent/metadata/fetch.hpp>
#include <agent/util/io.hpp>
#include <agent/util/proc.hpp>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <climits>

namespace execmark::doctor {

namespace {

// What SSM's session worker would search when the container sets no PATH (Docker's default).
constexpr std::string_view k_default_path =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr std::size_t k_max_env_file = std::size_t{1024} * 1024;

Pid1Facts gather_pid1(const std::string& proc)
{
    Pid1Facts pid1;
    std::string target(PATH_MAX, '\0');
    const std::string link = proc + "/1/exe";
    // Fails with EACCES when PID 1 is non-dumpable (execmark is) and we lack CAP_SYS_PTRACE.
    const ssize_t n = ::readlink(link.c_str(), target.data(), target.size());
    if (n > 0) {
        target.resize(static_cast<std::size_t>(n));
        pid1.exe = std::move(target);
    }
    if (auto argv = util::read_cmdline(1, proc, 4096)) {
        pid1.argv = std::move(*argv);
    }
    return pid1;
}

AgentFacts gather_agent(const Options& options)
{
    AgentFacts agent;
    agent.socket_path = options.socket_path;
    client::Request ping;
    ping.op = client::Op::ping;
    const auto result = client::exchange(
        options.socket_path, client::format_request(ping), options.agent_deadline_ms);
    if (!result.ok) {
        agent.detail = result.error.message;
        return agent;
    }
    const auto doc = nlohmann::json::parse(result.response, nullptr, false);
    if (!doc.is_object() || !doc.contains("ok") || doc["ok"] != true) {
        agent.detail = "unexpected answer to ping";
        return agent;
    }
    agent.answered = true;
    const auto field = [&](const char* key) -> std::string {
        if (!doc.contains(key)) {
            return "";
        }
        const auto& v = doc[key];
        return v.is_string() ? v.get<std::string>() : v.dump();
    };
    for (const char* key : {"ver", "kid", "pid"}) {
        const auto v = field(key);
        if (!v.empty()) {
            agent.detail.append(agent.detail.empty() ? "" : " ").append(key).append(" ").append(v);
        }
    }
    return agent;
}

void gather_hooks(const hooks::RootFs& fs, Facts& facts)
{
    for (const auto kind : {hooks::HookKind::posix, hooks::HookKind::zsh}) {
        HookFileFacts file;
        file.kind = kind;
        const auto text = fs.read(hooks::hook_path(kind), hooks::k_max_rc_bytes);
        file.exists = text.ok();
        file.current = text.ok() && hooks::hook_text_bin(kind, *text).has_value();
        facts.hook_files.push_back(file);
    }
    for (const auto& target : hooks::plan_rc_targets(facts.image)) {
        RcFileFacts rc;
        rc.target = target;
        const auto content = fs.read(target.path, hooks::k_max_rc_bytes);
        rc.exists = content.ok();
        if (content) {
            rc.state = hooks::block_state(*content, hooks::rc_block(target.kind));
        }
        facts.rc_files.push_back(std::move(rc));
    }
}

EnvFacts gather_env(const hooks::RootFs& fs, const Options& options)
{
    EnvFacts env;
    env.value = options.env_value;
    if (!env.value || env.value->empty()) {
        return env;
    }
    const std::string hook(hooks::k_posix_hook_path);
    if (*env.value == hook) {
        env.sources_hook = true;
        return env;
    }
    if (env.value->front() == '/' && env.value->find('$') == std::string::npos) {
        const auto content = fs.read(*env.value, k_max_env_file);
        env.sources_hook = content && content->find(hook) != std::string::npos;
    }
    return env;
}

std::vector<ToolFacts> gather_tools(const hooks::RootFs& fs, const Options& options)
{
    const std::string_view path =
        options.path_value.empty() ? k_default_path : std::string_view(options.path_value);
    std::vector<ToolFacts> tools;
    for (const char* name : {"script", "cat"}) {
        ToolFacts tool;
        tool.name = name;
        std::size_t pos = 0;
        while (pos <= path.size() && !tool.path) {
            auto colon = path.find(':', pos);
            if (colon == std::string_view::npos) {
                colon = path.size();
            }
            const auto dir = path.substr(pos, colon - pos);
            pos = colon + 1;
            if (dir.empty() || dir.front() != '/') {
                continue; // relative entries depend on the session's cwd: not counted
            }
            const std::string candidate = std::string(dir) + "/" + name;
            if (fs.is_executable(candidate)) {
                tool.path = candidate;
                const auto resolved = fs.resolve(candidate);
                tool.busybox = resolved && resolved->ends_with("/busybox");
            }
        }
        tools.push_back(std::move(tool));
    }
    return tools;
}

MetadataFacts gather_metadata(const Options& options)
{
    MetadataFacts facts;
    metadata::FetchConfig config;
    config.uri_v4 = options.metadata_uri_v4;
    config.uri_v3 = options.metadata_uri_v3;
    config.deadline_ms = options.metadata_deadline_ms;
    config.request_timeout_ms = std::min(config.request_timeout_ms, options.metadata_deadline_ms);
    config.connect_timeout_ms = std::min(config.connect_timeout_ms, options.metadata_deadline_ms);
    const auto result = metadata::fetch_metadata(config);
    switch (result.status) {
    case metadata::FetchStatus::not_on_ecs:
        facts.state = MetadataState::not_set;
        break;
    case metadata::FetchStatus::ok: {
        facts.state = MetadataState::ok;
        const auto& m = result.metadata;
        facts.detail = "task " + (m.task_arn.empty() ? std::string("(unknown)") : m.task_arn)
                       + ", container "
                       + (m.container_name.empty() ? std::string("(unknown)") : m.container_name);
        break;
    }
    case metadata::FetchStatus::failed:
    case metadata::FetchStatus::cancelled:
        facts.state = MetadataState::failed;
        facts.detail =
            result.error.empty() ? std::string("metadata endpoint failed") : result.error;
        break;
    }
    return facts;
}

} // namespace

CapFacts gather_caps(const std::string& proc)
{
    CapFacts caps;
    const auto status = util::read_file(proc + "/self/status", 64 * 1024);
    if (!status) {
        return caps;
    }
    const auto pos = status->find("CapBnd:");
    if (pos == std::string::npos) {
        return caps;
    }
    const auto end = status->find('\n', pos);
    const std::string hex = status->substr(pos + 7, end - pos - 7);
    std::uint64_t bits = 0;
    std::size_t used = 0;
    try {
        bits = std::stoull(hex, &used, 16);
    } catch (const std::exception&) {
        return caps;
    }
    constexpr int k_cap_sys_ptrace = 19;
    caps.known = true;
    caps.sys_ptrace = ((bits >> k_cap_sys_ptrace) & 1U) != 0;
    return caps;
}

Facts gather(const Options& options)
{
    const hooks::RootFs fs(options.root);
    Facts facts;
    facts.pid1 = gather_pid1(options.proc);
    facts.caps = gather_caps(options.proc);
    facts.agent = gather_agent(options);
    facts.image = hooks::probe_image(fs);
    gather_hooks(fs, facts);
    facts.env = gather_env(fs, options);
    facts.tools = gather_tools(fs, options);
    facts.metadata = gather_metadata(options);
    facts.claim.variable = options.claim_variable;
    facts.claim.set = options.claim_value && !options.claim_value->empty();
    return facts;
}

} // namespace execmark::doctor
