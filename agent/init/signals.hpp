// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace execmark::init {

// Highest signal number on Linux (SIGRTMAX of the kernel, 64 on x86_64 and aarch64).
inline constexpr int k_max_signal = 64;

// "TERM", "SIGTERM", "sigterm", "15", "RTMIN+3", "SIGRTMAX-1" -> number; nullopt if unknown.
std::optional<int> signal_from_name(std::string_view name);

// Canonical name: "SIGTERM", "SIGRTMIN+3" (kernel numbering: RTMIN = 32), or "SIG<n>".
std::string signal_name(int sig);

// The seven signals the kernel raises for a fault in the receiver itself.
bool is_synchronous_signal(int sig);

// Whether the init forwards this signal, given the siginfo code: synchronous signals only when a
// process sent them (si_code <= 0); SIGCHLD never (it drives reaping); KILL/STOP cannot arrive.
bool should_forward(int sig, int si_code);

} // namespace execmark::init
