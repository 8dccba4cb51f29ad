// SPDX-License-Identifier: MIT
// docs/markers.md cannot rot: every marker line in its ```text blocks must extract, verify
// against the example public key the doc prints, parse, match its event schema and chain.
#include <agent/marker/marker.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace execmark::marker;

namespace {

constexpr std::string_view k_key_label = "Example public key: `";

struct DocMarker {
    std::size_t line_number = 0;
    std::string line;
};

std::string read_doc()
{
    std::ifstream in(EXECMARK_SOURCE_DIR "/docs/markers.md", std::ios::binary);
    REQUIRE(in);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Lines inside ```text fences that contain the magic.
std::vector<DocMarker> example_markers(const std::string& doc)
{
    std::vector<DocMarker> markers;
    std::istringstream in(doc);
    std::string line;
    std::size_t number = 0;
    bool in_text_block = false;
    bool in_block = false;
    while (std::getline(in, line)) {
        ++number;
        if (line.starts_with("```")) {
            in_text_block = !in_block && line == "```text";
            in_block = !in_block;
            continue;
        }
        if (in_text_block && line.find(k_magic) != std::string::npos) {
            markers.push_back({number, line});
        }
    }
    return markers;
}

struct ChainState {
    std::uint64_t seq = 0;
    std::string hash;
};

} // namespace

TEST_CASE("docs/markers.md examples verify")
{
    const std::string doc = read_doc();
    const std::size_t label = doc.find(k_key_label);
    REQUIRE(label != std::string::npos);
    const std::size_t key_start = label + k_key_label.size();
    const std::string key_text = doc.substr(key_start, doc.find('`', key_start) - key_start);
    const auto pk = public_key_from_base64url(key_text);
    REQUIRE(pk);

    const std::vector<DocMarker> markers = example_markers(doc);
    std::map<std::string, ChainState> chains;
    std::size_t signed_count = 0;
    std::size_t unsigned_count = 0;
    std::vector<std::string> events;
    for (const DocMarker& marker : markers) {
        INFO("docs/markers.md:" << marker.line_number << ": " << marker.line);
        const Extracted extracted = extract(marker.line);
        REQUIRE(extracted.status == ExtractStatus::ok);
        CHECK(marker.line.size() - marker.line.find(k_magic) <= k_max_line_bytes);
        std::string error;
        const auto fields = parse_fields(extracted.payload, &error);
        INFO(error);
        REQUIRE(fields);
        CHECK(check_event_fields(*fields, &error));
        if (extracted.is_signed) {
            CHECK(verify(extracted.payload, extracted.signature, *pk));
            CHECK(fields->kid == key_id(*pk));
            ++signed_count;
        } else {
            CHECK(is_valid_reason(extracted.unsigned_reason));
            ++unsigned_count;
        }
        if (fields->ev == k_ev_boot) {
            CHECK(fields->str.at("pub") == key_text);
            CHECK(fields->sid == std::string(k_boot_sid_prefix) + key_id(*pk));
        }
        ChainState& chain = chains[fields->sid];
        CHECK(fields->seq == chain.seq + 1);
        if (chain.seq > 0) {
            CHECK(fields->prev == chain.hash);
        }
        chain = {fields->seq, chain_hash(extracted.payload)};
        events.push_back(fields->ev);
    }
    CHECK(signed_count >= 8);
    CHECK(unsigned_count >= 1);
    for (const auto ev : {k_ev_boot,
                          k_ev_meta,
                          k_ev_shutdown,
                          k_ev_exec_seen,
                          k_ev_exec_gone,
                          k_ev_open,
                          k_ev_close}) {
        INFO("an example of every event: " << ev);
        CHECK(std::find(events.begin(), events.end(), ev) != events.end());
    }
}
