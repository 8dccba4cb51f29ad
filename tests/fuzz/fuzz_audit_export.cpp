// SPDX-License-Identifier: MIT
// libFuzzer: the CloudWatch export reader ("<ISO timestamp> <message>" lines, messages spanning
// lines, gzip) and the transcript reader, forced by prefixing what the detector looks for.
#include <agent/audit/input.hpp>
#include <agent/audit/log_reader.hpp>

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

class Router final : public LogRouter, public LineSink {
public:
    LogFormat expected = LogFormat::plain_text;

    LineSink* open_log(const LogIdentity& id) override
    {
        require(id.format == expected);
        return this;
    }

    void end_log(const LogIdentity& /*id*/, const LogEnd& /*end*/) override {}

    void on_candidate(const CandidateLine& line) override
    {
        require(line.text.size() <= k_window_bytes + 1);
        require(line.lost_marker || line.text.find("EXECMARK1") != std::string_view::npos);
    }
};

void read_as(const std::string& text, const char* path, LogFormat expected)
{
    auto in = Input::from_memory(path, text);
    if (!in) {
        return;
    }
    Router router;
    router.expected = expected;
    static_cast<void>(read_log_input(*in, path, ReadOptions{}, router));
}

} // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string body(reinterpret_cast<const char*>(data), size);
    read_as("2026-11-24T05:52:20.001Z " + body,
            "x/ecs-execute-command-f/000000.gz",
            LogFormat::cloudwatch_export);
    read_as("Script started on 2026-11-24 05:40:04+00:00 [COMMAND=\"cat x\"]\n" + body,
            "ecs-execute-command-f.log",
            LogFormat::transcript);
    return 0;
}
