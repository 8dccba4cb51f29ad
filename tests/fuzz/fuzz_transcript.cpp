// SPDX-License-Identifier: MIT
// libFuzzer: the transcript readers, the checkpoint recomputer, the auditor's content check and
// its terminal renderer. The input's first byte picks a chunk size; the rest is read (1) as an S3
// typescript in chunks of that size and whole, (2) split at NUL bytes into CloudWatch events.
// Must not crash or hang; chunking never changes the normalised stream or the checkpoints
// (taken every 97 bytes); the content check without a trusted open finds no region; the
// rendered screen holds no ESC and no line longer than its bound; a terminal's echo of any typed
// input passes the auditor's typed-ahead echo check unchanged; the fingerprint's own BLAKE2b, fed
// in chunks, gives libsodium's crypto_generichash digest of the input.
#include <agent/audit/content.hpp>
#include <agent/audit/screen.hpp>
#include <agent/audit/timeline.hpp>
#include <agent/transcript/blake2b.hpp>
#include <agent/transcript/transcript.hpp>
#include <agent/transcript/typed.hpp>

#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace execmark;

namespace {

void require(bool condition)
{
    if (!condition) {
        std::abort();
    }
}

std::vector<std::uint64_t> offsets_up_to(std::uint64_t size)
{
    std::vector<std::uint64_t> out;
    for (std::uint64_t off = 0; off <= size; off += 97) {
        out.push_back(off);
    }
    out.push_back(size);
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) {
        return 0;
    }
    const std::size_t chunk = 1 + data[0] % 61;
    const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

    // The fingerprint's BLAKE2b is libsodium's, whatever the cut and the digest size.
    {
        const std::size_t digest_bytes =
            crypto_generichash_BYTES_MIN
            + data[0] % (crypto_generichash_BYTES_MAX - crypto_generichash_BYTES_MIN + 1);
        unsigned char expected[crypto_generichash_BYTES_MAX];
        require(crypto_generichash(expected,
                                   digest_bytes,
                                   reinterpret_cast<const unsigned char*>(in.data()),
                                   in.size(),
                                   nullptr,
                                   0)
                == 0);
        transcript::Blake2b hash(digest_bytes);
        for (std::size_t i = 0; i < in.size(); i += chunk) {
            hash.update(in.substr(i, chunk));
        }
        unsigned char got[crypto_generichash_BYTES_MAX];
        hash.final(got);
        require(std::string_view(reinterpret_cast<const char*>(got), digest_bytes)
                == std::string_view(reinterpret_cast<const char*>(expected), digest_bytes));
    }

    // S3: streamed in chunks == whole.
    const std::string whole = transcript::normalise_typescript(in);
    transcript::StringSink sink;
    transcript::TypescriptReader reader(sink);
    for (std::size_t i = 0; i < in.size(); i += chunk) {
        reader.feed(in.substr(i, chunk));
    }
    reader.finish();
    require(sink.text() == whole);

    // Typed ahead: what a terminal echoes of any queued input is always accepted as echo and
    // leaves exactly that text; what the echo check leaves holds no control byte but TAB, LF.
    const std::string echo = transcript::typed_echo_text(in, true, true);
    const auto left_of_echo = transcript::echo_left(echo);
    require(left_of_echo && *left_of_echo == echo);
    if (const auto left = transcript::echo_left(in)) {
        for (const char c : *left) {
            const auto u = static_cast<unsigned char>(c);
            require(u >= 0x20 || c == '\t' || c == '\n');
        }
    }

    // The recomputer over chunks == over the whole.
    transcript::Recomputer a(offsets_up_to(whole.size()));
    transcript::Recomputer b(offsets_up_to(whole.size()));
    a.normalised(whole);
    for (std::size_t i = 0; i < whole.size(); i += chunk) {
        b.normalised(std::string_view(whole).substr(i, chunk));
    }
    require(a.checkpoints() == b.checkpoints());

    // CloudWatch events (NUL-separated), through the reader and the content check.
    std::vector<std::string> events;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= in.size(); ++i) {
        if (i == in.size() || in[i] == '\0') {
            events.emplace_back(in.substr(start, i - start));
            start = i + 1;
        }
    }
    static_cast<void>(transcript::normalise_cloudwatch(events));
    audit::TrustStore trust; // nothing trusted: no open marker can start a region
    audit::RecSession rec;
    audit::RecPoint p;
    p.kind = "end";
    p.idx = 1;
    p.off = whole.size();
    rec.points.push_back(p);
    audit::ContentCheck check("ecs-execute-command-fuzz", "fuzz", trust, &rec, true);
    for (const auto& e : events) {
        check.event(e);
    }
    const audit::ContentVerdict verdict = check.finish();
    require(!verdict.checked && verdict.problems.empty());

    // The renderer and the timeline over the raw bytes.
    audit::ContentVerdict shown;
    shown.checked = true;
    shown.region = std::string(in);
    shown.region_bytes = in.size();
    audit::CheckedPoint enter;
    enter.point.kind = "enter";
    enter.point.idx = 1;
    enter.point.off = in.size() / 2;
    shown.points.push_back(enter);
    const audit::Timeline t = audit::build_timeline("s", "l", shown, nullptr);
    for (const auto& e : t.entries) {
        require(e.command.find('\x1b') == std::string::npos);
        for (const auto& line : e.output) {
            require(line.find('\x1b') == std::string::npos);
            require(line.size() <= audit::k_max_line_cells * 4 + 3);
        }
    }
    static_cast<void>(audit::render_timeline_json(t));
    return 0;
}
