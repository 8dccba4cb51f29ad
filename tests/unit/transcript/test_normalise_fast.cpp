// SPDX-License-Identifier: MIT
// The normaliser's fast paths (bulk runs, CR LF in place, whole UTF-8 characters copied) against
// the byte-by-byte rules they replace: the normaliser as it was before them is kept here as the
// reference. Every input, in any split, must give the same bytes.
#include <agent/transcript/transcript.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using execmark::transcript::k_max_frame_bytes;
using execmark::transcript::k_replacement;
using execmark::transcript::normalise;
using execmark::transcript::Normaliser;
using execmark::transcript::StringSink;
using execmark::transcript::TypescriptReader;

namespace {

// The per-byte state machine of the normaliser before the fast paths (commit b917e55).
class ReferenceNormaliser {
public:
    void feed(std::string_view raw, std::string& out);
    void finish(std::string& out);

private:
    void emit_replacement(std::string& out);
    void emit_char(std::string_view bytes, std::string& out);
    void flush_partial_as_invalid(std::string& out);

    std::uint64_t m_raw_bytes = 0;
    std::uint64_t m_pending_cr = 0;
    std::array<unsigned char, 4> m_partial{};
    std::size_t m_partial_len = 0;
    bool m_in_bad_run = false;
};

} // namespace

namespace {

// Whether byte may stand at position pos (1..3) of a sequence led by lead (Unicode Table 3-7:
// no overlong forms, no surrogates, nothing above U+10FFFF).
bool continuation_ok(unsigned char lead, std::size_t pos, unsigned char byte)
{
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (pos == 1) {
        if (lead == 0xE0) {
            low = 0xA0;
        } else if (lead == 0xED) {
            high = 0x9F;
        } else if (lead == 0xF0) {
            low = 0x90;
        } else if (lead == 0xF4) {
            high = 0x8F;
        }
    }
    return byte >= low && byte <= high;
}

} // namespace

void ReferenceNormaliser::emit_replacement(std::string& out)
{
    if (m_pending_cr > 0) {
        // CRs not followed by LF are ordinary characters.
        out.append(m_pending_cr, '\r');
        m_pending_cr = 0;
        m_in_bad_run = false;
    }
    if (!m_in_bad_run) {
        out.append(k_replacement);
        m_in_bad_run = true;
    }
}

void ReferenceNormaliser::emit_char(std::string_view bytes, std::string& out)
{
    if (bytes.size() == 1 && bytes[0] == '\n') {
        m_pending_cr = 0; // rule 2: CR+ LF -> LF
    } else if (m_pending_cr > 0) {
        out.append(m_pending_cr, '\r');
        m_pending_cr = 0;
    }
    out.append(bytes);
    m_in_bad_run = false;
}

void ReferenceNormaliser::flush_partial_as_invalid(std::string& out)
{
    if (m_partial_len > 0) {
        m_partial_len = 0;
        emit_replacement(out);
    }
}

void ReferenceNormaliser::feed(std::string_view raw, std::string& out)
{
    m_raw_bytes += raw.size();
    out.reserve(out.size() + raw.size() + 3);
    std::size_t i = 0;
    while (i < raw.size()) {
        const auto byte = static_cast<unsigned char>(raw[i]);
        if (m_partial_len > 0) {
            if (!continuation_ok(m_partial[0], m_partial_len, byte)) {
                // The sequence so far is ill-formed; this byte starts afresh.
                flush_partial_as_invalid(out);
                continue;
            }
            m_partial[m_partial_len++] = byte;
            ++i;
            if (m_partial_len == execmark::transcript::utf8_sequence_length(m_partial[0])) {
                const std::string_view character(reinterpret_cast<const char*>(m_partial.data()),
                                                 m_partial_len);
                m_partial_len = 0;
                if (character == k_replacement) {
                    emit_replacement(out);
                } else {
                    emit_char(character, out);
                }
            }
            continue;
        }
        if (byte < 0x80) {
            // Fast path: a run of ASCII other than CR goes out in one append.
            if (byte == '\r') {
                ++m_pending_cr;
                ++i;
                continue;
            }
            std::size_t end = i + 1;
            while (end < raw.size() && static_cast<unsigned char>(raw[end]) < 0x80
                   && raw[end] != '\r') {
                ++end;
            }
            if (byte == '\n' || m_pending_cr == 0) {
                emit_char(raw.substr(i, 1), out);
                out.append(raw.substr(i + 1, end - i - 1));
            } else {
                emit_char(raw.substr(i, end - i), out);
            }
            i = end;
            continue;
        }
        if (execmark::transcript::utf8_sequence_length(byte) == 0) {
            emit_replacement(out);
            ++i;
            continue;
        }
        m_partial[0] = byte;
        m_partial_len = 1;
        ++i;
    }
}

void ReferenceNormaliser::finish(std::string& out)
{
    flush_partial_as_invalid(out);
    m_pending_cr = 0; // rule 3: a CR run at the end is dropped
    m_in_bad_run = false;
    m_raw_bytes = 0;
}

namespace {

std::string reference(std::string_view raw)
{
    ReferenceNormaliser normaliser;
    std::string out;
    normaliser.feed(raw, out);
    normaliser.finish(out);
    return out;
}

// Terminal-like output with everything the rules look at, in runs long and short: ASCII runs
// (shorter and longer than a SIMD block), CR runs before LF and before other bytes, well-formed
// 2-4 byte characters, U+FFFD, ill-formed and truncated sequences, NULs.
std::string random_bytes(std::mt19937& rng, std::size_t size)
{
    static const std::vector<std::string> pieces = {"a",
                                                    "prompt$ ls -la --color=auto",
                                                    std::string(40, 'x'),
                                                    "\x1b[01;34m",
                                                    "\r",
                                                    "\r\r",
                                                    "\r\r\n",
                                                    "\r\n",
                                                    "\n",
                                                    "\xC3\xA9",
                                                    "\xE2\x82\xAC",
                                                    "\xF0\x9F\x98\x80",
                                                    std::string(k_replacement),
                                                    "\xff",
                                                    "\xfe\x80",
                                                    "\xC0\xAF",
                                                    "\xED\xA0\x80",
                                                    "\xF4\x90\x80\x80",
                                                    "\xE2\x82",
                                                    "\xF0\x9F",
                                                    "\xE0\x80",
                                                    std::string(1, '\0'),
                                                    "\t",
                                                    " "};
    std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
    std::uniform_int_distribution<int> byte(0, 255);
    std::string out;
    while (out.size() < size) {
        if (rng() % 16 == 0) {
            out.push_back(static_cast<char>(byte(rng)));
        } else {
            out += pieces[pick(rng)];
        }
    }
    return out;
}

} // namespace

TEST_CASE("normalise fast paths: same output as the per-byte rules, whole and in any split")
{
    std::mt19937 rng(20261205);
    for (int round = 0; round < 2000; ++round) {
        const std::size_t size = std::uniform_int_distribution<std::size_t>(0, 600)(rng);
        const std::string raw = random_bytes(rng, size);
        const std::string want = reference(raw);
        CAPTURE(round, raw);
        REQUIRE(normalise(raw) == want);
        // Random splits, as the recorder's reads and the auditor's chunks make them.
        Normaliser normaliser;
        std::string out;
        std::size_t pos = 0;
        const std::size_t max_piece = round % 3 == 0 ? 3 : 64;
        while (pos < raw.size()) {
            const std::size_t n = std::min<std::size_t>(
                std::uniform_int_distribution<std::size_t>(1, max_piece)(rng), raw.size() - pos);
            normaliser.feed(std::string_view(raw).substr(pos, n), out);
            pos += n;
        }
        normaliser.finish(out);
        REQUIRE(out == want);
    }
}

TEST_CASE("normalise fast paths: every split point of a mixed sample")
{
    const std::string raw = "abc\r\r\ndef\xE2\x82\xAC\r\rg\xEF\xBF\xBD\xff\xF0\x9F\x98\x80"
                            "0123456789abcdef0123456789\r\n\r";
    const std::string want = reference(raw);
    for (std::size_t cut = 0; cut <= raw.size(); ++cut) {
        for (std::size_t cut2 = cut; cut2 <= raw.size(); ++cut2) {
            Normaliser normaliser;
            std::string out;
            normaliser.feed(std::string_view(raw).substr(0, cut), out);
            normaliser.feed(std::string_view(raw).substr(cut, cut2 - cut), out);
            normaliser.feed(std::string_view(raw).substr(cut2), out);
            normaliser.finish(out);
            CAPTURE(cut, cut2);
            REQUIRE(out == want);
        }
    }
}

TEST_CASE("normalise fast paths: a long CR run held back across feeds")
{
    for (const char after : {'\n', 'x'}) {
        std::string raw = "start" + std::string(100000, '\r');
        raw.push_back(after);
        Normaliser normaliser;
        std::string out;
        for (std::size_t pos = 0; pos < raw.size(); pos += 4096) {
            normaliser.feed(std::string_view(raw).substr(pos, 4096), out);
        }
        normaliser.finish(out);
        CHECK(out == reference(raw));
    }
}

TEST_CASE("typescript reader: the output does not depend on how the file is split")
{
    // Footer lines up to k_max_frame_bytes long (the longest one stripped) and one byte longer,
    // after bodies of many sizes: the bytes kept back for the footer never depend on the split.
    std::mt19937 rng(4242);
    for (int round = 0; round < 60; ++round) {
        const std::size_t body = std::uniform_int_distribution<std::size_t>(0, 30000)(rng);
        const std::size_t footer_line =
            k_max_frame_bytes - 1 + std::uniform_int_distribution<std::size_t>(0, 2)(rng);
        std::string file = "Script started on x\n" + random_bytes(rng, body);
        std::string footer = "\nScript done on ";
        footer.append(footer_line - footer.size(), 'y');
        file += footer + "\n";
        StringSink whole;
        TypescriptReader whole_reader(whole);
        whole_reader.feed(file);
        whole_reader.finish();
        CAPTURE(round, body, footer_line);
        CHECK(whole_reader.footer_seen() == (footer_line <= k_max_frame_bytes));
        for (const std::size_t chunk : {std::size_t{1} + rng() % 97,
                                        std::size_t{4097},
                                        std::size_t{8193},
                                        std::size_t{262144}}) {
            StringSink sink;
            TypescriptReader reader(sink);
            for (std::size_t pos = 0; pos < file.size(); pos += chunk) {
                reader.feed(std::string_view(file).substr(pos, chunk));
            }
            reader.finish();
            CHECK(reader.footer_seen() == whole_reader.footer_seen());
            CHECK(sink.text() == whole.text());
        }
    }
}
