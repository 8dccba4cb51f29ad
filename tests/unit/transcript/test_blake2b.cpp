// SPDX-License-Identifier: MIT
// The fingerprint's own BLAKE2b against RFC 7693's test vector and libsodium's
// crypto_generichash (the function the chain was defined with), for every length around the
// block boundaries, every digest size libsodium offers, and inputs cut into pieces of every
// shape (the chain feeds whatever the relay read).
#include <agent/transcript/blake2b.hpp>

#include <catch2/catch.hpp>
#include <sodium.h>

#include <random>
#include <string>
#include <vector>

using execmark::transcript::Blake2b;

namespace {

std::string hex(const unsigned char* data, std::size_t size)
{
    static constexpr char k_digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < size; ++i) {
        out.push_back(k_digits[data[i] >> 4]);
        out.push_back(k_digits[data[i] & 0x0F]);
    }
    return out;
}

std::vector<unsigned char> sodium_digest(const std::vector<unsigned char>& input,
                                         std::size_t digest_bytes)
{
    std::vector<unsigned char> out(digest_bytes);
    REQUIRE(crypto_generichash(out.data(), out.size(), input.data(), input.size(), nullptr, 0)
            == 0);
    return out;
}

std::vector<unsigned char>
own_digest(const std::vector<unsigned char>& input, std::size_t digest_bytes, std::size_t piece)
{
    Blake2b hash(digest_bytes);
    std::size_t at = 0;
    while (at < input.size()) {
        const std::size_t take = std::min(piece, input.size() - at);
        hash.update(input.data() + at, take);
        at += take;
    }
    std::vector<unsigned char> out(digest_bytes);
    hash.final(out.data());
    return out;
}

std::vector<unsigned char> pattern(std::size_t size)
{
    std::vector<unsigned char> bytes(size);
    for (std::size_t i = 0; i < size; ++i) {
        bytes[i] = static_cast<unsigned char>(i * 131 + (i >> 7));
    }
    return bytes;
}

} // namespace

TEST_CASE("blake2b: RFC 7693 appendix A, BLAKE2b-512 of abc")
{
    Blake2b hash(64);
    hash.update("abc");
    unsigned char out[64];
    hash.final(out);
    CHECK(hex(out, sizeof out)
          == "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
             "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
}

TEST_CASE("blake2b: the empty input, 32-byte digest, is libsodium's")
{
    Blake2b hash(32);
    unsigned char out[32];
    hash.final(out);
    const std::vector<unsigned char> expected = sodium_digest({}, 32);
    CHECK(hex(out, 32) == hex(expected.data(), 32));
}

TEST_CASE("blake2b: every length up to five blocks, whole and byte by byte, is libsodium's")
{
    REQUIRE(sodium_init() >= 0);
    for (std::size_t size = 0; size <= 5 * Blake2b::k_block_bytes + 1; ++size) {
        const auto input = pattern(size);
        const auto expected = sodium_digest(input, 32);
        INFO("size " << size);
        CHECK(own_digest(input, 32, input.size() + 1) == expected);
        CHECK(own_digest(input, 32, 1) == expected);
        CHECK(own_digest(input, 32, Blake2b::k_block_bytes) == expected);
    }
}

TEST_CASE("blake2b: every digest size libsodium offers")
{
    const auto input = pattern(1000);
    for (std::size_t bytes = crypto_generichash_BYTES_MIN; bytes <= crypto_generichash_BYTES_MAX;
         ++bytes) {
        INFO("digest bytes " << bytes);
        CHECK(own_digest(input, bytes, 77) == sodium_digest(input, bytes));
    }
}

TEST_CASE("blake2b: a MiB in random pieces, and reset() starts over")
{
    const auto input = pattern(1 << 20);
    const auto expected = sodium_digest(input, 32);
    std::mt19937 random(7);
    Blake2b hash(32);
    for (int round = 0; round < 2; ++round) {
        std::size_t at = 0;
        while (at < input.size()) {
            const std::size_t take = std::min<std::size_t>(random() % 9000, input.size() - at);
            hash.update(input.data() + at, take);
            at += take;
        }
        std::vector<unsigned char> out(32);
        hash.final(out.data());
        CHECK(out == expected);
        hash.reset();
    }
}
