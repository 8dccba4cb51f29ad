// SPDX-License-Identifier: MIT
#pragma once

// Marker verification: trusted keys, the per-session chain, and the checks of session and
// container logs. Signatures are checked before a payload is parsed; only markers that verify
// under a trusted key count for anything but a finding.

#include <agent/audit/lines.hpp>
#include <agent/audit/log_reader.hpp>
#include <agent/audit/parallel.hpp>
#include <agent/audit/recording.hpp>
#include <agent/audit/status.hpp>
#include <agent/marker/marker.hpp>
#include <agent/util/result.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace execmark::audit {

// Details kept per log; more are counted, not stored (memory stays bounded).
inline constexpr std::size_t k_max_problems_per_log = 20;
// Container-log markers whose boot marker has not been read yet, kept until the end.
inline constexpr std::size_t k_max_deferred_markers = 100000;

// Why a key may sign (docs/auditing.md, "Key trust").
enum class KeyTrust {
    given,      // --key
    first_boot, // the first boot marker of its container-log stream
    restart,    // a later boot marker right after a verified shutdown of the previous key
    unproven,   // a later boot marker with no shutdown before it: a crash restart or an
                // injection the log cannot tell apart; never clean (KEY-UNPROVEN)
    injected,   // a later boot marker after which the previous key still signed: not trusted
};

struct TrustedKey {
    std::string kid;
    marker::PublicKey pub{};
    KeyTrust trust = KeyTrust::given;
    std::string origin;  // why it is trusted (or not): "--key", "first boot of <stream>, line N"
    std::string boot_ts; // from the boot marker
    std::string task, cluster, ctr;
};

// Keys that may sign markers: boot keys read from container logs, and --key.
class TrustStore {
public:
    // A base64url public key from the command line (43 characters).
    util::Status add_key_text(std::string_view text);

    void add(TrustedKey key);

    [[nodiscard]] const TrustedKey* find(std::string_view kid) const;

    TrustedKey* find_mutable(std::string_view kid);

    // Drops a key found injected; it is kept for the reasons shown (find_injected).
    void mark_injected(std::string_view kid, std::string why);

    [[nodiscard]] const TrustedKey* find_injected(std::string_view kid) const;

    [[nodiscard]] const std::map<std::string, TrustedKey, std::less<>>& injected() const
    {
        return m_injected;
    }

    [[nodiscard]] const std::map<std::string, TrustedKey, std::less<>>& keys() const
    {
        return m_keys;
    }

private:
    std::map<std::string, TrustedKey, std::less<>> m_keys;
    std::map<std::string, TrustedKey, std::less<>> m_injected;
};

// The kid of a payload without parsing it (the core key order is fixed: v, ev, ts, kid), so
// that the signature is checked before the payload is parsed. Empty when absent.
std::string_view kid_hint(std::string_view payload);

// One verified marker of a chain.
struct ChainEntry {
    std::uint64_t seq = 0;
    std::string hash; // chain_hash(payload)
    std::string prev;
    std::string ev;
    std::string where;
};

// Chain analysis of one sid's verified markers in the order they appear in the log
// (docs/auditing.md, "Chain"):
// - the same seq again with identical bytes: DUPLICATE; with different bytes: ALTERED;
// - a seq lower than one already seen: REORDERED;
// - seq numbers missing between 1 and the highest: GAP;
// - a marker's prev not the chain hash of the marker with seq - 1: ALTERED;
// - with require_close: the highest seq is not a close, or fewer closes than opens: NO-CLOSE.
// Memory: one entry per distinct seq.
class ChainCheck {
public:
    void add(ChainEntry entry);

    // Findings and details; the check can go on afterwards.
    [[nodiscard]] std::vector<Problem> finish(bool require_close) const;

    [[nodiscard]] bool empty() const { return m_by_seq.empty(); }

    [[nodiscard]] std::size_t size() const { return m_by_seq.size(); }

private:
    std::map<std::uint64_t, ChainEntry> m_by_seq;
    std::uint64_t m_max_seq = 0;
    std::vector<Problem> m_order_problems; // DUPLICATE, ALTERED, REORDERED as they happened
};

// What the markers of a session say about it (from verified markers only).
struct SessionFacts {
    std::string claim, owner, osrc, reason, shell, tty, mode, cfix;
    std::string wchk;                // the open's worker check ("ok" under the SSM agent)
    std::optional<std::int64_t> wst; // the session worker's start (open), Unix ms
    std::string task, cluster, ctr, kid;
    std::string open_ts, close_ts, fin;
    std::optional<std::int64_t> rc;
    bool has_open = false;
    bool has_close = false;
};

// The verdict on one session log.
struct LogVerdict {
    LogIdentity id;
    LogEnd end;
    std::string sid; // own_sid, or when unknown the sid its first verified marker claims
    FindingSet findings;
    std::vector<Problem> problems;
    std::size_t more_problems = 0; // beyond k_max_problems_per_log
    std::uint64_t markers = 0;     // well-formed markers (signed or unsigned)
    std::uint64_t verified = 0;    // signatures that verified under a trusted key
    std::uint64_t own = 0;         // verified markers of this log's own session (chain length)
    std::uint64_t mentions = 0;    // "EXECMARK1" not followed by " {": ignored text
    SessionFacts facts;
    ContentVerdict content; // audit: the content check (docs/markers.md §12)
};

// Keys seen in boot markers inside session logs: never trusted, named in FORGED details.
using SessionBootKeys = std::set<std::string, std::less<>>;

class ContentCheck;
class WorkPool;

// What the content check needs (audit only): the container logs' rec markers, and whether to
// keep the region's text for a timeline of one session.
struct ContentOptions {
    const RecIndex* recordings = nullptr; // null: no content check (verify)
    std::string timeline_sid;             // keep the text of this session's region
    WorkPool* pool = nullptr;             // run the content checks there (else: at once)
};

// Checks one session log, line by line (LineSink), then finish().
class SessionLogCheck final : public LineSink {
public:
    SessionLogCheck(LogIdentity id,
                    const TrustStore& trust,
                    SessionBootKeys& boot_keys,
                    const ContentOptions& content = {});
    SessionLogCheck(const SessionLogCheck&) = delete;
    SessionLogCheck& operator=(const SessionLogCheck&) = delete;
    SessionLogCheck(SessionLogCheck&&) = delete;
    SessionLogCheck& operator=(SessionLogCheck&&) = delete;
    ~SessionLogCheck() override;

    void on_candidate(const CandidateLine& line) override;
    void on_raw(std::string_view bytes) override;
    void on_event(std::string_view message) override;

    // The input of this log ended (it may continue in a later input with the same key).
    void end_input(const LogEnd& end);

    // Final verdict; the check is done.
    LogVerdict finish(const SessionBootKeys& boot_keys);

    // Signatures checked so far (for throughput reports).
    [[nodiscard]] std::uint64_t signatures_checked() const { return m_signatures; }

private:
    void problem(Finding f, const LineLocation& where, std::string detail);
    std::string where_text(const LineLocation& where) const;
    // The content check runs in its own strand of the pool when there is one (every access to
    // m_content goes through it); its verdict is merged when collected, in the same place of
    // the verdict as without a pool.
    void content_task(std::function<void()> task, std::size_t cost);
    void post_events();
    void end_content();
    void collect_content();

    LogVerdict m_verdict;
    const TrustStore& m_trust;
    SessionBootKeys& m_boot_keys;
    ChainCheck m_chain;
    std::set<std::string, std::less<>> m_untrusted_kids;
    std::uint64_t m_signatures = 0;
    std::uint64_t m_inputs = 0;
    std::unique_ptr<ContentCheck> m_content;
    WorkPool* m_pool = nullptr;
    std::unique_ptr<WorkPool::Strand> m_strand;
    bool m_content_open = false;       // a content check takes bytes
    bool m_content_ended = false;      // ended: its verdict is to be collected
    ContentVerdict m_content_verdict;  // set by the strand's last task
    std::vector<std::string> m_events; // CloudWatch messages not yet posted
    std::size_t m_events_bytes = 0;
};

// What a container log says about one SSM session (exec.seen / exec.gone markers).
struct ExecEvidence {
    std::string wsid;
    std::string seen_ts, gone_ts;
    std::string kid;
    std::string where;
    std::string wchk;                  // the worker check of exec.seen ("ok": the agent's)
    std::optional<std::int64_t> clast; // exec.gone: last time the session's command lived
    std::optional<std::int64_t> wst;   // the session worker's start (exec.seen), Unix ms
};

// One boot chain of a container log and its findings.
struct BootReport {
    std::string kid;
    std::string source;
    KeyTrust trust = KeyTrust::first_boot;
    std::string boot_ts, shutdown_ts;
    std::string task, ctr;
    std::uint64_t markers = 0;
    std::vector<Problem> problems;
};

// Reads container logs: trusts each boot key whose boot marker is self-consistent (signature
// by the key it carries, kid = key_id(pub), sid = "boot-" + kid), verifies the other markers
// against those keys, and collects exec.seen / exec.gone. All container logs are read before
// any session log.
class ContainerLogCheck final : public LineSink {
public:
    // threads: for the signature checks (audit_threads() when 0).
    explicit ContainerLogCheck(TrustStore& trust, unsigned threads = 0);

    // Starts a container log (one per CloudWatch stream / file).
    void begin_log(const LogIdentity& id);

    // Candidate lines are taken in batches: their markers are extracted and their signatures
    // checked on several threads, then each line is judged in order on this one (process).
    void on_candidate(const CandidateLine& line) override;

    // After the last container log: verifies deferred markers, runs the boot chains.
    void finish();

    [[nodiscard]] const std::map<std::string, ExecEvidence, std::less<>>& evidence() const
    {
        return m_evidence;
    }

    [[nodiscard]] const std::vector<BootReport>& boots() const { return m_boots; }

    // The verified rec markers (docs/markers.md §12), by their ssid.
    [[nodiscard]] const RecIndex& recordings() const { return m_recs; }

    // Findings not tied to a boot chain (mangled or untrusted lines), with where.
    [[nodiscard]] const std::vector<Problem>& problems() const { return m_problems; }

    [[nodiscard]] std::uint64_t signatures_checked() const { return m_signatures; }

private:
    struct Deferred {
        std::string payload;
        marker::Signature sig{};
        std::string where;
        // As in Candidate: a check done ahead, on several threads, under the key then trusted.
        marker::PublicKey checked_pub{};
        bool checked = false;
        bool valid = false;
    };

    // A candidate line waiting in the batch. prepare() (any thread) fills clean, ex (views into
    // clean: the object is not moved afterwards) and, when the marker's kid named a trusted key
    // at the time, the result of its signature check under that key.
    struct Candidate {
        std::string text;
        std::string where;
        std::string clean;
        marker::Extracted ex;
        marker::PublicKey checked_pub{};
        bool checked = false;
        bool valid = false;
    };

    void prepare(Candidate& c) const;
    void flush();
    void process(Candidate& c);
    // The signature check of c's marker under pub: the one prepare() did if it was under the
    // same key, else done now. Either way the signature has been checked exactly once.
    static bool signature_ok(const Candidate& c, const marker::PublicKey& pub);

    // The key trust of one container-log stream: its current key and whether that key's
    // shutdown was verified; later boot markers not preceded by one wait in `successor`.
    struct Stream {
        std::string current;
        bool shut_down = false;
        std::vector<std::string> successors; // unproven later keys of this stream
    };

    void verified(const marker::Fields& fields, std::string_view payload, const std::string& where);
    void add_rec(const marker::Fields& fields, const std::string& where);
    void new_boot_key(const marker::Fields& fields,
                      const marker::PublicKey& pub,
                      const std::string& where);
    void problem(Finding f, std::string where, std::string detail);
    BootReport& boot_for(std::string_view kid);

    TrustStore& m_trust;
    LogIdentity m_log;
    std::map<std::string, ExecEvidence, std::less<>> m_evidence;
    std::map<std::string, ChainCheck, std::less<>> m_chains; // by boot sid
    std::vector<BootReport> m_boots;
    std::vector<Deferred> m_deferred;
    std::vector<Problem> m_problems;
    std::map<std::string, Stream, std::less<>> m_streams; // by container-log source
    RecIndex m_recs;
    std::uint64_t m_signatures = 0;
    unsigned m_threads = 1;
    std::vector<Candidate> m_batch;
};

// The name of a key trust for reports ("given", "first-boot", "restart", "KEY-UNPROVEN",
// "KEY-INJECTED").
std::string_view key_trust_name(KeyTrust trust);

} // namespace execmark::audit
