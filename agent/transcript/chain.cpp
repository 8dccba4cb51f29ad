// SPDX-License-Identifier: MIT
#include <agent/transcript/transcript.hpp>

#include <cstring>

namespace execmark::transcript {

namespace {

void put_le64(std::uint64_t value, unsigned char* out)
{
    for (int i = 0; i < 8; ++i) {
        out[i] = static_cast<unsigned char>(value >> (8 * i));
    }
}

} // namespace

std::string to_hex(const Hash& hash)
{
    static constexpr char k_digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(hash.size() * 2);
    for (const unsigned char byte : hash) {
        out.push_back(k_digits[byte >> 4]);
        out.push_back(k_digits[byte & 0x0F]);
    }
    return out;
}

Chain::Chain()
{
    start_segment();
}

void Chain::start_segment()
{
    m_hash.reset();
    m_hash.update(k_chain_context);
    const unsigned char zero = 0;
    m_hash.update(&zero, 1);
    m_hash.update(m_prev.data(), m_prev.size());
}

void Chain::update(std::string_view normalised)
{
    if (normalised.empty()) {
        return;
    }
    m_hash.update(normalised);
    m_offset += normalised.size();
}

Checkpoint Chain::checkpoint()
{
    Checkpoint point;
    point.index = ++m_index;
    point.offset = m_offset;
    std::array<unsigned char, 16> trailer{};
    put_le64(point.offset, trailer.data());
    put_le64(point.index, trailer.data() + 8);
    m_hash.update(trailer.data(), trailer.size());
    m_hash.final(point.hash.data());
    m_prev = point.hash;
    start_segment();
    return point;
}

void Fingerprint::feed(std::string_view raw)
{
    m_buffer.clear();
    m_normaliser.feed(raw, m_buffer);
    m_chain.update(m_buffer.view());
}

Checkpoint Fingerprint::checkpoint()
{
    return m_chain.checkpoint();
}

Checkpoint Fingerprint::finish()
{
    m_buffer.clear();
    m_normaliser.finish(m_buffer);
    m_chain.update(m_buffer.view());
    return m_chain.checkpoint();
}

Recomputer::Recomputer(std::vector<std::uint64_t> offsets)
    : m_offsets(std::move(offsets))
{
    take_due();
}

void Recomputer::take_due()
{
    while (m_next < m_offsets.size() && m_offsets[m_next] == m_chain.offset()) {
        m_done.push_back(m_chain.checkpoint());
        ++m_next;
    }
}

void Recomputer::normalised(std::string_view bytes)
{
    while (!bytes.empty()) {
        std::size_t take = bytes.size();
        if (m_next < m_offsets.size() && m_offsets[m_next] > m_chain.offset()) {
            const std::uint64_t room = m_offsets[m_next] - m_chain.offset();
            if (room < take) {
                take = static_cast<std::size_t>(room);
            }
        }
        m_chain.update(bytes.substr(0, take));
        bytes.remove_prefix(take);
        take_due();
    }
}

} // namespace execmark::transcript
