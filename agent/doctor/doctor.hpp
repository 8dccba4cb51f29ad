// SPDX-License-Identifier: MIT
#pragma once

#include <agent/hooks/hooks.hpp>
#include <agent/hooks/install.hpp>
#include <agent/marker/session.hpp>

#include <optional>
#include <string>
#include <vector>

namespace execmark::doctor {

enum class Verdict { ok, warn, fail };

std::string_view verdict_name(Verdict status); // "ok", "warn", "FAIL"

// One line of the report: what was checked, what was found, how to fix a warn or a fail.
struct Check {
    std::string name;
    Verdict status = Verdict::ok;
    std::string detail;
    std::string fix;
};

// What doctor found; gather() collects it, evaluate() judges it (pure).
struct Pid1Facts {
    std::optional<std::string> exe; // readlink /proc/1/exe (unreadable when PID 1 is
                                    // non-dumpable, as execmark is, and we lack CAP_SYS_PTRACE)
    std::vector<std::string> argv;  // /proc/1/cmdline
};

struct AgentFacts {
    std::string socket_path;
    bool answered = false;
    std::string detail; // "kid ... pid ..." or why there was no answer
};

struct RcFileFacts {
    hooks::RcTarget target;
    bool exists = false;
    hooks::BlockState state = hooks::BlockState::absent;
};

struct HookFileFacts {
    hooks::HookKind kind = hooks::HookKind::posix;
    bool exists = false;
    bool current = false; // exactly what this version installs (with some --bin)
};

struct EnvFacts {
    std::optional<std::string> value; // ENV as doctor sees it
    bool sources_hook = false;        // ENV is the hook or a file that sources it
};

struct ToolFacts {
    std::string name;
    std::optional<std::string> path; // where on PATH, nullopt when missing
    bool busybox = false;            // a busybox applet
};

enum class MetadataState { not_set, ok, failed };

struct MetadataFacts {
    MetadataState state = MetadataState::not_set;
    std::string detail;
};

struct ClaimFacts {
    std::string variable{marker::k_default_claim_var};
    bool set = false; // set and not empty
};

// Whether a root shell in this container can obtain CAP_SYS_PTRACE (bounding set, from
// /proc/self/status CapBnd): then it could read PID 1's memory and the signing key.
struct CapFacts {
    bool known = false;
    bool sys_ptrace = false;
};

struct Facts {
    Pid1Facts pid1;
    CapFacts caps;
    AgentFacts agent;
    hooks::ImageFacts image;
    std::vector<RcFileFacts> rc_files;
    std::vector<HookFileFacts> hook_files;
    EnvFacts env;
    std::vector<ToolFacts> tools;
    MetadataFacts metadata;
    ClaimFacts claim;
};

// The checks of design brief §7.4, in report order: pid1, agent, hooks, env, tools, metadata,
// claim, ptrace. Required (fail): PID 1, agent, hooks, ENV, script and cat, a metadata endpoint
// that is set but does not answer. Advisory (warn): outdated blocks, no endpoint, no claim.
std::vector<Check> evaluate(const Facts& facts);

// 1 when a check failed, else 0.
int exit_code(const std::vector<Check>& checks);

// One line per check ("ok    agent     ..."), a "fix:" line under each warn and fail, a summary.
std::string render_text(const std::vector<Check>& checks);

// {"ok":bool,"checks":[{"check":..,"status":"ok|warn|fail","detail":..,"fix":..}]}
std::string render_json(const std::vector<Check>& checks);

// Where gather() looks and what the environment said (cli reads the environment, not us).
struct Options {
    std::string root = "/";     // the image's files (hooks, ENV file, PATH lookups)
    std::string proc = "/proc"; // PID 1
    std::string socket_path;
    std::optional<std::string> env_value; // ENV
    std::string path_value;               // PATH ("" → a default PATH)
    std::string claim_variable{marker::k_default_claim_var};
    std::optional<std::string> claim_value;
    std::string metadata_uri_v4;
    std::string metadata_uri_v3;
    int agent_deadline_ms = 500;
    long metadata_deadline_ms = 2000;
};

Facts gather(const Options& options);

} // namespace execmark::doctor
