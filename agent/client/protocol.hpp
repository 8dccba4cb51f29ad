// SPDX-License-Identifier: MIT
#pragma once

#include <agent/marker/session.hpp>
#include <agent/util/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace execmark::client {

// Where PID 1 listens unless configured otherwise (directory created 0700).
inline constexpr const char* k_default_socket_path = "/run/execmark/agent.sock";
// One request is one JSON object on one line; anything longer is refused unread.
inline constexpr std::size_t k_max_request_bytes = 4096;
// Responses carry one marker line plus the banner values.
inline constexpr std::size_t k_max_response_bytes = 16384;
// How long PID 1 gives a connected client to send its request: as long as the longest client
// deadline, so a client starved of CPU (hundreds starting at once) is still answered; a client
// that never sends is cut off then, and at most k_max_connections are held at once.
inline constexpr int k_server_request_deadline_ms = 10000;
// Claims are cut to this before sending so that a request always fits k_max_request_bytes.
inline constexpr std::size_t k_max_sent_claim_bytes = 256;
// The client's whole exchange (connect, send, receive): a shell start must never wait longer.
inline constexpr int k_client_deadline_ms = 500;
// Bounds of EXECMARK_TIMEOUT_MS, which overrides k_client_deadline_ms.
inline constexpr int k_min_client_deadline_ms = 50;
inline constexpr int k_max_client_deadline_ms = 10000;

enum class Op { ping, open, close, metadata, rec };

// What the recorder reports (op "rec"): one checkpoint of the session's output fingerprint, or
// an interference. PID 1 signs it into the container log; an "end" also makes the session's
// close, from the recorder's observation (docs/markers.md, "rec").
struct RecordReport {
    // "start" | "typed" | "enter" | "idle" | "flow" | "end" | "interference"
    std::string kind;
    std::uint64_t idx = 0; // checkpoint number, 0 for start and typed (interference: the last)
    std::uint64_t off = 0; // normalised output bytes relayed so far; typed: input bytes taken
    // The chain hash at off (64 lowercase hex); typed: the digest of the taken input's echo;
    // "" for start, interference.
    std::string hash;
    std::int64_t opid = 0; // interference: the opener's pid (0 when gone)
    std::string ocomm;     // interference: its command name
    std::string side;      // interference: "inner" (the shell's pty) | "outer" (the session's)
};

// Whether kind is a checkpoint (carries a chain hash and the next idx).
bool is_checkpoint_kind(std::string_view kind);

// Bounds of a report: hash hex digits, command-name bytes, largest count.
inline constexpr std::size_t k_max_rec_hash_chars = 64;
inline constexpr std::size_t k_max_rec_comm_bytes = 32;
inline constexpr std::uint64_t k_max_rec_count = 1ULL << 53;
// Most typed-ahead input a recorder takes over (a terminal's input queue holds 4096 bytes).
inline constexpr std::uint64_t k_max_rec_typed_bytes = 4096;

// What a client asks. Claims are raw; PID 1 sanitizes them.
struct Request {
    Op op = Op::ping;
    std::string mode = "hook"; // "hook" | "wrapper"
    marker::Claims claims;
    // Claims the client had to alter before sending (invalid UTF-8, longer than
    // k_max_sent_claim_bytes): they reach the marker's cfix. Only ever adds flags.
    std::vector<std::string> client_fixed;
    std::string fin = "exit"; // close: "exit" | "signal" | "hangup"
    std::int64_t rc = 0;      // close: the shell's exit status
    RecordReport rec;         // rec
};

// The request as one line (with the trailing newline).
std::string format_request(const Request& request);

// Parses one request line (without the newline). Unknown keys are ignored; wrong types,
// unknown ops or modes are errors.
util::Result<Request> parse_request(std::string_view line);

// What the client gets back for open/close.
struct MarkerResponse {
    std::string marker; // the signed line
    std::string sid;
    std::string ts;
    std::string kid;
    std::string user;
    std::string task;
    std::string cluster;
    std::string ctr;
    std::string owner;
    bool under_ssm = false;
};

// Why PID 1 refused a request: a typed code on the wire ("code"), with a human detail
// ("error"). A code this client does not know reads as refused_other.
enum class Refusal { bad_request, too_long, no_key, not_allowed, refused_other };

struct Refused {
    Refusal code = Refusal::refused_other;
    std::string detail;
};

std::string format_marker_response(const MarkerResponse& response);
std::string format_refusal(Refusal code, std::string_view detail);

// A refusal ({"ok":false,...}) in a response line; nullopt when the line is not one.
std::optional<Refused> parse_refusal(std::string_view line);

// Whether a response line is a plain acceptance ({"ok":true,...}).
bool is_ok_response(std::string_view line);

// Parses a marker response line; a refusal or anything unusable is an Error.
util::Result<MarkerResponse> parse_marker_response(std::string_view line);

// A request for a session marker: the claims capped to k_max_sent_claim_bytes and sanitized
// (so it always fits and is valid JSON), the altered ones listed in client_fixed.
Request session_request(Op op, std::string mode, const marker::Claims& raw);

} // namespace execmark::client
