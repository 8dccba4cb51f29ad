// SPDX-License-Identifier: MIT
#include <agent/recorder/policy.hpp>

#include <catch2/catch.hpp>

using execmark::recorder::CheckpointPolicy;
using execmark::recorder::PolicyTimes;

TEST_CASE("nothing is due without output or Enter")
{
    const CheckpointPolicy p(PolicyTimes{}, 0);
    CHECK_FALSE(p.due(10'000));
    CHECK(p.wait_ms(10'000) == -1);
}

TEST_CASE("an Enter is due at once when the reporter is free and the gap has passed")
{
    CheckpointPolicy p(PolicyTimes{}, 0);
    p.enter(50);
    CHECK_FALSE(p.due(50)); // 100 ms after the start report
    CHECK(p.wait_ms(50) == 50);
    CHECK(p.due(100) == "enter");
    p.sent(100, true);
    CHECK_FALSE(p.due(1000));
}

TEST_CASE("idle follows output after idle_ms of quiet, and only once")
{
    CheckpointPolicy p(PolicyTimes{}, 0);
    p.output(1000);
    p.output(1200);
    CHECK_FALSE(p.due(1500));
    CHECK(p.wait_ms(1500) == 100);
    CHECK(p.due(1600) == "idle");
    p.sent(1600, true);
    CHECK_FALSE(p.due(5000));
}

TEST_CASE("output streaming without a pause gets a flow checkpoint every flow_ms")
{
    CheckpointPolicy p(PolicyTimes{}, 0);
    std::int64_t t = 1000;
    int flows = 0;
    for (; t < 21'000; t += 10) {
        p.output(t);
        if (const auto kind = p.due(t)) {
            CHECK(*kind == "flow");
            p.sent(t, true);
            ++flows;
        }
    }
    CHECK(flows == 3); // 5 s after the stream began, then every 5 s: at 6, 11 and 16 s
}

TEST_CASE("an Enter typed while the reporter is busy is coalesced into one checkpoint")
{
    CheckpointPolicy p(PolicyTimes{}, 0);
    p.enter(500);
    p.enter(520);
    p.enter(540);
    CHECK(p.due(600) == "enter");
    p.sent(600, true);
    CHECK_FALSE(p.due(700));
}

TEST_CASE("an Enter taken only after its command's output arrived is followed by idle")
{
    CheckpointPolicy p(PolicyTimes{}, 0);
    p.enter(20);
    p.output(40); // the command's output, before the gap allowed the Enter checkpoint
    CHECK(p.due(100) == "enter");
    p.sent(100, true);
    CHECK(p.due(500) == "idle");
}

TEST_CASE("reports of any kind are at least gap_ms apart (at most 10 per second)")
{
    CheckpointPolicy p(PolicyTimes{}, 0);
    int sent = 0;
    for (std::int64_t t = 0; t < 10'000; ++t) {
        p.enter(t);
        p.output(t);
        if (p.due(t)) {
            p.sent(t, true);
            ++sent;
        }
    }
    CHECK(sent <= 100);
    CHECK(sent >= 99);
}
