// SPDX-License-Identifier: MIT
// parse_fields, check_event_fields and the timestamp helpers.
#include <agent/marker/marker.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace execmark::marker;

namespace {

constexpr std::string_view k_kid = "k0123456789abcdef";
constexpr std::string_view k_hash = "0123456789abcdef0123456789abcdef";

PayloadWriter core(std::string_view ev, std::uint64_t seq = 1)
{
    PayloadWriter writer;
    writer.add("v", 1).add("ev", ev).add("ts", "2026-11-24T05:40:04.123Z").add("kid", k_kid);
    writer.add("tseq", 7).add("sid", "ecs-execute-command-0a1b").add("seq", seq);
    writer.add("prev", seq == 1 ? k_none : k_hash);
    return writer;
}

std::string parse_error(std::string_view payload)
{
    std::string error;
    const auto fields = parse_fields(payload, &error);
    CHECK_FALSE(fields);
    CHECK_FALSE(error.empty());
    return error;
}

std::string open_payload()
{
    PayloadWriter writer = core(k_ev_open);
    writer.add("task", "arn:aws:ecs:eu-west-1:1:task/c/1").add("cluster", "c").add("ctr", "app");
    writer.add("user", "alice").add("owner", "").add("osrc", "").add("reason", "").add("shell", "");
    writer.add("tty", "").add("cpid", 42).add("mode", "hook").add("cfix", "");
    writer.add("wchk", "ok").add("wsid", "").add("wst", 1795498800000).add("sst", 1795498800100);
    return writer.finish();
}

} // namespace

TEST_CASE("parse_fields reads the core and sorts the rest by type")
{
    PayloadWriter writer = core("open", 3);
    writer.add("user", "EXECMARK1 \"q\" \xc3\xa9").add("rc", -1).add("cpid", 42);
    std::string error;
    const auto fields = parse_fields(writer.finish(), &error);
    REQUIRE(fields);
    CHECK(error.empty());
    CHECK(fields->v == 1);
    CHECK(fields->ev == "open");
    CHECK(fields->ts == "2026-11-24T05:40:04.123Z");
    CHECK(fields->kid == k_kid);
    CHECK(fields->tseq == 7);
    CHECK(fields->sid == "ecs-execute-command-0a1b");
    CHECK(fields->seq == 3);
    CHECK(fields->prev == k_hash);
    CHECK(fields->str.at("user") == "EXECMARK1 \"q\" \xc3\xa9"); // escapes decoded
    CHECK(fields->num.at("rc") == -1);
    CHECK(fields->num.at("cpid") == 42);
    const std::vector<std::string> keys = {
        "v", "ev", "ts", "kid", "tseq", "sid", "seq", "prev", "user", "rc", "cpid"};
    CHECK(fields->keys == keys);
}

TEST_CASE("parse_fields accepts the unsigned-marker kid and tseq")
{
    PayloadWriter writer;
    writer.add("v", 1).add("ev", "open").add("ts", "2026-11-24T05:40:04.123Z").add("kid", "-");
    writer.add("tseq", 0).add("sid", "local-12").add("seq", 1).add("prev", "-");
    CHECK(parse_fields(writer.finish(), nullptr));
}

TEST_CASE("parse_fields rejects payloads that are not one flat JSON object")
{
    CHECK(parse_error("[]").find("array") != std::string::npos);
    CHECK(parse_error("\"text\"").find("not a JSON object") != std::string::npos);
    CHECK(parse_error("42").find("not a JSON object") != std::string::npos);
    CHECK(parse_error("").find("invalid JSON") != std::string::npos);
    CHECK(parse_error("{").find("invalid JSON") != std::string::npos);
    CHECK(parse_error("{}{}").find("invalid JSON") != std::string::npos);
    CHECK(parse_error(R"({"v":1,)").find("invalid JSON") != std::string::npos);
    CHECK(parse_error(R"({"v":{"x":1}})").find("nested object") != std::string::npos);
    CHECK(parse_error(R"({"v":[1]})").find("array") != std::string::npos);
    CHECK(parse_error(R"({"v":1.0})").find("non-integer") != std::string::npos);
    CHECK(parse_error(R"({"v":1e3})").find("non-integer") != std::string::npos);
    CHECK(parse_error(R"({"v":true})").find("boolean") != std::string::npos);
    CHECK(parse_error(R"({"v":null})").find("null") != std::string::npos);
    CHECK(parse_error(R"({"v":1,"v":1})").find("duplicate key") != std::string::npos);
    CHECK(parse_error(R"({"v":1} // x)").find("invalid JSON") != std::string::npos);
    CHECK(parse_error("{\"v\":\"\x01\"}").find("printable") != std::string::npos);
}

TEST_CASE("parse_fields rejects a wrong version")
{
    std::string payload = core("open").finish();
    payload.replace(payload.find("\"v\":1"), 5, "\"v\":2");
    CHECK(parse_error(payload).find("unsupported version 2") != std::string::npos);
    payload.replace(payload.find("\"v\":2"), 5, "\"v\":\"1\"");
    CHECK(parse_error(payload).find("field v") != std::string::npos);
}

TEST_CASE("parse_fields rejects missing and out-of-order core keys")
{
    PayloadWriter missing;
    missing.add("v", 1).add("ev", "open").add("ts", "2026-11-24T05:40:04.123Z").add("kid", "-");
    missing.add("tseq", 0).add("sid", "s").add("seq", 1);
    CHECK(parse_error(missing.finish()).find("\"prev\" missing") != std::string::npos);

    PayloadWriter swapped;
    swapped.add("v", 1).add("ts", "2026-11-24T05:40:04.123Z").add("ev", "open").add("kid", "-");
    swapped.add("tseq", 0).add("sid", "s").add("seq", 1).add("prev", "-");
    CHECK(parse_error(swapped.finish()).find("\"ev\" out of order") != std::string::npos);

    PayloadWriter extra_first;
    extra_first.add("user", "x").add("v", 1);
    CHECK(parse_error(extra_first.finish()).find("\"v\" out of order") != std::string::npos);
    CHECK(parse_error("{}").find("\"v\" missing") != std::string::npos);
}

TEST_CASE("parse_fields rejects core keys of the wrong type or shape")
{
    const auto with = [](std::string_view key, std::string_view json_value) {
        std::string payload = core("open", 2).finish();
        const std::string needle = "\"" + std::string(key) + "\":";
        const std::size_t at = payload.find(needle) + needle.size();
        const std::size_t end = payload.find_first_of(",}", at);
        payload.replace(at, end - at, json_value);
        return payload;
    };
    CHECK(parse_fields(with("seq", "2"), nullptr)); // the helper itself is sound
    CHECK(parse_error(with("ev", "1")).find("field ev") != std::string::npos);
    CHECK(parse_error(with("ev", "\"\"")).find("field ev") != std::string::npos);
    CHECK(parse_error(with("ts", "\"2026-11-24T05:40:04Z\"")).find("field ts")
          != std::string::npos);
    CHECK(parse_error(with("ts", "\"2026-13-24T05:40:04.123Z\"")).find("field ts")
          != std::string::npos);
    CHECK(parse_error(with("ts", "1764000000")).find("field ts") != std::string::npos);
    CHECK(parse_error(with("kid", "\"kXYZ\"")).find("field kid") != std::string::npos);
    CHECK(parse_error(with("kid", "\"k0123456789ABCDEF\"")).find("field kid") != std::string::npos);
    CHECK(parse_error(with("tseq", "-1")).find("field tseq") != std::string::npos);
    CHECK(parse_error(with("tseq", "\"7\"")).find("field tseq") != std::string::npos);
    CHECK(parse_error(with("sid", "\"\"")).find("field sid") != std::string::npos);
    CHECK(parse_error(with("sid", "3")).find("field sid") != std::string::npos);
    CHECK(parse_error(with("seq", "0")).find("field seq") != std::string::npos);
    CHECK(parse_error(with("seq", "\"2\"")).find("field seq") != std::string::npos);
    CHECK(parse_error(with("prev", "\"-\"")).find("field prev") != std::string::npos);
    CHECK(parse_error(with("prev", "\"abc\"")).find("field prev") != std::string::npos);
    CHECK(parse_error(with("prev", "12")).find("field prev") != std::string::npos);
    CHECK(parse_error(with("seq", "1")).find("field prev") != std::string::npos);
}

TEST_CASE("parse_fields rejects oversized payloads and out-of-range integers")
{
    PayloadWriter writer = core("open");
    writer.add("pad", std::string(k_max_payload_bytes, 'x'));
    CHECK(parse_error(writer.finish()).find("more than") != std::string::npos);
    PayloadWriter big = core("open");
    big.add("n", UINT64_MAX);
    CHECK(parse_error(big.finish()).find("out of range") != std::string::npos);
    std::string huge = core("open").finish();
    huge.insert(huge.size() - 1, R"(,"n":123456789012345678901234567890)");
    CHECK(parse_error(huge).find("non-integer") != std::string::npos);
}

TEST_CASE("check_event_fields enforces each event's keys and their order and types")
{
    std::string error;
    const auto open = parse_fields(open_payload(), &error);
    REQUIRE(open);
    CHECK(check_event_fields(*open, &error));

    Fields reordered = *open;
    std::swap(reordered.keys[9], reordered.keys[10]);
    CHECK_FALSE(check_event_fields(reordered, &error));
    CHECK(error.find("expected key \"cluster\"") != std::string::npos);

    Fields mistyped = *open;
    mistyped.num.erase("cpid");
    mistyped.str["cpid"] = "42";
    CHECK_FALSE(check_event_fields(mistyped, &error));
    CHECK(error.find("\"cpid\" is not an integer") != std::string::npos);

    Fields extra = *open;
    extra.keys.emplace_back("zzz");
    extra.str["zzz"] = "";
    CHECK_FALSE(check_event_fields(extra, &error));
    CHECK(error.find("unexpected key \"zzz\"") != std::string::npos);

    Fields short_of_keys = *open;
    short_of_keys.keys.pop_back();
    CHECK_FALSE(check_event_fields(short_of_keys, &error));

    const auto future = parse_fields(core("cmd").add("x", 1).finish(), &error);
    REQUIRE(future);
    CHECK(check_event_fields(*future, &error)); // unknown events pass
}

TEST_CASE("event_keys lists the v1 schema")
{
    CHECK(event_keys(k_ev_boot).size() == 4);
    CHECK(event_keys(k_ev_meta).size() == 7);
    CHECK(event_keys(k_ev_shutdown).size() == 2);
    CHECK(event_keys(k_ev_exec_seen).size() == 4);
    CHECK(event_keys(k_ev_exec_gone).size() == 6);
    CHECK(event_keys(k_ev_exec_gone)[5].name == "clast");
    CHECK(event_keys(k_ev_open).size() == 16);
    CHECK(event_keys(k_ev_open)[12].name == "wchk");
    CHECK(event_keys(k_ev_open)[15].name == "sst");
    CHECK(event_keys(k_ev_close).size() == 18);
    CHECK(event_keys(k_ev_close)[16].name == "fin");
    CHECK(event_keys(k_ev_close)[17].is_int);
    CHECK(event_keys("note").empty());
}

TEST_CASE("format_timestamp and parse_timestamp")
{
    CHECK(format_timestamp(0) == "1970-01-01T00:00:00.000Z");
    CHECK(format_timestamp(1795498804123) == "2026-11-24T05:40:04.123Z");
    CHECK(format_timestamp(-1) == "1969-12-31T23:59:59.999Z");
    CHECK(format_timestamp(951782400000) == "2000-02-29T00:00:00.000Z");
    CHECK(format_timestamp(INT64_MAX) == "9999-12-31T23:59:59.999Z");
    CHECK(format_timestamp(INT64_MIN) == "0000-01-01T00:00:00.000Z");
    CHECK(parse_timestamp("2026-11-24T05:40:04.123Z") == 1795498804123);
    CHECK(parse_timestamp("1969-12-31T23:59:59.999Z") == -1);
    for (const std::int64_t ms : {0LL, 1LL, 86399999LL, 1795498804123LL, 253402300799999LL}) {
        CHECK(parse_timestamp(format_timestamp(ms)) == ms);
    }
    CHECK_FALSE(parse_timestamp("2026-11-24T05:40:04.123"));
    CHECK_FALSE(parse_timestamp("2026-11-24T05:40:04.123+00:00"));
    CHECK_FALSE(parse_timestamp("2026-11-24 05:40:04.123Z"));
    CHECK_FALSE(parse_timestamp("2026-02-29T05:40:04.123Z"));
    CHECK_FALSE(parse_timestamp("2026-11-24T24:00:00.000Z"));
    CHECK_FALSE(parse_timestamp("2026-11-24T05:60:00.000Z"));
    CHECK_FALSE(parse_timestamp("2026-11-24T05:40:60.000Z"));
    CHECK_FALSE(parse_timestamp("2026-11-24t05:40:04.123z"));
    CHECK_FALSE(parse_timestamp("+026-11-24T05:40:04.123Z"));
}
