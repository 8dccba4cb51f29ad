// SPDX-License-Identifier: MIT
#include <agent/marker/marker.hpp>

#include <sodium.h>

#include <algorithm>

namespace execmark::marker {

namespace {

constexpr std::string_view k_b64url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::size_t k_key_id_hash_bytes = 8;
constexpr std::size_t k_chain_hash_bytes = 16;

// sodium_init only selects the fastest implementations (verification throughput); the
// primitives used here are correct without it, so its result is not an error path.
void ensure_sodium()
{
    static const bool initialised = sodium_init() >= 0;
    static_cast<void>(initialised);
}

const unsigned char* bytes_of(std::string_view text)
{
    return reinterpret_cast<const unsigned char*>(text.data());
}

std::string signed_message(std::string_view payload)
{
    std::string message;
    message.reserve(k_sig_context.size() + payload.size());
    message += k_sig_context;
    message += payload;
    return message;
}

int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

template <std::size_t N>
std::string hex_blake2b(const unsigned char* data, std::size_t size)
{
    ensure_sodium();
    std::array<unsigned char, N> hash{};
    crypto_generichash(hash.data(), hash.size(), data, size, nullptr, 0);
    std::array<char, N * 2 + 1> hex{};
    sodium_bin2hex(hex.data(), hex.size(), hash.data(), hash.size());
    return {hex.data(), N * 2};
}

} // namespace

Signature sign(std::string_view payload, SecretKey sk)
{
    ensure_sodium();
    const std::string message = signed_message(payload);
    Signature sig{};
    crypto_sign_detached(sig.data(), nullptr, bytes_of(message), message.size(), sk.data());
    return sig;
}

bool verify(std::string_view payload, const Signature& sig, const PublicKey& pk)
{
    ensure_sodium();
    const std::string message = signed_message(payload);
    return crypto_sign_verify_detached(sig.data(), bytes_of(message), message.size(), pk.data())
           == 0;
}

PublicKey public_key_of(SecretKey sk)
{
    PublicKey pk{};
    std::copy(
        sk.begin() + static_cast<std::ptrdiff_t>(sk.size() - pk.size()), sk.end(), pk.begin());
    return pk;
}

std::string base64url(std::span<const unsigned char> bytes)
{
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    std::uint32_t acc = 0;
    unsigned bits = 0;
    for (const unsigned char byte : bytes) {
        acc = (acc << 8U) | byte;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(k_b64url_alphabet[(acc >> bits) & 0x3FU]);
        }
    }
    if (bits > 0) {
        out.push_back(k_b64url_alphabet[(acc << (6 - bits)) & 0x3FU]);
    }
    return out;
}

std::optional<std::vector<unsigned char>> from_base64url(std::string_view text)
{
    // One leftover character carries fewer than 8 bits: never produced by an encoder.
    if (text.size() % 4 == 1) {
        return std::nullopt;
    }
    std::vector<unsigned char> out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t acc = 0;
    unsigned bits = 0;
    for (const char c : text) {
        const int value = b64url_value(c);
        if (value < 0) {
            return std::nullopt;
        }
        acc = ((acc << 6U) | static_cast<std::uint32_t>(value)) & 0xFFFFU;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<unsigned char>(acc >> bits));
        }
    }
    // Unused trailing bits must be zero so that every byte string has exactly one encoding.
    if ((acc & ((1U << bits) - 1U)) != 0) {
        return std::nullopt;
    }
    return out;
}

std::optional<PublicKey> public_key_from_base64url(std::string_view text)
{
    if (text.size() != k_public_key_chars) {
        return std::nullopt;
    }
    const auto bytes = from_base64url(text);
    if (!bytes || bytes->size() != PublicKey{}.size()) {
        return std::nullopt;
    }
    PublicKey pk{};
    std::copy(bytes->begin(), bytes->end(), pk.begin());
    return pk;
}

std::string key_id(const PublicKey& pk)
{
    return "k" + hex_blake2b<k_key_id_hash_bytes>(pk.data(), pk.size());
}

std::string chain_hash(std::string_view payload)
{
    return hex_blake2b<k_chain_hash_bytes>(bytes_of(payload), payload.size());
}

} // namespace execmark::marker
