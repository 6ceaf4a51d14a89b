// SPDX-License-Identifier: MIT
// Exhaustive conversions between the formats of the grid (W <= 8, I from -2 to W + 2,
// signed and unsigned): every value of the source, under the policy combinations of
// conversion.hpp, through T(x) and fxp::fixed_cast, against the reference.

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "check.hpp"
#include "conversion.hpp"

namespace fxp_exhaustive {
namespace {

const std::vector<conversion_entry>& conversions() {
  static const std::vector<conversion_entry> all = gather<conversion_tables>();
  return all;
}

std::string call_name(const conversion_key& k) {
  if (k.round == rounding::stochastic) {
    return k.path == 0 ? "fixed_cast<T>(x, gen)" : "fixed_cast<T', stochastic>(x, gen)";
  }
  return k.path == 0 ? "T(x)" : "fixed_cast<T>(x)";
}

/// Every value of every planned conversion with rounding `only`, against the reference.
mismatch_log run_conversions(rounding only) {
  mismatch_log log;
  fixed_word_generator gen;
  for (const conversion_entry& e : conversions()) {
    const conversion_key& k = e.key;
    if (k.round != only) continue;
    // A stochastic conversion that can discard bits draws exactly one word; others none.
    const unsigned draws = (k.round == rounding::stochastic && k.from.f > k.to.f) ? 1u : 0u;
    for_each_raw(k.from, [&](std::int64_t raw) {
      const reference::ratio x = reference::in_units(raw, k.from.f, k.to.f);
      const word_set words = words_for(k.round, x);
      for (std::size_t w = 0; w < words.size; ++w) {
        const outcome expected = reference::narrow(x, k.to, k.round, k.over, words.words[w]);
        gen = fixed_word_generator{words.words[w], 0};
        const outcome got = observe([&] { return e.fn(raw, gen); });
        if (expected.kind != event::value) log.expected_exception();
        log.check(got == expected && gen.draws == draws, [&] {
          return reference::to_string(k.from) + " -> " + reference::to_string(k.to) + " " +
                 reference::to_string(k.round) + "/" + reference::to_string(k.over) + " via " +
                 call_name(k) + ", raw " + std::to_string(raw) +
                 (k.round == rounding::stochastic ? ", word " + hex(words.words[w]) : "") +
                 ": expected " + reference::to_string(expected) + ", got " +
                 reference::to_string(got) + " (" + std::to_string(gen.draws) +
                 " words drawn, expected " + std::to_string(draws) + ")";
        });
      }
    });
  }
  std::printf("conversions, %s: %s\n", reference::to_string(only).c_str(), log.report().c_str());
  return log;
}

}  // namespace

TEST_CASE("conversion plan: every pair of grid formats, every shift class x 15 policies",
          "[exhaustive][conversion]") {
  const auto& all = conversions();
  std::size_t planned = 0;
  for (int c = 0; c < policy_count; ++c) planned += conversion_part_size(c);
  REQUIRE(all.size() == planned);
  CHECK(grid_size == 146);
  CHECK(planned == 4155 * 15 + (146 * 146 - 4155));

  // The plan's claim (conversion.hpp): a conversion's raw mapping depends only on (source
  // signedness and width, target signedness and width, F_from - F_to). Every such class of
  // the grid must meet all 15 policy combinations, every pair of formats must appear, and
  // every combination must go through both API calls.
  using shift_class = std::tuple<bool, int, bool, int, int>;
  const auto class_of = [](format from, format to) {
    return shift_class{from.is_signed, from.width(), to.is_signed, to.width(), from.f - to.f};
  };
  std::map<shift_class, std::set<int>> combinations;
  std::set<std::tuple<int, int, bool, int, int, bool>> pairs;
  std::set<std::pair<int, int>> paths;
  for (const conversion_entry& e : all) {
    REQUIRE(e.fn != nullptr);
    const conversion_key& k = e.key;
    combinations[class_of(k.from, k.to)].insert(combination_of(k.round, k.over));
    pairs.insert({k.from.i, k.from.f, k.from.is_signed, k.to.i, k.to.f, k.to.is_signed});
    paths.insert({combination_of(k.round, k.over), k.path});
  }
  CHECK(pairs.size() == grid_size * grid_size);
  CHECK(paths.size() == 2 * static_cast<std::size_t>(policy_count));
  CHECK(combinations.size() == 4155);
  std::size_t incomplete = 0;
  for (const format& from : grid) {
    for (const format& to : grid) {
      const auto it = combinations.find(class_of(from, to));
      if (it == combinations.end() || it->second.size() != static_cast<std::size_t>(policy_count))
        ++incomplete;
    }
  }
  CHECK(incomplete == 0);
}

TEST_CASE("conversions: truncate", "[exhaustive][conversion]") {
  FXP_EXHAUSTIVE_REQUIRE_CLEAN(run_conversions(rounding::truncate));
}
TEST_CASE("conversions: toward_zero", "[exhaustive][conversion]") {
  FXP_EXHAUSTIVE_REQUIRE_CLEAN(run_conversions(rounding::toward_zero));
}
TEST_CASE("conversions: nearest", "[exhaustive][conversion]") {
  FXP_EXHAUSTIVE_REQUIRE_CLEAN(run_conversions(rounding::nearest));
}
TEST_CASE("conversions: nearest_even", "[exhaustive][conversion]") {
  FXP_EXHAUSTIVE_REQUIRE_CLEAN(run_conversions(rounding::nearest_even));
}
TEST_CASE("conversions: stochastic", "[exhaustive][conversion]") {
  FXP_EXHAUSTIVE_REQUIRE_CLEAN(run_conversions(rounding::stochastic));
}

}  // namespace fxp_exhaustive
