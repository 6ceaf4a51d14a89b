// SPDX-License-Identifier: MIT
// Exhaustive division: fxp::divide<R>(a, b) for every pair of values of the representative
// operand formats, into representative quotient formats (narrower, wider, negative I,
// negative F, unsigned), all 15 rounding x overflow combinations, own and overridden
// rounding, against the exact quotient; b = 0 throws std::domain_error.

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "check.hpp"
#include "division.hpp"

namespace fxp_exhaustive {
namespace {

const std::vector<division_entry>& entries() {
  static const std::vector<division_entry> all = gather<division_tables>();
  return all;
}

std::string describe(const division_key& k) {
  const rounding own = k.path == 0 ? k.round : other_rounding(k.round);
  std::string call = "divide<" + reference::to_string(k.quotient) + "[" +
                     reference::to_string(own) + "/" + reference::to_string(k.over) + "]";
  if (k.path == 1) call += ", " + reference::to_string(k.round);
  call += ">(a, b" + std::string(k.round == rounding::stochastic ? ", gen)" : ")");
  return call + ", a " + reference::to_string(k.a) + ", b " + reference::to_string(k.b);
}

mismatch_log run_division(rounding only) {
  mismatch_log log;
  fixed_word_generator gen;
  for (const division_entry& e : entries()) {
    const division_key& k = e.key;
    if (k.round != only) continue;
    for_each_raw(k.a, [&](std::int64_t ra) {
      for_each_raw(k.b, [&](std::int64_t rb) {
        if (rb == 0) {
          gen = fixed_word_generator{};
          const outcome got = observe([&] { return e.fn(ra, rb, gen); });
          log.expected_exception();
          log.check(got.kind == event::domain_error, [&] {
            return describe(k) + ", raws " + std::to_string(ra) +
                   ", 0: expected std::domain_error, got " + reference::to_string(got);
          });
          return;
        }
        const reference::ratio q = reference::quotient_in_units(ra, k.a.f, rb, k.b.f, k.quotient.f);
        // A stochastic division draws exactly one word.
        const unsigned draws = k.round == rounding::stochastic ? 1u : 0u;
        const word_set words = words_for(k.round, q);
        for (std::size_t w = 0; w < words.size; ++w) {
          const outcome expected =
              reference::narrow(q, k.quotient, k.round, k.over, words.words[w]);
          gen = fixed_word_generator{words.words[w], 0};
          const outcome got = observe([&] { return e.fn(ra, rb, gen); });
          if (expected.kind != event::value) log.expected_exception();
          log.check(got == expected && gen.draws == draws, [&] {
            return describe(k) + ", raws " + std::to_string(ra) + ", " + std::to_string(rb) +
                   (k.round == rounding::stochastic ? ", word " + hex(words.words[w]) : "") +
                   ": expected " + reference::to_string(expected) + ", got " +
                   reference::to_string(got) + " (" + std::to_string(gen.draws) +
                   " words drawn, expected " + std::to_string(draws) + ")";
          });
        }
      });
    });
  }
  std::printf("division, %s: %s\n", reference::to_string(only).c_str(), log.report().c_str());
  return log;
}

}  // namespace

TEST_CASE("division plan: representative operands x quotient formats x 15 policies",
          "[exhaustive][division]") {
  REQUIRE(entries().size() == division_keys);
  for (const division_entry& e : entries()) REQUIRE(e.fn != nullptr);
}

TEST_CASE("division: truncate", "[exhaustive][division]") {
  FXP_EXHAUSTIVE_REQUIRE_CLEAN(run_division(rounding::truncate));
}
TEST_CASE("division: toward_zero", "[exhaustive][division]") {
  FXP_EXHAUSTIVE_REQUIRE_CLEAN(run_division(rounding::toward_zero));
}
TEST_CASE("division: nearest", "[exhaustive][division]") {
  FXP_EXHAUSTIVE_REQUIRE_CLEAN(run_division(rounding::nearest));
}
TEST_CASE("division: nearest_even", "[exhaustive][division]") {
  FXP_EXHAUSTIVE_REQUIRE_CLEAN(run_division(rounding::nearest_even));
}
TEST_CASE("division: stochastic", "[exhaustive][division]") {
  FXP_EXHAUSTIVE_REQUIRE_CLEAN(run_division(rounding::stochastic));
}

}  // namespace fxp_exhaustive
