// SPDX-License-Identifier: MIT
// Exhaustive narrowing of exact results: fxp::fixed_cast<A', Round>(a op b) for op in
// + - * (and -a), every pair of values of the representative formats, all 15 rounding x
// overflow combinations, against the reference.

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "check.hpp"
#include "narrowing.hpp"

namespace fxp_exhaustive {
namespace {

const std::vector<narrowing_entry>& entries() {
  static const std::vector<narrowing_entry> all = gather<narrowing_tables>();
  return all;
}

/// The exact value of a op b in units of a's last bit, and the fractional bits of the
/// exact result's format (which decide whether a stochastic narrowing draws a word).
struct exact_value {
  reference::ratio x;
  int fraction_bits;
};

exact_value exact(const narrowing_key& k, int128 ra, int128 rb) {
  switch (k.op) {
    case arithmetic_op::add:
    case arithmetic_op::sub: {
      const format r = reference::sum_format(k.a, k.b, k.op == arithmetic_op::sub);
      const int128 raw = reference::sum_raw(ra, k.a, rb, k.b, r, k.op == arithmetic_op::sub);
      return {reference::in_units(raw, r.f, k.a.f), r.f};
    }
    case arithmetic_op::mul:
      return {reference::in_units(ra * rb, k.a.f + k.b.f, k.a.f), k.a.f + k.b.f};
    case arithmetic_op::neg:
      break;
  }
  return {reference::in_units(-ra, k.a.f, k.a.f), k.a.f};
}

std::string describe(const narrowing_key& k) {
  const std::string target = reference::to_string(k.a) + "[" +
                             reference::to_string(other_rounding(k.round)) + "/" +
                             reference::to_string(k.over) + "]";
  const std::string expression =
      k.op == arithmetic_op::neg
          ? "-a"
          : "a " + std::string(to_string(k.op)) + " b, b " + reference::to_string(k.b);
  return "fixed_cast<" + target + ", " + reference::to_string(k.round) + ">(" + expression +
         "), a " + reference::to_string(k.a);
}

mismatch_log run_narrowing(rounding only) {
  mismatch_log log;
  fixed_word_generator gen;
  for (const narrowing_entry& e : entries()) {
    const narrowing_key& k = e.key;
    if (k.round != only) continue;
    const bool unary = k.op == arithmetic_op::neg;
    for_each_raw(k.a, [&](std::int64_t ra) {
      const auto rb_lo = unary ? 0 : static_cast<std::int64_t>(reference::raw_min(k.b));
      const auto rb_hi = unary ? 0 : static_cast<std::int64_t>(reference::raw_max(k.b));
      for (std::int64_t rb = rb_lo; rb <= rb_hi; ++rb) {
        const exact_value v = exact(k, ra, rb);
        const unsigned draws =
            (k.round == rounding::stochastic && v.fraction_bits > k.a.f) ? 1u : 0u;
        const word_set words = words_for(k.round, v.x);
        for (std::size_t w = 0; w < words.size; ++w) {
          const outcome expected = reference::narrow(v.x, k.a, k.round, k.over, words.words[w]);
          gen = fixed_word_generator{words.words[w], 0};
          const outcome got = observe([&] { return e.fn(ra, rb, gen); });
          if (expected.kind != event::value) log.expected_exception();
          log.check(got == expected && gen.draws == draws, [&] {
            return describe(k) + ", raws " + std::to_string(ra) +
                   (unary ? "" : ", " + std::to_string(rb)) +
                   (k.round == rounding::stochastic ? ", word " + hex(words.words[w]) : "") +
                   ": expected " + reference::to_string(expected) + ", got " +
                   reference::to_string(got) + " (" + std::to_string(gen.draws) +
                   " words drawn, expected " + std::to_string(draws) + ")";
          });
        }
      }
    });
  }
  std::printf("narrowing of results, %s: %s\n", reference::to_string(only).c_str(),
              log.report().c_str());
  return log;
}

}  // namespace

TEST_CASE("narrowing plan: representative pairs x operations x 15 policies",
          "[exhaustive][narrowing]") {
  REQUIRE(entries().size() == narrowing_keys);
  for (const narrowing_entry& e : entries()) REQUIRE(e.fn != nullptr);
}

TEST_CASE("narrowing of results: truncate", "[exhaustive][narrowing]") {
  FXP_EXHAUSTIVE_REQUIRE_CLEAN(run_narrowing(rounding::truncate));
}
TEST_CASE("narrowing of results: toward_zero", "[exhaustive][narrowing]") {
  FXP_EXHAUSTIVE_REQUIRE_CLEAN(run_narrowing(rounding::toward_zero));
}
TEST_CASE("narrowing of results: nearest", "[exhaustive][narrowing]") {
  FXP_EXHAUSTIVE_REQUIRE_CLEAN(run_narrowing(rounding::nearest));
}
TEST_CASE("narrowing of results: nearest_even", "[exhaustive][narrowing]") {
  FXP_EXHAUSTIVE_REQUIRE_CLEAN(run_narrowing(rounding::nearest_even));
}
TEST_CASE("narrowing of results: stochastic", "[exhaustive][narrowing]") {
  FXP_EXHAUSTIVE_REQUIRE_CLEAN(run_narrowing(rounding::stochastic));
}

}  // namespace fxp_exhaustive
