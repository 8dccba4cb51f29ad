// SPDX-License-Identifier: MIT
// libFuzzer: the CloudTrail reader (S3 files, lookup-events, CloudTrail Lake results, digest
// files, EventBridge, concatenated JSON), the Identity Center directory reader, page tracking and
// the record classifier; the principal matching rule on what they find.
#include <agent/audit/cloudtrail.hpp>
#include <agent/audit/identity_center.hpp>
#include <agent/audit/input.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace execmark::audit;

namespace {

void require(bool condition)
{
    if (!condition) {
        std::abort();
    }
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
    for (const auto& group : index.denied()) {
        require(group.count >= 1 && group.call.event_time <= group.last_time);
    }
    return 0;
}
