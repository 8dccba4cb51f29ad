// SPDX-License-Identifier: MIT
#pragma once

// The content fingerprint of a terminal session (docs/markers.md, "Content fingerprint"): one
// normalisation of terminal output bytes that everything SSM does between the pty and storage
// leaves unchanged, a hash chain over the normalised bytes, and the readers that take a stored
// transcript (S3 typescript, CloudWatch events) back to the normalised stream. Pure, no I/O:
// the recorder (streaming, any chunking) and the auditor (a stored transcript) both link it.

#include <agent/transcript/blake2b.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace execmark::transcript {

// The SSM agent's MessageLengthThresholdInBytes: a CloudWatch event holds whole lines up to
// this size; a longer line is cut into pieces of exactly this many bytes.
inline constexpr std::size_t k_cloudwatch_event_bytes = 200000;
// util-linux `script` framing: first line of the file, and the footer at its very end.
inline constexpr std::string_view k_script_header = "Script started on ";
inline constexpr std::string_view k_script_footer = "\nScript done on ";
// Longest header or footer line the readers strip; longer ones are left in the stream.
inline constexpr std::size_t k_max_frame_bytes = 4096;
// Domain separation of every chain step (format version in the text).
inline constexpr std::string_view k_chain_context = "execmark/transcript/1";
inline constexpr std::size_t k_hash_bytes = 32;                   // BLAKE2b-256 (blake2b.hpp)
inline constexpr std::string_view k_replacement = "\xEF\xBF\xBD"; // U+FFFD in UTF-8

using Hash = std::array<unsigned char, k_hash_bytes>;

// Bytes of a well-formed UTF-8 sequence led by this byte: 1 for ASCII, 2 to 4, 0 for a byte that
// cannot lead one (continuation bytes, C0, C1, F5..FF).
std::size_t utf8_sequence_length(unsigned char lead);

// 64 lowercase hex digits.
std::string to_hex(const Hash& hash);

// A growable byte buffer whose free space is not zero-filled: the normaliser writes into it
// directly. Reused across feeds (clear() keeps the allocation).
class ByteBuffer {
public:
    [[nodiscard]] std::string_view view() const { return {m_data.get(), m_size}; }

    [[nodiscard]] std::size_t size() const { return m_size; }

    [[nodiscard]] bool empty() const { return m_size == 0; }

    void clear() { m_size = 0; }

    // Room for n more bytes after the end; returns where they go (valid until the next call).
    char* reserve_tail(std::size_t n);

    // The bytes up to end (a pointer into the room reserve_tail gave) are now part of it.
    void commit(const char* end) { m_size = static_cast<std::size_t>(end - m_data.get()); }

    void append(std::string_view bytes);

private:
    std::unique_ptr<char[]> m_data;
    std::size_t m_size = 0;
    std::size_t m_capacity = 0;
};

// Streaming normaliser (the rules are docs/markers.md, "Content fingerprint"):
//  1. every maximal run of bytes that are not well-formed UTF-8, together with any U+FFFD
//     characters adjacent to them, becomes one U+FFFD;
//  2. every run of CRs directly followed by LF becomes that LF;
//  3. a run of CRs at the very end of the stream is dropped.
// normalise(a + b) == feed(a) + feed(b) + finish() for any split: bytes whose form depends on
// what follows (a CR run, an incomplete UTF-8 sequence) are held back until it is known.
class Normaliser {
public:
    // Appends the normalised form of raw (as far as it is decided) to out.
    void feed(std::string_view raw, std::string& out);
    void feed(std::string_view raw, ByteBuffer& out);
    // End of the stream: flushes what was held back (rules 1 and 3). The object is then reset.
    void finish(std::string& out);
    void finish(ByteBuffer& out);

    // Raw bytes fed so far (held-back ones included).
    [[nodiscard]] std::uint64_t raw_bytes() const { return m_raw_bytes; }

private:
    class Writer;

    // One step of the general rules at raw[i] (held-back state, CR runs, non-ASCII); returns
    // the index of the next byte to look at.
    std::size_t step(std::string_view raw, std::size_t i, Writer& out);
    void emit_replacement(Writer& out);
    void emit_char(std::string_view bytes, Writer& out);
    void flush_partial_as_invalid(Writer& out);

    std::uint64_t m_raw_bytes = 0;
    std::uint64_t m_pending_cr = 0;           // CRs seen, not yet emitted
    std::array<unsigned char, 4> m_partial{}; // incomplete UTF-8 sequence
    std::size_t m_partial_len = 0;
    bool m_in_bad_run = false; // last emitted character is a U+FFFD of rule 1
};

// The whole normalised form of raw (one feed and finish).
std::string normalise(std::string_view raw);

// One point of the chain: checkpoint `index` (1, 2, ...) covers the normalised bytes
// [0, offset); hash = BLAKE2b-256(context 0x00 || previous hash || bytes since the previous
// checkpoint || le64(offset) || le64(index)); the previous hash of checkpoint 1 is all zeros.
struct Checkpoint {
    std::uint64_t index = 0;
    std::uint64_t offset = 0;
    Hash hash{};

    friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

// The hash chain over normalised bytes. Checkpoints may be taken at any offset, also twice at
// the same one (an empty segment).
class Chain {
public:
    Chain();

    void update(std::string_view normalised);
    // Closes the current segment.
    Checkpoint checkpoint();

    [[nodiscard]] std::uint64_t offset() const { return m_offset; }

    [[nodiscard]] std::uint64_t checkpoints() const { return m_index; }

private:
    void start_segment();

    Blake2b m_hash{k_hash_bytes};
    Hash m_prev{};
    std::uint64_t m_offset = 0;
    std::uint64_t m_index = 0;
};

// The recorder's side: raw terminal output in, checkpoints out.
class Fingerprint {
public:
    void feed(std::string_view raw);
    // A checkpoint over everything normalised so far (held-back bytes are not yet covered).
    Checkpoint checkpoint();
    // End of the stream: flushes the normaliser and takes the last checkpoint.
    Checkpoint finish();

    [[nodiscard]] std::uint64_t raw_bytes() const { return m_normaliser.raw_bytes(); }

    [[nodiscard]] std::uint64_t offset() const { return m_chain.offset(); }

private:
    Normaliser m_normaliser;
    Chain m_chain;
    ByteBuffer m_buffer;
};

// Receives normalised bytes from a reader, in order.
class Sink {
public:
    virtual ~Sink() = default;
    virtual void normalised(std::string_view bytes) = 0;
};

// Appends everything to a string.
class StringSink final : public Sink {
public:
    void normalised(std::string_view bytes) override { m_text.append(bytes); }

    [[nodiscard]] const std::string& text() const { return m_text; }

private:
    std::string m_text;
};

// Recomputes the chain from normalised bytes at the offsets a recorder reported (ascending;
// equal offsets allowed). checkpoints() holds those reached so far.
class Recomputer final : public Sink {
public:
    explicit Recomputer(std::vector<std::uint64_t> offsets);

    void normalised(std::string_view bytes) override;

    [[nodiscard]] const std::vector<Checkpoint>& checkpoints() const { return m_done; }

    [[nodiscard]] std::uint64_t offset() const { return m_chain.offset(); }

private:
    void take_due();

    std::vector<std::uint64_t> m_offsets;
    std::size_t m_next = 0;
    Chain m_chain;
    std::vector<Checkpoint> m_done;
};

// Strips util-linux `script` framing from a byte stream and normalises the rest into a sink:
// the first line when it starts with "Script started on ", and "\nScript done on ...\n" at the
// very end (each at most k_max_frame_bytes). Keeps at most k_max_frame_bytes of lag.
class Unframer {
public:
    explicit Unframer(Sink& sink)
        : m_sink(sink)
    {}

    void feed(std::string_view bytes);
    void finish();

    [[nodiscard]] bool header_seen() const { return m_header == HeaderState::stripped; }

    [[nodiscard]] bool footer_seen() const { return m_footer_seen; }

private:
    enum class HeaderState { undecided, stripped, absent };

    void pass(std::string_view bytes);

    Sink& m_sink;
    Normaliser m_normaliser;
    HeaderState m_header = HeaderState::undecided;
    std::string m_head; // while undecided
    std::string m_tail; // lag for the footer: the last bytes fed (see pass)
    ByteBuffer m_out;
    bool m_footer_seen = false;
};

// The S3 object (the whole `script` typescript file SSM uploads), in chunks.
class TypescriptReader {
public:
    explicit TypescriptReader(Sink& sink)
        : m_unframer(sink)
    {}

    void feed(std::string_view bytes) { m_unframer.feed(bytes); }

    void finish() { m_unframer.finish(); }

    [[nodiscard]] bool header_seen() const { return m_unframer.header_seen(); }

    [[nodiscard]] bool footer_seen() const { return m_unframer.footer_seen(); }

private:
    Unframer m_unframer;
};

// The CloudWatch events of one session stream, in order (from get-log-events or
// filter-log-events pages, or an export). An event that has no LF and at least
// k_cloudwatch_event_bytes bytes is a piece of a longer line and is joined to the next one
// as is; after every other event the LF that SSM dropped is put back.
class CloudWatchReader {
public:
    explicit CloudWatchReader(Sink& sink)
        : m_unframer(sink)
    {}

    void event(std::string_view message);
    void finish();

    [[nodiscard]] std::uint64_t events() const { return m_events; }

    [[nodiscard]] bool header_seen() const { return m_unframer.header_seen(); }

    [[nodiscard]] bool footer_seen() const { return m_unframer.footer_seen(); }

private:
    Unframer m_unframer;
    std::uint64_t m_events = 0;
    bool m_last_was_piece = false;
};

// Whether a CloudWatch event message is a piece of a longer line (see CloudWatchReader).
bool is_cloudwatch_piece(std::string_view message);

// Whole-input conveniences.
std::string normalise_typescript(std::string_view object);
std::string normalise_cloudwatch(std::span<const std::string> messages);

} // namespace execmark::transcript
