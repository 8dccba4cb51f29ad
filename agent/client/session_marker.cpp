// SPDX-License-Identifier: MIT
#include <agent/client/exchange.hpp>
#include <agent/client/session_marker.hpp>
#include <agent/marker/marker.hpp>
#include <agent/marker/session.hpp>
#include <agent/session/origin.hpp>
#include <agent/util/clock.hpp>

#include <unistd.h>

#include <optional>

namespace execmark::client {

namespace {

// The unsigned reason for a refusal PID 1 sent with a typed code.
std::string_view refusal_reason(Refusal code)
{
    switch (code) {
    case Refusal::no_key:
        return marker::k_reason_no_key;
    case Refusal::not_allowed:
        return marker::k_reason_refused;
    default:
        return marker::k_reason_agent_error;
    }
}

// A marker PID 1 did not sign: the same payload writer, kid "-", tseq 0, a chain of its own.
std::string unsigned_marker(const Request& req,
                            const session::SessionOrigin& origin,
                            std::string_view reason,
                            std::string* ts)
{
    marker::SessionCore core;
    core.ev = req.op == Op::close ? marker::k_ev_close : marker::k_ev_open;
    core.ts = marker::format_timestamp(util::unix_ms());
    core.kid = std::string(marker::k_none);
    core.tseq = 0;
    core.sid = origin.sid;
    marker::SessionFacts facts;
    facts.cpid = origin.command_pid;
    facts.mode = req.mode;
    facts.wchk = std::string(session::worker_check_name(origin.check));
    facts.wsid = origin.claimed_sid;
    facts.wst = origin.worker_start_ms;
    facts.sst = origin.command_start_ms;
    facts.fin = req.fin;
    facts.rc = req.rc;
    marker::Claims claims = req.claims;
    claims.client_fixed = req.client_fixed;
    *ts = core.ts;
    return marker::format_unsigned(marker::build_session_payload(core, facts, claims).payload,
                                   reason);
}

} // namespace

std::string session_marker_text(const Request& request, const SessionMarkerOptions& options)
{
    return render_session_marker(
        request,
        options,
        exchange(options.socket_path, format_request(request), options.deadline_ms));
}

std::string render_session_marker(const Request& request,
                                  const SessionMarkerOptions& options,
                                  const ExchangeResult& result)
{
    BannerInput banner;
    banner.event = request.op == Op::close ? "close" : "open";
    banner.claim_var = options.claim_var;
    banner.rc = request.rc;
    std::optional<MarkerResponse> response;
    if (result.ok) {
        if (const auto refused = parse_refusal(result.response)) {
            banner.unsigned_reason = std::string(refusal_reason(refused->code));
            banner.unsigned_detail = "agent refused the request: " + refused->detail;
        } else if (auto parsed = parse_marker_response(result.response)) {
            response = std::move(*parsed);
        } else {
            banner.unsigned_reason = std::string(marker::k_reason_bad_response);
            banner.unsigned_detail = parsed.error().message;
        }
    } else {
        banner.unsigned_reason = std::string(failure_reason(result.error.kind));
        banner.unsigned_detail = result.error.message;
    }
    if (response) {
        banner.marker_line = response->marker;
        banner.sid = response->sid;
        banner.ts = response->ts;
        banner.user = response->user;
        banner.task = response->task;
        banner.ctr = response->ctr;
        banner.kid = response->kid;
        banner.owner = response->owner;
    } else {
        const auto origin = session::find_session_origin(::getpid());
        banner.marker_line = unsigned_marker(request, origin, banner.unsigned_reason, &banner.ts);
        banner.sid = origin.sid;
        banner.user = request.claims.user;
    }
    return render_banner(banner, options.style);
}

} // namespace execmark::client
