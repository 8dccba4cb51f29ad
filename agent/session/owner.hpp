// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>

namespace execmark::session {

// Where the SSM agent keeps the state of running documents (sessions among them).
inline constexpr const char* k_ssm_state_root = "/var/lib/amazon/ssm";
// The only source of `owner` so far; named in the marker's `osrc`. The state file is writable by
// every root user in the container, so what it says is a claim, and the source says so.
inline constexpr const char* k_owner_source_state_file = "claim:ssm-state-file";

// The SessionOwner recorded by the SSM agent for session sid, from
// <root>/<instance>/document/state/current/<sid> when that file exists and names one.
// Opportunistic: unverified on live ECS Exec, never required. sid must be a valid session id.
std::optional<std::string> find_session_owner(const std::string& sid,
                                              const std::string& root = k_ssm_state_root);

} // namespace execmark::session
