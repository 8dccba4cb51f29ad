// SPDX-License-Identifier: MIT
#pragma once

// A verified session log and its ExecuteCommand event, as the assessment and render tests
// build them.

#include <agent/audit/assessment.hpp>

#include <string>

namespace execmark::audit::test {

inline LogVerdict
verdict(const std::string& sid, std::uint64_t own, const std::string& claim = "dana")
{
    LogVerdict v;
    v.id.key = "file:" + sid;
    v.id.source = sid + ".log";
    v.id.own_sid = sid;
    v.sid = sid;
    v.own = own;
    v.verified = own;
    v.markers = own;
    if (own > 0) {
        v.facts.has_open = true;
        v.facts.claim = claim;
        v.facts.open_ts = "2026-03-02T09:15:43.000Z";
        v.facts.task = "arn:aws:ecs:r:1:task/payments/t1";
        v.facts.ctr = "api";
        if (own > 1) {
            v.facts.has_close = true;
            v.facts.close_ts = "2026-03-02T09:27:43.500Z";
        }
    }
    return v;
}

inline ExecEvent exec(const std::string& sid, const std::string& session_name = "dana")
{
    ExecEvent e;
    e.session_id = sid;
    e.event_time = "2026-03-02T09:15:41Z";
    e.container = "api";
    e.task_arn = "arn:aws:ecs:r:1:task/payments/t1";
    e.principal.arn = "arn:aws:sts::1:assumed-role/Oncall/" + session_name;
    return e;
}

} // namespace execmark::audit::test
