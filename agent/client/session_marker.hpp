// SPDX-License-Identifier: MIT
#pragma once

#include <agent/client/banner.hpp>
#include <agent/client/protocol.hpp>

#include <string>

namespace execmark::client {

// How the shell side asks for a session marker.
struct SessionMarkerOptions {
    std::string socket_path = k_default_socket_path;
    int deadline_ms = k_client_deadline_ms;
    BannerStyle style = BannerStyle::full;
    std::string claim_var; // where the user claim came from, for the banner
};

// Asks PID 1 for the signed open/close marker of request and returns the banner text ending
// with the marker line, for one write(2) to the terminal. Never fails: when PID 1 does not
// answer in time, refuses, or answers something unusable, the marker is written unsigned
// (marker::build_session_payload, kid "-", tseq 0) with the reason.
std::string session_marker_text(const Request& request, const SessionMarkerOptions& options);

} // namespace execmark::client
