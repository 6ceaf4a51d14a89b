// SPDX-License-Identifier: MIT
// The batch form of the discarded bits agrees with fxp::discarded_bits predicate by predicate,
// and every rounding policy of the core decides the same on lanes as on scalars; the random
// word's comparisons agree with unsigned comparisons.
#include "support.hpp"

#include <array>

namespace {

using fxp::discarded_bits;

/// Discarded bits worth testing: random ones, and fractions at and around one half, zero,
/// and just below one, with and without sticky bits at either end of the 64-bit fraction.
std::vector<discarded_bits> discarded_samples() {
  std::mt19937_64 rng(5);
  std::vector<discarded_bits> v;
  const std::uint64_t half = std::uint64_t{1} << 63;
  const std::uint64_t fractions[] = {0, 1, half - 1, half, half + 1, half + (std::uint64_t{1} << 32),
                                     ~std::uint64_t{0}, std::uint64_t{1} << 32,
                                     0xFFFFFFFF00000000ull, 0x00000000FFFFFFFFull};
  for (const std::uint64_t f : fractions) {
    for (int flags = 0; flags < 8; ++flags) {
      v.push_back({(flags & 1) != 0, (flags & 2) != 0, f, (flags & 4) != 0});
    }
  }
  for (int i = 0; i < 4000; ++i) {
    const std::uint64_t r = rng();
    std::uint64_t f = rng();
    if (i % 4 == 0) f &= 0xFFFFFFFF00000000ull;  // exact top words
    if (i % 8 == 1) f = half | (f & 0xFFFFFFFFull);
    v.push_back({(r & 1) != 0, (r & 2) != 0, f, (r & 4) != 0 && (r & 8) != 0});
  }
  return v;
}

template <class Arch, class Ops>
void check_predicates() {
  constexpr std::size_t lanes = fxp::simd::lane_count<Arch>;
  using words = fxp::simd::word_lanes<Arch>;
  using mask = fxp::simd::mask_lanes<Arch>;
  const auto samples = discarded_samples();
  std::mt19937 rng(11);
  for (std::size_t base = 0; base + lanes <= samples.size(); base += lanes) {
    alignas(64) std::array<bool, lanes> negative{}, odd{}, sticky{};
    alignas(64) std::array<std::uint32_t, lanes> fraction{}, word{};
    for (std::size_t i = 0; i < lanes; ++i) {
      const discarded_bits& d = samples[base + i];
      negative[i] = d.is_negative;
      odd[i] = d.is_odd;
      fraction[i] = static_cast<std::uint32_t>(d.fraction >> 32);
      // The lanes keep the top 32 fraction bits and whether anything is set below them.
      sticky[i] = d.sticky || (d.fraction & 0xFFFFFFFFull) != 0;
      // Words equal to the fraction, one beside it, or anything.
      const auto pick = rng() % 4;
      word[i] = pick == 0 ? fraction[i] : pick == 1 ? fraction[i] - 1 : pick == 2 ? fraction[i] + 1 : static_cast<std::uint32_t>(rng());
    }
    const fxp::simd::discarded_lanes<Arch> d(
        mask::load_unaligned(negative.data()), mask::load_unaligned(odd.data()),
        words::load_unaligned(fraction.data()), mask::load_unaligned(sticky.data()));
    const words w = words::load_unaligned(word.data());
    const fxp::simd::random_word_lanes<Arch, Ops> rw(w);
    const words f = words::load_unaligned(fraction.data());
    for (std::size_t i = 0; i < lanes; ++i) {
      const discarded_bits& s = samples[base + i];
      INFO("fraction 0x" << std::hex << s.fraction << " sticky " << s.sticky << " on " << Arch::name());
      CHECK(d.negative().get(i) == s.negative());
      CHECK(d.odd().get(i) == s.odd());
      CHECK(d.exact().get(i) == s.exact());
      CHECK(d.at_least_half().get(i) == s.at_least_half());
      CHECK(d.above_half().get(i) == s.above_half());
      CHECK(d.tie().get(i) == s.tie());
      CHECK(d.fraction32().get(i) == s.fraction32());
      fxp_test::for_each_type(fxp_test::rounding_policies{}, [&](auto policy) {
        using Round = typename decltype(policy)::type;
        bool expected = false;
        if constexpr (fxp::deterministic_rounding<Round>) {
          expected = Round::round_up(s);
        } else {
          expected = Round::round_up(s, word[i]);
        }
        INFO(Round::name);
        CHECK(fxp::simd::round_up<Round, Arch, Ops>(d, w).get(i) == expected);
      });
      // The random word compares as an unsigned word, from either side.
      CHECK((rw < f).get(i) == (word[i] < fraction[i]));
      CHECK((rw > f).get(i) == (word[i] > fraction[i]));
      CHECK((rw <= f).get(i) == (word[i] <= fraction[i]));
      CHECK((rw >= f).get(i) == (word[i] >= fraction[i]));
      CHECK((f < rw).get(i) == (fraction[i] < word[i]));
      CHECK((f > rw).get(i) == (fraction[i] > word[i]));
      CHECK((f <= rw).get(i) == (fraction[i] <= word[i]));
      CHECK((f >= rw).get(i) == (fraction[i] >= word[i]));
    }
  }
}

}  // namespace

TEST_CASE("discarded lanes agree with discarded_bits, and policies decide alike",
          "[simd][discarded]") {
  fxp_test::for_each_arch([]<class Arch>() {
    check_predicates<Arch, fxp::simd::native>();
    check_predicates<Arch, fxp::simd::portable>();
  });
}

TEST_CASE("every rounding and overflow policy of the core has a lane form", "[simd][discarded]") {
  using arch = fxp::simd::default_arch;
  STATIC_REQUIRE(fxp::simd::lane_rounding<fxp::truncate, arch>);
  STATIC_REQUIRE(fxp::simd::lane_rounding<fxp::toward_zero, arch>);
  STATIC_REQUIRE(fxp::simd::lane_rounding<fxp::nearest, arch>);
  STATIC_REQUIRE(fxp::simd::lane_rounding<fxp::nearest_even, arch>);
  STATIC_REQUIRE(fxp::simd::lane_rounding<fxp::stochastic, arch>);
  STATIC_REQUIRE(fxp::simd::lane_overflow<fxp::saturate>);
  STATIC_REQUIRE(fxp::simd::lane_overflow<fxp::wrap>);
  STATIC_REQUIRE(fxp::simd::lane_overflow<fxp::checked>);
}
