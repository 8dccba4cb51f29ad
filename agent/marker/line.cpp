// SPDX-License-Identifier: MIT
#include <agent/marker/marker.hpp>

#include <algorithm>
#include <cstring>

namespace execmark::marker {

namespace {

bool is_printable_ascii(std::string_view text)
{
    return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7E; });
}

Extracted mangled(std::string problem)
{
    Extracted result;
    result.status = ExtractStatus::mangled;
    result.problem = std::move(problem);
    return result;
}

// The last occurrence of needle in text, or npos. std::string_view::rfind calls memcmp at every
// position from the end; this jumps between occurrences of the first byte with memrchr, which
// matters because every line of every log passes through here.
std::size_t last_occurrence(std::string_view text, std::string_view needle)
{
    if (needle.empty() || needle.size() > text.size()) {
        return needle.empty() ? text.size() : std::string_view::npos;
    }
    std::size_t limit = text.size() - needle.size() + 1; // candidates are [0, limit)
    while (limit > 0) {
        const void* hit = ::memrchr(text.data(), needle.front(), limit);
        if (hit == nullptr) {
            return std::string_view::npos;
        }
        const auto at = static_cast<std::size_t>(static_cast<const char*>(hit) - text.data());
        if (text.compare(at, needle.size(), needle) == 0) {
            return at;
        }
        limit = at;
    }
    return std::string_view::npos;
}

std::string line_start(std::string_view payload)
{
    std::string line;
    line.reserve(k_max_line_bytes);
    line += k_magic;
    line.push_back(' ');
    line += payload;
    return line;
}

} // namespace

bool is_valid_reason(std::string_view reason)
{
    return !reason.empty() && reason.size() <= k_max_reason_bytes
           && std::all_of(reason.begin(), reason.end(), [](char c) {
                  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
              });
}

std::string format_signed(std::string_view payload, const Signature& sig)
{
    std::string line = line_start(payload);
    line += k_signed_field;
    line += base64url(sig);
    return line;
}

std::string format_unsigned(std::string_view payload, std::string_view reason)
{
    std::string line = line_start(payload);
    line += k_unsigned_field;
    // A caller bug must still produce a parseable line.
    line += is_valid_reason(reason) ? reason : k_reason_agent_error;
    return line;
}

Extracted extract(std::string_view line)
{
    // The writer never puts "EXECMARK" inside a payload and nothing after it contains it, so a
    // genuine marker is always the last occurrence; anything before it is prompt or noise.
    const std::size_t at = last_occurrence(line, k_magic);
    if (at == std::string_view::npos) {
        return {};
    }
    std::string_view marker = line.substr(at);
    const std::size_t end = marker.find_last_not_of(" \r\n");
    marker = marker.substr(0, end == std::string_view::npos ? 0 : end + 1);
    if (marker.size() > k_max_line_bytes) {
        return mangled("marker longer than " + std::to_string(k_max_line_bytes) + " bytes");
    }
    if (marker.size() <= k_magic.size() || marker[k_magic.size()] != ' ') {
        return mangled("no space after " + std::string(k_magic));
    }
    const std::string_view body = marker.substr(k_magic.size() + 1);

    // Fast path for the common case: a signed marker's field sits at a fixed distance from the
    // end (the signature has a fixed length and no spaces, so no field can follow it). Anything
    // else takes the general search, which also names what is wrong.
    const std::size_t fixed_at = body.size() >= k_signed_field.size() + k_signature_chars
                                     ? body.size() - k_signed_field.size() - k_signature_chars
                                     : std::string_view::npos;
    std::size_t signed_at = std::string_view::npos;
    std::size_t unsigned_at = std::string_view::npos;
    if (fixed_at != std::string_view::npos
        && body.compare(fixed_at, k_signed_field.size(), k_signed_field) == 0) {
        signed_at = fixed_at;
    } else {
        signed_at = last_occurrence(body, k_signed_field);
        unsigned_at = last_occurrence(body, k_unsigned_field);
    }
    const bool is_signed = signed_at != std::string_view::npos
                           && (unsigned_at == std::string_view::npos || signed_at > unsigned_at);
    if (!is_signed && unsigned_at == std::string_view::npos) {
        return mangled("no ed25519= or unsigned= field");
    }
    const std::size_t field_at = is_signed ? signed_at : unsigned_at;
    const std::string_view field = is_signed ? k_signed_field : k_unsigned_field;
    const std::string_view payload = body.substr(0, field_at);
    const std::string_view trailer = body.substr(field_at + field.size());

    if (payload.size() < 2 || payload.front() != '{' || payload.back() != '}') {
        return mangled("payload is not a {...} object");
    }
    if (payload.size() > k_max_payload_bytes) {
        return mangled("payload longer than " + std::to_string(k_max_payload_bytes) + " bytes");
    }
    if (!is_printable_ascii(payload)) {
        return mangled("payload has bytes outside printable ASCII");
    }

    Extracted result;
    result.payload = payload;
    result.is_signed = is_signed;
    if (is_signed) {
        if (trailer.size() != k_signature_chars) {
            return mangled("signature is " + std::to_string(trailer.size()) + " characters, not "
                           + std::to_string(k_signature_chars));
        }
        const auto sig = from_base64url(trailer);
        if (!sig || sig->size() != result.signature.size()) {
            return mangled("signature is not base64url");
        }
        std::copy(sig->begin(), sig->end(), result.signature.begin());
    } else {
        if (!is_valid_reason(trailer)) {
            return mangled("unsigned reason is not [a-z0-9-]{1,32}");
        }
        result.unsigned_reason = trailer;
    }
    result.status = ExtractStatus::ok;
    return result;
}

} // namespace execmark::marker
