// SPDX-License-Identifier: MIT
#include <agent/audit/verifier.hpp>

#include <catch2/catch.hpp>

#include <algorithm>

using namespace execmark::audit;

namespace {

// A chain of n markers: open, then closes; hash "h<seq>", prev "h<seq-1>".
ChainEntry entry(std::uint64_t seq, std::string ev = "")
{
    ChainEntry e;
    e.seq = seq;
    e.hash = "h" + std::to_string(seq);
    e.prev = seq == 1 ? "-" : "h" + std::to_string(seq - 1);
    e.ev = ev.empty() ? (seq % 2 == 1 ? "open" : "close") : ev;
    e.where = "line " + std::to_string(seq);
    return e;
}

FindingSet findings(const std::vector<ChainEntry>& entries, bool require_close = true)
{
    ChainCheck check;
    for (const auto& e : entries) {
        check.add(e);
    }
    FindingSet set;
    for (const auto& p : check.finish(require_close)) {
        set.add(p.finding);
    }
    return set;
}

} // namespace

TEST_CASE("chain: a complete chain is clean")
{
    CHECK(findings({entry(1), entry(2)}).empty());
    CHECK(findings({entry(1), entry(2), entry(3), entry(4)}).empty());
}

TEST_CASE("chain: missing close")
{
    CHECK(findings({entry(1)}).list() == std::vector<Finding>{Finding::no_close});
    CHECK(findings({entry(1), entry(2), entry(3)}).list()
          == std::vector<Finding>{Finding::no_close});
    CHECK(findings({entry(1)}, false).empty());
    // Nested shells: two opens, one close.
    CHECK(findings({entry(1, "open"), entry(2, "open"), entry(3, "close")}).has(Finding::no_close));
}

TEST_CASE("chain: deletion, reordering and duplication")
{
    CHECK(findings({entry(2)}).list() == std::vector<Finding>{Finding::gap});
    CHECK(findings({entry(1), entry(2), entry(4)}).has(Finding::gap));
    CHECK(findings({entry(2), entry(1)}).list() == std::vector<Finding>{Finding::reordered});
    CHECK(findings({entry(1), entry(1), entry(2)}).list()
          == std::vector<Finding>{Finding::duplicate});
    CHECK(findings({entry(1), entry(2), entry(2)}).list()
          == std::vector<Finding>{Finding::duplicate});
}

TEST_CASE("chain: conflicting links are ALTERED")
{
    ChainEntry other = entry(1);
    other.hash = "different";
    CHECK(findings({entry(1), other, entry(2)}).list() == std::vector<Finding>{Finding::altered});
    ChainEntry bad_prev = entry(2);
    bad_prev.prev = "h9";
    CHECK(findings({entry(1), bad_prev}).list() == std::vector<Finding>{Finding::altered});
}

TEST_CASE("chain: details say where")
{
    ChainCheck check;
    check.add(entry(1));
    check.add(entry(3));
    const auto problems = check.finish(true);
    REQUIRE(problems.size() == 2);
    CHECK(problems[0].finding == Finding::gap);
    CHECK(problems[0].where == "line 3");
    CHECK(problems[0].detail == "seq 2 missing before this marker");
}
