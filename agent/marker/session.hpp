// SPDX-License-Identifier: MIT
#pragma once

// The one writer of session-marker payloads ("open"/"close"), signed by PID 1 or written
// unsigned by the client when PID 1 does not answer: every field of the v1 session schema is
// added here and nowhere else, so the two can never drift apart.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace execmark::marker {

// The environment variable a user claim is read from unless configured otherwise.
inline constexpr std::string_view k_default_claim_var = "AWS_USER";

// Client-supplied claims, raw; build_session_payload sanitizes them.
struct Claims {
    std::string user;
    std::string reason;
    std::string shell;
    std::string tty;
    std::vector<std::string> client_fixed; // claim names the client already had to alter
};

// The core of a session marker: who numbers and chains it.
struct SessionCore {
    std::string_view ev; // k_ev_open / k_ev_close
    std::string ts;
    std::string kid;        // k_none when unsigned
    std::uint64_t tseq = 0; // 0 when unsigned
    std::string sid;
    std::uint64_t seq = 1;
    std::string prev{"-"};
};

// The facts of a session marker that are not claims (empty strings when unknown).
struct SessionFacts {
    std::string task;
    std::string cluster;
    std::string ctr;
    std::string owner; // SessionOwner as read from the SSM agent's state file (a claim)
    std::string osrc;  // where owner came from
    std::int64_t cpid = 0;
    std::string mode;     // "hook" / "wrapper"
    std::string wchk;     // the worker check (session::worker_check_name): "ok" under SSM
    std::string wsid;     // the id a worker-looking ancestor claimed when wchk is a failure
    std::int64_t wst = 0; // the session worker's start, Unix ms (0 unknown / none)
    std::int64_t sst = 0; // the session's command (the shell or wrapper) start, Unix ms
    std::string fin;      // close only
    std::int64_t rc = 0;
};

struct SessionPayload {
    std::string payload; // "{...}", at most k_max_payload_bytes
    std::string user;    // the user claim as written (sanitized, maybe shortened)
};

// Builds the payload of an open/close marker. Claims are sanitized (cfix names those altered
// here or by the client); when the payload would exceed k_max_payload_bytes, the longest
// values are shortened (claims first, then owner, ctr, cluster, task) and flagged in cfix.
SessionPayload
build_session_payload(const SessionCore& core, const SessionFacts& facts, const Claims& claims);

} // namespace execmark::marker
