// SPDX-License-Identifier: MIT
#pragma once

#include <agent/util/result.hpp>

#include <string>
#include <string_view>

namespace execmark::client {

// Why an exchange with PID 1 failed, as the `unsigned=` reason of a fallback marker.
enum class ClientFailure { no_agent, timeout, error, bad_response };

struct ClientError {
    ClientFailure kind = ClientFailure::error;
    std::string message;
};

// The unsigned= reason for a failure ("no-agent", "agent-timeout", ...).
std::string_view failure_reason(ClientFailure kind);

// Connects to the agent socket, sends request (one line), returns the response line (without
// its newline). Everything — connect, send, receive — within deadline_ms in total.
struct ExchangeResult {
    bool ok = false;
    std::string response;
    ClientError error;
};

ExchangeResult exchange(const std::string& socket_path, std::string_view request, int deadline_ms);

} // namespace execmark::client
