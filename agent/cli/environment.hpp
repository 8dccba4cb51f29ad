// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
// against setenv, and modules must not read the environment themselves). A copy: PID 1 wipes its
// environment's strings once the child runs (init::harden_process).
class Environment {
public:
    [[nodiscard]] std::optional<std::string> get(std::string_view name) const;

    [[nodiscard]] bool has(std::string_view name) const { return find(name).has_value(); }

    // The variable the user claim is read from: $EXECMARK_CLAIM_VAR, else AWS_USER.
    [[nodiscard]] std::string claim_var() const;

    // Adds NAME=VALUE after what is there; of a name defined twice the first counts, as with
    // getenv.
    void add(std::string_view name, std::string_view value);

    // Captures the process environment.
    static Environment capture();

private:
    [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const;

    // Every NAME=VALUE in one buffer, in the environment's order, and where each starts and how
    // long its name is: one allocation for the text however many variables there are (a map of
    // strings cost every command's start about 6 % of its instructions; docs/benchmarks.md).
    struct Entry {
        std::size_t offset;
        std::size_t name_len;
        std::size_t len;
    };

    std::string m_text;
    std::vector<Entry> m_entries;
};

} // namespace execmark::cli
