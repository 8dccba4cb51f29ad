// SPDX-License-Identifier: MIT
#include <agent/marker/marker.hpp>
#include <agent/marker/session.hpp>

#include <algorithm>
#include <array>

namespace execmark::marker {

namespace {

// Values PID 1 takes from outside (metadata, the SSM state file) are capped, so that one absurd
// value cannot push a marker past k_max_line_bytes; the fitting loop below does the rest.
constexpr std::size_t k_max_fact_bytes = 256;
// Shortest a value is cut to when a marker must be fitted into k_max_payload_bytes.
constexpr std::size_t k_min_fitted_bytes = 16;

struct Value {
    std::string_view key;
    std::string text;
    bool fixed = false;
};

} // namespace

SessionPayload
build_session_payload(const SessionCore& core, const SessionFacts& facts, const Claims& claims)
{
    const auto claim = [&claims](std::string_view key, const std::string& raw) {
        auto s = sanitize_claim(raw, k_max_claim_bytes);
        const bool client_fixed =
            std::find(claims.client_fixed.begin(), claims.client_fixed.end(), key)
            != claims.client_fixed.end();
        return Value{key, std::move(s.value), s.altered || s.truncated || client_fixed};
    };
    const auto fact = [](std::string_view key, const std::string& raw) {
        return Value{key, sanitize_claim(raw, k_max_fact_bytes).value, false};
    };
    // In fitting order: the first ones are shortened first when the line is too long.
    std::array values{
        claim("reason", claims.reason),
        claim("shell", claims.shell),
        claim("tty", claims.tty),
        claim("user", claims.user),
        fact("owner", facts.owner),
        fact("ctr", facts.ctr),
        fact("cluster", facts.cluster),
        fact("task", facts.task),
    };
    const auto value_of = [&values](std::string_view key) -> const Value& {
        return *std::find_if(
            values.begin(), values.end(), [&](const Value& v) { return v.key == key; });
    };
    // Rebuilt while too long (bounded: each round shortens one value).
    for (int round = 0;; ++round) {
        std::string cfix;
        for (const auto& key :
             {"user", "reason", "shell", "tty", "owner", "ctr", "cluster", "task"}) {
            if (value_of(key).fixed) {
                cfix += (cfix.empty() ? "" : ",");
                cfix += key;
            }
        }
        PayloadWriter w;
        w.add("v", k_version)
            .add("ev", core.ev)
            .add("ts", core.ts)
            .add("kid", core.kid)
            .add("tseq", core.tseq)
            .add("sid", core.sid)
            .add("seq", core.seq)
            .add("prev", core.prev)
            .add("task", value_of("task").text)
            .add("cluster", value_of("cluster").text)
            .add("ctr", value_of("ctr").text)
            .add("user", value_of("user").text)
            .add("owner", value_of("owner").text)
            .add("osrc", facts.owner.empty() ? std::string() : facts.osrc)
            .add("reason", value_of("reason").text)
            .add("shell", value_of("shell").text)
            .add("tty", value_of("tty").text)
            .add("cpid", facts.cpid)
            .add("mode", facts.mode)
            .add("cfix", cfix)
            .add("wchk", facts.wchk)
            .add("wsid", sanitize_claim(facts.wsid, k_max_claim_bytes * 2).value)
            .add("wst", facts.wst)
            .add("sst", facts.sst);
        if (core.ev == k_ev_close) {
            w.add("fin", facts.fin).add("rc", facts.rc);
        }
        const std::size_t overflow =
            w.size() > k_max_payload_bytes ? w.size() - k_max_payload_bytes : 0;
        Value* victim = nullptr;
        if (overflow > 0 && round < static_cast<int>(values.size()) * 4) {
            for (auto& v : values) {
                if (v.text.size() > k_min_fitted_bytes) {
                    victim = &v;
                    break;
                }
            }
        }
        if (victim == nullptr) {
            return SessionPayload{w.finish(), value_of("user").text};
        }
        const std::size_t keep = victim->text.size() > overflow + k_min_fitted_bytes
                                     ? victim->text.size() - overflow
                                     : k_min_fitted_bytes;
        victim->text = sanitize_claim(victim->text, keep).value;
        victim->fixed = true;
    }
}

} // namespace execmark::marker
