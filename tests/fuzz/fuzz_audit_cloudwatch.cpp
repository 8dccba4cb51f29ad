// SPDX-License-Identifier: MIT
// libFuzzer: the CloudWatch readers. The input is (1) split at NUL bytes into the messages of
// consecutive events of one stream, for the split-event joining rule, and (2) read as
// get-log-events / filter-log-events JSON. Must not crash; every emitted line holds the magic
// (or says it lost it) and fits the window; no well-formed marker inside one event is lost.
#include <agent/audit/input.hpp>
#include <agent/audit/lines.hpp>
#include <agent/audit/log_reader.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace execmark::audit;

namespace {

void require(bool condition)
{
    if (!condition) {
        std::abort();
    }
}

class Collect final : public LineSink {
public:
    void on_candidate(const CandidateLine& line) override
    {
        require(line.text.size() <= k_window_bytes + 1);
        require(line.lost_marker || line.text.find("EXECMARK1") != std::string_view::npos);
        ++count;
    }

    std::size_t count = 0;
};

class Router final : public LogRouter {
public:
    Collect sink;

    LineSink* open_log(const LogIdentity& id) override
    {
        require(!id.key.empty());
        return &sink;
    }

    void end_log(const LogIdentity& /*id*/, const LogEnd& /*end*/) override {}
};

} // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);

    Collect lines;
    EventLines events(lines);
    std::size_t magic_lines = 0;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= bytes.size(); ++i) {
        if (i == bytes.size() || bytes[i] == '\0') {
            const std::string_view message = bytes.substr(start, i - start);
            // Lines wholly inside this event that hold the magic (the first and last line of an
            // event may be joined with their neighbours, so only the middle ones count).
            std::size_t first = message.find('\n');
            std::size_t last = message.rfind('\n');
            if (first != std::string_view::npos && last > first) {
                std::string_view middle = message.substr(first + 1, last - first - 1);
                std::size_t pos = 0;
                while (pos <= middle.size()) {
                    std::size_t nl = middle.find('\n', pos);
                    if (nl == std::string_view::npos) {
                        nl = middle.size();
                    }
                    if (middle.substr(pos, nl - pos).find("EXECMARK1") != std::string_view::npos) {
                        ++magic_lines;
                    }
                    pos = nl + 1;
                }
            }
            events.event(message);
            start = i + 1;
        }
    }
    events.finish();
    require(lines.count >= magic_lines);

    auto in = Input::from_memory("fuzz.json", bytes);
    if (in) {
        Router router;
        static_cast<void>(read_log_input(*in, "fuzz.json", ReadOptions{}, router));
    }
    return 0;
}
