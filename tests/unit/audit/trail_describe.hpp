// SPDX-License-Identifier: MIT
// Test support shared by the unit tests and the fuzz target of the CloudTrail reader: a
// classified record as one line of text, every field the classifier fills, so that two
// classifications of one record (flat and from the whole DOM) can be compared for equality.
#pragma once

#include <agent/audit/cloudtrail.hpp>

#include <string>
#include <variant>

namespace execmark::audit::testing {

inline std::string describe(const Principal& p)
{
    return p.type + "|" + p.arn + "|" + p.principal_id + "|" + p.account + "|" + p.user_name + "|"
           + p.issuer_type + "|" + p.issuer_arn + "|" + p.issuer_name + "|" + p.source_identity
           + "|" + p.invoked_by + "|" + p.on_behalf_of + "|" + p.identity_store_arn + "|"
           + p.credential_id + "|" + p.identity_provider;
}

// Everything a classification says, as one line.
inline std::string describe(const TrailRecord& rec)
{
    if (std::holds_alternative<std::monostate>(rec)) {
        return "other";
    }
    if (const auto* e = std::get_if<ExecEvent>(&rec)) {
        return "exec " + e->session_id + "|" + e->event_id + "|" + e->event_time + "|" + e->region
               + "|" + e->source_ip + "|" + e->user_agent + "|" + e->account + "|" + e->cluster
               + "|" + e->container + "|" + e->task + "|" + e->task_arn + "|" + e->command + "|"
               + describe(e->principal);
    }
    if (const auto* r = std::get_if<RunTaskEvent>(&rec)) {
        std::string out = "run " + r->event_id + "|" + r->event_time + "|" + describe(r->principal);
        for (const auto& t : r->task_arns) {
            out += "|task " + t;
        }
        for (const auto& [c, v] : r->claim_overrides) {
            out += "|override " + c + "=" + v;
        }
        return out;
    }
    if (const auto* d = std::get_if<DeniedExec>(&rec)) {
        return "denied " + d->event_id + "|" + d->event_time + "|" + d->region + "|" + d->account
               + "|" + d->source_ip + "|" + d->user_agent + "|" + d->cluster + "|" + d->container
               + "|" + d->task + "|" + d->command + "|" + d->error_code + "|" + d->error_message
               + "|" + describe(d->principal);
    }
    if (std::holds_alternative<DigestFile>(rec)) {
        return "digest";
    }
    return "not a record: " + std::get<NotARecord>(rec).what;
}

} // namespace execmark::audit::testing
