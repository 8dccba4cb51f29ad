// SPDX-License-Identifier: MIT
#include "helpers.hpp"

#include <agent/audit/verifier.hpp>

#include <catch2/catch.hpp>

#include <algorithm>

using namespace execmark::audit;
using execmark::audit::test::TestBoot;

namespace {

const std::string k_sid = "ecs-execute-command-0a1b2c3d4e5f6a7b8";

std::map<std::string, std::string> claims(const std::string& user)
{
    return {{"user", user},
            {"shell", "/bin/bash"},
            {"mode", "hook"},
            {"cpid", "4250"},
            {"task", "arn:aws:ecs:eu-west-1:1:task/prod/abc"},
            {"ctr", "app"}};
}

struct Harness {
    TrustStore trust;
    SessionBootKeys boot_keys;

    LogVerdict check(const std::vector<std::string>& lines, const std::string& own = k_sid)
    {
        LogIdentity id;
        id.key = "file:" + own;
        id.source = own + ".log";
        id.own_sid = own;
        id.sid_origin = own.empty() ? "" : "file name";
        SessionLogCheck c(id, trust, boot_keys);
        std::uint64_t n = 0;
        for (const auto& l : lines) {
            CandidateLine line;
            line.text = l;
            line.where.line = ++n;
            c.on_candidate(line);
        }
        return c.finish(boot_keys);
    }

    void trust_boot(TestBoot& boot)
    {
        ContainerLogCheck container(trust);
        LogIdentity id;
        id.source = "container.log";
        container.begin_log(id);
        const std::string line = boot.boot();
        CandidateLine c;
        c.text = line;
        c.where.line = 1;
        container.on_candidate(c);
        container.finish();
    }
};

} // namespace

TEST_CASE("verifier: kid hint without parsing")
{
    CHECK(kid_hint("{\"v\":1,\"ev\":\"open\",\"ts\":\"2026-11-24T05:40:04.123Z\",\"kid\":"
                   "\"k0e11b71495203fa0\",\"tseq\":4}")
          == "k0e11b71495203fa0");
    CHECK(kid_hint("{\"v\":1}").empty());
}

TEST_CASE("verifier: a genuine session is clean and yields its facts")
{
    TestBoot boot;
    Harness h;
    h.trust_boot(boot);
    const auto v =
        h.check({"\x1b[1mbanner\x1b[0m " + boot.next("open", k_sid, claims("alice")) + "\r\r",
                 boot.next("close", k_sid, {{"fin", "exit"}, {"rc", "3"}})});
    CHECK(v.findings.empty());
    CHECK(v.own == 2);
    CHECK(v.facts.claim == "alice");
    CHECK(v.facts.has_close);
    REQUIRE(v.facts.rc);
    CHECK(*v.facts.rc == 3);
}

TEST_CASE("verifier: untrusted key, fake boot key in the session log, bad signature")
{
    TestBoot genuine(0x42);
    TestBoot attacker(0x66);
    Harness h;
    h.trust_boot(genuine);
    const auto forged = h.check({attacker.boot(),
                                 attacker.next("open", k_sid, claims("alice")),
                                 attacker.next("close", k_sid)});
    CHECK(forged.findings.has(Finding::forged));
    CHECK(forged.own == 0);
    bool named_boot = false;
    for (const auto& p : forged.problems) {
        named_boot = named_boot || p.detail.find("only inside a session log") != std::string::npos;
    }
    CHECK(named_boot);

    std::string open = genuine.next("open", k_sid, claims("alice"));
    open.replace(open.find("alice"), 5, "mallo");
    const auto altered = h.check({open, genuine.next("close", k_sid)});
    CHECK(altered.findings.has(Finding::forged));
    CHECK(altered.findings.has(Finding::gap)); // the forged open does not count in the chain
}

TEST_CASE("verifier: binding, mangling, unsigned, mentions")
{
    TestBoot boot;
    Harness h;
    h.trust_boot(boot);
    const auto replayed =
        h.check({boot.next("open", k_sid), boot.next("close", k_sid)}, "ecs-execute-command-other");
    CHECK(replayed.findings.has(Finding::replayed));
    CHECK(replayed.own == 0);

    std::string cut = boot.next("open", "ecs-execute-command-m");
    cut.resize(cut.size() - 10);
    const auto mangled = h.check({cut}, "ecs-execute-command-m");
    CHECK(mangled.findings.has(Finding::mangled));

    const auto unsig = h.check(
        {"EXECMARK1 {\"v\":1,\"ev\":\"open\",\"ts\":\"2026-11-24T06:03:45.009Z\",\"kid\":\"-\","
         "\"tseq\":0,\"sid\":\"local-1\",\"seq\":1,\"prev\":\"-\"} unsigned=no-agent"},
        "ecs-execute-command-u");
    CHECK(unsig.findings.list() == std::vector<Finding>{Finding::unsigned_marker});

    const auto mention =
        h.check({"root@host:/# grep EXECMARK1 /var/log/app.log"}, "ecs-execute-command-g");
    CHECK(mention.findings.empty());
    CHECK(mention.mentions == 1);
    CHECK(mention.markers == 0);
}

TEST_CASE("verifier: unknown own session id is UNBOUND and binds to the first marker")
{
    TestBoot boot;
    Harness h;
    h.trust_boot(boot);
    const auto v = h.check({boot.next("open", k_sid), boot.next("close", k_sid)}, "");
    CHECK(v.findings.list() == std::vector<Finding>{Finding::unbound});
    CHECK(v.sid == k_sid);
}

TEST_CASE("verifier: container log trust needs a self-consistent boot marker")
{
    TestBoot boot;
    TrustStore trust;
    ContainerLogCheck container(trust);
    LogIdentity id;
    id.source = "container.log";
    container.begin_log(id);
    std::uint64_t n = 0;
    const auto feed = [&](const std::string& text) {
        CandidateLine c;
        c.text = text;
        c.where.line = ++n;
        container.on_candidate(c);
    };
    // exec.seen before its boot marker is read: deferred, then verified.
    TestBoot other(0x77);
    const std::string boot_line = boot.boot();
    const std::string seen =
        boot.next("exec.seen", boot.boot_sid(), {{"wsid", k_sid}, {"wpid", "42"}});
    feed(seen);
    feed(boot_line);
    feed(boot.next("exec.gone", boot.boot_sid(), {{"wsid", k_sid}, {"wpid", "42"}, {"dur", "5"}}));
    // A boot marker whose pub is not its signer.
    std::string payload = other.payload_for(
        "boot", other.boot_sid(), 1, "-", {{"pub", boot.pub()}, {"ver", "x"}, {"pid", "1"}});
    feed(other.sign_payload(payload));
    container.finish();
    CHECK(trust.find(boot.kid()) != nullptr);
    CHECK(trust.find(other.kid()) == nullptr);
    REQUIRE(container.evidence().count(k_sid) == 1);
    CHECK_FALSE(container.evidence().at(k_sid).seen_ts.empty());
    CHECK_FALSE(container.evidence().at(k_sid).gone_ts.empty());
    REQUIRE(container.problems().size() == 1);
    CHECK(container.problems()[0].finding == Finding::forged);
    // exec.seen came before its boot marker in the file: not a finding (files come in any order).
    for (const auto& b : container.boots()) {
        CHECK(b.problems.empty());
    }
}

namespace {

// Feeds container-log lines to a ContainerLogCheck, one stream per begin().
struct ContainerFeed {
    TrustStore trust;
    ContainerLogCheck check{trust};
    std::uint64_t n = 0;

    void begin(const std::string& source)
    {
        LogIdentity id;
        id.source = source;
        check.begin_log(id);
        n = 0;
    }

    void feed(const std::string& text)
    {
        CandidateLine c;
        c.text = text;
        c.where.line = ++n;
        check.on_candidate(c);
    }

    // The verdict on a session log of sid holding one marker line, checked with this trust.
    [[nodiscard]] LogVerdict session_with(const std::string& sid, const std::string& marker_line)
    {
        SessionBootKeys boot_keys;
        LogIdentity id;
        id.source = sid + ".log";
        id.own_sid = sid;
        SessionLogCheck session(id, trust, boot_keys);
        CandidateLine line;
        line.text = marker_line;
        line.where.line = 1;
        session.on_candidate(line);
        return session.finish(boot_keys);
    }

    [[nodiscard]] bool has(Finding f) const
    {
        return std::any_of(check.problems().begin(), check.problems().end(), [f](const Problem& p) {
            return p.finding == f;
        });
    }
};

} // namespace

TEST_CASE("key trust: the first boot key of a stream, a later one only after its shutdown")
{
    TestBoot first(0x11);
    TestBoot second(0x22);
    ContainerFeed c;
    c.begin("stream-a");
    c.feed(first.boot());
    c.feed(first.next("shutdown", first.boot_sid(), {{"rc", "0"}, {"up", "5"}}));
    c.feed(second.boot()); // a restart: the previous key shut down first
    TestBoot elsewhere(0x33);
    c.begin("stream-b");
    c.feed(elsewhere.boot()); // another container's stream has its own first key
    c.check.finish();
    REQUIRE(c.trust.find(first.kid()) != nullptr);
    CHECK(c.trust.find(first.kid())->trust == KeyTrust::first_boot);
    CHECK(c.trust.find(first.kid())->origin.find("stream-a:1") != std::string::npos);
    REQUIRE(c.trust.find(second.kid()) != nullptr);
    CHECK(c.trust.find(second.kid())->trust == KeyTrust::restart);
    CHECK(c.trust.find(elsewhere.kid())->trust == KeyTrust::first_boot);
    CHECK(c.check.problems().empty());
}

TEST_CASE("key trust: a boot marker appended while PID 1 still signs is KEY-INJECTED")
{
    TestBoot genuine(0x11);
    TestBoot attacker(0x66);
    ContainerFeed c;
    c.begin("stream-a");
    c.feed(genuine.boot());
    // Appended through the application's stdout, inside one of its log lines.
    c.feed("GET /search?q=" + attacker.boot());
    c.feed(genuine.next("exec.seen", genuine.boot_sid(), {{"wsid", k_sid}, {"wpid", "9"}}));
    c.check.finish();
    CHECK(c.trust.find(attacker.kid()) == nullptr);
    REQUIRE(c.trust.find_injected(attacker.kid()) != nullptr);
    CHECK(c.trust.find_injected(attacker.kid())->trust == KeyTrust::injected);
    CHECK(c.has(Finding::key_injected));
    // Whatever the injected key signs is FORGED in a session log.
    const LogVerdict v =
        c.session_with(k_sid, attacker.next("open", k_sid, {{"user", "alice"}, {"wchk", "ok"}}));
    CHECK(v.findings.has(Finding::forged));
    CHECK(v.problems.at(0).detail.find("injected") != std::string::npos);
}

TEST_CASE("key trust: a later boot with no shutdown and no later sign of life is KEY-UNPROVEN")
{
    TestBoot crashed(0x11);
    TestBoot later(0x22);
    ContainerFeed c;
    c.begin("stream-a");
    c.feed(crashed.boot());
    c.feed(later.boot());
    c.feed(later.next("exec.seen", later.boot_sid(), {{"wsid", k_sid}, {"wpid", "9"}}));
    c.check.finish();
    REQUIRE(c.trust.find(later.kid()) != nullptr);
    CHECK(c.trust.find(later.kid())->trust == KeyTrust::unproven);
    CHECK(c.has(Finding::key_unproven));
    CHECK_FALSE(c.has(Finding::key_injected));
    const LogVerdict v =
        c.session_with(k_sid, later.next("open", k_sid, {{"user", "alice"}, {"wchk", "ok"}}));
    CHECK(v.findings.has(Finding::key_unproven));
    CHECK_FALSE(v.findings.has(Finding::forged));
}

TEST_CASE("verifier: a marker signed under an imitation worker is FAKE-WORKER, not the victim's")
{
    TestBoot boot;
    TrustStore trust;
    ContainerLogCheck container(trust);
    LogIdentity cid;
    cid.source = "container.log";
    container.begin_log(cid);
    CandidateLine b;
    const std::string boot_line = boot.boot();
    b.text = boot_line;
    b.where.line = 1;
    container.on_candidate(b);
    CandidateLine fake_seen;
    const std::string seen_line =
        boot.next("exec.seen",
                  boot.boot_sid(),
                  {{"wsid", "ecs-execute-command-victim"}, {"wpid", "7"}, {"wchk", "parent"}});
    fake_seen.text = seen_line;
    fake_seen.where.line = 2;
    container.on_candidate(fake_seen);
    container.finish();
    // The imitation is no evidence of the victim's session, and a finding of the container.
    CHECK(container.evidence().count("ecs-execute-command-victim") == 0);
    REQUIRE(container.boots().size() == 1);
    REQUIRE(container.boots()[0].problems.size() == 1);
    CHECK(container.boots()[0].problems[0].finding == Finding::fake_worker);
    // In the attacker's own session log the local marker makes the log not clean.
    SessionBootKeys boot_keys;
    LogIdentity id;
    id.source = "attacker.log";
    id.own_sid = "ecs-execute-command-attacker";
    SessionLogCheck session(id, trust, boot_keys);
    CandidateLine line;
    const std::string local_open =
        boot.next("open",
                  "local-71-900",
                  {{"user", "alice"}, {"wchk", "parent"}, {"wsid", "ecs-execute-command-victim"}});
    line.text = local_open;
    line.where.line = 3;
    session.on_candidate(line);
    const LogVerdict v = session.finish(boot_keys);
    CHECK(v.findings.has(Finding::fake_worker));
    CHECK_FALSE(v.findings.has(Finding::replayed));
}

TEST_CASE("verifier: --key text")
{
    TestBoot boot;
    TrustStore trust;
    CHECK(trust.add_key_text(boot.pub()).ok());
    CHECK(trust.find(boot.kid()) != nullptr);
    CHECK_FALSE(trust.add_key_text("not-a-key").ok());
}

namespace {

// What a container-log check concluded, as text, for comparing two runs.
std::string container_summary(const TrustStore& trust, const ContainerLogCheck& check)
{
    std::string out = "signatures " + std::to_string(check.signatures_checked()) + "\n";
    for (const Problem& p : check.problems()) {
        out += std::string(finding_name(p.finding)) + " " + p.where + " " + p.detail + "\n";
    }
    for (const BootReport& b : check.boots()) {
        out += "boot " + b.kid + " " + std::string(key_trust_name(b.trust)) + " "
               + std::to_string(b.markers) + "\n";
        for (const Problem& p : b.problems) {
            out += "  " + std::string(finding_name(p.finding)) + " " + p.where + "\n";
        }
    }
    for (const auto& [kid, key] : trust.keys()) {
        out += "key " + kid + " " + key.origin + "\n";
    }
    for (const auto& [kid, key] : trust.injected()) {
        out += "injected " + kid + " " + key.origin + "\n";
    }
    for (const auto& [ssid, rec] : check.recordings()) {
        out += "rec " + ssid + " " + std::to_string(rec.points.size()) + "\n";
        for (const RecPoint& p : rec.points) {
            out += "  " + p.kind + " " + p.where + "\n";
        }
    }
    for (const auto& [wsid, ev] : check.evidence()) {
        out += "exec " + wsid + " " + ev.where + "\n";
    }
    return out;
}

} // namespace

TEST_CASE("verifier: container-log signatures checked on several threads give the same result")
{
    // More lines than one batch (1024), with everything whose order matters: markers before
    // their boot marker (deferred), forged signatures, a boot marker injected while PID 1 still
    // signs (its key is dropped part-way through), a restart after a shutdown.
    TestBoot genuine(0x11);
    TestBoot attacker(0x66);
    TestBoot restarted(0x22);
    std::vector<std::pair<std::string, std::string>> lines; // (stream, text)
    const auto rec = [&](TestBoot& boot, int n) {
        return boot.next("rec",
                         boot.boot_sid(),
                         {{"ssid", k_sid},
                          {"kind", "flow"},
                          {"idx", std::to_string(n)},
                          {"off", std::to_string(n * 100)},
                          {"hash", std::string(64, 'a')}});
    };
    // Read before the boot marker of its key (a later file): verified at the end.
    lines.emplace_back("b", restarted.next("exec.seen", restarted.boot_sid(), {{"wsid", k_sid}}));
    lines.emplace_back("a", genuine.boot());
    for (int n = 1; n <= 1500; ++n) {
        std::string line = rec(genuine, n);
        if (n % 97 == 0) {
            line[line.size() - 3] = line[line.size() - 3] == 'A' ? 'B' : 'A'; // forged
        }
        lines.emplace_back("a", line);
        if (n == 700) {
            lines.emplace_back("a", "GET /?q=" + attacker.boot());
            lines.emplace_back("a", rec(attacker, n));
        }
        if (n == 1200) {
            lines.emplace_back("a", rec(attacker, n)); // after its key was found injected
        }
    }
    lines.emplace_back("a", genuine.next("shutdown", genuine.boot_sid(), {{"rc", "0"}}));
    lines.emplace_back("a", restarted.boot());
    for (int n = 1; n <= 40; ++n) {
        lines.emplace_back("a", rec(restarted, n));
    }
    const auto run = [&](unsigned threads) {
        TrustStore trust;
        ContainerLogCheck check(trust, threads);
        std::string stream;
        std::uint64_t n = 0;
        for (const auto& [name, text] : lines) {
            if (name != stream) {
                LogIdentity id;
                id.source = "container-" + name + ".log";
                check.begin_log(id);
                stream = name;
            }
            CandidateLine c;
            c.text = text;
            c.where.line = ++n;
            check.on_candidate(c);
        }
        check.finish();
        return container_summary(trust, check);
    };
    const std::string one = run(1);
    CHECK(one.find("KEY-INJECTED") != std::string::npos);
    CHECK(one.find("FORGED") != std::string::npos);
    CHECK(run(2) == one);
    CHECK(run(4) == one);
}
