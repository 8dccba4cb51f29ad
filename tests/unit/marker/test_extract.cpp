// SPDX-License-Identifier: MIT
// format_* and extract(): noisy transcript lines, mangled markers, unsigned markers.
#include <agent/marker/marker.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace execmark::marker;

namespace {

constexpr std::string_view k_payload = R"({"v":1,"ev":"open","user":"a\"b"})";

Signature test_signature()
{
    Signature sig{};
    for (std::size_t i = 0; i < sig.size(); ++i) {
        sig[i] = static_cast<unsigned char>(i * 7 + 3);
    }
    return sig;
}

std::string signed_line()
{
    return format_signed(k_payload, test_signature());
}

std::string sig_text()
{
    return base64url(test_signature());
}

void check_ok(std::string_view line)
{
    INFO(line);
    const Extracted extracted = extract(line);
    REQUIRE(extracted.status == ExtractStatus::ok);
    CHECK(extracted.payload == k_payload);
    CHECK(extracted.is_signed);
    CHECK(extracted.signature == test_signature());
    CHECK(extracted.problem.empty());
}

void check_mangled(std::string_view line)
{
    INFO(line);
    const Extracted extracted = extract(line);
    CHECK(extracted.status == ExtractStatus::mangled);
    CHECK_FALSE(extracted.problem.empty());
}

} // namespace

TEST_CASE("format_signed and format_unsigned build the v1 line")
{
    CHECK(signed_line() == "EXECMARK1 " + std::string(k_payload) + " ed25519=" + sig_text());
    CHECK(sig_text().size() == k_signature_chars);
    CHECK(format_unsigned(k_payload, k_reason_no_agent)
          == "EXECMARK1 " + std::string(k_payload) + " unsigned=no-agent");
    // A caller's invalid reason still yields a parseable line.
    CHECK(format_unsigned(k_payload, "Bad Reason").ends_with(" unsigned=agent-error"));
}

TEST_CASE("is_valid_reason")
{
    for (const auto reason : {k_reason_no_agent,
                              k_reason_agent_timeout,
                              k_reason_agent_error,
                              k_reason_bad_response,
                              k_reason_no_key}) {
        CHECK(is_valid_reason(reason));
    }
    CHECK_FALSE(is_valid_reason(""));
    CHECK_FALSE(is_valid_reason("No-agent"));
    CHECK_FALSE(is_valid_reason("no agent"));
    CHECK_FALSE(is_valid_reason(std::string(33, 'a')));
    CHECK(is_valid_reason(std::string(32, 'a')));
}

TEST_CASE("extract finds nothing in lines without the magic")
{
    CHECK(extract("").status == ExtractStatus::none);
    CHECK(extract("root@ip-10-0-1-23:/# ls -l").status == ExtractStatus::none);
    CHECK(extract("EXECMARK2 {} ed25519=x").status == ExtractStatus::none);
    CHECK(extract("execmark1 {}").status == ExtractStatus::none);
}

TEST_CASE("extract reads a marker from noisy transcript lines")
{
    const std::string line = signed_line();
    check_ok(line);
    check_ok("root@ip-10-0-1-23:/# " + line);
    check_ok(line + "\r\r");
    check_ok(line + "\r\n");
    check_ok(line + "   \r");
    check_ok("\x1b[1;32mexecmark\x1b[0m: " + line + "\r\r\n");
    check_ok("\xff\xfe garbage before\t" + line);
    // An earlier (fake or broken) marker on the same line: the last one counts.
    check_ok("EXECMARK1 {\"forged\":1} ed25519=AAAA " + line);
    check_ok("EXECMARK1 " + line);
    // Near misses of the magic before it (the backward search skips partial matches).
    check_ok("EEEE EXECMARK EXECMARK0 EXECMARKEXECMARK1" + line.substr(9));
    check_ok(std::string(5000, 'E') + " " + line);
}

TEST_CASE("extract: a signed-looking field not at its fixed place takes the general path")
{
    // A word after the signature: the field is found, and the trailer is named as wrong.
    const Extracted extra = extract(signed_line() + " tail");
    REQUIRE(extra.status == ExtractStatus::mangled);
    CHECK(extra.problem.find("characters") != std::string::npos);
    // An unsigned marker whose reason happens to be as long as a signature is still unsigned.
    const std::string reason(32, 'a');
    const Extracted unsigned_marker = extract(format_unsigned(k_payload, reason));
    REQUIRE(unsigned_marker.status == ExtractStatus::ok);
    CHECK_FALSE(unsigned_marker.is_signed);
}

TEST_CASE("extract finds the last separator even when the payload contains one")
{
    const std::string payload = R"({"reason":"x ed25519=y unsigned=z"})";
    const std::string line = format_signed(payload, test_signature());
    const Extracted extracted = extract(line);
    REQUIRE(extracted.status == ExtractStatus::ok);
    CHECK(extracted.payload == payload);
    const std::string unsigned_line = format_unsigned(payload, "no-key");
    const Extracted unsigned_marker = extract(unsigned_line);
    REQUIRE(unsigned_marker.status == ExtractStatus::ok);
    CHECK(unsigned_marker.payload == payload);
    CHECK(unsigned_marker.unsigned_reason == "no-key");
}

TEST_CASE("extract returns views into the line")
{
    const std::string line = "prompt$ " + signed_line() + "\r";
    const Extracted extracted = extract(line);
    REQUIRE(extracted.status == ExtractStatus::ok);
    CHECK(extracted.payload.data() == line.data() + line.find('{'));
}

TEST_CASE("extract reads unsigned markers")
{
    const std::string line = "$ " + format_unsigned(k_payload, k_reason_agent_timeout) + "\r\r";
    const Extracted extracted = extract(line);
    REQUIRE(extracted.status == ExtractStatus::ok);
    CHECK_FALSE(extracted.is_signed);
    CHECK(extracted.unsigned_reason == k_reason_agent_timeout);
    CHECK(extracted.payload == k_payload);
}

TEST_CASE("extract reports mangled markers")
{
    const std::string payload(k_payload);
    const std::string sig = sig_text();
    SECTION("truncated signature")
    {
        check_mangled(signed_line().substr(0, signed_line().size() - 1));
        check_mangled("EXECMARK1 " + payload + " ed25519=" + sig.substr(0, 40));
        check_mangled("EXECMARK1 " + payload + " ed25519=");
    }
    SECTION("signature of the wrong length")
    {
        check_mangled(signed_line() + "A");
        check_mangled("EXECMARK1 " + payload + " ed25519=" + sig + sig);
    }
    SECTION("signature with characters outside base64url")
    {
        std::string bad = sig;
        bad[10] = '+';
        check_mangled("EXECMARK1 " + payload + " ed25519=" + bad);
        bad[10] = '=';
        check_mangled("EXECMARK1 " + payload + " ed25519=" + bad);
    }
    SECTION("signature with non-zero unused bits")
    {
        std::string bad = sig;
        bad.back() = static_cast<char>(bad.back() == 'B' ? 'C' : 'B');
        check_mangled("EXECMARK1 " + payload + " ed25519=" + bad);
    }
    SECTION("payload without braces")
    {
        check_mangled("EXECMARK1 " + payload.substr(1) + " ed25519=" + sig);
        check_mangled("EXECMARK1 " + payload.substr(0, payload.size() - 1) + " ed25519=" + sig);
        check_mangled("EXECMARK1  ed25519=" + sig);
        check_mangled("EXECMARK1 {} ed25519=" + sig.substr(1) + "x" + " trailing");
    }
    SECTION("bad characters in the payload")
    {
        check_mangled("EXECMARK1 {\"k\":\"\t\"} ed25519=" + sig);
        check_mangled("EXECMARK1 {\"k\":\"\x1b[0m\"} ed25519=" + sig);
        check_mangled("EXECMARK1 {\"k\":\"\xc3\xa9\"} ed25519=" + sig);
        check_mangled("EXECMARK1 {\"k\":\"\r\"} ed25519=" + sig);
    }
    SECTION("no trailer field")
    {
        check_mangled("EXECMARK1 " + payload);
        check_mangled("EXECMARK1 " + payload + " ed25519:" + sig);
        check_mangled("grep EXECMARK1 /var/log/app.log");
        check_mangled("EXECMARK1");
        check_mangled("xEXECMARK1x");
    }
    SECTION("wrong spacing")
    {
        check_mangled("EXECMARK1" + payload + " ed25519=" + sig);
        check_mangled("EXECMARK1  " + payload + " ed25519=" + sig);
        check_mangled("EXECMARK1 " + payload + "  ed25519=" + sig);
    }
    SECTION("bad unsigned reason")
    {
        check_mangled("EXECMARK1 " + payload + " unsigned=");
        check_mangled("EXECMARK1 " + payload + " unsigned=No-Agent");
        check_mangled("EXECMARK1 " + payload + " unsigned=no agent");
    }
    SECTION("longer than 1024 bytes")
    {
        const std::string big = "{\"k\":\"" + std::string(k_max_payload_bytes, 'x') + "\"}";
        check_mangled(format_signed(big, test_signature()));
        const std::string fits = "{\"k\":\"" + std::string(k_max_payload_bytes - 8, 'x') + "\"}";
        REQUIRE(fits.size() == k_max_payload_bytes);
        const std::string line = format_signed(fits, test_signature());
        CHECK(line.size() == k_max_line_bytes);
        CHECK(extract(line + "\r\r").status == ExtractStatus::ok);
        // An unsigned line has room for a longer payload, but the payload limit is the same.
        const std::string over = "{\"k\":\"" + std::string(k_max_payload_bytes - 7, 'x') + "\"}";
        check_mangled(format_unsigned(over, k_reason_no_agent));
    }
}
