// SPDX-License-Identifier: MIT
// Writer and reader agree: random terminal output fed to the recorder's Fingerprint in random
// chunks with checkpoints at random points gives exactly the checkpoints the auditor
// recomputes from the S3 typescript and from the CloudWatch events SSM makes of it; and an
// edit of the stored transcript that a reader could see changes the fingerprint.
#include <agent/transcript/transcript.hpp>

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <tests/unit/transcript/ssm_model.hpp>
#include <vector>

using namespace execmark::transcript;

namespace {

// Terminal-like output: text, CR/LF runs, escape sequences, UTF-8, ill-formed bytes, and
// (when long_lines) lines longer than a CloudWatch event.
std::string random_output(std::mt19937& rng, std::size_t target, bool long_lines, bool utf8)
{
    static const std::vector<std::string> k_atoms = {"\r\n",
                                                     "\n",
                                                     "\r",
                                                     "\r\r\n",
                                                     "\r\r",
                                                     "\x1b[1;31m",
                                                     "\x1b[0m",
                                                     "\x1b[?2004h",
                                                     "\x08",
                                                     "\t",
                                                     " ",
                                                     "$ ",
                                                     "ls -la",
                                                     "progress 10%\r",
                                                     "\x07",
                                                     std::string(1, '\0'),
                                                     "\x7f"};
    static const std::vector<std::string> k_wide = {"\xC3\xA9",
                                                    "\xE2\x82\xAC",
                                                    "\xF0\x9F\x98\x80",
                                                    "\xEF\xBF\xBD",
                                                    "\xff",
                                                    "\xE2\x82",
                                                    "\xC0\xAF",
                                                    "\xED\xA0\x80",
                                                    "\x80\x80"};
    std::string out;
    std::uniform_int_distribution<int> pick(0, 99);
    while (out.size() < target) {
        const int p = pick(rng);
        if (long_lines && p == 0) {
            out.append(std::uniform_int_distribution<std::size_t>(150000, 450000)(rng), 'L');
        } else if (p < 40) {
            out.append(std::uniform_int_distribution<std::size_t>(1, 60)(rng),
                       static_cast<char>('a' + p % 26));
        } else if (utf8 && p < 55) {
            out.append(k_wide[static_cast<std::size_t>(p) % k_wide.size()]);
        } else {
            out.append(k_atoms[static_cast<std::size_t>(p) % k_atoms.size()]);
        }
    }
    return out;
}

std::vector<Checkpoint> record(std::mt19937& rng, std::string_view raw)
{
    Fingerprint fp;
    std::vector<Checkpoint> points;
    std::size_t pos = 0;
    std::uniform_int_distribution<std::size_t> chunk(1, 9000);
    std::uniform_int_distribution<int> coin(0, 3);
    while (pos < raw.size()) {
        const std::size_t n = std::min(chunk(rng), raw.size() - pos);
        fp.feed(raw.substr(pos, n));
        pos += n;
        if (coin(rng) == 0) {
            points.push_back(fp.checkpoint());
        }
    }
    points.push_back(fp.finish());
    return points;
}

std::vector<std::uint64_t> offsets_of(const std::vector<Checkpoint>& points)
{
    std::vector<std::uint64_t> offsets;
    for (const auto& point : points) {
        offsets.push_back(point.offset);
    }
    return offsets;
}

std::vector<Checkpoint>
from_typescript(std::mt19937& rng, const std::vector<Checkpoint>& want, std::string_view file)
{
    Recomputer re(offsets_of(want));
    TypescriptReader reader(re);
    std::size_t pos = 0;
    std::uniform_int_distribution<std::size_t> chunk(1, 70000);
    while (pos < file.size()) {
        const std::size_t n = std::min(chunk(rng), file.size() - pos);
        reader.feed(file.substr(pos, n));
        pos += n;
    }
    reader.finish();
    return re.checkpoints();
}

std::vector<Checkpoint> from_cloudwatch(const std::vector<Checkpoint>& want,
                                        const std::vector<std::string>& events)
{
    Recomputer re(offsets_of(want));
    CloudWatchReader reader(re);
    for (const auto& event : events) {
        reader.event(event);
    }
    reader.finish();
    return re.checkpoints();
}

} // namespace

TEST_CASE("property: recorder and auditor agree on S3 and CloudWatch transcripts")
{
    std::mt19937 rng(20261124);
    for (int round = 0; round < 300; ++round) {
        const bool long_lines = round % 25 == 0;
        // A character cut by a CloudWatch piece boundary is a documented loss: text with
        // lines longer than an event is ASCII here; the S3 path is checked with everything.
        const std::string raw =
            random_output(rng, long_lines ? 600000 : 3000, long_lines, !long_lines);
        const auto points = record(rng, raw);
        CAPTURE(round, raw.size());
        const std::string file = model::typescript(raw);
        CHECK(from_typescript(rng, points, file) == points);
        CHECK(from_cloudwatch(points, model::cloudwatch_events(file)) == points);
        // The same text without the shell pty's ONLCR (a program that turned it off) or with
        // every LF already CR LF normalises alike.
        CHECK(normalise(model::onlcr(raw)) == normalise(raw));
    }
}

TEST_CASE("property: normalise is idempotent and independent of chunking")
{
    std::mt19937 rng(7);
    for (int round = 0; round < 300; ++round) {
        const std::string raw = random_output(rng, 500, false, true);
        const std::string once = normalise(raw);
        CHECK(normalise(once) == once);
        Normaliser normaliser;
        std::string out;
        std::size_t pos = 0;
        while (pos < raw.size()) {
            const std::size_t n = std::min<std::size_t>(
                std::uniform_int_distribution<std::size_t>(1, 5)(rng), raw.size() - pos);
            normaliser.feed(std::string_view(raw).substr(pos, n), out);
            pos += n;
        }
        normaliser.finish(out);
        CHECK(out == once);
    }
}

TEST_CASE("property: a visible edit of the stored transcript changes the fingerprint")
{
    std::mt19937 rng(99);
    int edits = 0;
    for (int round = 0; round < 400; ++round) {
        const std::string raw = random_output(rng, 800, false, true);
        const auto points = record(rng, raw);
        std::string file = model::typescript(raw);
        const std::size_t body_begin = model::k_header.size();
        const std::size_t body_end = file.size() - model::k_footer.size();
        // Pick a visible character of the body (printable ASCII) and edit around it.
        std::vector<std::size_t> visible;
        for (std::size_t i = body_begin; i < body_end; ++i) {
            if (file[i] > ' ' && file[i] < 0x7f) {
                visible.push_back(i);
            }
        }
        if (visible.empty()) {
            continue;
        }
        const std::size_t at =
            visible[std::uniform_int_distribution<std::size_t>(0, visible.size() - 1)(rng)];
        std::string edited = file;
        switch (round % 6) {
        case 0:
            edited[at] = edited[at] == 'X' ? 'Y' : 'X';
            break; // change a character
        case 1:
            edited.erase(at, 1);
            break; // delete one
        case 2:
            edited.insert(at, "X");
            break; // insert one
        case 3:
            edited.insert(at, "\r");
            break; // overwrite trick
        case 4:
            edited.insert(at, "\r\r\n");
            break; // split a line
        default: { // delete a line end
            const std::size_t nl = edited.find('\n', at);
            if (nl == std::string::npos || nl >= body_end) {
                continue;
            }
            edited.erase(nl - (edited[nl - 1] == '\r' ? 1 : 0), 2);
            break;
        }
        }
        CAPTURE(round, at);
        ++edits;
        CHECK(from_typescript(rng, points, edited) != points);
        CHECK(from_cloudwatch(points, model::cloudwatch_events(edited)) != points);
    }
    CHECK(edits > 300);
}
