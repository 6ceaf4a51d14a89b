// SPDX-License-Identifier: MIT
// float/double <-> fixed: every representable value round-trips, and random doubles
// (ties, out of range, subnormal, infinite, NaN) convert exactly as an independent
// reference built on ldexp/floor says, for every rounding and overflow policy.
#include <fxp/core/core.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <tuple>
#include <vector>

namespace {

__extension__ using i128 = __int128;  // the test's own wide integers
__extension__ using u128 = unsigned __int128;

using fxp::checked;
using fxp::nearest;
using fxp::nearest_even;
using fxp::saturate;
using fxp::stochastic;
using fxp::toward_zero;
using fxp::wrap;

/// A generator that always returns the same word, so stochastic rounding is predictable.
struct fixed_word {
  using result_type = std::uint32_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return 0xFFFFFFFFu; }
  result_type word;
  result_type operator()() { return word; }
};

// ---- the reference: exact value y = x * 2^F as a double, floor and fraction by libm ----

/// Whether the reference rounds y = fl + fraction up (fl = floor(y), both exact doubles).
template <class Round>
bool reference_round_up(double y, double fl, std::uint32_t word) {
  const double frac = y - fl;  // exact, except that it rounds to 1 when -1 << y < 0
  if constexpr (std::is_same_v<Round, fxp::truncate>) return false;
  if constexpr (std::is_same_v<Round, toward_zero>) return fl < 0 && frac != 0;
  if constexpr (std::is_same_v<Round, nearest>) return frac >= 0.5;
  if constexpr (std::is_same_v<Round, nearest_even>)
    return frac > 0.5 || (frac == 0.5 && std::fmod(fl, 2.0) != 0);
  if constexpr (std::is_same_v<Round, stochastic>) {
    // The fraction's top 32 bits, from exact integer-valued doubles only.
    const double top32 = std::floor(std::ldexp(y, 32)) - std::ldexp(fl, 32);
    return word < top32;
  }
}

/// The expected raw value, or nullopt when a `checked` conversion must throw.
template <class T, class Round>
std::optional<i128> reference(double x, std::uint32_t word) {
  using overflow = typename T::overflow_policy;
  const i128 lo = T::is_signed ? -(i128{1} << (T::width - 1)) : 0;
  const i128 hi = (i128{1} << (T::is_signed ? T::width - 1 : T::width)) - 1;
  double v = x;  // +-inf stays itself
  if (!std::isinf(x)) {
    double y = std::ldexp(x, T::fraction_bits);
    // Where scaling underflows, keep a tiny value of the same sign: every policy sees it as
    // "less than 2^-32 of an ulp", as it does the exact one.
    if (std::fabs(y) < 1 && std::ldexp(y, -T::fraction_bits) != x) y = std::copysign(0x1p-1074, x);
    // Where it overflows, y is infinite: out of range, and 0 modulo 2^W (x * 2^F is then a
    // multiple of a power of two far above 2^64).
    const double fl = std::floor(y);
    v = fl + (reference_round_up<Round>(y, fl, word) ? 1.0 : 0.0);
  }
  const bool beyond = std::isinf(v) || std::fabs(v) >= 0x1p100;
  const i128 iv = beyond ? 0 : static_cast<i128>(v);
  if (!beyond && iv >= lo && iv <= hi) return iv;
  if constexpr (std::is_same_v<overflow, checked>) return std::nullopt;
  if constexpr (std::is_same_v<overflow, saturate>) return v < 0 ? lo : hi;
  if constexpr (std::is_same_v<overflow, wrap>) {
    if (std::isinf(v)) return 0;
    const i128 modulus = i128{1} << T::width;
    i128 r = static_cast<i128>(std::fmod(v, std::ldexp(1.0, T::width)));  // fmod is exact
    if (r < 0) r += modulus;
    if (r > hi) r -= modulus;
    return r;
  }
}

template <class T, class Round>
void check_against_reference(double x, std::uint32_t word) {
  INFO(T::name() << " rounding " << Round::name << " x = " << x << " (hex " << std::hexfloat
                 << x << std::defaultfloat << ") word " << word);
  const auto expected = reference<T, Round>(x, word);
  fixed_word gen{word};
  if (!expected) {
    CHECK_THROWS_AS((fxp::fixed_cast<T, Round>(x, gen)), fxp::overflow_error);
    return;
  }
  const T got = fxp::fixed_cast<T, Round>(x, gen);
  CHECK(static_cast<i128>(got.raw()) == *expected);
}

/// Random doubles spread around format T: some far below its last bit, some far beyond
/// its range, exact ties, and the special values.
template <class T>
std::vector<double> samples(std::mt19937_64& gen) {
  std::vector<double> xs = {0.0, -0.0, std::numeric_limits<double>::denorm_min(),
                            -std::numeric_limits<double>::denorm_min(),
                            std::numeric_limits<double>::min(), 1e300, -1e300,
                            std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity()};
  std::uniform_int_distribution<int> exponent(-T::fraction_bits - 8, T::integer_bits + 4);
  std::uniform_real_distribution<double> mantissa(1.0, 2.0);
  for (int i = 0; i < 4000; ++i) {
    const double m = (gen() & 1 ? -1 : 1) * mantissa(gen);
    xs.push_back(std::ldexp(m, exponent(gen)));
    // A tie: an odd number of half ulps (or a near tie, one double away from it).
    const auto k = static_cast<std::int64_t>(gen() % 4096) - 2048;
    const double tie = std::ldexp(static_cast<double>(2 * k + 1), -T::fraction_bits - 1);
    xs.push_back(tie);
    xs.push_back(std::nextafter(tie, 0.0));
    xs.push_back(std::nextafter(tie, gen() & 1 ? 1e9 : -1e9));
  }
  return xs;
}

template <class Format>
void check_all_policies(std::mt19937_64& gen) {
  const auto xs = samples<Format>(gen);
  const std::uint32_t words[] = {0u, 1u, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu, 0x12345678u};
  auto each_overflow = [&]<class Round>() {
    auto one = [&]<class Overflow>() {
      using T = fxp::basic_fixed<Format::integer_bits, Format::fraction_bits, Format::is_signed,
                                 Round, Overflow>;
      for (double x : xs) {
        if constexpr (std::is_same_v<Round, stochastic>) {
          for (auto w : words) check_against_reference<T, Round>(x, w);
        } else {
          check_against_reference<T, Round>(x, 0);
        }
      }
    };
    one.template operator()<saturate>();
    one.template operator()<wrap>();
    one.template operator()<checked>();
  };
  each_overflow.template operator()<fxp::truncate>();
  each_overflow.template operator()<toward_zero>();
  each_overflow.template operator()<nearest>();
  each_overflow.template operator()<nearest_even>();
  each_overflow.template operator()<stochastic>();
}

}  // namespace

TEMPLATE_TEST_CASE("random doubles convert as the reference says", "[float]", (fxp::fixed<1, 7>),
                   (fxp::fixed<4, 12>), (fxp::ufixed<8, 8>), (fxp::fixed<-3, 11>),
                   (fxp::fixed<12, -4>), (fxp::ufixed<1, 0>), (fxp::fixed<1, 31>),
                   (fxp::fixed<16, 16>), (fxp::ufixed<20, 12>), (fxp::fixed<32, 32>),
                   (fxp::ufixed<40, 24>)) {
  std::mt19937_64 gen(1234);
  check_all_policies<TestType>(gen);
}

TEST_CASE("NaN throws std::domain_error under every policy", "[float]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS((fxp::fixed<4, 4, nearest, saturate>(nan)), std::domain_error);
  CHECK_THROWS_AS((fxp::fixed<4, 4, nearest, wrap>(nan)), std::domain_error);
  CHECK_THROWS_AS((fxp::fixed<4, 4, nearest, checked>(nan)), std::domain_error);
  CHECK_THROWS_AS((fxp::ufixed<4, 4, stochastic>(std::numeric_limits<float>::signaling_NaN())),
                  std::domain_error);
}

// Every value of T, converted to double (and float, when exact) and back under every
// policy, is itself: an exact input never rounds and never draws a random carry.
TEMPLATE_TEST_CASE("every representable value round-trips", "[float]", (fxp::fixed<1, 7>),
                   (fxp::fixed<-2, 10>), (fxp::fixed<10, -2>), (fxp::ufixed<8, 0>),
                   (fxp::ufixed<0, 12>), (fxp::fixed<16, 0>), (fxp::fixed<1, 15>),
                   (fxp::ufixed<16, -4>), (fxp::fixed<3, 13>), (fxp::ufixed<1, 0>)) {
  fixed_word gen{0};  // word 0 would round up any nonzero fraction
  auto check = [&]<class Round>() {
    using T = fxp::basic_fixed<TestType::integer_bits, TestType::fraction_bits,
                               TestType::is_signed, Round, checked>;
    for (i128 raw = T::raw_min; raw <= T::raw_max; ++raw) {
      const T x = T::from_raw(static_cast<typename T::raw_type>(raw));
      REQUIRE(fxp::fixed_cast<T>(x.to_double(), gen).raw() == x.raw());
      REQUIRE(fxp::fixed_cast<T>(static_cast<float>(x), gen).raw() == x.raw());
      REQUIRE(static_cast<double>(x) == std::ldexp(static_cast<double>(raw), -T::fraction_bits));
    }
  };
  check.template operator()<fxp::truncate>();
  check.template operator()<toward_zero>();
  check.template operator()<nearest>();
  check.template operator()<nearest_even>();
  check.template operator()<stochastic>();
}

TEST_CASE("wide formats round-trip through double where it is exact", "[float]") {
  std::mt19937_64 gen(99);
  for (int i = 0; i < 100000; ++i) {
    const auto raw32 = static_cast<std::int32_t>(gen());
    using q = fxp::fixed<8, 24, nearest, checked>;
    REQUIRE(q(q::from_raw(raw32).to_double()).raw() == raw32);
    const auto raw52 = static_cast<std::int64_t>(gen() >> 12) - (std::int64_t{1} << 51);
    using w = fxp::fixed<20, 32, nearest, checked>;  // W = 52
    REQUIRE(w(w::from_raw(raw52).to_double()).raw() == raw52);
  }
}

TEST_CASE("fixed -> float and double round correctly beyond 53 bits", "[float]") {
  std::mt19937_64 gen(5);
  for (int i = 0; i < 100000; ++i) {
    const auto raw = static_cast<std::int64_t>(gen());
    using T = fxp::fixed<34, 30>;
    // The conversion of the integer raw is correctly rounded by the hardware; scaling by a
    // power of two is exact, so the two must agree.
    REQUIRE(T::from_raw(raw).to_double() == std::ldexp(static_cast<double>(raw), -30));
    REQUIRE(static_cast<float>(T::from_raw(raw)) == std::ldexp(static_cast<float>(raw), -30));
  }
}

// ---- fixed -> float for every format: an integer reference of round-to-nearest-even ----

/// raw * 2^-frac correctly rounded to float, by integer arithmetic alone: the float grid
/// around the value (24 significant bits, or the subnormal spacing 2^-149), the scaled
/// integer rounded to nearest even, then placed by ldexp, which is exact for a value on the
/// grid (and gives infinity beyond the largest float).
float reference_float(i128 raw, int frac) {
  if (raw == 0) return 0.0f;
  const bool negative = raw < 0;
  const auto magnitude = static_cast<u128>(negative ? -raw : raw);
  int bits = 0;
  while (bits < 128 && (magnitude >> bits) != 0) ++bits;
  const int lead = bits - 1 - frac;  // value in [2^lead, 2^(lead + 1))
  if (lead > 127) return negative ? -INFINITY : INFINITY;
  const int ulp = lead >= -126 ? lead - 23 : -149;  // the float grid's spacing is 2^ulp
  const int down = ulp + frac;                      // value / 2^ulp = magnitude / 2^down
  u128 m = 0;
  if (down <= 0) {
    m = magnitude << -down;
  } else if (down >= 128) {
    m = 0;  // below half an ulp
  } else {
    m = magnitude >> down;
    const u128 rest = magnitude - (m << down);
    const u128 half = static_cast<u128>(1) << (down - 1);
    if (rest > half || (rest == half && (m & 1) != 0)) ++m;
  }
  const float r = std::ldexp(static_cast<float>(static_cast<std::uint64_t>(m)), ulp);
  return negative ? -r : r;
}

/// Raw values of T that probe every rounding case: the extremes, small integers, powers of
/// two and their neighbours, values just around ties of the 24-bit grid, and random words.
template <class T>
std::vector<i128> probe_raws(std::uint64_t seed) {
  const i128 lo = T::is_signed ? -(i128{1} << (T::width - 1)) : 0;
  const i128 hi = (i128{1} << (T::is_signed ? T::width - 1 : T::width)) - 1;
  std::vector<i128> raws = {lo, hi, 0, 1, 2, 3, lo + 1, hi - 1};
  if (T::is_signed) raws.insert(raws.end(), {-1, -2, -3});
  for (int k = 0; k < T::width; ++k) {
    const i128 p = i128{1} << k;
    for (const i128 r : {p - 1, p, p + 1, -p - 1, -p, -p + 1,
                         p + (k >= 25 ? i128{1} << (k - 24) : 0),
                         p + (k >= 25 ? (i128{1} << (k - 24)) + 1 : 0),
                         p + (k >= 26 ? 3 * (i128{1} << (k - 25)) : 0)}) {
      if (r >= lo && r <= hi) raws.push_back(r);
    }
  }
  std::mt19937_64 gen(seed);
  for (int i = 0; i < 3000; ++i) {
    // Random magnitudes of every length, so that every exponent is met.
    const int len = static_cast<int>(gen() % static_cast<std::uint64_t>(T::width)) + 1;
    const i128 r = static_cast<i128>(gen() >> (64 - len)) * ((gen() & 1) != 0 && T::is_signed ? -1 : 1);
    if (r >= lo && r <= hi) raws.push_back(r);
  }
  return raws;
}

template <class T>
void check_float_of_format() {
  INFO(T::name());
  for (const i128 raw : probe_raws<T>(static_cast<std::uint64_t>(T::width * 1000 + T::fraction_bits + 600))) {
    const T x = T::from_raw(static_cast<typename T::raw_type>(raw));
    const float expected = reference_float(raw, T::fraction_bits);
    const float got = static_cast<float>(x);
    if (!(got == expected && std::signbit(got) == std::signbit(expected))) {
      INFO("raw " << static_cast<long long>(raw) << ": " << got << " instead of " << expected);
      CHECK(got == expected);
      return;
    }
  }
  SUCCEED();
}

template <int W, int... Fs>
void check_width() {
  (check_float_of_format<fxp::fixed<W - Fs, Fs>>(), ...);
  (check_float_of_format<fxp::ufixed<W - Fs, Fs>>(), ...);
}

TEST_CASE("fixed -> float is correctly rounded for every format, F in [-512, 512]", "[float]") {
  // Fraction bits on both sides of each edge of float: overflow (-128), subnormal results
  // (126, 149), a subnormal scale (150), and the extremes of the format range.
  check_width<8, -512, -200, -129, -128, -127, -100, 0, 100, 126, 127, 149, 150, 151, 200, 512>();
  check_width<24, -512, -129, -128, -127, 0, 126, 127, 149, 150, 170, 512>();
  check_width<25, -512, -129, -128, -127, -104, 0, 126, 127, 140, 149, 150, 512>();
  check_width<32, -512, -129, -128, -127, -95, 0, 126, 127, 149, 150, 160, 512>();
  check_width<53, -512, -128, -75, 0, 126, 127, 150, 175, 512>();
  check_width<64, -512, -128, -64, 0, 30, 126, 127, 150, 190, 512>();
}

TEST_CASE("the extreme formats of the outside check convert right", "[float]") {
  CHECK(static_cast<float>(fxp::fixed<-140, 150>::from_raw(3)) == 0x3p-150f);
  CHECK(static_cast<float>(fxp::fixed<-120, 150>::from_raw(1 << 29)) == 0x1p-121f);
  CHECK(static_cast<float>(fxp::fixed<140, -130>::from_raw(0)) == 0.0f);
  CHECK(static_cast<float>(fxp::fixed<140, -130>::from_raw(1)) == INFINITY);
}
