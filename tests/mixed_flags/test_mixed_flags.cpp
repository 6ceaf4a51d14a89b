// SPDX-License-Identifier: MIT
// One program, two translation units built with different -march flags (baseline.cpp and
// native.cpp): both run the same kernels on the same data and must get the same bits. That
// the linker kept each unit's own kernels (and not one body for both) is checked on the
// objects by check_symbols.cpp; here the results.
#include <catch2/catch.hpp>

#include "results.hpp"

TEST_CASE("units built for baseline x86-64 and for this processor compute the same bits",
          "[mixed_flags]") {
  const fxp_mixed::results baseline = fxp_mixed::run_baseline();
  const fxp_mixed::results native = fxp_mixed::run_native();
  REQUIRE(baseline.size() == native.size());
  REQUIRE(baseline.size() >= 18);
  for (const auto& [name, values] : baseline) {
    INFO(name);
    REQUIRE(native.count(name) == 1);
    const auto& other = native.at(name);
    REQUIRE(values.size() == other.size());
    REQUIRE_FALSE(values.empty());
    std::size_t first_difference = values.size();
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (values[i] != other[i]) {
        first_difference = i;
        break;
      }
    }
    INFO("first difference at element " << first_difference);
    CHECK(first_difference == values.size());
  }
}
