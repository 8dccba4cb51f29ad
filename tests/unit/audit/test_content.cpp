// SPDX-License-Identifier: MIT
#include "helpers.hpp"
#include "records.hpp"

#include <agent/audit/assessment.hpp>
#include <agent/audit/content.hpp>
#include <agent/transcript/transcript.hpp>
#include <agent/transcript/typed.hpp>

#include <catch2/catch.hpp>

using namespace execmark::audit;
using execmark::audit::test::TestBoot;
namespace tr = execmark::transcript;

namespace {

const std::string k_sid = "ecs-execute-command-0a1b2c3d4e5f6a7b8";

// A recorded session: the region's normalised text, checkpoints at the given offsets (the last
// is the end report), and the open and close lines signed by a trusted boot key.
struct Recorded {
    TestBoot boot;
    TrustStore trust;
    RecSession rec;
    std::string open, close;

    Recorded(const std::string& region, const std::vector<std::uint64_t>& offsets)
    {
        REQUIRE(trust.add_key_text(boot.pub()).ok());
        const std::map<std::string, std::string> f = {{"user", "dana"}, {"mode", "hook"}};
        open = boot.next("open", k_sid, f);
        auto closing = f;
        closing["fin"] = "exit";
        close = boot.next("close", k_sid, closing);
        tr::Chain chain;
        std::uint64_t at = 0;
        rec.points.push_back({"start", 0, 0, "", "2026-03-02T09:00:00.000Z", "c:1", boot.kid()});
        for (std::size_t i = 0; i < offsets.size(); ++i) {
            chain.update(std::string_view(region).substr(at, offsets[i] - at));
            at = offsets[i];
            const tr::Checkpoint cp = chain.checkpoint();
            RecPoint p;
            p.kind = i + 1 == offsets.size() ? "end" : "enter";
            p.idx = cp.index;
            p.off = cp.offset;
            p.hash = tr::to_hex(cp.hash);
            p.ts = "2026-03-02T09:00:0" + std::to_string(i + 1) + ".000Z";
            p.where = "c:" + std::to_string(i + 2);
            rec.points.push_back(p);
        }
    }

    // The S3 object: script framing, CR CR LF line ends, banner and markers around the region.
    [[nodiscard]] std::string typescript(const std::string& region, bool with_close = true) const
    {
        std::string body = "execmark | banner\r\n" + open + "\r\n";
        for (const char c : region) {
            body += c == '\n' ? std::string("\r\n") : std::string(1, c);
        }
        if (with_close) {
            body += "\r\n" + close + "\r\n";
        }
        std::string out = "Script started on 2026-03-02 09:00:00+00:00 [<not executed on "
                          "terminal>]\n";
        for (const char c : body) {
            out += c == '\n' ? std::string("\r\n") : std::string(1, c);
        }
        return out + "\nScript done on 2026-03-02 09:10:00+00:00 [COMMAND_EXIT_CODE=\"0\"]\n";
    }

    ContentVerdict check_raw(const std::string& bytes, std::size_t chunk = 7) const
    {
        ContentCheck c(k_sid, "s.log", trust, &rec, true);
        for (std::size_t i = 0; i < bytes.size(); i += chunk) {
            c.raw(std::string_view(bytes).substr(i, chunk));
        }
        return c.finish();
    }
};

const std::string k_region = "$ ls\nREADME\n\x1b[1;31mred\x1b[0m\n$ exit";

std::vector<CheckState> states(const ContentVerdict& v)
{
    std::vector<CheckState> out;
    for (const auto& p : v.points) {
        out.push_back(p.state);
    }
    return out;
}

} // namespace

TEST_CASE("content: the region runs from after the open line to the LF before the close line")
{
    Recorded r(k_region, {4, 23, k_region.size()});
    for (const std::size_t chunk : {1, 3, 64, 4096}) {
        const ContentVerdict v = r.check_raw(r.typescript(k_region), chunk);
        CHECK(v.checked);
        CHECK(v.close_found);
        CHECK(v.region_bytes == k_region.size());
        CHECK(v.region == k_region);
        CHECK(v.problems.empty());
        CHECK(states(v) == std::vector<CheckState>(3, CheckState::verified));
        CHECK(v.first_line == 4); // header, banner, open
    }
}

TEST_CASE("content: an edited byte is EDITED at the first diverging checkpoint with lines")
{
    Recorded r(k_region, {4, 23, k_region.size()});
    std::string edited = k_region;
    edited[7] = 'X'; // README -> REAXME, inside checkpoint 2
    const ContentVerdict v = r.check_raw(r.typescript(edited));
    CHECK(states(v)
          == std::vector<CheckState>{
              CheckState::verified, CheckState::diverged, CheckState::diverged});
    REQUIRE(v.problems.size() == 1);
    CHECK(v.problems[0].finding == Finding::edited);
    CHECK_THAT(v.problems[0].detail, Catch::Contains("checkpoint 2 (enter at"));
    CHECK_THAT(v.problems[0].detail, Catch::Contains("lines 4-6"));
    CHECK_THAT(v.problems[0].detail, Catch::Contains("does not implicate"));
}

TEST_CASE("content: deleted lines and added text are EDITED")
{
    Recorded r(k_region, {4, 23, k_region.size()});
    std::string deleted = k_region;
    deleted.erase(5, 7); // "README\n"
    CHECK(r.check_raw(r.typescript(deleted)).problems.at(0).finding == Finding::edited);
    // Text after the end report, before the close line.
    const ContentVerdict v = r.check_raw(r.typescript(k_region + "\nrm -rf /"));
    REQUIRE(v.problems.size() == 1);
    CHECK(v.problems[0].finding == Finding::edited);
    CHECK_THAT(v.problems[0].detail, Catch::Contains("after the recording's end"));
}

TEST_CASE("content: a transcript cut before a checkpoint is TRUNCATED")
{
    Recorded r(k_region, {4, 23, k_region.size()});
    const std::string whole = r.typescript(k_region, false);
    const ContentVerdict v = r.check_raw(whole.substr(0, whole.find("red")));
    CHECK(states(v)
          == std::vector<CheckState>{
              CheckState::verified, CheckState::not_reached, CheckState::not_reached});
    REQUIRE(v.problems.size() == 1);
    CHECK(v.problems[0].finding == Finding::truncated);
    // Without the close line but complete, the region runs to the end and verifies.
    CHECK(r.check_raw(r.typescript(k_region, false)).problems.empty());
}

TEST_CASE("content: CloudWatch events, with a line longer than an event in pieces")
{
    const std::string long_line(450000, 'y');
    const std::string region = "$ big\n" + long_line + "\n$ exit";
    Recorded r(region, {5, 6 + long_line.size(), region.size()});
    // The file's lines as SSM uploads them: CR LF -> LF, trailing LF dropped, long lines split.
    std::vector<std::string> events = {"Script started on x", "execmark | banner", r.open, "$ big"};
    for (std::size_t i = 0; i < long_line.size(); i += tr::k_cloudwatch_event_bytes) {
        events.push_back(long_line.substr(i, tr::k_cloudwatch_event_bytes));
    }
    events.emplace_back("$ exit");
    events.push_back(r.close);
    ContentCheck c(k_sid, "cw", r.trust, &r.rec, false);
    for (const auto& e : events) {
        c.event(e);
    }
    const ContentVerdict v = c.finish();
    CHECK(v.problems.empty());
    CHECK(v.points.empty()); // kept for a timeline only
    CHECK(v.checkpoints == 3);
    CHECK(v.verified == 3);
    CHECK(v.region_bytes == region.size());
}

TEST_CASE("content: no own open marker means no region, and a forged open does not count")
{
    Recorded r(k_region, {4, 23, k_region.size()});
    TestBoot other(0x17);
    std::string forged = r.typescript(k_region);
    forged.replace(forged.find(r.open), r.open.size(), other.next("open", k_sid, {}));
    const ContentVerdict v = r.check_raw(forged);
    CHECK_FALSE(v.checked);
    CHECK(v.problems.empty());
}

TEST_CASE("assessment: UNRECORDED, INTERFERED and a clean recorded session")
{
    RecIndex recs;
    RecSession& ok = recs["s-ok"];
    ok.points = {{"start", 0, 0, "", "2026-03-02T09:15:43.100Z", "c:1"},
                 {"end", 1, 0, "h", "2026-03-02T09:27:43.000Z", "c:2"}};
    recs["s-late"] = ok;
    recs["s-late"].points[0].ts = "2026-03-02T09:20:00.000Z";
    recs["s-int"] = ok;
    RecPoint intr{"interference", 1, 0, "", "2026-03-02T09:20:00.000Z", "c:9"};
    intr.opid = 31337;
    intr.ocomm = "sh";
    intr.side = "inner";
    recs["s-int"].points.push_back(intr);
    JoinInputs in;
    for (const char* sid : {"s-ok", "s-late", "s-int", "s-norec"}) {
        LogVerdict v = execmark::audit::test::verdict(sid, 2);
        v.facts.wst = *parse_utc_time("2026-03-02T09:15:42Z");
        v.content.checked = true;
        in.verdicts.push_back(v);
    }
    in.recordings = &recs;
    TrailIndex trail;
    for (const char* sid : {"s-ok", "s-late", "s-int", "s-norec"}) {
        trail.add(execmark::audit::test::exec(sid));
    }
    in.trail = &trail;
    const auto rows = build_records(std::move(in));
    const auto find = [&](const std::string& sid) -> const SessionRecord& {
        for (const auto& r : rows) {
            if (r.session == sid) {
                return r;
            }
        }
        FAIL("no row " << sid);
        return rows.front();
    };
    CHECK(find("s-ok").clean());
    CHECK(find("s-ok").primary_status(true) == "ATTRIBUTED");
    CHECK(find("s-late").primary_status(true) == "UNRECORDED");
    CHECK(find("s-norec").primary_status(true) == "UNRECORDED");
    const SessionRecord& victim = find("s-int");
    CHECK(victim.primary_status(true) == "INTERFERED");
    CHECK_THAT(victim.problems.at(0).detail, Catch::Contains("pid 31337 (sh)"));
    CHECK_THAT(victim.problems.at(0).detail,
               Catch::Contains("dana is the victim, not the culprit"));
    // Precedence: interference before edited before truncated before unrecorded.
    FindingSet set;
    set.add(Finding::unrecorded);
    set.add(Finding::truncated);
    set.add(Finding::edited);
    set.add(Finding::interfered);
    CHECK(set.joined("") == "INTERFERED,EDITED,TRUNCATED,UNRECORDED");
}

TEST_CASE("content: what is shown before the open line must be the echo of typed-ahead input")
{
    Recorded r(k_region, {4, 23, k_region.size()});
    const std::string honest = r.typescript(k_region);
    const std::string header_end = "terminal>]\n";
    const std::size_t body = honest.find(header_end) + header_end.size();
    const auto with_prefix = [&](const std::string& prefix) {
        return honest.substr(0, body) + prefix + honest.substr(body);
    };
    // Blank lines and control sequences a shell writes as it starts are not output.
    CHECK(r.check_raw(with_prefix("\r\r\n\x1b[?2004l\r\r\n")).problems.empty());
    // An unhooked shell's work, then a recorder started by hand: the work is before the open.
    const ContentVerdict late = r.check_raw(with_prefix("$ cat /etc/shadow\r\r\nroot:x:0\r\r\n$ "));
    REQUIRE(late.problems.size() == 1);
    CHECK(late.problems[0].finding == Finding::unrecorded);
    INFO(late.problems[0].detail);
    CHECK(late.problems[0].detail.find("lines 2-4 (before the session's open at line 5): ") == 0);
    CHECK(late.problems[0].detail.find("covered by no checkpoint") != std::string::npos);
    // Work dressed up as banner lines: more than a banner's six lines is output.
    std::string dressed;
    for (int i = 0; i < 7; ++i) {
        dressed += "execmark | x\r\r\n";
    }
    CHECK(r.check_raw(with_prefix(dressed)).problems.size() == 1);
    // The prompt on the open's own line (the marker typed after a prompt) is output too.
    const std::size_t open_at = honest.find("EXECMARK1");
    const std::string prompt = honest.substr(0, open_at) + "$ " + honest.substr(open_at);
    CHECK(r.check_raw(prompt).problems.size() == 1);

    // Keys typed while the shell started: their echo is accepted when the recorder reported
    // taking exactly that input over (`rec typed`), and only then.
    const std::string echo = "ls -l\r\r\nwhy\b \b\b \bho";
    CHECK(r.check_raw(with_prefix(echo)).problems.size() == 1);
    Recorded& typed = r;
    RecPoint t;
    t.kind = "typed";
    t.off = 8;
    t.hash = tr::typed_digest(tr::typed_echo_text("ls -l\nwho", true, true));
    t.where = "c:9";
    typed.rec.points.insert(typed.rec.points.begin() + 1, t);
    // The partial line runs into the banner's first line.
    const std::string on_banner = honest.substr(0, body) + echo + honest.substr(body);
    CHECK(typed.check_raw(on_banner).problems.empty());
    // Other text with that report: not the echo.
    const ContentVerdict other = typed.check_raw(with_prefix("ls -l\r\r\nwhoami\r\r\n"));
    REQUIRE(other.problems.size() == 1);
    CHECK(other.problems[0].detail.find("not the echo of the 8 bytes") != std::string::npos);
}
