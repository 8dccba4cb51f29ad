// SPDX-License-Identifier: MIT
#include <agent/audit/screen.hpp>
#include <agent/audit/timeline.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace execmark::audit {

namespace {

// The worse of two states (diverged > not reached > verified).
CheckState worse(CheckState a, CheckState b)
{
    const auto rank = [](CheckState s) {
        return s == CheckState::diverged ? 2 : (s == CheckState::not_reached ? 1 : 0);
    };
    return rank(a) >= rank(b) ? a : b;
}

// After an Enter, the first line completed is the command line as the terminal finally showed
// it: the prompt and everything echoed up to the Enter's own line end. Typed slowly, the echo
// came before the Enter; pasted or typed ahead, the shell echoes the line only after reading the
// Enter, so the line on screen at the Enter's offset may hold the prompt alone.
void append_output(TimelineEntry& entry, std::vector<std::string> lines, bool first_is_command)
{
    auto it = lines.begin();
    if (first_is_command && it != lines.end()) {
        entry.command = std::move(*it);
        ++it;
    }
    entry.output.insert(
        entry.output.end(), std::make_move_iterator(it), std::make_move_iterator(lines.end()));
}

} // namespace

Timeline build_timeline(const std::string& session,
                        const std::string& log,
                        const ContentVerdict& content,
                        const RecSession* recording)
{
    Timeline t;
    t.session = session;
    t.log = log;
    t.region_bytes = content.region_bytes;
    t.cut = content.region_cut;
    t.checkpoints = content.points;
    if (recording != nullptr) {
        for (const RecPoint& p : recording->points) {
            if (p.kind == "interference") {
                t.interference.push_back(p);
            } else if (p.kind == "end") {
                t.end_off = p.off;
            }
        }
    }
    const std::string_view region = content.region;
    Screen screen;
    TimelineEntry current; // before the first Enter
    bool first_is_command = false;
    std::size_t pos = 0;
    for (const CheckedPoint& c : content.points) {
        const auto off =
            static_cast<std::size_t>(std::min<std::uint64_t>(c.point.off, region.size()));
        if (off > pos) {
            screen.feed(region.substr(pos, off - pos));
            pos = off;
        }
        if (c.point.kind != "enter") {
            current.checkpoints.push_back(c.point.idx);
            current.output_state = worse(current.output_state, c.state);
            continue;
        }
        append_output(current, screen.take_lines(), first_is_command);
        if (current.enter || !current.output.empty()) {
            if (current.checkpoints.empty()) {
                // No idle checkpoint after the output: this Enter's checkpoint covers it.
                current.checkpoints.push_back(c.point.idx);
                current.output_state = c.state;
            }
            t.entries.push_back(std::move(current));
        }
        current = TimelineEntry{};
        current.enter = c;
        current.command = screen.current_line();
        first_is_command = true;
    }
    if (pos < region.size()) {
        screen.feed(region.substr(pos));
    }
    screen.finish();
    append_output(current, screen.take_lines(), first_is_command);
    if (current.enter || !current.output.empty()) {
        t.entries.push_back(std::move(current));
    }
    return t;
}

std::string render_timeline_text(const Timeline& t)
{
    std::size_t verified = 0;
    for (const CheckedPoint& c : t.checkpoints) {
        verified += c.state == CheckState::verified ? 1 : 0;
    }
    std::string out = "Timeline of " + t.session + " (" + t.status + ")\n";
    out += "  from " + t.log + ": " + std::to_string(t.region_bytes) + " bytes recorded";
    if (t.end_off) {
        out += " (the recorder relayed " + std::to_string(*t.end_off) + ")";
    }
    out += ", " + std::to_string(verified) + " of " + std::to_string(t.checkpoints.size())
           + " checkpoints verified\n";
    if (t.cut) {
        out += "  (the region is longer than the timeline keeps: it is cut)\n";
    }
    for (const RecPoint& p : t.interference) {
        out += "  ! " + p.ts + " interference from outside the session: "
               + (p.opid != 0 ? "pid " + std::to_string(p.opid) : std::string("a process"))
               + (p.ocomm.empty() ? "" : " (" + p.ocomm + ")") + " opened the "
               + (p.side.empty() ? std::string("session's") : p.side) + " terminal\n";
    }
    out += "\n";
    for (const TimelineEntry& e : t.entries) {
        if (e.enter) {
            std::string state(check_state_name(e.enter->state));
            out += e.enter->point.ts + "  #" + std::to_string(e.enter->point.idx) + " " + state
                   + "  " + e.command + "\n";
        } else {
            out += "(before the first command)\n";
        }
        for (const std::string& line : e.output) {
            out += "    " + line + "\n";
        }
        if (e.output_state != CheckState::verified
            || (e.enter && e.enter->state != CheckState::verified)) {
            out += "    [output " + std::string(check_state_name(e.output_state)) + "]\n";
        }
    }
    return out;
}

std::string render_timeline_json(const Timeline& t)
{
    using Json = nlohmann::ordered_json;
    const auto point = [](const CheckedPoint& c) {
        return Json{{"idx", c.point.idx},
                    {"kind", c.point.kind},
                    {"ts", c.point.ts},
                    {"off", c.point.off},
                    {"state", std::string(check_state_name(c.state))},
                    {"line", c.line}};
    };
    Json j;
    j["type"] = "timeline";
    j["session"] = t.session;
    j["status"] = t.status;
    j["statuses"] = t.statuses;
    j["log"] = t.log;
    j["region_bytes"] = t.region_bytes;
    j["end_off"] = t.end_off ? Json(*t.end_off) : Json(nullptr);
    j["cut"] = t.cut;
    j["checkpoints"] = Json::array();
    for (const CheckedPoint& c : t.checkpoints) {
        j["checkpoints"].push_back(point(c));
    }
    j["interference"] = Json::array();
    for (const RecPoint& p : t.interference) {
        j["interference"].push_back({{"ts", p.ts},
                                     {"opid", p.opid},
                                     {"ocomm", p.ocomm},
                                     {"side", p.side},
                                     {"where", p.where}});
    }
    j["entries"] = Json::array();
    for (const TimelineEntry& e : t.entries) {
        Json entry;
        entry["idx"] = e.enter ? Json(e.enter->point.idx) : Json(nullptr);
        entry["ts"] = e.enter ? Json(e.enter->point.ts) : Json(nullptr);
        entry["off"] = e.enter ? Json(e.enter->point.off) : Json(nullptr);
        entry["command"] = e.enter ? Json(e.command) : Json(nullptr);
        entry["state"] =
            e.enter ? Json(std::string(check_state_name(e.enter->state))) : Json(nullptr);
        entry["output"] = e.output;
        entry["output_state"] = std::string(check_state_name(e.output_state));
        entry["checkpoints"] = e.checkpoints;
        j["entries"].push_back(std::move(entry));
    }
    return j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

} // namespace execmark::audit
