// SPDX-License-Identifier: MIT
#pragma once

// Marker format v1: encode, sign, extract, verify and parse attribution marker lines.
// Pure functions over values (no I/O); the wire format is specified in docs/markers.md.

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace execmark::marker {

inline constexpr std::string_view k_magic = "EXECMARK1";          // line prefix word
inline constexpr std::string_view k_sig_context = "execmark/1\n"; // signed = context + payload
inline constexpr std::size_t k_max_line_bytes = 1024;             // whole marker line, no newline
inline constexpr int k_version = 1;

// The separators between payload and trailer; the last one in a line wins.
inline constexpr std::string_view k_signed_field = " ed25519=";
inline constexpr std::string_view k_unsigned_field = " unsigned=";
// base64url (no padding) lengths of a signature and a public key.
inline constexpr std::size_t k_signature_chars = 86;
inline constexpr std::size_t k_public_key_chars = 43;
// Largest payload that still fits a signed line: 1024 - "EXECMARK1 " - " ed25519=" - 86.
inline constexpr std::size_t k_max_payload_bytes =
    k_max_line_bytes - k_magic.size() - 1 - k_signed_field.size() - k_signature_chars;
// An unsigned reason is [a-z0-9-]{1,32}; with it an unsigned line also fits 1024 bytes.
inline constexpr std::size_t k_max_reason_bytes = 32;
// Suggested wire budget for one client claim (user, reason, shell, tty) in sanitize_claim.
inline constexpr std::size_t k_max_claim_bytes = 64;

// "prev" of a chain's first marker, and "kid" of an unsigned marker without a key.
inline constexpr std::string_view k_none = "-";
// sid of the container-log chain is k_boot_sid_prefix + kid; outside SSM it is "local-<n>".
inline constexpr std::string_view k_boot_sid_prefix = "boot-";
inline constexpr std::string_view k_local_sid_prefix = "local-";

// Event names (the "ev" field).
inline constexpr std::string_view k_ev_boot = "boot";
inline constexpr std::string_view k_ev_meta = "meta";
inline constexpr std::string_view k_ev_shutdown = "shutdown";
inline constexpr std::string_view k_ev_exec_seen = "exec.seen";
inline constexpr std::string_view k_ev_exec_gone = "exec.gone";
inline constexpr std::string_view k_ev_open = "open";
inline constexpr std::string_view k_ev_close = "close";
inline constexpr std::string_view k_ev_rec = "rec"; // a recorder's checkpoint (container log)

// Reasons a marker is unsigned (format_unsigned).
inline constexpr std::string_view k_reason_no_agent = "no-agent";
inline constexpr std::string_view k_reason_agent_timeout = "agent-timeout";
inline constexpr std::string_view k_reason_agent_error = "agent-error";
inline constexpr std::string_view k_reason_bad_response = "bad-response";
inline constexpr std::string_view k_reason_no_key = "no-key";
inline constexpr std::string_view k_reason_refused = "refused"; // PID 1 refused (second close...)

using PublicKey = std::array<unsigned char, 32>;
// libsodium ed25519 secret key (seed || public key), in sodium_malloc memory owned by the signer.
using SecretKey = std::span<const unsigned char, 64>;
using Signature = std::array<unsigned char, 64>;

// The integer types PayloadWriter writes as JSON numbers.
template <typename T>
concept PayloadInteger = std::integral<T> && !std::same_as<T, bool> && !std::same_as<T, char>;

// Ordered compact JSON object writer; insertion order is the wire order. Strings: printable
// ASCII 0x20-0x7E only, '"' and '\\' escaped, everything else as \uXXXX (bytes that are not
// valid UTF-8 become \ufffd); the text "EXECMARK" never appears inside a key or value (its K is
// written as \u004b) so a value can never look like a second marker to grep or to extract().
class PayloadWriter {
public:
    PayloadWriter& add(std::string_view key, std::string_view value);

    // Any integer type except bool and char; written in decimal.
    template <PayloadInteger T>
    PayloadWriter& add(std::string_view key, T value)
    {
        if constexpr (std::is_signed_v<T>) {
            return add_signed(key, static_cast<std::int64_t>(value));
        } else {
            return add_unsigned(key, static_cast<std::uint64_t>(value));
        }
    }

    // The payload: "{...}".
    [[nodiscard]] std::string finish() const;

    // Bytes finish() would return now; lets a writer keep within k_max_payload_bytes.
    [[nodiscard]] std::size_t size() const { return m_out.size() + 1; }

private:
    PayloadWriter& add_signed(std::string_view key, std::int64_t value);
    PayloadWriter& add_unsigned(std::string_view key, std::uint64_t value);
    void add_key(std::string_view key);

    std::string m_out = "{";
};

struct SanitizedClaim {
    std::string value;
    bool altered = false;   // something was replaced
    bool truncated = false; // cut to fit max_bytes
};

// A client-supplied claim (raw bytes from an env var etc.): invalid UTF-8, controls (C0 with
// ESC/CR/LF/TAB, DEL, C1), invisible bidi/format characters and the K of "EXECMARK" become
// U+FFFD; then it is cut at a character boundary so that its encoded size in the payload is
// <= max_bytes (so is its UTF-8 size). Output is what goes into PayloadWriter::add.
SanitizedClaim sanitize_claim(std::string_view raw, std::size_t max_bytes);

// Ed25519 over k_sig_context + payload.
Signature sign(std::string_view payload, SecretKey sk);
bool verify(std::string_view payload, const Signature& sig, const PublicKey& pk);
// The public half of a libsodium secret key (its last 32 bytes).
PublicKey public_key_of(SecretKey sk);

// base64url without padding (sig -> 86 chars, pk -> 43). Decoding is strict: alphabet
// [A-Za-z0-9_-] only, no padding, no whitespace, unused trailing bits must be zero.
std::string base64url(std::span<const unsigned char> bytes);
std::optional<std::vector<unsigned char>> from_base64url(std::string_view text);
// A 43-char base64url public key (the boot marker's "pub"); nullopt when malformed.
std::optional<PublicKey> public_key_from_base64url(std::string_view text);

// "k" + 16 lowercase hex of BLAKE2b-64(pk) (crypto_generichash, outlen 8).
std::string key_id(const PublicKey& pk);
// 32 lowercase hex of BLAKE2b-128(payload bytes): the next marker's "prev".
std::string chain_hash(std::string_view payload);

// "EXECMARK1 <payload> ed25519=<b64url>"
std::string format_signed(std::string_view payload, const Signature& sig);
// "EXECMARK1 <payload> unsigned=<reason>"; reason must be [a-z0-9-]{1,32}.
std::string format_unsigned(std::string_view payload, std::string_view reason);
// Whether reason is a syntactically valid unsigned reason ([a-z0-9-]{1,32}).
bool is_valid_reason(std::string_view reason);

// RFC 3339 UTC with milliseconds ("2026-11-24T05:40:04.123Z") for ms since the Unix epoch
// (years 0000-9999; outside that the value is clamped).
std::string format_timestamp(std::int64_t unix_ms);
// The inverse of format_timestamp, exactly that shape only; nullopt otherwise.
std::optional<std::int64_t> parse_timestamp(std::string_view text);

enum class ExtractStatus { none, ok, mangled };

struct Extracted {
    ExtractStatus status = ExtractStatus::none;
    std::string_view payload; // exact bytes between "EXECMARK1 " and the last trailer field
    bool is_signed = false;
    Signature signature{};            // when is_signed
    std::string_view unsigned_reason; // when !is_signed
    std::string problem;              // when mangled: why
};

// Finds a marker in one log line: the LAST "EXECMARK1" in the line is the candidate; text before
// it ignored, trailing CR/LF and spaces ignored; payload must be a {...} of printable ASCII,
// signature exactly 86 base64url chars. "EXECMARK1" present but not parseable -> mangled.
// Never re-serializes: payload and unsigned_reason are views into line.
Extracted extract(std::string_view line);

// Parsed payload fields (only after the signature was checked, or for unsigned markers).
struct Fields {
    int v = 0;
    std::string ev, ts, kid;
    std::uint64_t tseq = 0;
    std::string sid;
    std::uint64_t seq = 0;
    std::string prev;
    std::map<std::string, std::string> str;  // every other string field, decoded
    std::map<std::string, std::int64_t> num; // every other integer field
    std::vector<std::string> keys;           // all keys in wire order (core ones included)
};

// Parses payload with nlohmann (exceptions caught here): a flat object of strings and integers,
// no duplicate keys; checks v == 1, the core keys, their types and order, the ts shape,
// seq >= 1 and prev ("-" exactly when seq == 1), and the payload size; error text in *error.
std::optional<Fields> parse_fields(std::string_view payload, std::string* error);

// One event-specific key of the v1 schema.
struct KeySpec {
    std::string_view name;
    bool is_int = false;
};

// The event-specific keys of event ev in wire order (after the core keys); empty for an
// unknown event.
std::span<const KeySpec> event_keys(std::string_view ev);

// For a known event: exactly its event_keys, in order, with their types, after the core keys.
// Unknown events pass (a newer writer may add events). Error text in *error.
bool check_event_fields(const Fields& fields, std::string* error);

} // namespace execmark::marker
