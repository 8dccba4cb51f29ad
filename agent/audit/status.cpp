// SPDX-License-Identifier: MIT
#include <agent/audit/status.hpp>

#include <array>

namespace execmark::audit {

namespace {

constexpr std::array<std::string_view, k_finding_count> k_names = {
    "FORGED",    "KEY-INJECTED", "FAKE-WORKER", "REPLAYED",     "BYPASSED", "INTERFERED",
    "EDITED",    "TRUNCATED",    "ALTERED",     "REORDERED",    "GAP",      "MISMATCH",
    "LATE-OPEN", "EARLY-CLOSE",  "UNRECORDED",  "KEY-UNPROVEN", "MANGLED",  "NO-CLOSE",
    "UNMARKED",  "ORPHAN",       "DUPLICATE",   "UNSIGNED",     "UNBOUND",
};

} // namespace

std::string_view finding_name(Finding finding)
{
    return k_names.at(static_cast<std::size_t>(finding));
}

std::vector<Finding> FindingSet::list() const
{
    std::vector<Finding> out;
    for (std::size_t i = 0; i < k_finding_count; ++i) {
        const auto f = static_cast<Finding>(i);
        if (has(f)) {
            out.push_back(f);
        }
    }
    return out;
}

std::string FindingSet::joined(std::string_view clean_name) const
{
    if (empty()) {
        return std::string(clean_name);
    }
    std::string out;
    for (const Finding f : list()) {
        if (!out.empty()) {
            out += ',';
        }
        out += finding_name(f);
    }
    return out;
}

} // namespace execmark::audit
