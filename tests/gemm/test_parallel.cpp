// SPDX-License-Identifier: MIT
// Tests of the thread pool (include/fxp/core/thread_pool.hpp): the thread count setting,
// every task run exactly once, exceptions carried back to the caller, nested and
// concurrent calls.

#include <fxp/core/thread_pool.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstddef>
#include <stdexcept>
#include <thread>
#include <vector>

#include "reference.hpp"

namespace d = fxp::detail;

TEST_CASE("the thread count is settable and at least 1", "[parallel]") {
  REQUIRE(fxp::num_threads() >= 1);
  fxp_test::with_threads(3, [] { REQUIRE(fxp::num_threads() == 3); });
  REQUIRE_THROWS_WITH(fxp::set_num_threads(0), Catch::Contains("got 0"));
}

TEST_CASE("parallel_for runs every task exactly once", "[parallel]") {
  for (const std::size_t threads : {std::size_t{1}, std::size_t{2}, std::size_t{4}}) {
    fxp_test::with_threads(threads, [] {
      for (const std::size_t tasks : {0u, 1u, 2u, 3u, 17u, 1000u}) {
        std::vector<std::atomic<int>> runs(tasks);
        d::parallel_for(tasks, [&](std::size_t t) { runs[t].fetch_add(1); });
        for (const auto& r : runs) REQUIRE(r.load() == 1);
      }
    });
  }
}

TEST_CASE("a task's exception reaches the caller and the pool stays usable", "[parallel]") {
  fxp_test::with_threads(2, [] {
    REQUIRE_THROWS_WITH(d::parallel_for(100,
                                        [](std::size_t t) {
                                          if (t == 37) throw std::runtime_error("task 37");
                                        }),
                        "task 37");
    std::atomic<int> count{0};
    d::parallel_for(10, [&](std::size_t) { count.fetch_add(1); });
    REQUIRE(count.load() == 10);
  });
}

TEST_CASE("nested and concurrent parallel_for calls complete", "[parallel]") {
  fxp_test::with_threads(2, [] {
    std::atomic<int> inner{0};
    d::parallel_for(4, [&](std::size_t) {
      d::parallel_for(5, [&](std::size_t) { inner.fetch_add(1); });
    });
    REQUIRE(inner.load() == 20);

    // Two user threads submitting at once: one gets the pool, the other runs inline.
    std::atomic<int> total{0};
    const auto submit = [&] {
      for (int rep = 0; rep < 50; ++rep) {
        d::parallel_for(8, [&](std::size_t) { total.fetch_add(1); });
      }
    };
    std::thread other(submit);
    submit();
    other.join();
    REQUIRE(total.load() == 2 * 50 * 8);
  });
}
