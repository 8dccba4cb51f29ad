// SPDX-License-Identifier: MIT
// libFuzzer: the CloudTrail reader (S3 files, lookup-events, EventBridge, concatenated JSON) and
// the record classifier; the principal matching rule on what it finds.
#include <agent/audit/cloudtrail.hpp>
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
    static_cast<void>(read_trail_input(*in, "AWS_USER", index));
    for (const auto& [sid, ev] : index.execs()) {
        require(!sid.empty() && sid == ev.session_id);
        // Every name of a principal matches it; the display form is never empty for an ARN.
        for (const auto& name : principal_names(ev.principal)) {
            require(claim_matches(name, ev.principal));
        }
        require(ev.principal.arn.empty() || !principal_display(ev.principal).empty());
        require(index.find_exec(sid) == &ev);
    }
    return 0;
}
