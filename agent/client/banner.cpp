// SPDX-License-Identifier: MIT
#include <agent/client/banner.hpp>
#include <agent/marker/marker.hpp>

namespace execmark::client {

namespace {

// Longest value shown on a banner line.
constexpr std::size_t k_max_shown = 120;
constexpr const char* k_lead = "execmark | ";

std::string shown(const std::string& value)
{
    if (value.empty()) {
        return "(unknown)";
    }
    return marker::sanitize_claim(value, k_max_shown).value;
}

} // namespace

std::string render_banner(const BannerInput& in, BannerStyle style)
{
    std::string out;
    const bool is_open = in.event == "open";
    const bool is_signed = in.unsigned_reason.empty();
    const auto line = [&](const std::string& text) {
        out += k_lead;
        out += text;
        out += '\n';
    };
    if (style == BannerStyle::full && is_open) {
        line("ECS Exec session " + shown(in.sid) + " opened " + shown(in.ts));
        line("user: "
             + (in.user.empty() ? std::string("(no claim: ") + shown(in.claim_var) + " unset)"
                                : shown(in.user) + " (claimed via " + shown(in.claim_var)
                                      + "; the IAM principal is in CloudTrail)"));
        if (!in.owner.empty()) {
            line("session owner (SSM): " + shown(in.owner));
        }
        line("task: " + shown(in.task) + "  container: " + shown(in.ctr));
        if (is_signed) {
            line("signed by PID 1 with key " + shown(in.kid) + "; this session is recorded");
        }
    } else if (style == BannerStyle::full || style == BannerStyle::compact) {
        std::string text = std::string(is_open ? "session " : "session end ") + shown(in.sid);
        if (is_open) {
            text += " user " + (in.user.empty() ? std::string("(none)") : shown(in.user));
        } else {
            text += " status " + std::to_string(in.rc);
        }
        text += is_signed ? " signed " + shown(in.kid) : std::string(" UNSIGNED");
        line(text);
    }
    if (!is_signed && style != BannerStyle::off) {
        line("WARNING: marker not signed (" + shown(in.unsigned_reason)
             + "): " + shown(in.unsigned_detail));
    }
    out += in.marker_line;
    out += '\n';
    return out;
}

} // namespace execmark::client
