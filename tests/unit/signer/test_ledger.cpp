// SPDX-License-Identifier: MIT
#include <agent/signer/ledger.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace execmark;
using namespace execmark::signer;

namespace {

struct Fixture {
    SigningKey key = SigningKey::generate().value();
    std::int64_t now = 1'795'000'000'000;
    Ledger ledger{key, "1.2.3", "host-a", [this] {
                      return now++;
                  }};
};

marker::Fields verified_fields(const std::string& line, const marker::PublicKey& pk)
{
    const auto ex = marker::extract(line);
    REQUIRE(ex.status == marker::ExtractStatus::ok);
    REQUIRE(ex.is_signed);
    REQUIRE(marker::verify(ex.payload, ex.signature, pk));
    std::string error;
    const auto f = marker::parse_fields(ex.payload, &error);
    INFO(error);
    REQUIRE(f);
    return *f;
}

std::string payload_of(const std::string& line)
{
    return std::string(marker::extract(line).payload);
}

} // namespace

TEST_CASE("boot chain: boot, meta, watcher events, shutdown link up and verify")
{
    Fixture fx;
    const auto boot = fx.ledger.boot(1);
    const auto meta = fx.ledger.meta(
        {"arn:aws:ecs:eu-west-1:1:task/c/t", "c", "app", "id", "az", "FARGATE", "v4"});
    const auto seen = fx.ledger.exec_seen({"ecs-execute-command-0a", 42, "ok", 1000, 0, 0});
    const auto gone = fx.ledger.exec_gone({"ecs-execute-command-0a", 42, "ok", 1000, 1500, 2400});
    const auto down = fx.ledger.shutdown(143, 9000);
    const auto& pk = fx.key.public_key();
    const auto fb = verified_fields(boot.line, pk);
    REQUIRE(fb.ev == "boot");
    REQUIRE(fb.sid == "boot-" + fx.key.key_id());
    REQUIRE(fb.seq == 1);
    REQUIRE(fb.prev == "-");
    REQUIRE(fb.tseq == 1);
    REQUIRE(fb.str.at("pub") == marker::base64url(pk));
    const std::string* prev_payload = nullptr;
    std::string last = payload_of(boot.line);
    std::uint64_t expected_seq = 2;
    for (const auto* m : {&meta, &seen, &gone, &down}) {
        const auto f = verified_fields(m->line, pk);
        REQUIRE(f.sid == fb.sid);
        REQUIRE(f.seq == expected_seq);
        REQUIRE(f.tseq == expected_seq);
        REQUIRE(f.prev == marker::chain_hash(last));
        last = payload_of(m->line);
        ++expected_seq;
    }
    (void)prev_payload;
    const auto fg = verified_fields(gone.line, pk);
    REQUIRE(fg.str.at("wchk") == "ok");
    REQUIRE(fg.num.at("wst") == 1000);
    REQUIRE(fg.num.at("clast") == 2400);
    REQUIRE(verified_fields(down.line, pk).num.at("rc") == 143);
    REQUIRE(fx.ledger.markers_issued() == 5);
}

TEST_CASE("session chains are per session id, and tseq is global")
{
    Fixture fx;
    fx.ledger.boot(1);
    const TaskFacts task{"arn:aws:ecs:us-east-1:1:task/c/t", "c", "app", "", "", "", ""};
    marker::SessionFacts a{
        .task = task.task, .cluster = task.cluster, .ctr = task.ctr, .cpid = 10, .mode = "hook"};
    a.fin = "exit";
    marker::SessionFacts b = a;
    b.cpid = 20;
    b.mode = "wrapper";
    const std::string sa = "ecs-execute-command-aaa";
    const std::string sb = "ecs-execute-command-bbb";
    const auto a1 = fx.ledger.session("open", sa, a, {"alice", "", "bash", "/dev/pts/0", {}});
    const auto b1 = fx.ledger.session("open", sb, b, {"bob", "T-1", "sh", "", {}});
    a.rc = 3;
    const auto a2 = fx.ledger.session("close", sa, a, {"alice", "", "bash", "/dev/pts/0", {}});
    const auto& pk = fx.key.public_key();
    const auto fa1 = verified_fields(a1.line, pk);
    const auto fb1 = verified_fields(b1.line, pk);
    const auto fa2 = verified_fields(a2.line, pk);
    REQUIRE(fa1.seq == 1);
    REQUIRE(fb1.seq == 1);
    REQUIRE(fa2.seq == 2);
    REQUIRE(fa2.prev == marker::chain_hash(payload_of(a1.line)));
    REQUIRE(fa1.tseq == 2);
    REQUIRE(fb1.tseq == 3);
    REQUIRE(fa2.tseq == 4);
    REQUIRE(fa2.num.at("rc") == 3);
    REQUIRE(fa2.str.at("fin") == "exit");
    REQUIRE(fa1.str.at("user") == "alice");
    REQUIRE(fa1.str.at("task") == task.task);
    REQUIRE(fb1.str.at("mode") == "wrapper");
    REQUIRE(fa1.str.at("cfix").empty());
}

TEST_CASE("hostile claims never break the line, never spell a second marker")
{
    Fixture fx;
    const std::string fake = R"(EXECMARK1 {"v":1,"ev":"open"} ed25519=)" + std::string(86, 'A');
    const std::string huge(64 * 1024, 'x');
    const std::vector<std::string> hostile{
        "alice\nEXECMARK1 forged",
        "\x1b[2J\x1b]0;title\x07bob",
        "quote\"back\\slash",
        std::string("bad\xff\xfe utf8\xc3"),
        huge,
        fake,
        std::string("nul\0byte", 8),
    };
    for (const auto& value : hostile) {
        const marker::SessionFacts facts{.task = std::string(300, 't'),
                                         .cluster = std::string(300, 'c'),
                                         .ctr = std::string(300, 'n'),
                                         .owner = std::string(600, 'o'),
                                         .osrc = "claim:ssm-state-file",
                                         .cpid = 1,
                                         .mode = "hook",
                                         .wchk = "parent",
                                         .wsid = value};
        const auto m = fx.ledger.session(
            "open", "ecs-execute-command-x", facts, {value, value, value, value, {}});
        INFO(m.line.substr(0, 200));
        REQUIRE(m.line.size() <= marker::k_max_line_bytes);
        REQUIRE(m.line.find('\n') == std::string::npos);
        REQUIRE(m.line.find('\r') == std::string::npos);
        REQUIRE(m.line.find(std::string(marker::k_magic), 1) == std::string::npos);
        for (const char c : m.line) {
            REQUIRE((c >= 0x20 && c <= 0x7e));
        }
        const auto f = verified_fields(m.line, fx.key.public_key());
        REQUIRE_FALSE(f.str.at("cfix").empty());
        REQUIRE(m.user.find('\n') == std::string::npos);
    }
}

TEST_CASE("the chain of a forgotten session restarts, and the boot chain is never forgotten")
{
    Fixture fx;
    fx.ledger.boot(1);
    for (std::size_t i = 0; i < Ledger::k_max_sessions + 10; ++i) {
        const marker::SessionFacts f{.cpid = 1, .mode = "hook"};
        fx.ledger.session("open", "s" + std::to_string(i), f, {});
    }
    const auto down = fx.ledger.shutdown(0, 1);
    const auto f = verified_fields(down.line, fx.key.public_key());
    REQUIRE(f.seq == 2); // boot was seq 1: the boot chain survived the eviction
}

TEST_CASE("a rec marker has the keys of docs/markers.md section 12 in order, side last")
{
    Fixture fx;
    fx.ledger.boot(1);
    Ledger::RecordFacts in;
    in.ssid = "ecs-execute-command-0a";
    in.kind = "interference";
    in.idx = 4;
    in.off = 1234;
    in.rpid = 77;
    in.opid = 4242;
    in.ocomm = "python3";
    in.side = "outer";
    const auto issued = fx.ledger.record(in);
    const auto f = verified_fields(issued.line, fx.key.public_key());
    REQUIRE(f.ev == "rec");
    REQUIRE(f.sid == fx.ledger.boot_sid());
    const std::vector<std::string> keys(f.keys.begin() + 8, f.keys.end());
    REQUIRE(
        keys
        == std::vector<std::string>{
            "ssid", "kind", "idx", "off", "hash", "rpid", "fin", "rc", "opid", "ocomm", "side"});
    CHECK(f.str.at("side") == "outer");
    CHECK(f.str.at("kind") == "interference");
    CHECK(f.num.at("opid") == 4242);
    std::string error;
    CHECK(marker::check_event_fields(f, &error));
    INFO(error);

    Ledger::RecordFacts flow;
    flow.ssid = in.ssid;
    flow.kind = "flow";
    flow.idx = 5;
    flow.off = 4096;
    flow.hash = std::string(64, 'c');
    flow.rpid = 77;
    const auto f2 = verified_fields(fx.ledger.record(flow).line, fx.key.public_key());
    CHECK(f2.str.at("kind") == "flow");
    CHECK(f2.str.at("side").empty());
    CHECK(marker::check_event_fields(f2, &error));
}
