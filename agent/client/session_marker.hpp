// SPDX-License-Identifier: MIT
#pragma once

#include <agent/client/banner.hpp>
#include <agent/client/exchange.hpp>
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

// The same text from an exchange already made (or failed): request is the open or close whose
// claims, fin and rc the banner and an unsigned fallback carry; result is PID 1's answer to it
// or to the recorder's "end" report (whose answer is the close marker response).
std::string render_session_marker(const Request& request,
                                  const SessionMarkerOptions& options,
                                  const ExchangeResult& result);

} // namespace execmark::client
