// SPDX-License-Identifier: MIT
#pragma once

// BLAKE2b (RFC 7693), unkeyed, for the content fingerprint's hash chain: the same function as
// libsodium's crypto_generichash, in portable 64-bit code. Why not libsodium's: its
// run-time-selected AVX2 compression runs at 0.53 x this code's speed on the EPYC machines
// this project is measured on (627 vs 1,190 MB/s, docs/benchmarks.md "BLAKE2b"), and the
// fingerprint hashes every byte a session's shell prints and every byte the auditor reads.
// tests/unit/transcript/test_blake2b.cpp checks it against libsodium and RFC 7693's vector.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace execmark::transcript {

class Blake2b {
public:
    static constexpr std::size_t k_block_bytes = 128;
    static constexpr std::size_t k_max_digest_bytes = 64;

    // digest_bytes: 1 to 64 (out of range is clamped); it is part of the parameter block, so a
    // 32-byte digest is not the first half of the 64-byte one.
    explicit Blake2b(std::size_t digest_bytes);

    void update(const unsigned char* data, std::size_t size);

    void update(std::string_view bytes)
    {
        update(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    }

    // Writes digest_bytes bytes to out. The object is then spent until reset().
    void final(unsigned char* out);

    // Back to the state of a new object with the same digest size.
    void reset();

private:
    void compress(const unsigned char* block, bool last);
    void count(std::uint64_t bytes);

    std::array<std::uint64_t, 8> m_h{};
    std::uint64_t m_t0 = 0;
    std::uint64_t m_t1 = 0;
    std::array<unsigned char, k_block_bytes> m_buffer{};
    std::size_t m_buffered = 0;
    std::size_t m_digest_bytes;
};

} // namespace execmark::transcript
