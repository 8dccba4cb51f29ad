// SPDX-License-Identifier: MIT
#include <agent/audit/pre_open.hpp>
#include <agent/transcript/typed.hpp>

namespace execmark::audit {

namespace {

// The open's banner lines (agent/client/banner.cpp) start with this; a banner has at most six,
// right before the marker line.
constexpr std::string_view k_banner_lead = "execmark | ";
constexpr int k_max_banner_lines = 6;

// lines without the banner block at its end. A banner line may start after echo that had no
// line end yet: that echo stays, and the block ends there.
std::string_view without_banner(std::string_view lines)
{
    for (int i = 0; i < k_max_banner_lines && !lines.empty(); ++i) {
        const std::size_t body_end = lines.back() == '\n' ? lines.size() - 1 : lines.size();
        const std::size_t prev_lf = lines.substr(0, body_end).rfind('\n');
        const std::size_t line_start = prev_lf == std::string_view::npos ? 0 : prev_lf + 1;
        const std::size_t lead =
            lines.substr(line_start, body_end - line_start).find(k_banner_lead);
        if (lead == std::string_view::npos) {
            break;
        }
        lines = lines.substr(0, line_start + lead);
        if (lead != 0) {
            break;
        }
    }
    return lines;
}

} // namespace

std::optional<std::string> pre_open_problem(std::string_view lines,
                                            std::string_view open_prefix,
                                            bool cut,
                                            const RecPoint* typed)
{
    std::string shown(without_banner(lines));
    shown.append(open_prefix);
    if (shown.empty() && !cut) {
        return std::nullopt; // nothing uncovered is shown
    }
    const std::optional<std::string> left = cut ? std::nullopt : transcript::echo_left(shown);
    const auto problem = [&](const std::string& what) {
        return std::to_string(shown.size()) + (cut ? " or more" : "")
               + " bytes are shown before the session's open line, " + what
               + ": what was done before the recording began is covered by no checkpoint";
    };
    if (!left) {
        return problem("and they are output, not a terminal's echo of typed keys");
    }
    if (typed == nullptr) {
        return left->find_first_not_of('\n') == std::string::npos
                   ? std::nullopt
                   : std::optional<std::string>(
                       problem("and the recorder took over no typed-ahead input to explain "
                               "them"));
    }
    if (transcript::typed_digest(*left) != typed->hash) {
        return problem("and they are not the echo of the " + std::to_string(typed->off)
                       + " bytes of input the recorder took over (" + typed->where + ")");
    }
    return std::nullopt;
}

} // namespace execmark::audit
