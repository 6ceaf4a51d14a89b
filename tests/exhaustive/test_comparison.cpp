// SPDX-License-Identifier: MIT
// Exhaustive comparisons: for the pairs of grid formats of comparison.hpp (both ends of
// every shift class) and every pair of values, == != < <= > >= and <=> must give the order
// of the exact values.

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "check.hpp"
#include "comparison.hpp"

namespace fxp_exhaustive {
namespace {

const std::vector<comparison_entry>& entries() {
  static const std::vector<comparison_entry> all = gather<comparison_tables>();
  return all;
}

/// The bits every operator should set for values ordered as `sign` (-1, 0, 1).
std::uint16_t expected_bits(int sign) {
  unsigned bits = 0;
  if (sign == 0) bits |= bit_eq | bit_le | bit_ge | bit_three_eq;
  if (sign != 0) bits |= bit_ne;
  if (sign < 0) bits |= bit_lt | bit_le | bit_three_lt;
  if (sign > 0) bits |= bit_gt | bit_ge | bit_three_gt;
  return static_cast<std::uint16_t>(bits);
}

std::string bits_to_string(unsigned bits) {
  constexpr const char* names[] = {"==", "!=", "<", "<=", ">", ">=", "<=> <0", "<=> ==0", "<=> >0"};
  std::string s = "{";
  for (unsigned k = 0; k < 9; ++k)
    if (bits & (1u << k)) s += std::string(s.size() > 1 ? " " : "") + names[k];
  return s + "}";
}

}  // namespace

TEST_CASE("comparison plan: both ends of every shift class", "[exhaustive][comparison]") {
  // Every (signedness and width of a, of b, F_a - F_b) class of the grid has its pair with
  // I = -2 on one side and its pair with F = -2 on one side in the plan.
  using shift_class = std::tuple<bool, int, bool, int, int>;
  std::map<shift_class, int> ends;  // bit 0: I = -2 seen, bit 1: F = -2 seen
  for (const comparison_entry& e : entries()) {
    const comparison_key& k = e.key;
    int& seen = ends[{k.a.is_signed, k.a.width(), k.b.is_signed, k.b.width(), k.a.f - k.b.f}];
    if (k.a.i == -2 || k.b.i == -2) seen |= 1;
    if (k.a.f == -2 || k.b.f == -2) seen |= 2;
  }
  for (const format& a : grid) {
    for (const format& b : grid) {
      const auto it = ends.find({a.is_signed, a.width(), b.is_signed, b.width(), a.f - b.f});
      REQUIRE(it != ends.end());
      CHECK(it->second == 3);
    }
  }
  CHECK(ends.size() == 4155);
  CHECK(entries().size() == comparison_keys);
  CHECK(comparison_keys == 7860);
}

TEST_CASE("comparisons: every pair of values, all operators", "[exhaustive][comparison]") {
  REQUIRE(entries().size() == comparison_keys);
  mismatch_log log;
  std::vector<std::uint16_t> out(256);
  for (const comparison_entry& e : entries()) {
    const comparison_key& k = e.key;
    log.check(e.fn != nullptr && e.strong_ordering, [&] {
      return reference::to_string(k.a) + " <=> " + reference::to_string(k.b) +
             " is not a std::strong_ordering";
    });
    const auto rb_lo = static_cast<std::int64_t>(reference::raw_min(k.b));
    const auto n = static_cast<std::size_t>(reference::raw_max(k.b) - reference::raw_min(k.b) + 1);
    for_each_raw(k.a, [&](std::int64_t ra) {
      e.fn(ra, rb_lo, n, out.data());
      for (std::size_t j = 0; j < n; ++j) {
        const std::int64_t rb = rb_lo + static_cast<std::int64_t>(j);
        const std::uint16_t expected = expected_bits(reference::compare(ra, k.a.f, rb, k.b.f));
        log.check(out[j] == expected, [&] {
          return reference::to_string(k.a) + " raw " + std::to_string(ra) + " vs " +
                 reference::to_string(k.b) + " raw " + std::to_string(rb) + ": expected " +
                 bits_to_string(expected) + ", got " + bits_to_string(out[j]);
        });
      }
    });
  }
  std::printf("comparisons: %s\n", log.report().c_str());
  FXP_EXHAUSTIVE_REQUIRE_CLEAN(log);
}

}  // namespace fxp_exhaustive
