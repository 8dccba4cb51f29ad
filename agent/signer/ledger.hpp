// SPDX-License-Identifier: MIT
#pragma once

#include <agent/marker/session.hpp>
#include <agent/signer/key.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace execmark::signer {

// What PID 1 knows about its task (empty strings when unknown).
struct TaskFacts {
    std::string task;    // task ARN
    std::string cluster; // short name
    std::string ctr;     // container name
    std::string cid;     // container (docker) id
    std::string az;
    std::string lt;  // launch type
    std::string src; // "v4" / "v3"
};

// A finished marker and the values the banner shows.
struct IssuedMarker {
    std::string line; // "EXECMARK1 ... ed25519=...", no newline, <= marker::k_max_line_bytes
    std::string ts;
    std::string sid;
    std::string user; // as signed (sanitized)
    std::uint64_t tseq = 0;
    std::uint64_t seq = 0;
};

// Builds and signs every marker of one boot: the per-boot counter (tseq), the boot chain
// ("boot-<kid>") and one chain per session id. Only this class decides the signed facts.
class Ledger {
public:
    using Clock = std::function<std::int64_t()>; // unix time in ms

    // Sessions whose chains are remembered; the least recently used one is forgotten first.
    static constexpr std::size_t k_max_sessions = 4096;

    Ledger(const SigningKey& key, std::string version, std::string host, Clock clock);

    IssuedMarker boot(std::int64_t pid);
    IssuedMarker meta(const TaskFacts& facts);
    IssuedMarker shutdown(std::int64_t rc, std::int64_t uptime_ms);

    // A process that looks like a session worker, as the watcher saw it; wchk is its chain check.
    struct WorkerFacts {
        std::string wsid;
        std::int64_t wpid = 0;
        std::string wchk;
        std::int64_t wst = 0;   // its start, Unix ms
        std::int64_t dur = 0;   // gone: ms between seen and gone
        std::int64_t clast = 0; // gone: last time its command was seen alive, Unix ms (0 never)
    };

    // A recorder's checkpoint or interference report for session ssid (boot chain).
    struct RecordFacts {
        std::string ssid;
        std::string kind;
        std::uint64_t idx = 0;
        std::uint64_t off = 0;
        std::string hash;
        std::int64_t rpid = 0;
        std::string fin; // end only
        std::int64_t rc = 0;
        std::int64_t opid = 0; // interference only
        std::string ocomm;
        std::string side; // interference only: "inner" | "outer"
    };

    IssuedMarker record(const RecordFacts& rec);
    IssuedMarker exec_seen(const WorkerFacts& worker);
    IssuedMarker exec_gone(const WorkerFacts& worker);
    // ev is "open" or "close"; the payload is marker::build_session_payload's.
    IssuedMarker session(std::string_view ev,
                         const std::string& sid,
                         const marker::SessionFacts& facts,
                         const marker::Claims& claims);

    [[nodiscard]] const std::string& boot_sid() const { return m_boot_sid; }

    // Whether a close was signed for sid (while its chain is remembered).
    [[nodiscard]] bool closed(const std::string& sid) const;

    [[nodiscard]] std::uint64_t markers_issued() const { return m_tseq; }

private:
    struct Chain {
        std::uint64_t seq = 0;
        std::string prev = "-";
        std::uint64_t last_used = 0;
        bool closed = false;
    };

    struct Core {
        std::string ts;
        std::uint64_t tseq = 0;
        std::uint64_t seq = 0;
    };

    Core begin(marker::PayloadWriter& w, std::string_view ev, const std::string& sid);
    IssuedMarker finish(const marker::PayloadWriter& w, const std::string& sid, const Core& core);
    Chain& chain_for(const std::string& sid);

    const SigningKey& m_key;
    std::string m_version;
    std::string m_host;
    Clock m_clock;
    std::string m_boot_sid;
    std::uint64_t m_tseq = 0;
    std::uint64_t m_use_counter = 0;
    std::map<std::string, Chain> m_chains;
};

} // namespace execmark::signer
