// SPDX-License-Identifier: MIT
#include <agent/audit/parallel.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <vector>

using namespace execmark::audit;

TEST_CASE("parallel_for: every index once, on any number of threads")
{
    for (const unsigned threads : {1U, 2U, 5U}) {
        std::vector<std::atomic<int>> seen(1000);
        parallel_for(seen.size(), threads, [&](std::size_t i) { seen[i].fetch_add(1); });
        for (const auto& s : seen) {
            CHECK(s.load() == 1);
        }
    }
    CHECK_THROWS_AS(parallel_for(100,
                                 3,
                                 [](std::size_t i) {
                                     if (i == 42) {
                                         throw std::runtime_error("x");
                                     }
                                 }),
                    std::runtime_error);
}

TEST_CASE("work pool: the tasks of a strand run in order, one at a time")
{
    for (const unsigned threads : {1U, 2U, 4U}) {
        // A small queue: post() often runs tasks itself.
        WorkPool pool(threads, 64);
        constexpr int k_strands = 40;
        constexpr int k_tasks = 300;
        std::vector<std::unique_ptr<WorkPool::Strand>> strands;
        std::vector<std::vector<int>> order(k_strands);
        std::vector<std::atomic<int>> running(k_strands);
        bool overlap = false; // written only under a strand's own serialisation
        for (int s = 0; s < k_strands; ++s) {
            strands.push_back(std::make_unique<WorkPool::Strand>());
        }
        for (int t = 0; t < k_tasks; ++t) {
            for (int s = 0; s < k_strands; ++s) {
                pool.post(
                    *strands[s],
                    [&, s, t] {
                        if (running[s].fetch_add(1) != 0) {
                            overlap = true;
                        }
                        order[s].push_back(t);
                        running[s].fetch_sub(1);
                    },
                    16);
            }
        }
        for (int s = 0; s < k_strands; ++s) {
            pool.wait(*strands[s]);
            REQUIRE(order[s].size() == k_tasks);
            for (int t = 0; t < k_tasks; ++t) {
                CHECK(order[s][t] == t);
            }
        }
        CHECK_FALSE(overlap);
    }
}

TEST_CASE("work pool: an exception stops its strand and reaches wait(), and discard drops the rest")
{
    for (const unsigned threads : {1U, 3U}) {
        WorkPool pool(threads, 1 << 20);
        WorkPool::Strand failing;
        WorkPool::Strand other;
        int after = 0;
        int others = 0;
        if (pool.inline_only()) {
            CHECK_THROWS_AS(pool.post(
                                failing, [] { throw std::runtime_error("bad"); }, 1),
                            std::runtime_error);
        } else {
            pool.post(
                failing, [] { throw std::runtime_error("bad"); }, 1);
            pool.post(
                failing, [&] { ++after; }, 1);
            for (int i = 0; i < 100; ++i) {
                pool.post(
                    other, [&] { ++others; }, 1);
            }
            CHECK_THROWS_AS(pool.wait(failing), std::runtime_error);
            CHECK(after == 0);
            pool.wait(other);
            CHECK(others == 100);
        }
        WorkPool::Strand dropped;
        std::atomic<int> ran{0};
        for (int i = 0; i < 1000; ++i) {
            pool.post(
                dropped, [&] { ran.fetch_add(1); }, 1);
        }
        pool.discard(dropped);
        const int seen = ran.load();
        CHECK(seen <= 1000);
        pool.discard(dropped); // nothing left: returns at once
        CHECK(ran.load() == seen);
    }
}
