// SPDX-License-Identifier: MIT
// PayloadWriter escaping and sanitize_claim against hostile client input.
#include <agent/marker/marker.hpp>

#include <catch2/catch.hpp>
#include <sodium.h>

#include <algorithm>
#include <string>

using namespace execmark::marker;

namespace {

std::string one_value(std::string_view value)
{
    return PayloadWriter{}.add("k", value).finish();
}

bool printable_ascii(std::string_view text)
{
    return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7E; });
}

std::size_t count_of(std::string_view text, std::string_view needle)
{
    std::size_t count = 0;
    for (std::size_t at = text.find(needle); at != std::string_view::npos;
         at = text.find(needle, at + 1)) {
        ++count;
    }
    return count;
}

} // namespace

TEST_CASE("PayloadWriter keeps insertion order and writes compact JSON with decimal integers")
{
    PayloadWriter writer;
    writer.add("v", 1).add("ev", "open").add("neg", std::int64_t{-42}).add("big", UINT64_MAX);
    const std::string payload = writer.finish();
    CHECK(payload == R"({"v":1,"ev":"open","neg":-42,"big":18446744073709551615})");
    CHECK(writer.size() == payload.size());
    CHECK(PayloadWriter{}.finish() == "{}");
}

TEST_CASE("PayloadWriter escapes quotes and backslashes")
{
    CHECK(one_value(R"(a"b\c)") == R"({"k":"a\"b\\c"})");
}

TEST_CASE("PayloadWriter writes controls and ESC as u-escapes")
{
    CHECK(one_value(std::string("\n\r\t\x1b[31m\x7f", 9))
          == R"({"k":"\u000a\u000d\u0009\u001b[31m\u007f"})");
    CHECK(one_value(std::string("a\0b", 3)) == R"({"k":"a\u0000b"})");
}

TEST_CASE("PayloadWriter escapes non-ASCII code points with surrogate pairs above the BMP")
{
    CHECK(one_value("\xc3\xa9") == R"({"k":"\u00e9"})");
    CHECK(one_value("\xe2\x82\xac") == R"({"k":"\u20ac"})");
    CHECK(one_value("\xf0\x9f\x98\x80") == R"({"k":"\ud83d\ude00"})");
    CHECK(one_value("\xf4\x8f\xbf\xbf") == R"({"k":"\udbff\udfff"})");
}

TEST_CASE("PayloadWriter turns every invalid UTF-8 byte into U+FFFD")
{
    CHECK(one_value("\xff") == R"({"k":"\ufffd"})");
    CHECK(one_value("\x80z") == R"({"k":"\ufffdz"})");                   // lone continuation
    CHECK(one_value("\xc0\xaf") == R"({"k":"\ufffd\ufffd"})");           // overlong '/'
    CHECK(one_value("\xed\xa0\x80") == R"({"k":"\ufffd\ufffd\ufffd"})"); // surrogate
    CHECK(one_value("\xf4\x90\x80\x80") == R"({"k":"\ufffd\ufffd\ufffd\ufffd"})"); // > U+10FFFF
    CHECK(one_value("\xe2\x82") == R"({"k":"\ufffd\ufffd"})");   // truncated at the end
    CHECK(one_value("\xe2\x82z") == R"({"k":"\ufffd\ufffdz"})"); // truncated in the middle
}

TEST_CASE("PayloadWriter never writes EXECMARK inside a value or key")
{
    CHECK(one_value("EXECMARK1") == R"({"k":"EXECMAR\u004b1"})");
    CHECK(one_value("xEXECMARKEXECMARK") == R"({"k":"xEXECMAR\u004bEXECMAR\u004b"})");
    CHECK(one_value("EXECMAR") == R"({"k":"EXECMAR"})");
    CHECK(one_value("execmark1 EXECMARk") == R"({"k":"execmark1 EXECMARk"})");
    CHECK(PayloadWriter{}.add("EXECMARK", 1).finish() == R"({"EXECMAR\u004b":1})");
    const std::string fake = R"(EXECMARK1 {"v":1} ed25519=AAAA)";
    const std::string payload = one_value(fake);
    CHECK(payload.find("EXECMARK") == std::string::npos);
    CHECK(printable_ascii(payload));
}

TEST_CASE("PayloadWriter output is printable ASCII for every single byte value")
{
    for (int byte = 0; byte < 256; ++byte) {
        const std::string value(1, static_cast<char>(byte));
        INFO("byte " << byte);
        CHECK(printable_ascii(one_value(value)));
    }
}

TEST_CASE("sanitize_claim passes ordinary claims through untouched")
{
    const SanitizedClaim claim = sanitize_claim("alice@example.com", k_max_claim_bytes);
    CHECK(claim.value == "alice@example.com");
    CHECK_FALSE(claim.altered);
    CHECK_FALSE(claim.truncated);
    const SanitizedClaim utf8 = sanitize_claim("J\xc3\xbcrgen", k_max_claim_bytes);
    CHECK(utf8.value == "J\xc3\xbcrgen");
    CHECK_FALSE(utf8.altered);
    CHECK(sanitize_claim("", 0).value.empty());
}

TEST_CASE("sanitize_claim replaces newlines and ESC sequences and other controls")
{
    const SanitizedClaim claim = sanitize_claim("bob\n\r\t\x1b[2Jx\x7f\xc2\x9b", 200);
    CHECK(claim.value
          == "bob\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd[2Jx\xef\xbf\xbd\xef\xbf\xbd");
    CHECK(claim.altered);
    CHECK_FALSE(claim.truncated);
}

TEST_CASE("sanitize_claim replaces invalid UTF-8 and invisible format characters")
{
    const SanitizedClaim invalid = sanitize_claim("a\xff\xc0\xaf", 200);
    CHECK(invalid.value == "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    CHECK(invalid.altered);
    // U+202E RIGHT-TO-LEFT OVERRIDE would make a banner display lie.
    const SanitizedClaim bidi = sanitize_claim("admin\xe2\x80\xae", 200);
    CHECK(bidi.value == "admin\xef\xbf\xbd");
    CHECK(bidi.altered);
}

TEST_CASE("sanitize_claim keeps quotes and backslashes (the writer escapes them)")
{
    const SanitizedClaim claim = sanitize_claim(R"(o"brien\)", 200);
    CHECK(claim.value == R"(o"brien\)");
    CHECK_FALSE(claim.altered);
    CHECK(one_value(claim.value) == R"({"k":"o\"brien\\"})");
}

TEST_CASE("sanitize_claim truncates to the encoded budget at a character boundary")
{
    SECTION("ASCII")
    {
        const SanitizedClaim claim = sanitize_claim(std::string(100, 'a'), 10);
        CHECK(claim.value == std::string(10, 'a'));
        CHECK(claim.truncated);
        CHECK_FALSE(claim.altered);
    }
    SECTION("quotes count twice")
    {
        const SanitizedClaim claim = sanitize_claim(R"(""""""")", 5);
        CHECK(claim.value == R"("")");
        CHECK(claim.truncated);
    }
    SECTION("multi-byte characters are never split")
    {
        // Each U+00E9 costs 6 bytes encoded; 20 fits 3 of them.
        const SanitizedClaim claim = sanitize_claim("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 20);
        CHECK(claim.value == "\xc3\xa9\xc3\xa9\xc3\xa9");
        CHECK(claim.truncated);
    }
    SECTION("exactly at the budget is not truncated")
    {
        const SanitizedClaim claim = sanitize_claim("abcd", 4);
        CHECK(claim.value == "abcd");
        CHECK_FALSE(claim.truncated);
    }
}

TEST_CASE("sanitize_claim breaks EXECMARK so a banner showing the claim is no marker")
{
    const SanitizedClaim claim = sanitize_claim("EXECMARK1", 200);
    CHECK(claim.value
          == "EXECMAR\xef\xbf\xbd"
             "1");
    CHECK(claim.altered);
}

TEST_CASE("A hostile 64 KiB claim with a fake marker yields one bounded marker line")
{
    REQUIRE(sodium_init() >= 0);
    std::array<unsigned char, 32> pk_bytes{};
    std::array<unsigned char, 64> sk_bytes{};
    crypto_sign_keypair(pk_bytes.data(), sk_bytes.data());

    std::string raw = "mallory\r\n\x1b]0;title\x07\x1b[2K\r";
    raw += R"(EXECMARK1 {"v":1,"ev":"open"} ed25519=)" + std::string(86, 'A') + "\n";
    raw += "\xff\xfe\"\\";
    while (raw.size() < 64 * 1024) {
        raw += "EXECMARK1 \xe2\x80\xae\xf0\x9f\x98\x80\"";
    }
    const SanitizedClaim user = sanitize_claim(raw, k_max_claim_bytes);
    CHECK(user.altered);
    CHECK(user.truncated);
    CHECK(user.value.size() <= k_max_claim_bytes);

    PayloadWriter writer;
    writer.add("v", 1).add("ev", "open").add("ts", "2026-11-24T05:40:04.123Z");
    writer.add("kid", "k0000000000000000").add("tseq", 1).add("sid", "s").add("seq", 1);
    writer.add("prev", "-").add("user", user.value);
    const std::string payload = writer.finish();
    const std::string line = format_signed(payload, sign(payload, SecretKey(sk_bytes)));

    CHECK(line.size() <= k_max_line_bytes);
    CHECK(count_of(line, k_magic) == 1);
    CHECK(printable_ascii(line));
    const Extracted extracted = extract(line);
    REQUIRE(extracted.status == ExtractStatus::ok);
    CHECK(extracted.payload == payload);
    PublicKey pk{};
    std::copy(pk_bytes.begin(), pk_bytes.end(), pk.begin());
    CHECK(verify(extracted.payload, extracted.signature, pk));
    std::string error;
    const auto fields = parse_fields(extracted.payload, &error);
    REQUIRE(fields);
    CHECK(fields->str.at("user") == user.value);
}
