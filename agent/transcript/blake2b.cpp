// SPDX-License-Identifier: MIT
#include <agent/transcript/blake2b.hpp>

#include <algorithm>
#include <bit>
#include <cstring>
#include <utility>

namespace execmark::transcript {

namespace {

constexpr std::array<std::uint64_t, 8> k_iv = {
    0x6a09e667f3bcc908ULL,
    0xbb67ae8584caa73bULL,
    0x3c6ef372fe94f82bULL,
    0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL,
    0x9b05688c2b3e6c1fULL,
    0x1f83d9abfb41bd6bULL,
    0x5be0cd19137e2179ULL,
};

// Message word schedule (RFC 7693 section 2.7); rounds 10 and 11 use rows 0 and 1 again.
constexpr std::uint8_t k_sigma[10][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
};

constexpr std::uint64_t rotr(std::uint64_t x, int n)
{
    return (x >> n) | (x << (64 - n));
}

// One load (a byte loop is not always merged into one: 0.7 x the speed under GCC 12 -O2).
std::uint64_t load_le64(const unsigned char* p)
{
    std::uint64_t value = 0;
    std::memcpy(&value, p, sizeof value);
    if constexpr (std::endian::native == std::endian::big) {
        value = __builtin_bswap64(value);
    }
    return value;
}

// The mixing function G on columns or diagonals (a, b, c, d) with message words x and y.
// Templates, so that every index is a constant and the 16 words stay in registers.
template <int A, int B, int C, int D>
inline __attribute__((always_inline)) void mix(std::uint64_t* v, std::uint64_t x, std::uint64_t y)
{
    v[A] = v[A] + v[B] + x;
    v[D] = rotr(v[D] ^ v[A], 32);
    v[C] = v[C] + v[D];
    v[B] = rotr(v[B] ^ v[C], 24);
    v[A] = v[A] + v[B] + y;
    v[D] = rotr(v[D] ^ v[A], 16);
    v[C] = v[C] + v[D];
    v[B] = rotr(v[B] ^ v[C], 63);
}

template <std::size_t R>
inline __attribute__((always_inline)) void round(std::uint64_t* v, const std::uint64_t* m)
{
    constexpr const std::uint8_t* s = k_sigma[R % 10];
    mix<0, 4, 8, 12>(v, m[s[0]], m[s[1]]);
    mix<1, 5, 9, 13>(v, m[s[2]], m[s[3]]);
    mix<2, 6, 10, 14>(v, m[s[4]], m[s[5]]);
    mix<3, 7, 11, 15>(v, m[s[6]], m[s[7]]);
    mix<0, 5, 10, 15>(v, m[s[8]], m[s[9]]);
    mix<1, 6, 11, 12>(v, m[s[10]], m[s[11]]);
    mix<2, 7, 8, 13>(v, m[s[12]], m[s[13]]);
    mix<3, 4, 9, 14>(v, m[s[14]], m[s[15]]);
}

// The twelve rounds, each with its constant row of the schedule.
template <std::size_t... R>
inline __attribute__((always_inline)) void
all_rounds(std::uint64_t* v, const std::uint64_t* m, std::index_sequence<R...> /*rounds*/)
{
    (round<R>(v, m), ...);
}

} // namespace

Blake2b::Blake2b(std::size_t digest_bytes)
    : m_digest_bytes(std::clamp<std::size_t>(digest_bytes, 1, k_max_digest_bytes))
{
    reset();
}

void Blake2b::reset()
{
    m_h = k_iv;
    // Parameter block word 0: digest length, key length 0, fanout 1, depth 1 (sequential mode).
    m_h[0] ^= 0x01010000ULL ^ m_digest_bytes;
    m_t0 = 0;
    m_t1 = 0;
    m_buffered = 0;
}

void Blake2b::count(std::uint64_t bytes)
{
    m_t0 += bytes;
    if (m_t0 < bytes) {
        ++m_t1;
    }
}

void Blake2b::compress(const unsigned char* block, bool last)
{
    std::uint64_t m[16];
    for (int i = 0; i < 16; ++i) {
        m[i] = load_le64(block + 8 * i);
    }
    std::uint64_t v[16];
    for (int i = 0; i < 8; ++i) {
        v[i] = m_h[static_cast<std::size_t>(i)];
        v[i + 8] = k_iv[static_cast<std::size_t>(i)];
    }
    v[12] ^= m_t0;
    v[13] ^= m_t1;
    if (last) {
        v[14] = ~v[14];
    }
    all_rounds(v, m, std::make_index_sequence<12>{});
    for (int i = 0; i < 8; ++i) {
        m_h[static_cast<std::size_t>(i)] ^= v[i] ^ v[i + 8];
    }
}

void Blake2b::update(const unsigned char* data, std::size_t size)
{
    if (size == 0) {
        return;
    }
    // The last block is compressed with the final flag, so a block is compressed only once
    // more input is known to follow it: a full buffer waits for the next byte.
    const std::size_t room = k_block_bytes - m_buffered;
    if (size > room) {
        std::memcpy(m_buffer.data() + m_buffered, data, room);
        count(k_block_bytes);
        compress(m_buffer.data(), false);
        m_buffered = 0;
        data += room;
        size -= room;
        while (size > k_block_bytes) {
            count(k_block_bytes);
            compress(data, false);
            data += k_block_bytes;
            size -= k_block_bytes;
        }
    }
    std::memcpy(m_buffer.data() + m_buffered, data, size);
    m_buffered += size;
}

void Blake2b::final(unsigned char* out)
{
    count(m_buffered);
    std::memset(m_buffer.data() + m_buffered, 0, k_block_bytes - m_buffered);
    compress(m_buffer.data(), true);
    unsigned char digest[k_max_digest_bytes];
    for (std::size_t i = 0; i < 8; ++i) {
        for (std::size_t j = 0; j < 8; ++j) {
            digest[8 * i + j] = static_cast<unsigned char>(m_h[i] >> (8 * j));
        }
    }
    std::memcpy(out, digest, m_digest_bytes);
}

} // namespace execmark::transcript
