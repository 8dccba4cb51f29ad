// SPDX-License-Identifier: MIT
#pragma once

// Byte inputs of the auditor: files, stdin, memory; gzip is recognised by its magic bytes and
// decompressed on the fly (every member of a multi-member file). Reading is streaming: no
// input is ever held whole in memory.

#include <agent/util/result.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace execmark::audit {

// Size of one read from a file; also the size of the look-ahead used for format detection.
inline constexpr std::size_t k_read_chunk_bytes = 256 * 1024;
// Bytes looked at to detect an input's format (after decompression).
inline constexpr std::size_t k_sniff_bytes = 4096;

// A forward-only stream of bytes.
class ByteSource {
public:
    virtual ~ByteSource() = default;

    // Reads up to out.size() bytes into out; 0 means the end. Errors are values.
    virtual util::Result<std::size_t> read(std::span<char> out) = 0;
};

// An opened input: decompressed when it is gzip, with a peek at its first bytes for format
// detection. The name is what messages call it ("-" is stdin).
class Input {
public:
    Input(std::string name, std::unique_ptr<ByteSource> raw);

    // Opens path ("-" = standard input) and detects gzip.
    static util::Result<Input> open(const std::string& path);

    // An input over bytes that the caller keeps alive (tests, fuzzers); gzip detected too.
    static util::Result<Input> from_memory(std::string name, std::string_view bytes);

    // Up to n (<= k_read_chunk_bytes) first bytes of the decompressed stream, without consuming
    // them; shorter only at the end of the input.
    util::Result<std::string_view> peek(std::size_t n);

    // Reads decompressed bytes; 0 at the end.
    util::Result<std::size_t> read(std::span<char> out);

    [[nodiscard]] const std::string& name() const { return m_name; }

    [[nodiscard]] bool gzip() const { return m_gzip; }

    // Compressed (on-disk) bytes consumed so far, for progress reports.
    [[nodiscard]] std::uint64_t raw_bytes() const;

private:
    util::Status detect_gzip();

    std::string m_name;
    std::shared_ptr<std::uint64_t> m_raw_count;
    std::unique_ptr<ByteSource> m_source;
    std::string m_peeked;
    std::size_t m_peek_pos = 0;
    bool m_gzip = false;
};

// Reads everything from in and passes it to consume(std::string_view) in chunks of at most
// k_read_chunk_bytes. Stops at the end of input or on the first error.
template <typename Consume>
util::Status for_each_chunk(Input& in, Consume&& consume)
{
    std::string buffer(k_read_chunk_bytes, '\0');
    for (;;) {
        auto got = in.read(buffer);
        if (!got) {
            return got.error();
        }
        if (*got == 0) {
            return {};
        }
        consume(std::string_view(buffer.data(), *got));
    }
}

} // namespace execmark::audit
