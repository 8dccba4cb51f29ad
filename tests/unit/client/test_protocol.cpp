// SPDX-License-Identifier: MIT
#include <agent/client/banner.hpp>
#include <agent/client/protocol.hpp>

#include <catch2/catch.hpp>

using namespace execmark;
using namespace execmark::client;

TEST_CASE("requests round-trip")
{
    Request r;
    r.op = Op::close;
    r.mode = "wrapper";
    r.claims = {"alice", "INC-1", "bash", "/dev/pts/1"};
    r.fin = "hangup";
    r.rc = 129;
    const std::string line = format_request(r);
    REQUIRE(line.back() == '\n');
    const auto back = parse_request(std::string_view(line).substr(0, line.size() - 1));
    REQUIRE(back);
    REQUIRE(back->op == Op::close);
    REQUIRE(back->mode == "wrapper");
    REQUIRE(back->claims.user == "alice");
    REQUIRE(back->claims.tty == "/dev/pts/1");
    REQUIRE(back->fin == "hangup");
    REQUIRE(back->rc == 129);
}

TEST_CASE("raw claim bytes survive formatting without throwing")
{
    Request r;
    r.op = Op::open;
    r.claims.user = std::string("\xff\xfe\x1b[31mroot\n", 11);
    const std::string line = format_request(r);
    REQUIRE(line.find('\n') == line.size() - 1);
    REQUIRE(parse_request(std::string_view(line).substr(0, line.size() - 1)));
}

TEST_CASE("garbage requests are refused with a reason")
{
    for (const std::string_view bad : {"",
                                       "garbage",
                                       "[]",
                                       "{\"op\":1}",
                                       "{\"op\":\"sign\"}",
                                       "{\"op\":\"open\",\"mode\":\"evil\"}",
                                       "{\"op\":\"open\",\"user\":[1]}",
                                       "{\"op\":\"close\",\"rc\":\"x\"}",
                                       "{\"op\":\"close\",\"rc\":100000}",
                                       "{\"op\":\"close\",\"fin\":\"later\"}"}) {
        INFO(bad);
        const auto r = parse_request(bad);
        REQUIRE_FALSE(r);
        REQUIRE_FALSE(r.error().message.empty());
    }
    REQUIRE_FALSE(parse_request(std::string(k_max_request_bytes + 1, ' ')));
}

TEST_CASE("responses: error, missing marker, and a marker line with extra lines are refused")
{
    REQUIRE_FALSE(parse_marker_response(R"({"ok":false,"error":"no key"})"));
    REQUIRE_FALSE(parse_marker_response(R"({"ok":true})"));
    REQUIRE_FALSE(parse_marker_response(R"({"ok":true,"marker":"hello"})"));
    REQUIRE_FALSE(parse_marker_response("not json"));
}

TEST_CASE("banner: marker alone on its line, hostile display values neutralised")
{
    BannerInput in;
    in.event = "open";
    in.marker_line = R"(EXECMARK1 {"v":1} unsigned=no-agent)";
    in.sid = "s\nEXECMARK1 fake";
    in.user = "\x1b[2Jmallory\r\nEXECMARK1 {} ed25519=x";
    in.task = "arn:aws:ecs:eu-west-1:1:task/c/t";
    in.unsigned_reason = "no-agent";
    in.unsigned_detail = "connect /run/execmark/agent.sock: No such file or directory";
    for (const auto style : {BannerStyle::full, BannerStyle::compact, BannerStyle::off}) {
        const std::string text = render_banner(in, style);
        REQUIRE(text.back() == '\n');
        // Exactly one line starts with the marker, and the magic appears exactly once.
        REQUIRE(text.find("EXECMARK1") == text.rfind("EXECMARK1"));
        const auto pos = text.find("EXECMARK1");
        REQUIRE((pos == 0 || text[pos - 1] == '\n'));
        REQUIRE(text.find('\x1b') == std::string::npos);
        REQUIRE(text.find('\r') == std::string::npos);
        if (style == BannerStyle::off) {
            REQUIRE(text == in.marker_line + "\n");
        } else {
            REQUIRE(text.find("WARNING: marker not signed (no-agent)") != std::string::npos);
        }
    }
}

TEST_CASE("PID 1's refusals travel as typed codes, not as text to match")
{
    const std::string line = format_refusal(Refusal::no_key, "no signing key");
    const auto refused = parse_refusal(line.substr(0, line.size() - 1));
    REQUIRE(refused);
    REQUIRE(refused->code == Refusal::no_key);
    REQUIRE(refused->detail == "no signing key");
    // The detail text does not decide the code.
    const auto other =
        parse_refusal(R"({"ok":false,"code":"bad-request","error":"no signing key"})");
    REQUIRE(other);
    REQUIRE(other->code == Refusal::bad_request);
    // An unknown code (a newer PID 1) is a refusal of another kind; a success is no refusal.
    REQUIRE(parse_refusal(R"({"ok":false,"code":"later"})")->code == Refusal::refused_other);
    REQUIRE_FALSE(parse_refusal(R"({"ok":true})"));
    REQUIRE_FALSE(parse_refusal("not json"));
    REQUIRE_FALSE(parse_marker_response(line.substr(0, line.size() - 1)));
}

TEST_CASE("a session request caps and sanitizes the claims and flags what it changed")
{
    execmark::marker::Claims raw;
    raw.user = "alice";
    raw.reason = std::string(1000, 'r');
    raw.shell = "ba\x1bsh";
    const Request req = session_request(Op::open, "hook", raw);
    REQUIRE(req.claims.user == "alice");
    REQUIRE(req.claims.reason.size() <= k_max_sent_claim_bytes);
    REQUIRE(req.client_fixed == std::vector<std::string>{"reason", "shell"});
    REQUIRE(format_request(req).size() < k_max_request_bytes);
}

TEST_CASE("a recorder's report is parsed strictly")
{
    Request req;
    req.op = Op::rec;
    req.rec.kind = "enter";
    req.rec.idx = 3;
    req.rec.off = 4096;
    req.rec.hash = std::string(64, 'a');
    const std::string line = format_request(req);
    const auto back = parse_request(line.substr(0, line.size() - 1));
    REQUIRE(back);
    CHECK(back->op == Op::rec);
    CHECK(back->rec.kind == "enter");
    CHECK(back->rec.idx == 3);
    CHECK(back->rec.off == 4096);
    CHECK(back->rec.hash == std::string(64, 'a'));
    const std::string h64(64, 'a');
    const std::string bad[] = {
        R"({"op":"rec","kind":"later","idx":1,"off":0,"hash":")" + h64 + "\"}",
        R"({"op":"rec","kind":"enter","idx":1,"off":0,"hash":"AB"})",
        R"({"op":"rec","kind":"enter","idx":1,"off":0,"hash":""})",
        R"({"op":"rec","kind":"enter","idx":1,"off":0,"hash":"ab"})",
        R"({"op":"rec","kind":"enter","idx":-1,"off":0,"hash":")" + h64 + "\"}",
        R"({"op":"rec","kind":"enter","idx":1,"off":1e3,"hash":")" + h64 + "\"}",
        R"({"op":"rec","kind":"start","idx":0,"off":0,"hash":"00"})",
        R"({"op":"rec","kind":"interference","idx":1,"off":0,"hash":"","opid":-4,"side":"inner"})",
        R"({"op":"rec","kind":"interference","idx":1,"off":0,"hash":"","opid":4})",
        R"({"op":"rec","kind":"interference","idx":1,"off":0,"hash":"","side":"middle"})",
        R"({"op":"rec","kind":"enter","idx":1,"off":0,"hash":")" + h64 + R"(","side":"inner"})",
        R"({"op":"rec","kind":"typed","idx":0,"off":5,"hash":""})",
        R"({"op":"rec","kind":"typed","idx":1,"off":5,"hash":")" + h64 + "\"}",
        R"({"op":"rec","kind":"typed","idx":0,"off":0,"hash":")" + h64 + "\"}",
        R"({"op":"rec","kind":"typed","idx":0,"off":4097,"hash":")" + h64 + "\"}",
    };
    for (const auto& line_text : bad) {
        INFO(line_text);
        CHECK_FALSE(parse_request(line_text));
    }
    CHECK_FALSE(parse_request(R"({"op":"rec","kind":"enter","idx":1,"off":0,"hash":")"
                              + std::string(65, 'a') + "\"}"));
}

TEST_CASE("a typed-ahead report carries the input's size and its echo's digest")
{
    Request typed;
    typed.op = Op::rec;
    typed.rec.kind = "typed";
    typed.rec.off = k_max_rec_typed_bytes;
    typed.rec.hash = std::string(64, 'b');
    const std::string line = format_request(typed);
    const auto back = parse_request(line.substr(0, line.size() - 1));
    REQUIRE(back);
    CHECK(back->rec.kind == "typed");
    CHECK(back->rec.idx == 0);
    CHECK(back->rec.off == k_max_rec_typed_bytes);
    CHECK(back->rec.hash == std::string(64, 'b'));
}

TEST_CASE("a flow checkpoint and an interference with its side round-trip")
{
    Request flow;
    flow.op = Op::rec;
    flow.mode = "wrapper";
    flow.rec.kind = "flow";
    flow.rec.idx = 7;
    flow.rec.off = 1 << 20;
    flow.rec.hash = std::string(64, 'f');
    const std::string flow_line = format_request(flow);
    const auto flow_back = parse_request(flow_line.substr(0, flow_line.size() - 1));
    REQUIRE(flow_back);
    CHECK(flow_back->rec.kind == "flow");
    CHECK(flow_back->rec.side.empty());
    CHECK(flow_line.find("\"side\"") == std::string::npos);

    Request start;
    start.op = Op::rec;
    start.rec.kind = "start";
    const std::string start_line = format_request(start);
    const auto start_back = parse_request(start_line.substr(0, start_line.size() - 1));
    REQUIRE(start_back);
    CHECK(start_back->rec.hash.empty());

    for (const char* side : {"inner", "outer"}) {
        Request in;
        in.op = Op::rec;
        in.rec.kind = "interference";
        in.rec.idx = 3;
        in.rec.off = 99;
        in.rec.opid = 4242;
        in.rec.ocomm = "python3";
        in.rec.side = side;
        const std::string line = format_request(in);
        const auto back = parse_request(line.substr(0, line.size() - 1));
        REQUIRE(back);
        CHECK(back->rec.kind == "interference");
        CHECK(back->rec.side == side);
        CHECK(back->rec.opid == 4242);
        CHECK(back->rec.ocomm == "python3");
        CHECK(back->rec.hash.empty());
    }
    CHECK(is_checkpoint_kind("enter"));
    CHECK(is_checkpoint_kind("idle"));
    CHECK(is_checkpoint_kind("flow"));
    CHECK(is_checkpoint_kind("end"));
    CHECK_FALSE(is_checkpoint_kind("start"));
    CHECK_FALSE(is_checkpoint_kind("interference"));
}
