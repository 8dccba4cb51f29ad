// SPDX-License-Identifier: MIT
#include <agent/signer/ledger.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace execmark::signer {

namespace {

// Values PID 1 takes from outside (metadata, the SSM state file) are capped too, so that one
// absurd value cannot push a marker past k_max_line_bytes; the fitting loop below does the rest.
constexpr std::size_t k_max_fact_bytes = 256;
// Shortest a value is cut to when a marker must be fitted into k_max_line_bytes.
constexpr std::size_t k_min_fitted_bytes = 16;

std::string cap(std::string_view value, std::size_t max)
{
    return marker::sanitize_claim(value, max).value;
}

} // namespace

Ledger::Ledger(const SigningKey& key, std::string version, std::string host, Clock clock)
    : m_key(key)
    , m_version(std::move(version))
    , m_host(std::move(host))
    , m_clock(std::move(clock))
    , m_boot_sid(std::string(marker::k_boot_sid_prefix) + key.key_id())
{}

Ledger::Chain& Ledger::chain_for(const std::string& sid)
{
    auto it = m_chains.find(sid);
    if (it == m_chains.end()) {
        if (m_chains.size() >= k_max_sessions) {
            // Forget the least recently used session (never the boot chain).
            auto oldest = m_chains.end();
            for (auto c = m_chains.begin(); c != m_chains.end(); ++c) {
                if (c->first != m_boot_sid
                    && (oldest == m_chains.end()
                        || c->second.last_used < oldest->second.last_used)) {
                    oldest = c;
                }
            }
            if (oldest != m_chains.end()) {
                m_chains.erase(oldest);
            }
        }
        it = m_chains.emplace(sid, Chain{}).first;
    }
    it->second.last_used = ++m_use_counter;
    return it->second;
}

Ledger::Core Ledger::begin(marker::PayloadWriter& w, std::string_view ev, const std::string& sid)
{
    Chain& chain = chain_for(sid);
    Core core;
    core.ts = marker::format_timestamp(m_clock());
    core.tseq = ++m_tseq;
    core.seq = chain.seq + 1;
    w.add("v", marker::k_version)
        .add("ev", ev)
        .add("ts", core.ts)
        .add("kid", m_key.key_id())
        .add("tseq", core.tseq)
        .add("sid", sid)
        .add("seq", core.seq)
        .add("prev", chain.prev);
    return core;
}

IssuedMarker
Ledger::finish(const marker::PayloadWriter& w, const std::string& sid, const Core& core)
{
    const std::string payload = w.finish();
    Chain& chain = chain_for(sid);
    chain.seq = core.seq;
    chain.prev = marker::chain_hash(payload);
    IssuedMarker out;
    out.line = marker::format_signed(payload, m_key.sign(payload));
    out.ts = core.ts;
    out.sid = sid;
    out.tseq = core.tseq;
    out.seq = core.seq;
    return out;
}

IssuedMarker Ledger::boot(std::int64_t pid)
{
    marker::PayloadWriter w;
    const Core core = begin(w, marker::k_ev_boot, m_boot_sid);
    w.add("pub", marker::base64url(m_key.public_key()))
        .add("ver", cap(m_version, 64))
        .add("pid", pid)
        .add("host", cap(m_host, 64));
    return finish(w, m_boot_sid, core);
}

IssuedMarker Ledger::meta(const TaskFacts& f)
{
    marker::PayloadWriter w;
    const Core core = begin(w, marker::k_ev_meta, m_boot_sid);
    w.add("task", cap(f.task, k_max_fact_bytes))
        .add("cluster", cap(f.cluster, k_max_fact_bytes))
        .add("ctr", cap(f.ctr, k_max_fact_bytes))
        .add("cid", cap(f.cid, 80))
        .add("az", cap(f.az, 32))
        .add("lt", cap(f.lt, 32))
        .add("src", cap(f.src, 8));
    return finish(w, m_boot_sid, core);
}

IssuedMarker Ledger::shutdown(std::int64_t rc, std::int64_t uptime_ms)
{
    marker::PayloadWriter w;
    const Core core = begin(w, marker::k_ev_shutdown, m_boot_sid);
    w.add("rc", rc).add("up", uptime_ms);
    return finish(w, m_boot_sid, core);
}

IssuedMarker Ledger::exec_seen(const std::string& wsid, std::int64_t wpid)
{
    marker::PayloadWriter w;
    const Core core = begin(w, marker::k_ev_exec_seen, m_boot_sid);
    w.add("wsid", cap(wsid, 128)).add("wpid", wpid);
    return finish(w, m_boot_sid, core);
}

IssuedMarker Ledger::exec_gone(const std::string& wsid, std::int64_t wpid, std::int64_t duration_ms)
{
    marker::PayloadWriter w;
    const Core core = begin(w, marker::k_ev_exec_gone, m_boot_sid);
    w.add("wsid", cap(wsid, 128)).add("wpid", wpid).add("dur", duration_ms);
    return finish(w, m_boot_sid, core);
}

IssuedMarker Ledger::session(std::string_view ev,
                             const SessionFacts& facts,
                             const TaskFacts& task,
                             const Claims& claims)
{
    // Values in fitting order: the first ones are shortened first when the line is too long.
    struct Value {
        std::string_view key;
        std::string text;
        bool claim;
        bool fixed = false;
    };

    const auto claim = [&claims](std::string_view key, const std::string& raw) {
        auto s = marker::sanitize_claim(raw, marker::k_max_claim_bytes);
        const bool client_fixed =
            std::find(claims.client_fixed.begin(), claims.client_fixed.end(), key)
            != claims.client_fixed.end();
        return Value{key, std::move(s.value), true, s.altered || s.truncated || client_fixed};
    };
    std::array values{
        claim("reason", claims.reason),
        claim("shell", claims.shell),
        claim("tty", claims.tty),
        claim("user", claims.user),
        Value{"owner", cap(facts.owner, k_max_fact_bytes), false},
        Value{"ctr", cap(task.ctr, k_max_fact_bytes), false},
        Value{"cluster", cap(task.cluster, k_max_fact_bytes), false},
        Value{"task", cap(task.task, k_max_fact_bytes), false},
    };
    const auto value_of = [&](std::string_view key) -> const Value& {
        return *std::find_if(
            values.begin(), values.end(), [&](const Value& v) { return v.key == key; });
    };
    // The payload, rebuilt while it is too long (bounded: each round shortens one value).
    for (int round = 0;; ++round) {
        std::string cfix;
        for (const auto& key :
             {"user", "reason", "shell", "tty", "owner", "ctr", "cluster", "task"}) {
            if (value_of(key).fixed) {
                cfix += (cfix.empty() ? "" : ",");
                cfix += key;
            }
        }
        marker::PayloadWriter w;
        // Chain state only advances in finish(), so rebuilding is harmless; tseq is re-taken.
        const std::uint64_t tseq_before = m_tseq;
        const Core core = begin(w, ev, facts.sid);
        w.add("task", value_of("task").text)
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
            .add("cfix", cfix);
        if (ev == marker::k_ev_close) {
            w.add("fin", facts.fin).add("rc", facts.rc);
        }
        const std::size_t overflow =
            w.size() > marker::k_max_payload_bytes ? w.size() - marker::k_max_payload_bytes : 0;
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
            IssuedMarker out = finish(w, facts.sid, core);
            out.user = value_of("user").text;
            return out;
        }
        m_tseq = tseq_before;
        const std::size_t keep = victim->text.size() > overflow + k_min_fitted_bytes
                                     ? victim->text.size() - overflow
                                     : k_min_fitted_bytes;
        victim->text = marker::sanitize_claim(victim->text, keep).value;
        victim->fixed = true;
    }
}

} // namespace execmark::signer
