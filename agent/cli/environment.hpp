// SPDX-License-Identifier: MIT
#pragma once

#include <map>
#include <optional>
#include <string>

namespace execmark::cli {

// The names of the environment variables execmark reads (docs/configuration.md): one home.
namespace env_names {
inline constexpr const char* k_socket = "EXECMARK_SOCKET";
inline constexpr const char* k_claim_var = "EXECMARK_CLAIM_VAR";
inline constexpr const char* k_banner = "EXECMARK_BANNER";
inline constexpr const char* k_timeout_ms = "EXECMARK_TIMEOUT_MS";
inline constexpr const char* k_active = "EXECMARK_ACTIVE";
inline constexpr const char* k_record = "EXECMARK_RECORD";
// Set by `execmark shell` when PID 1 let the recorder's start time out: the shell it then starts
// (and that shell's hook) write their markers unsigned at once instead of waiting again.
inline constexpr const char* k_agent_timed_out = "EXECMARK_AGENT_TIMED_OUT";
inline constexpr const char* k_grace = "EXECMARK_GRACE";
inline constexpr const char* k_attribution = "EXECMARK_ATTRIBUTION";
inline constexpr const char* k_watch_interval = "EXECMARK_WATCH_INTERVAL";
inline constexpr const char* k_tini_subreaper = "TINI_SUBREAPER";
inline constexpr const char* k_tini_kill_process_group = "TINI_KILL_PROCESS_GROUP";
inline constexpr const char* k_tini_verbosity = "TINI_VERBOSITY";
} // namespace env_names

// The environment variables execmark reads, captured once at start (getenv is not thread-safe
// against setenv, and modules must not read the environment themselves).
struct Environment {
    std::map<std::string, std::string, std::less<>> vars;

    [[nodiscard]] std::optional<std::string> get(const std::string& name) const;

    [[nodiscard]] bool has(const std::string& name) const { return vars.contains(name); }

    // The variable the user claim is read from: $EXECMARK_CLAIM_VAR, else AWS_USER.
    [[nodiscard]] std::string claim_var() const;

    // Captures the process environment.
    static Environment capture();
};

} // namespace execmark::cli
