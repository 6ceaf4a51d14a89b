// SPDX-License-Identifier: MIT
// Exhaustive exact arithmetic: a + b, a - b, a * b for every pair of grid formats and every
// pair of values, and -a for every grid format and value. The result must have exactly the
// documented format (and the operands' policies, which agree), fxp::result_t must name it,
// and its raw value must be the exact result.

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "arithmetic.hpp"
#include "check.hpp"

namespace fxp_exhaustive {
namespace {

const std::vector<arithmetic_entry>& entries() {
  static const std::vector<arithmetic_entry> all = gather<arithmetic_tables>();
  return all;
}

format expected_format(arithmetic_op op, format a, format b) {
  switch (op) {
    case arithmetic_op::add:
      return reference::sum_format(a, b, false);
    case arithmetic_op::sub:
      return reference::sum_format(a, b, true);
    case arithmetic_op::mul:
      return reference::product_format(a, b);
    case arithmetic_op::neg:
      break;
  }
  return reference::negation_format(a);
}

int128 expected_raw(arithmetic_op op, format a, format b, format r, int128 ra, int128 rb) {
  switch (op) {
    case arithmetic_op::add:
      return reference::sum_raw(ra, a, rb, b, r, false);
    case arithmetic_op::sub:
      return reference::sum_raw(ra, a, rb, b, r, true);
    case arithmetic_op::mul:
      return ra * rb;  // (ra 2^-fa)(rb 2^-fb) = ra rb 2^-(fa+fb), and r.f = fa + fb
    case arithmetic_op::neg:
      break;
  }
  return -ra;
}

std::string describe(arithmetic_op op, const arithmetic_key& k) {
  const std::string p = policies(k.round, k.over);
  if (op == arithmetic_op::neg) return "-" + reference::to_string(k.a) + p;
  return reference::to_string(k.a) + p + " " + to_string(op) + " " + reference::to_string(k.b) + p;
}

/// Checks the type of one operation's result; whether the values are worth checking.
bool check_type(mismatch_log& log, arithmetic_op op, const arithmetic_key& k,
                const result_type_info& t) {
  const format r = expected_format(op, k.a, k.b);
  const bool ok = t.result == r && t.rounding_id == static_cast<int>(k.round) &&
                  t.overflow_id == static_cast<int>(k.over) && t.trait_agrees;
  log.check(ok, [&] {
    return describe(op, k) + ": expected type " + reference::to_string(r) +
           policies(k.round, k.over) + ", got " + reference::to_string(t.result) +
           " with policies " + std::to_string(t.rounding_id) + "/" + std::to_string(t.overflow_id) +
           (t.trait_agrees ? "" : ", and fxp::result_t names another type");
  });
  return ok;
}

/// Checks n raw results of `op` for a of raw ra and b of raws rb_lo, rb_lo + 1, ...
void check_values(mismatch_log& log, arithmetic_op op, const arithmetic_key& k, std::int64_t ra,
                  std::int64_t rb_lo, const std::int64_t* got, std::size_t n) {
  const format r = expected_format(op, k.a, k.b);
  const int128 lo = reference::raw_min(r);
  const int128 hi = reference::raw_max(r);
  for (std::size_t j = 0; j < n; ++j) {
    const std::int64_t rb = rb_lo + static_cast<std::int64_t>(j);
    const int128 expected = expected_raw(op, k.a, k.b, r, ra, rb);
    const bool fits = expected >= lo && expected <= hi;
    log.check(fits && got[j] == expected, [&] {
      return describe(op, k) + ", raws " + std::to_string(ra) +
             (op == arithmetic_op::neg ? "" : ", " + std::to_string(rb)) + ": expected raw " +
             std::to_string(static_cast<std::int64_t>(expected)) +
             (fits ? "" : " (outside the documented format!)") + ", got " + std::to_string(got[j]);
    });
  }
}

}  // namespace

TEST_CASE("arithmetic: every pair of grid formats and values, + - * exact",
          "[exhaustive][arithmetic]") {
  REQUIRE(entries().size() == arithmetic_keys);
  constexpr arithmetic_op ops[binary_ops] = {arithmetic_op::add, arithmetic_op::sub,
                                             arithmetic_op::mul};
  mismatch_log logs[binary_ops];
  std::vector<std::int64_t> out(3 * 256);
  for (const arithmetic_entry& e : entries()) {
    const arithmetic_key& k = e.key;
    REQUIRE(e.fn != nullptr);
    if (k.negation) continue;
    bool check[binary_ops];
    for (std::size_t o = 0; o < binary_ops; ++o) {
      check[o] = check_type(logs[o], ops[o], k, e.types[o]);
    }
    const auto rb_lo = static_cast<std::int64_t>(reference::raw_min(k.b));
    const auto n = static_cast<std::size_t>(reference::raw_max(k.b) - reference::raw_min(k.b) + 1);
    for_each_raw(k.a, [&](std::int64_t ra) {
      e.fn(ra, rb_lo, n, out.data());
      for (std::size_t o = 0; o < binary_ops; ++o) {
        // (the raw values of a result of another format would all differ)
        if (check[o]) check_values(logs[o], ops[o], k, ra, rb_lo, out.data() + o * n, n);
      }
    });
  }
  for (std::size_t o = 0; o < binary_ops; ++o) {
    std::printf("arithmetic, a %s b: %s\n", to_string(ops[o]), logs[o].report().c_str());
    FXP_EXHAUSTIVE_REQUIRE_CLEAN(logs[o]);
  }
}

TEST_CASE("arithmetic: -a exact for every grid format and value", "[exhaustive][arithmetic]") {
  REQUIRE(entries().size() == arithmetic_keys);
  mismatch_log log;
  std::int64_t out = 0;
  for (const arithmetic_entry& e : entries()) {
    const arithmetic_key& k = e.key;
    if (!k.negation) continue;
    if (!check_type(log, arithmetic_op::neg, k, e.types[0])) continue;
    for_each_raw(k.a, [&](std::int64_t ra) {
      e.fn(ra, 0, 1, &out);
      check_values(log, arithmetic_op::neg, k, ra, 0, &out, 1);
    });
  }
  std::printf("arithmetic, -a: %s\n", log.report().c_str());
  FXP_EXHAUSTIVE_REQUIRE_CLEAN(log);
}

}  // namespace fxp_exhaustive
