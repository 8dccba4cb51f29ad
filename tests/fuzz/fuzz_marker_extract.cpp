// SPDX-License-Identifier: MIT
// libFuzzer: extract() and parse_fields() on arbitrary lines must not crash, must keep views
// inside the input, and must agree with the format's invariants.
#include <agent/marker/marker.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace execmark::marker;

namespace {

void require(bool condition)
{
    if (!condition) {
        std::abort();
    }
}

bool inside(std::string_view part, std::string_view whole)
{
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

} // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string input(reinterpret_cast<const char*>(data), size);
    const std::string_view line(input);
    const Extracted extracted = extract(line);
    if (extracted.status == ExtractStatus::mangled) {
        require(!extracted.problem.empty());
    }
    if (extracted.status == ExtractStatus::ok) {
        require(inside(extracted.payload, line));
        require(extracted.payload.size() <= k_max_payload_bytes);
        require(extracted.payload.front() == '{' && extracted.payload.back() == '}');
        if (extracted.is_signed) {
            // The signature round-trips to the exact text that was read.
            const std::string rebuilt = format_signed(extracted.payload, extracted.signature);
            require(line.find(rebuilt) != std::string_view::npos);
        } else {
            require(inside(extracted.unsigned_reason, line));
            require(is_valid_reason(extracted.unsigned_reason));
        }
    }
    // parse_fields gets the raw input too, not only what extract() lets through.
    std::string error;
    const auto fields =
        parse_fields(extracted.status == ExtractStatus::ok ? extracted.payload : line, &error);
    if (fields) {
        require(fields->v == k_version && fields->seq >= 1);
        require(fields->keys.size() >= 8);
        static_cast<void>(check_event_fields(*fields, &error));
    } else {
        require(!error.empty());
    }
    // Writing what was read must stay within the format (escaping is total).
    const std::string payload = PayloadWriter{}.add("k", line).finish();
    require(payload.find("EXECMARK") == std::string::npos);
    const SanitizedClaim claim = sanitize_claim(line, k_max_claim_bytes);
    require(claim.value.size() <= k_max_claim_bytes);
    require(PayloadWriter{}.add("k", claim.value).size() <= k_max_claim_bytes + 8);
    return 0;
}
