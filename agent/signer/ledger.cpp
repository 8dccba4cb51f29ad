// SPDX-License-Identifier: MIT
#include <agent/signer/ledger.hpp>

#include <utility>

namespace execmark::signer {

namespace {

// Values PID 1 takes from outside (metadata, the SSM state file) are capped too, so that one
// absurd value cannot push a marker past k_max_line_bytes; the fitting loop below does the rest.
constexpr std::size_t k_max_fact_bytes = 256;

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

IssuedMarker Ledger::record(const RecordFacts& rec)
{
    marker::PayloadWriter w;
    const Core core = begin(w, marker::k_ev_rec, m_boot_sid);
    w.add("ssid", cap(rec.ssid, 128))
        .add("kind", cap(rec.kind, 16))
        .add("idx", rec.idx)
        .add("off", rec.off)
        .add("hash", cap(rec.hash, 64))
        .add("rpid", rec.rpid)
        .add("fin", cap(rec.fin, 16))
        .add("rc", rec.rc)
        .add("opid", rec.opid)
        .add("ocomm", cap(rec.ocomm, 32))
        .add("side", cap(rec.side, 8));
    return finish(w, m_boot_sid, core);
}

IssuedMarker Ledger::exec_seen(const WorkerFacts& worker)
{
    marker::PayloadWriter w;
    const Core core = begin(w, marker::k_ev_exec_seen, m_boot_sid);
    w.add("wsid", cap(worker.wsid, 128))
        .add("wpid", worker.wpid)
        .add("wchk", cap(worker.wchk, 16))
        .add("wst", worker.wst);
    return finish(w, m_boot_sid, core);
}

IssuedMarker Ledger::exec_gone(const WorkerFacts& worker)
{
    marker::PayloadWriter w;
    const Core core = begin(w, marker::k_ev_exec_gone, m_boot_sid);
    w.add("wsid", cap(worker.wsid, 128))
        .add("wpid", worker.wpid)
        .add("dur", worker.dur)
        .add("wchk", cap(worker.wchk, 16))
        .add("wst", worker.wst)
        .add("clast", worker.clast);
    return finish(w, m_boot_sid, core);
}

bool Ledger::closed(const std::string& sid) const
{
    const auto it = m_chains.find(sid);
    return it != m_chains.end() && it->second.closed;
}

IssuedMarker Ledger::session(std::string_view ev,
                             const std::string& sid,
                             const marker::SessionFacts& facts,
                             const marker::Claims& claims)
{
    Chain& chain = chain_for(sid);
    marker::SessionCore core;
    core.ev = ev;
    core.ts = marker::format_timestamp(m_clock());
    core.kid = m_key.key_id();
    core.tseq = ++m_tseq;
    core.sid = sid;
    core.seq = chain.seq + 1;
    core.prev = chain.prev;
    auto built = marker::build_session_payload(core, facts, claims);
    chain.seq = core.seq;
    chain.prev = marker::chain_hash(built.payload);
    chain.closed = chain.closed || ev == marker::k_ev_close;
    IssuedMarker out;
    out.line = marker::format_signed(built.payload, m_key.sign(built.payload));
    out.ts = core.ts;
    out.sid = sid;
    out.user = std::move(built.user);
    out.tseq = core.tseq;
    out.seq = core.seq;
    return out;
}

} // namespace execmark::signer
