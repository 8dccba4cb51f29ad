// SPDX-License-Identifier: MIT
#include <agent/audit/content.hpp>
#include <agent/audit/parallel.hpp>
#include <agent/audit/terminal.hpp>
#include <agent/audit/verifier.hpp>
#include <agent/util/error.hpp>

#include <algorithm>

namespace execmark::audit {

namespace {

// Candidate lines of a container log whose signatures are checked together (on several threads).
constexpr std::size_t k_verify_batch = 1024;
constexpr std::string_view k_marker_start = "EXECMARK1 {";
constexpr std::string_view k_kid_key = ",\"kid\":\"";
// The kid is within the first bytes of a payload: {"v":1,"ev":"exec.seen","ts":"...","kid":
constexpr std::size_t k_kid_search_bytes = 96;

// What a clean candidate line holds, from its last EXECMARK1 on.
std::string_view from_last_magic(std::string_view clean)
{
    const std::size_t at = clean.rfind(marker::k_magic);
    return at == std::string_view::npos ? std::string_view{} : clean.substr(at);
}

bool starts_with(std::string_view s, std::string_view prefix)
{
    return s.substr(0, prefix.size()) == prefix;
}

std::string str_field(const marker::Fields& f, const std::string& key)
{
    const auto it = f.str.find(key);
    return it == f.str.end() ? std::string{} : it->second;
}

void fill_facts(SessionFacts& facts, const marker::Fields& f)
{
    facts.claim = str_field(f, "user");
    facts.owner = str_field(f, "owner");
    facts.osrc = str_field(f, "osrc");
    facts.reason = str_field(f, "reason");
    facts.shell = str_field(f, "shell");
    facts.tty = str_field(f, "tty");
    facts.mode = str_field(f, "mode");
    facts.cfix = str_field(f, "cfix");
    facts.task = str_field(f, "task");
    facts.cluster = str_field(f, "cluster");
    facts.ctr = str_field(f, "ctr");
    facts.kid = f.kid;
    facts.wchk = str_field(f, "wchk");
    if (const auto it = f.num.find("wst"); it != f.num.end() && it->second > 0) {
        facts.wst = it->second;
    }
}

} // namespace

util::Status TrustStore::add_key_text(std::string_view text)
{
    const auto pub = marker::public_key_from_base64url(text);
    if (!pub) {
        return util::make_error("read key",
                                std::string(text.substr(0, 60)),
                                "not a 43-character base64url Ed25519 public key");
    }
    TrustedKey key;
    key.pub = *pub;
    key.kid = marker::key_id(*pub);
    key.origin = "--key";
    add(std::move(key));
    return {};
}

void TrustStore::add(TrustedKey key)
{
    // The first anchor of a key wins; a later boot marker for the same key adds nothing.
    m_keys.try_emplace(key.kid, std::move(key));
}

const TrustedKey* TrustStore::find(std::string_view kid) const
{
    const auto it = m_keys.find(kid);
    return it == m_keys.end() ? nullptr : &it->second;
}

TrustedKey* TrustStore::find_mutable(std::string_view kid)
{
    const auto it = m_keys.find(kid);
    return it == m_keys.end() ? nullptr : &it->second;
}

void TrustStore::mark_injected(std::string_view kid, std::string why)
{
    const auto it = m_keys.find(kid);
    if (it == m_keys.end()) {
        return;
    }
    TrustedKey key = std::move(it->second);
    m_keys.erase(it);
    key.trust = KeyTrust::injected;
    key.origin = std::move(why);
    m_injected.try_emplace(key.kid, std::move(key));
}

const TrustedKey* TrustStore::find_injected(std::string_view kid) const
{
    const auto it = m_injected.find(kid);
    return it == m_injected.end() ? nullptr : &it->second;
}

std::string_view key_trust_name(KeyTrust trust)
{
    switch (trust) {
    case KeyTrust::given:
        return "given";
    case KeyTrust::first_boot:
        return "first-boot";
    case KeyTrust::restart:
        return "restart";
    case KeyTrust::unproven:
        return "KEY-UNPROVEN";
    case KeyTrust::injected:
        return "KEY-INJECTED";
    }
    return "given";
}

std::string_view kid_hint(std::string_view payload)
{
    const std::string_view head = payload.substr(0, k_kid_search_bytes);
    const std::size_t at = head.find(k_kid_key);
    if (at == std::string_view::npos) {
        return {};
    }
    const std::string_view rest = payload.substr(at + k_kid_key.size());
    const std::size_t end = rest.find('"');
    return end == std::string_view::npos ? std::string_view{} : rest.substr(0, end);
}

void ChainCheck::add(ChainEntry entry)
{
    const auto it = m_by_seq.find(entry.seq);
    if (it != m_by_seq.end()) {
        if (it->second.hash == entry.hash) {
            m_order_problems.push_back({Finding::duplicate,
                                        entry.where,
                                        "marker seq " + std::to_string(entry.seq)
                                            + " repeated (first at " + it->second.where + ")"});
        } else {
            m_order_problems.push_back({Finding::altered,
                                        entry.where,
                                        "a second, different marker with seq "
                                            + std::to_string(entry.seq) + " (first at "
                                            + it->second.where + ")"});
        }
        return;
    }
    if (entry.seq < m_max_seq) {
        m_order_problems.push_back({Finding::reordered,
                                    entry.where,
                                    "marker seq " + std::to_string(entry.seq) + " comes after seq "
                                        + std::to_string(m_max_seq)});
    }
    m_max_seq = std::max(m_max_seq, entry.seq);
    const std::uint64_t seq = entry.seq;
    m_by_seq.emplace(seq, std::move(entry));
}

std::vector<Problem> ChainCheck::finish(bool require_close) const
{
    std::vector<Problem> out = m_order_problems;
    std::uint64_t expected = 1;
    const ChainEntry* previous = nullptr;
    std::size_t opens = 0;
    std::size_t closes = 0;
    for (const auto& [seq, entry] : m_by_seq) {
        if (seq > expected) {
            const std::string missing =
                seq - 1 == expected
                    ? "seq " + std::to_string(expected)
                    : "seq " + std::to_string(expected) + " to " + std::to_string(seq - 1);
            out.push_back({Finding::gap, entry.where, missing + " missing before this marker"});
        } else if (previous != nullptr && entry.prev != previous->hash) {
            out.push_back({Finding::altered,
                           entry.where,
                           "prev of seq " + std::to_string(seq) + " is not the chain hash of seq "
                               + std::to_string(seq - 1) + " (at " + previous->where + ")"});
        }
        if (entry.ev == marker::k_ev_open) {
            ++opens;
        } else if (entry.ev == marker::k_ev_close) {
            ++closes;
        }
        expected = seq + 1;
        previous = &entry;
    }
    if (require_close && !m_by_seq.empty()) {
        const ChainEntry& last = m_by_seq.rbegin()->second;
        if (last.ev != marker::k_ev_close || closes < opens) {
            out.push_back(
                {Finding::no_close,
                 last.where,
                 "no close marker after seq " + std::to_string(last.seq) + " (" + last.ev + ")"});
        }
    }
    return out;
}

SessionLogCheck::SessionLogCheck(LogIdentity id,
                                 const TrustStore& trust,
                                 SessionBootKeys& boot_keys,
                                 const ContentOptions& content)
    : m_trust(trust)
    , m_boot_keys(boot_keys)
{
    m_verdict.id = std::move(id);
    m_verdict.sid = m_verdict.id.own_sid;
    const std::string& sid = m_verdict.id.own_sid;
    if (content.recordings != nullptr && !sid.empty()) {
        const auto it = content.recordings->find(sid);
        const bool capture = content.timeline_sid == sid;
        if (it != content.recordings->end() || capture) {
            m_content = std::make_unique<ContentCheck>(
                sid,
                m_verdict.id.source,
                trust,
                it == content.recordings->end() ? nullptr : &it->second,
                capture);
            m_content_open = true;
            if (content.pool != nullptr && !content.pool->inline_only()) {
                m_pool = content.pool;
                m_strand = std::make_unique<WorkPool::Strand>();
            }
        }
    }
}

SessionLogCheck::~SessionLogCheck()
{
    if (m_strand) {
        m_pool->discard(*m_strand); // its tasks use m_content
    }
}

void SessionLogCheck::content_task(std::function<void()> task, std::size_t cost)
{
    if (m_strand) {
        m_pool->post(*m_strand, std::move(task), cost);
    } else {
        task();
    }
}

void SessionLogCheck::on_raw(std::string_view bytes)
{
    if (!m_content_open) {
        return;
    }
    if (!m_strand) {
        m_content->raw(bytes);
        return;
    }
    // The reader's buffer is reused for its next chunk: the task gets a copy.
    content_task([content = m_content.get(), chunk = std::string(bytes)] { content->raw(chunk); },
                 bytes.size());
}

void SessionLogCheck::on_event(std::string_view message)
{
    if (!m_content_open) {
        return;
    }
    if (!m_strand) {
        m_content->event(message);
        return;
    }
    // Events are small: they go to the strand in batches.
    m_events.emplace_back(message);
    m_events_bytes += message.size();
    if (m_events_bytes >= k_read_chunk_bytes) {
        post_events();
    }
}

void SessionLogCheck::post_events()
{
    if (m_events.empty()) {
        return;
    }
    content_task(
        [content = m_content.get(), events = std::move(m_events)] {
            for (const std::string& message : events) {
                content->event(message);
            }
        },
        m_events_bytes);
    m_events.clear();
    m_events_bytes = 0;
}

void SessionLogCheck::end_content()
{
    if (!m_content_open) {
        return;
    }
    post_events();
    m_content_open = false;
    m_content_ended = true;
    // The check's buffers are freed as soon as it is done.
    content_task(
        [this] {
            m_content_verdict = m_content->finish();
            m_content.reset();
        },
        0);
}

void SessionLogCheck::collect_content()
{
    if (!m_content_ended) {
        return;
    }
    if (m_strand) {
        m_pool->wait(*m_strand);
    }
    m_content_ended = false;
    m_verdict.content = std::move(m_content_verdict);
    for (const Problem& p : m_verdict.content.problems) {
        m_verdict.findings.add(p.finding);
        m_verdict.problems.push_back(p);
    }
}

std::string SessionLogCheck::where_text(const LineLocation& where) const
{
    if (where.event != 0) {
        return m_verdict.id.source + " event " + std::to_string(where.event);
    }
    return m_verdict.id.source + ":" + std::to_string(where.line);
}

void SessionLogCheck::problem(Finding f, const LineLocation& where, std::string detail)
{
    m_verdict.findings.add(f);
    if (m_verdict.problems.size() < k_max_problems_per_log) {
        m_verdict.problems.push_back({f, where_text(where), std::move(detail)});
    } else {
        ++m_verdict.more_problems;
    }
}

void SessionLogCheck::on_candidate(const CandidateLine& line)
{
    const std::string clean = strip_terminal_controls(line.text);
    const marker::Extracted ex = marker::extract(clean);
    if (ex.status == marker::ExtractStatus::none) {
        if (line.lost_marker) {
            problem(Finding::mangled,
                    line.where,
                    "a marker in a line longer than " + std::to_string(k_window_bytes)
                        + " bytes is not at its end");
        }
        return;
    }
    if (ex.status == marker::ExtractStatus::mangled) {
        if (starts_with(from_last_magic(clean), k_marker_start)) {
            problem(Finding::mangled, line.where, "marker does not parse: " + ex.problem);
        } else {
            // The word without a payload: a user typing or grepping for it, not a marker.
            ++m_verdict.mentions;
        }
        return;
    }
    ++m_verdict.markers;
    if (!ex.is_signed) {
        std::string err;
        const auto fields = marker::parse_fields(ex.payload, &err);
        problem(Finding::unsigned_marker,
                line.where,
                "unsigned=" + std::string(ex.unsigned_reason)
                    + (fields ? " (" + fields->ev + ", claims only)" : ""));
        if (fields && !m_verdict.facts.has_open && fields->ev == marker::k_ev_open
            && m_verdict.facts.claim.empty()) {
            // Shown as an unsigned claim; never used to attribute.
            m_verdict.facts.claim = str_field(*fields, "user");
        }
        return;
    }
    const std::string_view kid = kid_hint(ex.payload);
    const TrustedKey* key = m_trust.find(kid);
    if (key == nullptr) {
        std::string err;
        const auto fields = marker::parse_fields(ex.payload, &err);
        if (fields && fields->ev == marker::k_ev_boot) {
            m_boot_keys.emplace(kid);
        }
        m_untrusted_kids.emplace(kid);
        const TrustedKey* injected = m_trust.find_injected(kid);
        problem(Finding::forged,
                line.where,
                "signed with key " + (kid.empty() ? std::string("(none)") : std::string(kid))
                    + (injected != nullptr
                           ? ", whose boot marker was injected into a container log ("
                                 + injected->origin + ")"
                           : ", which no container log or --key vouches for"));
        return;
    }
    ++m_signatures;
    if (!marker::verify(ex.payload, ex.signature, key->pub)) {
        problem(Finding::forged,
                line.where,
                "signature does not verify under trusted key " + key->kid
                    + " (the marker was altered or forged)");
        return;
    }
    std::string err;
    const auto fields = marker::parse_fields(ex.payload, &err);
    if (!fields) {
        problem(Finding::mangled, line.where, "signed payload does not parse: " + err);
        return;
    }
    if (fields->kid != key->kid) {
        problem(Finding::mangled, line.where, "kid field differs from the key that verified it");
        return;
    }
    if (!marker::check_event_fields(*fields, &err)) {
        problem(Finding::mangled, line.where, err);
        return;
    }
    ++m_verdict.verified;
    if (key->trust == KeyTrust::unproven && !m_verdict.findings.has(Finding::key_unproven)) {
        problem(
            Finding::key_unproven, line.where, "signed by key " + key->kid + ": " + key->origin);
    }
    if (const std::string wchk = str_field(*fields, "wchk");
        !wchk.empty() && wchk != "ok" && wchk != "none") {
        // PID 1 signed this for a process under an imitation of the session worker: whoever
        // ran it worked in this session's terminal (the attacker's own log, not the victim's).
        problem(Finding::fake_worker,
                line.where,
                "marker " + fields->ev + " of " + fields->sid
                    + " was asked for under a process imitating the session worker of "
                    + str_field(*fields, "wsid") + " (failed check: " + wchk + ")");
        return;
    }
    if (m_verdict.sid.empty()) {
        // Unknown own session id: bind to the first verified marker, and say so (UNBOUND).
        m_verdict.sid = fields->sid;
    }
    if (fields->sid != m_verdict.sid) {
        problem(Finding::replayed,
                line.where,
                "marker " + fields->ev + " seq " + std::to_string(fields->seq) + " of "
                    + fields->sid + " in the log of " + m_verdict.sid
                    + (m_verdict.id.sid_origin.empty()
                           ? ""
                           : " (from the " + m_verdict.id.sid_origin + ")"));
        return;
    }
    ++m_verdict.own;
    m_chain.add({fields->seq,
                 marker::chain_hash(ex.payload),
                 fields->prev,
                 fields->ev,
                 where_text(line.where)});
    SessionFacts& facts = m_verdict.facts;
    if (fields->ev == marker::k_ev_open && !facts.has_open) {
        fill_facts(facts, *fields);
        facts.has_open = true;
        facts.open_ts = fields->ts;
    } else if (fields->ev == marker::k_ev_close) {
        if (!facts.has_open) {
            fill_facts(facts, *fields);
        }
        facts.has_close = true;
        facts.close_ts = fields->ts;
        facts.fin = str_field(*fields, "fin");
        if (const auto it = fields->num.find("rc"); it != fields->num.end()) {
            facts.rc = it->second;
        }
    }
}

void SessionLogCheck::end_input(const LogEnd& end)
{
    if (m_verdict.id.key.starts_with("file:")) {
        // A file is a whole log (only CloudWatch streams and export directories go on in
        // another input): its content check ends here, and its buffers are freed at once, so
        // that memory does not grow with the number of session logs read. With a pool it
        // finishes on a worker; finish() collects the verdict.
        end_content();
    }
    ++m_inputs;
    m_verdict.end.units += end.units;
    m_verdict.end.transcript = m_verdict.end.transcript || end.transcript;
    // The footer of the last input of the log is what counts.
    m_verdict.end.footer = end.footer;
}

LogVerdict SessionLogCheck::finish(const SessionBootKeys& boot_keys)
{
    // A content check ended with its file: its findings come first, as they were added when
    // the file ended (the FORGED notes below never touch them).
    collect_content();
    for (Problem& p : m_verdict.problems) {
        if (p.finding != Finding::forged) {
            continue;
        }
        for (const auto& kid : m_untrusted_kids) {
            if (!kid.empty() && boot_keys.contains(kid)
                && p.detail.find("key " + kid + ",") != std::string::npos) {
                p.detail += "; its boot marker appears only inside a session log";
            }
        }
    }
    for (Problem& p : m_chain.finish(true)) {
        m_verdict.findings.add(p.finding);
        if (p.finding == Finding::no_close && m_verdict.end.transcript && !m_verdict.end.footer) {
            p.detail += "; the transcript has no \"Script done\" footer: the file is cut";
        }
        if (m_verdict.problems.size() < k_max_problems_per_log) {
            m_verdict.problems.push_back(std::move(p));
        } else {
            ++m_verdict.more_problems;
        }
    }
    end_content();
    collect_content();
    if (m_verdict.id.own_sid.empty()) {
        m_verdict.findings.add(Finding::unbound);
        m_verdict.problems.push_back(
            {Finding::unbound,
             m_verdict.id.source,
             "the log's own session id is unknown (no file or stream name): give --session"});
    }
    return std::move(m_verdict);
}

ContainerLogCheck::ContainerLogCheck(TrustStore& trust, unsigned threads)
    : m_trust(trust)
    , m_threads(threads == 0 ? audit_threads() : threads)
{}

void ContainerLogCheck::begin_log(const LogIdentity& id)
{
    flush(); // the batch belongs to the previous log
    m_log = id;
}

void ContainerLogCheck::problem(Finding f, std::string where, std::string detail)
{
    if (m_problems.size() < k_max_problems_per_log * 10) {
        m_problems.push_back({f, std::move(where), std::move(detail)});
    }
}

BootReport& ContainerLogCheck::boot_for(std::string_view kid)
{
    const auto it = std::find_if(
        m_boots.begin(), m_boots.end(), [&](const BootReport& b) { return b.kid == kid; });
    if (it != m_boots.end()) {
        return *it;
    }
    BootReport report;
    report.kid = std::string(kid);
    report.source = m_log.source;
    m_boots.push_back(std::move(report));
    return m_boots.back();
}

void ContainerLogCheck::on_candidate(const CandidateLine& line)
{
    if (m_batch.capacity() < k_verify_batch) {
        m_batch.reserve(k_verify_batch); // never reallocated: prepared views stay valid
    }
    Candidate& c = m_batch.emplace_back();
    c.text.assign(line.text);
    c.where = line.where.event != 0 ? m_log.source + " event " + std::to_string(line.where.event)
                                    : m_log.source + ":" + std::to_string(line.where.line);
    if (m_batch.size() == k_verify_batch) {
        flush();
    }
}

void ContainerLogCheck::prepare(Candidate& c) const
{
    c.clean = strip_terminal_controls(c.text);
    c.ex = marker::extract(c.clean);
    if (c.ex.status != marker::ExtractStatus::ok || !c.ex.is_signed) {
        return;
    }
    // The trust store is only read while a batch is prepared (process() runs afterwards).
    if (const TrustedKey* key = m_trust.find(kid_hint(c.ex.payload)); key != nullptr) {
        c.checked_pub = key->pub;
        c.valid = marker::verify(c.ex.payload, c.ex.signature, key->pub);
        c.checked = true;
    }
}

bool ContainerLogCheck::signature_ok(const Candidate& c, const marker::PublicKey& pub)
{
    if (c.checked && c.checked_pub == pub) {
        return c.valid;
    }
    return marker::verify(c.ex.payload, c.ex.signature, pub);
}

void ContainerLogCheck::flush()
{
    if (m_batch.empty()) {
        return;
    }
    parallel_for(m_batch.size(), m_threads, [this](std::size_t i) { prepare(m_batch[i]); });
    for (Candidate& c : m_batch) {
        process(c);
    }
    m_batch.clear();
}

void ContainerLogCheck::process(Candidate& c)
{
    const std::string& where = c.where;
    const std::string& clean = c.clean;
    const marker::Extracted& ex = c.ex;
    if (ex.status == marker::ExtractStatus::none) {
        return;
    }
    if (ex.status == marker::ExtractStatus::mangled) {
        if (starts_with(from_last_magic(clean), k_marker_start)) {
            problem(Finding::mangled, where, "marker does not parse: " + ex.problem);
        }
        return;
    }
    if (!ex.is_signed) {
        problem(Finding::unsigned_marker, where, "unsigned=" + std::string(ex.unsigned_reason));
        return;
    }
    const std::string_view kid = kid_hint(ex.payload);
    if (const TrustedKey* key = m_trust.find(kid); key != nullptr) {
        ++m_signatures;
        if (!signature_ok(c, key->pub)) {
            problem(Finding::forged, where, "signature does not verify under key " + key->kid);
            return;
        }
        std::string err;
        const auto fields = marker::parse_fields(ex.payload, &err);
        if (!fields) {
            problem(Finding::mangled, where, "signed payload does not parse: " + err);
            return;
        }
        // A second boot marker of a known key is part of its chain (a DUPLICATE if a copy).
        verified(*fields, ex.payload, where);
        return;
    }
    // Unknown key: a boot marker anchors its own key; anything else waits for one.
    std::string err;
    const auto fields = marker::parse_fields(ex.payload, &err);
    if (fields && fields->ev == marker::k_ev_boot) {
        const auto pub = marker::public_key_from_base64url(str_field(*fields, "pub"));
        ++m_signatures;
        if (!pub || marker::key_id(*pub) != fields->kid
            || fields->sid != std::string(marker::k_boot_sid_prefix) + fields->kid
            || !signature_ok(c, *pub)) {
            problem(Finding::forged, where, "boot marker is not signed by the key it carries");
            return;
        }
        new_boot_key(*fields, *pub, where);
        verified(*fields, ex.payload, where);
        return;
    }
    if (m_deferred.size() < k_max_deferred_markers) {
        m_deferred.push_back({std::string(ex.payload), ex.signature, where});
    } else {
        problem(Finding::forged, where, "too many markers before their boot marker");
    }
}

void ContainerLogCheck::new_boot_key(const marker::Fields& fields,
                                     const marker::PublicKey& pub,
                                     const std::string& where)
{
    // Only the first boot key of a stream is trusted, or one that follows a verified shutdown
    // of the stream's current key (a restart): anybody can append a boot marker of their own
    // key to the container log through a process's stdout.
    Stream& stream = m_streams[m_log.source];
    TrustedKey key;
    key.kid = fields.kid;
    key.pub = pub;
    key.boot_ts = fields.ts;
    if (stream.current.empty()) {
        key.trust = KeyTrust::first_boot;
        key.origin = "first boot marker of " + where;
        stream.current = key.kid;
        stream.shut_down = false;
    } else if (stream.shut_down) {
        key.trust = KeyTrust::restart;
        key.origin = "boot marker " + where + " after the verified shutdown of " + stream.current;
        stream.current = key.kid;
        stream.shut_down = false;
    } else {
        // A crash restart (no shutdown) or an injection: told apart below if the previous key
        // signs again after this line (then it was alive: injected), else never clean.
        key.trust = KeyTrust::unproven;
        key.origin = "boot marker " + where + " while " + stream.current
                     + " had written no shutdown: a restart after a crash cannot be told from"
                       " an injected key";
        stream.successors.push_back(key.kid);
    }
    BootReport& boot = boot_for(key.kid);
    boot.trust = key.trust;
    m_trust.add(std::move(key));
}

void ContainerLogCheck::add_rec(const marker::Fields& fields, const std::string& where)
{
    const std::string ssid = str_field(fields, "ssid");
    if (ssid.empty()) {
        return;
    }
    RecSession& session = m_recs[ssid];
    if (session.points.size() >= k_max_rec_points_per_session) {
        ++session.dropped;
        return;
    }
    const auto num = [&](const char* key) -> std::int64_t {
        const auto it = fields.num.find(key);
        return it == fields.num.end() ? 0 : it->second;
    };
    RecPoint p;
    p.kind = str_field(fields, "kind");
    p.idx = static_cast<std::uint64_t>(std::max<std::int64_t>(0, num("idx")));
    p.off = static_cast<std::uint64_t>(std::max<std::int64_t>(0, num("off")));
    p.hash = str_field(fields, "hash");
    p.ts = fields.ts;
    p.where = where;
    p.kid = fields.kid;
    p.fin = str_field(fields, "fin");
    if (p.kind == "end") {
        p.rc = num("rc");
    }
    p.rpid = num("rpid");
    p.opid = num("opid");
    p.ocomm = str_field(fields, "ocomm");
    p.side = str_field(fields, "side");
    session.points.push_back(std::move(p));
}

const RecPoint* RecSession::first(const std::string& kind) const
{
    for (const RecPoint& p : points) {
        if (p.kind == kind) {
            return &p;
        }
    }
    return nullptr;
}

std::vector<RecPoint> RecSession::checkpoints() const
{
    std::map<std::uint64_t, const RecPoint*> by_idx;
    for (const RecPoint& p : points) {
        if (p.kind != "start" && p.kind != "interference" && p.idx > 0) {
            by_idx.emplace(p.idx, &p);
        }
    }
    std::vector<RecPoint> out;
    out.reserve(by_idx.size());
    for (const auto& [idx, p] : by_idx) {
        out.push_back(*p);
    }
    return out;
}

void ContainerLogCheck::verified(const marker::Fields& fields,
                                 std::string_view payload,
                                 const std::string& where)
{
    if (const auto st = m_streams.find(m_log.source); st != m_streams.end()
                                                      && st->second.current == fields.kid
                                                      && fields.ev != marker::k_ev_boot) {
        // The stream's key signs after later boot markers: they were not a restart.
        for (const std::string& successor : st->second.successors) {
            if (const TrustedKey* k = m_trust.find(successor); k != nullptr) {
                const std::string why = k->origin.substr(0, k->origin.find(" while ")) + ", and "
                                        + fields.kid + " still signed at " + where;
                problem(Finding::key_injected, where, "key " + successor + ": " + why);
                boot_for(successor).trust = KeyTrust::injected;
                m_trust.mark_injected(successor, why);
            }
        }
        st->second.successors.clear();
        if (fields.ev == marker::k_ev_shutdown) {
            st->second.shut_down = true;
        }
    }
    BootReport& boot = boot_for(fields.kid);
    ++boot.markers;
    if (fields.sid != std::string(marker::k_boot_sid_prefix) + fields.kid) {
        // open/close in a container log: a session printed to PID 1's stdout; not evidence.
        boot.problems.push_back(
            {Finding::replayed,
             where,
             fields.ev + " marker of chain " + fields.sid + " in a container log"});
        return;
    }
    m_chains[fields.sid].add(
        {fields.seq, marker::chain_hash(payload), fields.prev, fields.ev, where});
    TrustedKey* key = m_trust.find_mutable(fields.kid);
    if (fields.ev == marker::k_ev_boot) {
        boot.boot_ts = fields.ts;
    } else if (fields.ev == marker::k_ev_meta) {
        boot.task = str_field(fields, "task");
        boot.ctr = str_field(fields, "ctr");
        if (key != nullptr) {
            key->task = boot.task;
            key->cluster = str_field(fields, "cluster");
            key->ctr = boot.ctr;
        }
    } else if (fields.ev == marker::k_ev_shutdown) {
        boot.shutdown_ts = fields.ts;
    } else if (fields.ev == marker::k_ev_rec) {
        add_rec(fields, where);
    } else if (fields.ev == marker::k_ev_exec_seen || fields.ev == marker::k_ev_exec_gone) {
        const std::string wsid = str_field(fields, "wsid");
        if (wsid.empty()) {
            return;
        }
        const std::string wchk = str_field(fields, "wchk");
        if (!wchk.empty() && wchk != "ok") {
            // Not the SSM agent's worker: no evidence of a session, a finding of the container.
            if (fields.ev == marker::k_ev_exec_seen) {
                boot.problems.push_back({Finding::fake_worker,
                                         where,
                                         "a process imitating a session worker claimed " + wsid
                                             + " (failed check: " + wchk + ")"});
            }
            return;
        }
        ExecEvidence& ev = m_evidence[wsid];
        ev.wsid = wsid;
        ev.kid = fields.kid;
        ev.wchk = wchk;
        if (fields.ev == marker::k_ev_exec_seen) {
            ev.seen_ts = fields.ts;
            ev.where = where;
            if (const auto it = fields.num.find("wst"); it != fields.num.end() && it->second > 0) {
                ev.wst = it->second;
            }
        } else {
            ev.gone_ts = fields.ts;
            if (const auto it = fields.num.find("clast");
                it != fields.num.end() && it->second > 0) {
                ev.clast = it->second;
            }
            if (ev.where.empty()) {
                ev.where = where;
            }
        }
    }
}

void ContainerLogCheck::finish()
{
    flush();
    for (auto& [source, stream] : m_streams) {
        for (const std::string& successor : stream.successors) {
            if (const TrustedKey* k = m_trust.find(successor); k != nullptr) {
                problem(Finding::key_unproven, source, "key " + successor + ": " + k->origin);
            }
        }
    }
    std::vector<Deferred> deferred = std::move(m_deferred);
    m_deferred.clear();
    parallel_for(deferred.size(), m_threads, [&](std::size_t i) {
        Deferred& d = deferred[i];
        if (const TrustedKey* key = m_trust.find(kid_hint(d.payload)); key != nullptr) {
            d.checked_pub = key->pub;
            d.valid = marker::verify(d.payload, d.sig, key->pub);
            d.checked = true;
        }
    });
    for (const Deferred& d : deferred) {
        const TrustedKey* key = m_trust.find(kid_hint(d.payload));
        if (key == nullptr) {
            problem(Finding::forged,
                    d.where,
                    "signed with key " + std::string(kid_hint(d.payload))
                        + ", which has no boot marker in the container logs given (read"
                          " the stream from its start, or pass --key)");
            continue;
        }
        ++m_signatures;
        const bool valid = d.checked && d.checked_pub == key->pub
                               ? d.valid
                               : marker::verify(d.payload, d.sig, key->pub);
        if (!valid) {
            problem(Finding::forged, d.where, "signature does not verify under key " + key->kid);
            continue;
        }
        std::string err;
        const auto fields = marker::parse_fields(d.payload, &err);
        if (!fields) {
            problem(Finding::mangled, d.where, "signed payload does not parse: " + err);
            continue;
        }
        verified(*fields, d.payload, d.where);
    }
    for (const auto& [sid, chain] : m_chains) {
        const std::string kid = sid.substr(marker::k_boot_sid_prefix.size());
        BootReport& boot = boot_for(kid);
        // A boot chain without shutdown is a task still running (or killed): not a finding.
        // Order is not one either: container-log files may be given in any order, and markers
        // read before their boot marker are verified last.
        for (Problem& p : chain.finish(false)) {
            if (p.finding != Finding::reordered) {
                boot.problems.push_back(std::move(p));
            }
        }
    }
}

} // namespace execmark::audit
