// SPDX-License-Identifier: MIT
// libFuzzer: gzip detection and decompression of untrusted inputs (multi-member, truncated,
// corrupt, trailing garbage), and terminal-control stripping of what comes out.
#include <agent/audit/input.hpp>
#include <agent/audit/terminal.hpp>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace execmark::audit;

namespace {

void require(bool condition)
{
    if (!condition) {
        std::abort();
    }
}

// Output bytes read at most (a gzip bomb is stopped here, not by the reader).
constexpr std::size_t k_max_out = 1 << 22;

} // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto in = Input::from_memory("fuzz.gz", bytes);
    if (!in) {
        return 0;
    }
    auto head = in->peek(64);
    std::string first = head ? std::string(*head) : std::string();
    std::string out;
    std::array<char, 4096> buf{};
    while (out.size() < k_max_out) {
        auto got = in->read(buf);
        if (!got || *got == 0) {
            break;
        }
        out.append(buf.data(), *got);
    }
    // peek never consumes.
    require(out.substr(0, first.size()) == first || out.size() < first.size());
    if (!in->gzip()) {
        require(out == bytes.substr(0, out.size()));
    }
    const std::string clean = strip_terminal_controls(out.substr(0, 65536));
    require(clean.size() <= 65536);
    require(clean.find('\r') == std::string::npos);
    return 0;
}
