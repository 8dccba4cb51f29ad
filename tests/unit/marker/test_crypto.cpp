// SPDX-License-Identifier: MIT
// Signing, verification, base64url, key ids and chain hashes.
#include <agent/marker/marker.hpp>

#include <catch2/catch.hpp>
#include <sodium.h>

#include <string>
#include <vector>

using namespace execmark::marker;

namespace {

struct TestKey {
    PublicKey pk{};
    std::array<unsigned char, 64> sk{};

    TestKey()
    {
        REQUIRE(sodium_init() >= 0);
        crypto_sign_keypair(pk.data(), sk.data());
    }

    [[nodiscard]] SecretKey secret() const { return SecretKey(sk); }
};

std::vector<unsigned char> bytes(std::string_view text)
{
    return {text.begin(), text.end()};
}

constexpr std::string_view k_payload =
    R"({"v":1,"ev":"open","ts":"2026-11-24T05:40:04.123Z","kid":"k0000000000000000","tseq":4,)"
    R"("sid":"ecs-execute-command-0a1b2c3d4e5f6a7b8","seq":1,"prev":"-","user":"alice"})";

} // namespace

TEST_CASE("sign and verify round trip and another key or payload fails")
{
    const TestKey key;
    const Signature sig = sign(k_payload, key.secret());
    CHECK(verify(k_payload, sig, key.pk));
    CHECK_FALSE(verify(std::string(k_payload) + " ", sig, key.pk));
    const TestKey other;
    CHECK_FALSE(verify(k_payload, sig, other.pk));
    CHECK(public_key_of(key.secret()) == key.pk);
}

TEST_CASE("the signature covers the context string and not the bare payload")
{
    const TestKey key;
    const Signature sig = sign(k_payload, key.secret());
    Signature bare{};
    crypto_sign_detached(bare.data(),
                         nullptr,
                         reinterpret_cast<const unsigned char*>(k_payload.data()),
                         k_payload.size(),
                         key.sk.data());
    CHECK(sig != bare);
    CHECK_FALSE(verify(k_payload, bare, key.pk));
}

TEST_CASE("every single-byte change anywhere in a signed line fails verification")
{
    const TestKey key;
    const std::string line = format_signed(k_payload, sign(k_payload, key.secret()));
    REQUIRE(verify(extract(line).payload, extract(line).signature, key.pk));
    std::size_t checked = 0;
    for (std::size_t pos = 0; pos < line.size(); ++pos) {
        for (int value = 0; value < 256; ++value) {
            const auto replacement = static_cast<char>(value);
            if (line[pos] == replacement) {
                continue;
            }
            std::string changed = line;
            changed[pos] = replacement;
            const Extracted extracted = extract(changed);
            const bool accepted = extracted.status == ExtractStatus::ok && extracted.is_signed
                                  && verify(extracted.payload, extracted.signature, key.pk);
            if (accepted) {
                FAIL_CHECK("accepted with byte " << value << " at position " << pos);
            }
            ++checked;
        }
    }
    CHECK(checked == line.size() * 255);
}

TEST_CASE("base64url encodes without padding and round-trips every length")
{
    CHECK(base64url(bytes("")).empty());
    CHECK(base64url(bytes("f")) == "Zg");
    CHECK(base64url(bytes("fo")) == "Zm8");
    CHECK(base64url(bytes("foo")) == "Zm9v");
    CHECK(base64url(bytes("foob")) == "Zm9vYg");
    CHECK(base64url(std::vector<unsigned char>{0xfb, 0xff}) == "-_8");
    CHECK(base64url(Signature{}).size() == k_signature_chars);
    CHECK(base64url(PublicKey{}).size() == k_public_key_chars);
    std::vector<unsigned char> data;
    for (int length = 0; length < 70; ++length) {
        const auto decoded = from_base64url(base64url(data));
        REQUIRE(decoded);
        CHECK(*decoded == data);
        data.push_back(static_cast<unsigned char>(length * 37 + 11));
    }
}

TEST_CASE("from_base64url is strict")
{
    CHECK_FALSE(from_base64url("Zg=="));  // padding
    CHECK_FALSE(from_base64url("Zm9v+")); // standard alphabet
    CHECK_FALSE(from_base64url("Zm/v"));
    CHECK_FALSE(from_base64url("Zm 9v")); // whitespace
    CHECK_FALSE(from_base64url("Z"));     // impossible length
    CHECK_FALSE(from_base64url("Zh"));    // non-zero unused bits ("Zg" is canonical)
    CHECK_FALSE(from_base64url("Zm9"));   // non-zero unused bits ("Zm8" is canonical)
    CHECK(from_base64url("Zg"));
    CHECK(from_base64url("")->empty());
}

TEST_CASE("public_key_from_base64url wants exactly 43 chars of 32 bytes")
{
    const TestKey key;
    const auto pk = public_key_from_base64url(base64url(key.pk));
    REQUIRE(pk);
    CHECK(*pk == key.pk);
    CHECK_FALSE(public_key_from_base64url(base64url(key.pk) + "A"));
    CHECK_FALSE(public_key_from_base64url(base64url(key.pk).substr(1)));
    CHECK_FALSE(public_key_from_base64url(std::string(43, '*')));
}

TEST_CASE("key_id is k + 16 hex of BLAKE2b-64 of the public key")
{
    const TestKey key;
    const std::string id = key_id(key.pk);
    REQUIRE(id.size() == 17);
    CHECK(id[0] == 'k');
    std::array<unsigned char, 8> hash{};
    crypto_generichash(hash.data(), hash.size(), key.pk.data(), key.pk.size(), nullptr, 0);
    std::array<char, 17> hex{};
    sodium_bin2hex(hex.data(), hex.size(), hash.data(), hash.size());
    CHECK(id.substr(1) == std::string(hex.data()));
    CHECK(key_id(PublicKey{}) != id);
}

TEST_CASE("chain_hash is 32 lowercase hex of BLAKE2b-128 of the payload")
{
    const std::string hash = chain_hash(k_payload);
    CHECK(hash.size() == 32);
    CHECK(hash.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(hash == chain_hash(k_payload));
    CHECK(hash != chain_hash(std::string(k_payload) + " "));
    // BLAKE2b-128 of the empty string (RFC 7693 parameters, 16-byte output).
    CHECK(chain_hash("") == "cae66941d9efbd404e4d88758ea67670");
}
