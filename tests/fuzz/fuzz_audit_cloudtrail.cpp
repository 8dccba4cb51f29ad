// SPDX-License-Identifier: MIT
// libFuzzer: the CloudTrail reader (S3 files, lookup-events, CloudTrail Lake results, digest
// files, EventBridge, concatenated JSON), the Identity Center directory reader, page tracking and
// the record classifier; the principal matching rule on what they find. Differential: each
// record streamed flat with only trail_record_members() built is classified as its whole DOM is.
#include <agent/audit/cloudtrail.hpp>
#include <agent/audit/identity_center.hpp>
#include <agent/audit/input.hpp>
#include <agent/audit/json_input.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <tests/unit/audit/trail_describe.hpp>
#include <vector>

using namespace execmark::audit;
using execmark::audit::testing::describe;

namespace {

void require(bool condition)
{
    if (!condition) {
        std::abort();
    }
}

// The classifications of every streamed record of bytes, flat or from a DOM.
std::vector<std::string> classified(std::string_view bytes, bool flat)
{
    std::vector<std::string> out;
    RecordStreamer streamer({"Records", "Events", "QueryResultRows"}, false, [&](Json& record) {
        out.push_back(describe(classify_trail_record(record, "AWS_USER")));
    });
    if (flat) {
        streamer.keep_only(trail_record_members());
        streamer.deliver_flat([&](const FlatRecord& record) {
            out.push_back(describe(classify_trail_record(record, "AWS_USER")));
        });
    }
    auto in = Input::from_memory("trail.json", bytes);
    if (in) {
        static_cast<void>(parse_json_stream(*in, streamer));
        out.push_back("skipped " + std::to_string(streamer.skipped_records()));
    }
    return out;
}

} // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto in = Input::from_memory("trail.json", bytes);
    if (!in) {
        return 0;
    }
    TrailIndex index;
    PageSet pages;
    static_cast<void>(read_trail_input(*in, "AWS_USER", index, &pages));
    static_cast<void>(pages.unfollowed());
    // The same bytes as an Identity Center directory (list-users output).
    auto again = Input::from_memory("users.json", bytes);
    IdentityDirectory directory;
    if (again) {
        static_cast<void>(directory.read(*again, &pages));
    }
    for (const auto& [sid, ev] : index.execs()) {
        require(!sid.empty() && sid == ev.session_id);
        // Every name of a principal matches it; the display form is never empty.
        for (const auto& name : principal_names(ev.principal, &directory)) {
            require(match_claim(name.name, ev.principal, &directory).has_value());
        }
        require(!principal_display(ev.principal).empty());
        require(index.find_exec(sid) == &ev);
    }
    require(classified(bytes, true) == classified(bytes, false));
    for (const auto& group : index.denied()) {
        require(group.count >= 1 && group.call.event_time <= group.last_time);
    }
    return 0;
}
