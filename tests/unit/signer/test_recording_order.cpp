// SPDX-License-Identifier: MIT
#include <agent/signer/recording_order.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace execmark;
using execmark::signer::RecordingOrder;

namespace {

client::RecordReport report(const std::string& kind, std::uint64_t idx, std::uint64_t off)
{
    client::RecordReport r;
    r.kind = kind;
    r.idx = idx;
    r.off = off;
    return r;
}

// Accepted reports at one time apart, so that the rate bound does not come into it.
struct Clock {
    std::int64_t now = 5'000;

    std::int64_t next() { return now += 100; }
};

} // namespace

TEST_CASE("recording order: an honest recorder's reports are all accepted")
{
    RecordingOrder order;
    Clock clock;
    CHECK_FALSE(order.accept(report("start", 0, 0), clock.next()));
    CHECK(order.started());
    CHECK_FALSE(order.accept(report("typed", 0, 12), clock.next()));
    CHECK(order.off() == 0); // typed counts input, not output
    CHECK_FALSE(order.accept(report("enter", 1, 40), clock.next()));
    CHECK_FALSE(order.accept(report("interference", 1, 40), clock.next()));
    CHECK_FALSE(order.accept(report("idle", 2, 900), clock.next()));
    CHECK_FALSE(order.accept(report("flow", 3, 70'000), clock.next()));
    CHECK_FALSE(order.accept(report("end", 4, 70'010), clock.next()));
    CHECK(order.ended());
    CHECK(order.idx() == 4);
    CHECK(order.off() == 70'010);
}

TEST_CASE("recording order: typed-ahead input is reported once, before the first checkpoint")
{
    // A root user who could make PID 1 sign a second typed digest would anchor echo text of
    // their choosing before the open; one after a checkpoint would anchor text in the middle.
    RecordingOrder order;
    Clock clock;
    REQUIRE_FALSE(order.accept(report("start", 0, 0), clock.next()));
    REQUIRE_FALSE(order.accept(report("typed", 0, 5), clock.next()));
    const auto again = order.accept(report("typed", 0, 5), clock.next());
    REQUIRE(again);
    CHECK(*again == "typed-ahead input is reported once, before the first checkpoint");

    RecordingOrder late;
    REQUIRE_FALSE(late.accept(report("start", 0, 0), clock.next()));
    REQUIRE_FALSE(late.accept(report("enter", 1, 10), clock.next()));
    CHECK(late.accept(report("typed", 0, 5), clock.next()));
    // The refused report changed nothing: the next checkpoint is still 2.
    CHECK_FALSE(late.accept(report("idle", 2, 20), clock.next()));
}

TEST_CASE("recording order: nothing before the start, no second start, nothing after the end")
{
    Clock clock;
    RecordingOrder order;
    CHECK(order.accept(report("enter", 1, 10), clock.next()));
    CHECK(order.accept(report("typed", 0, 1), clock.next()));
    CHECK(order.accept(report("end", 1, 10), clock.next()));
    CHECK_FALSE(order.started());
    CHECK(order.accept(report("start", 1, 0), clock.next())); // must be checkpoint 0
    CHECK(order.accept(report("start", 0, 9), clock.next())); // and offset 0
    REQUIRE_FALSE(order.accept(report("start", 0, 0), clock.next()));
    CHECK(order.accept(report("start", 0, 0), clock.next()));
    REQUIRE_FALSE(order.accept(report("end", 1, 3), clock.next()));
    for (const char* kind : {"start", "typed", "enter", "idle", "flow", "end", "interference"}) {
        INFO(kind);
        const auto why = order.accept(report(kind, 2, 3), clock.next());
        REQUIRE(why);
        CHECK(*why == "the recording ended");
    }
}

TEST_CASE("recording order: checkpoints count one up and offsets never go back")
{
    RecordingOrder order;
    Clock clock;
    REQUIRE_FALSE(order.accept(report("start", 0, 0), clock.next()));
    REQUIRE_FALSE(order.accept(report("enter", 1, 100), clock.next()));
    CHECK(order.accept(report("enter", 1, 200), clock.next())); // idx repeated
    CHECK(order.accept(report("enter", 3, 200), clock.next())); // idx skipped
    CHECK(order.accept(report("idle", 2, 99), clock.next()));   // offset back
    CHECK(order.accept(report("interference", 1, 50), clock.next()));
    CHECK(order.accept(report("end", 0, 100), clock.next()));
    CHECK_FALSE(order.accept(report("idle", 2, 100), clock.next())); // same offset: idle output
    CHECK(order.idx() == 2);
    CHECK_FALSE(order.accept(report("interference", 2, 100), clock.next()));
    CHECK(order.idx() == 2); // interference is not a checkpoint
}

TEST_CASE("recording order: at most k_max_reports_per_second a second, the end always passes")
{
    RecordingOrder order;
    constexpr int max = RecordingOrder::k_max_reports_per_second;
    std::int64_t t = 10'000;
    REQUIRE_FALSE(order.accept(report("start", 0, 0), t));
    std::uint64_t idx = 0;
    for (int i = 1; i < max; ++i) {
        REQUIRE_FALSE(order.accept(report("enter", ++idx, idx * 10), t + i));
    }
    const auto over = order.accept(report("enter", idx + 1, (idx + 1) * 10), t + 500);
    REQUIRE(over);
    CHECK(*over == "too many reports");
    CHECK(order.accept(report("interference", idx, idx * 10), t + 600));
    // A second later the window is new; the refused checkpoint number is still free.
    CHECK_FALSE(order.accept(report("enter", idx + 1, (idx + 1) * 10), t + 1000));
    ++idx;
    for (int i = 1; i < max; ++i) {
        REQUIRE_FALSE(order.accept(report("idle", ++idx, idx * 10), t + 1000 + i));
    }
    CHECK(order.accept(report("flow", idx + 1, (idx + 1) * 10), t + 1500));
    CHECK_FALSE(order.accept(report("end", idx + 1, (idx + 1) * 10), t + 1501));
    CHECK(order.ended());
}

TEST_CASE("recording order: a clock that goes back starts a new window, not a stuck one")
{
    RecordingOrder order;
    REQUIRE_FALSE(order.accept(report("start", 0, 0), 50'000));
    std::uint64_t idx = 0;
    for (int i = 1; i < RecordingOrder::k_max_reports_per_second; ++i) {
        REQUIRE_FALSE(order.accept(report("enter", ++idx, idx), 50'000));
    }
    CHECK(order.accept(report("enter", idx + 1, idx + 1), 50'000));
    CHECK_FALSE(order.accept(report("enter", idx + 1, idx + 1), 1'000));
}
