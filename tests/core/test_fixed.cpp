// SPDX-License-Identifier: MIT
// The scalar core's API: result types, constexpr evaluation, conversions, limits, errors,
// printing, 64-bit formats. Exhaustive value checks live in tests/exhaustive.
#include <fxp/core/core.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <unordered_set>

using namespace fxp;

__extension__ using i128 = __int128;  // the tests' own wide reference integers
__extension__ using u128 = unsigned __int128;

// CNL's habit: check the type and the raw value together.
template <class Expected, class Actual>
constexpr bool identical(const Expected& expected, const Actual& actual) {
  return std::is_same_v<Expected, Actual> && expected.raw() == actual.raw();
}

// ---- each policy's rule, on hand-made discarded bits --------------------------------------
constexpr discarded_bits bits(bool negative, bool odd, std::uint64_t fraction, bool sticky) {
  return discarded_bits{negative, odd, fraction, sticky};
}
constexpr std::uint64_t half = std::uint64_t{1} << 63;
static_assert(!fxp::truncate::round_up(bits(true, true, ~std::uint64_t{0}, true)));
static_assert(toward_zero::round_up(bits(true, false, 0, true)));   // -0.000..01 -> 0
static_assert(!toward_zero::round_up(bits(true, false, 0, false)));  // exact: stays
static_assert(!toward_zero::round_up(bits(false, false, half, false)));
static_assert(nearest::round_up(bits(false, false, half, false)));  // tie goes up
static_assert(!nearest::round_up(bits(false, false, half - 1, true)));
static_assert(!nearest_even::round_up(bits(false, false, half, false)));  // tie to even
static_assert(nearest_even::round_up(bits(false, true, half, false)));    // tie, odd: up
static_assert(nearest_even::round_up(bits(false, false, half, true)));    // above the tie
// Stochastic compares a 32-bit word with the fraction's top 32 bits: 0.25 -> 2^30 words
// of 2^32 round up.
static_assert(stochastic::round_up(bits(false, false, half >> 1, false), (1u << 30) - 1));
static_assert(!stochastic::round_up(bits(false, false, half >> 1, false), 1u << 30));
static_assert(!stochastic::round_up(bits(false, false, 0, true), 0u));  // < 2^-32 ulp: down

// ---- formats and storage -------------------------------------------------------------
static_assert(std::is_same_v<fixed<1, 7>::raw_type, std::int8_t>);
static_assert(std::is_same_v<fixed<4, 5>::raw_type, std::int16_t>);
static_assert(std::is_same_v<fixed<-3, 20>::raw_type, std::int32_t>);  // W = 17
static_assert(std::is_same_v<fixed<40, 24>::raw_type, std::int64_t>);
static_assert(std::is_same_v<ufixed<8, 0>::raw_type, std::uint8_t>);
static_assert(std::is_same_v<ufixed<0, 9>::raw_type, std::uint16_t>);
static_assert(std::is_same_v<ufixed<1, 0>::raw_type, std::uint8_t>);  // W = 1 is allowed
static_assert(fixed<1, 7>::raw_min == -128 && fixed<1, 7>::raw_max == 127);
static_assert(ufixed<3, 2>::raw_min == 0 && ufixed<3, 2>::raw_max == 31);
static_assert(fixed<64, 0>::raw_min == std::numeric_limits<std::int64_t>::min());
static_assert(ufixed<64, 0>::raw_max == std::numeric_limits<std::uint64_t>::max());

// ---- exact result types (bit growth) ---------------------------------------------------
static_assert(std::is_same_v<result_t<op::add, fixed<1, 7>, fixed<4, 4>>, fixed<5, 7>>);
static_assert(std::is_same_v<result_t<op::sub, ufixed<4, 4>, ufixed<2, 6>>, fixed<5, 6>>);
static_assert(std::is_same_v<result_t<op::add, ufixed<4, 4>, ufixed<2, 6>>, ufixed<5, 6>>);
// An unsigned operand needs one more integer bit beside a signed one.
static_assert(std::is_same_v<result_t<op::add, fixed<2, 2>, ufixed<2, 2>>, fixed<4, 2>>);
static_assert(std::is_same_v<result_t<op::mul, fixed<1, 7>, fixed<1, 7>>, fixed<2, 14>>);
static_assert(std::is_same_v<result_t<op::mul, fixed<1, 7>, ufixed<4, 4>>, fixed<5, 11>>);
static_assert(std::is_same_v<result_t<op::mul, ufixed<1, 7>, ufixed<4, 4>>, ufixed<5, 11>>);
static_assert(std::is_same_v<result_t<op::neg, fixed<1, 7>>, fixed<2, 7>>);
static_assert(std::is_same_v<result_t<op::neg, ufixed<3, 1>>, fixed<4, 1>>);
static_assert(std::is_same_v<result_t<op::mul, fixed<-2, 8>, fixed<4, -2>>, fixed<2, 6>>);
// Policies survive when the operands agree and fall back to the defaults otherwise.
static_assert(std::is_same_v<result_t<op::add, fixed<2, 2, fxp::truncate, wrap>, fixed<2, 2, fxp::truncate, wrap>>,
                             fixed<3, 2, fxp::truncate, wrap>>);
static_assert(std::is_same_v<result_t<op::add, fixed<2, 2, fxp::truncate, wrap>, fixed<2, 2, stochastic, wrap>>,
                             fixed<3, 2, nearest, wrap>>);

// ---- constexpr arithmetic, with the hand arithmetic in the comments --------------------
// 0.5 * -2.25 = -1.125; in fixed<5,11> raw = -1.125 * 2^11 = -2304.
static_assert(identical(fixed<5, 11>::from_raw(-2304), fixed<1, 7>(0.5) * fixed<4, 4>(-2.25)));
// 0.5 + -2.25 = -1.75 -> raw -1.75 * 2^7 = -224 in fixed<5,7>.
static_assert(identical(fixed<5, 7>::from_raw(-224), fixed<1, 7>(0.5) + fixed<4, 4>(-2.25)));
// The most negative fixed<1,7> squared is +1: fits fixed<2,14> (raw 2^14).
static_assert(identical(fixed<2, 14>::from_raw(16384), fixed<1, 7>(-1.0) * fixed<1, 7>(-1.0)));
// -(-1) = 1 needs the extra integer bit of fixed<2,7>.
static_assert(identical(fixed<2, 7>::from_raw(128), -fixed<1, 7>(-1.0)));
// ufixed - ufixed goes negative: 0.25 - 3.75 = -3.5 -> fixed<5,6> raw -224.
static_assert(identical(fixed<5, 6>::from_raw(-224), ufixed<2, 6>(0.25) - ufixed<4, 4>(3.75)));
// Negative I: fixed<-2,8> spans [-1/8, 1/8); 0.0625 * 4 (fixed<4,-2>: step 4) = 0.25.
static_assert(identical(fixed<2, 6>::from_raw(16), fixed<-2, 8>(0.0625) * fixed<4, -2>(4)));
// divide: 1 / 3 in fixed<2,6> is 0.0101010|1... -> nearest raw 21 (0.328125), truncate 21,
// and -1/3 truncates toward -inf to raw -22 but toward zero to -21.
static_assert(divide<fixed<2, 6>>(fixed<4, 4>(1), fixed<4, 4>(3)).raw() == 21);
static_assert(divide<fixed<2, 6, fxp::truncate>>(fixed<4, 4>(-1), fixed<4, 4>(3)).raw() == -22);
static_assert(divide<fixed<2, 6, toward_zero>>(fixed<4, 4>(-1), fixed<4, 4>(3)).raw() == -21);
// 2/3 = 0.101010|10.. -> nearest 43 (0.671875): the discarded 0.666.. ulp rounds up.
static_assert(divide<fixed<2, 6>>(fixed<4, 4>(2), fixed<4, 4>(3)).raw() == 43);
// 5 / 0.5 = 10 does not fit fixed<4,4> (max 7.9375): saturates.
static_assert(divide<fixed<4, 4>>(fixed<4, 4>(5), fixed<4, 4>(0.5)).raw() == 127);

// ---- constexpr conversions: every policy on the ties and near-ties of 1.5 and -1.5 ------
template <class Round>
constexpr int to_int(double x) {
  return fixed_cast<fixed<4, 0, Round>>(x).raw();
}
static_assert(to_int<fxp::truncate>(1.5) == 1 && to_int<fxp::truncate>(-1.5) == -2);
static_assert(to_int<toward_zero>(1.5) == 1 && to_int<toward_zero>(-1.5) == -1);
static_assert(to_int<nearest>(1.5) == 2 && to_int<nearest>(-1.5) == -1);  // ties to +inf
static_assert(to_int<nearest>(2.5) == 3 && to_int<nearest>(-2.5) == -2);
static_assert(to_int<nearest_even>(1.5) == 2 && to_int<nearest_even>(2.5) == 2);
static_assert(to_int<nearest_even>(-1.5) == -2 && to_int<nearest_even>(-2.5) == -2);
static_assert(to_int<nearest_even>(2.5000000001) == 3);  // not a tie: the sticky bits count
static_assert(to_int<nearest>(-2.5000000001) == -3);
// Overflow policies: 9 does not fit fixed<4,0> ([-8, 7]); 9 mod 16 = -7 in two's complement.
static_assert(fixed<4, 0, nearest, saturate>(9.0).raw() == 7);
static_assert(fixed<4, 0, nearest, wrap>(9.0).raw() == -7);
static_assert(fixed<4, 0, nearest, wrap>(-9.0).raw() == 7);
static_assert(ufixed<4, 0, nearest, wrap>(-1.0).raw() == 15);
static_assert(ufixed<4, 0, nearest, saturate>(-1.0).raw() == 0);
// Rounding can overflow: 7.75 rounds to 8, one past the top of fixed<4,0>.
static_assert(fixed<4, 0, nearest, saturate>(7.75).raw() == 7);
static_assert(fixed<4, 0, nearest, wrap>(7.75).raw() == -8);
// Infinities saturate, or wrap to 0 (the limit of 2^n modulo 2^W).
static_assert(fixed<1, 7>(std::numeric_limits<double>::infinity()).raw() == 127);
static_assert(fixed<1, 7>(-std::numeric_limits<float>::infinity()).raw() == -128);
static_assert(fixed<1, 7, nearest, wrap>(std::numeric_limits<double>::infinity()).raw() == 0);
// Fixed -> fixed narrowing rounds by the target's policy, or the one named.
static_assert(fixed<4, 2>(fixed<4, 4>::from_raw(-6)).raw() == -1);  // -1.5 ulp -> -1 (+inf tie)
static_assert(fixed_cast<fixed<4, 2>, nearest_even>(fixed<4, 4>::from_raw(-6)).raw() == -2);
static_assert(fixed_cast<fixed<4, 2>, fxp::truncate>(fixed<4, 4>::from_raw(-5)).raw() == -2);
// Integers: implicit when lossless, rounding when F < 0 (fixed<8,-2> counts in steps of 4).
static_assert(fixed<8, -2>(10).raw() == 3);  // 10 / 4 = 2.5 -> 3 (ties up)
static_assert(fixed<8, -2, nearest_even>(10).raw() == 2);
static_assert(fixed<9, 0>(std::int8_t{-128}).raw() == -128);

// ---- implicit conversions only when lossless --------------------------------------------
static_assert(std::is_convertible_v<fixed<1, 7>, fixed<4, 12>>);
static_assert(!std::is_convertible_v<fixed<4, 12>, fixed<1, 7>>);
static_assert(std::is_constructible_v<fixed<1, 7>, fixed<4, 12>>);
static_assert(std::is_convertible_v<ufixed<4, 4>, fixed<5, 4>>);
static_assert(!std::is_convertible_v<ufixed<4, 4>, fixed<4, 4>>);  // top bit would be the sign
static_assert(!std::is_convertible_v<fixed<4, 4>, ufixed<8, 8>>);  // negatives are lost
static_assert(std::is_convertible_v<std::int8_t, fixed<8, 0>>);
static_assert(std::is_convertible_v<std::int16_t, fixed<20, 4>>);
static_assert(!std::is_convertible_v<int, fixed<8, 0>>);
static_assert(!std::is_convertible_v<double, fixed<16, 16>>);
static_assert(!std::is_constructible_v<fixed<4, 4>, bool>);

// ---- comparisons across formats --------------------------------------------------------
static_assert(fixed<4, 4>(1.5) == ufixed<2, 6>(1.5));
static_assert(fixed<4, 4>(1.5) < ufixed<2, 6>(1.515625));
static_assert(fixed<8, -2>(8) > fixed<1, 7>(0.99));
static_assert(fixed<-2, 8>(-0.0625) < 0 && 0 > fixed<-2, 8>(-0.0625) && fixed<4, 4>(2) == 2);
static_assert((fixed<40, 24>::from_raw(1) <=> fixed<2, 0>(0)) == std::strong_ordering::greater);
static_assert(fixed<64, 0>::from_raw(std::numeric_limits<std::int64_t>::min()) <
              ufixed<64, 0>::from_raw(0));

// ---- numeric_limits ----------------------------------------------------------------------
using limits17 = std::numeric_limits<fixed<1, 7>>;
static_assert(limits17::is_specialized && limits17::is_signed && !limits17::is_integer);
static_assert(limits17::min().raw() == -128 && limits17::lowest().raw() == -128);
static_assert(limits17::max().raw() == 127 && limits17::epsilon().raw() == 1);
static_assert(limits17::digits == 7 && limits17::radix == 2 && limits17::is_exact);
static_assert(std::numeric_limits<ufixed<8, 0, fxp::truncate, wrap>>::is_modulo);
static_assert(std::numeric_limits<ufixed<8, 0, fxp::truncate, wrap>>::is_integer);
static_assert(std::numeric_limits<ufixed<8, 0, fxp::truncate, wrap>>::round_style ==
              std::round_toward_neg_infinity);
static_assert(std::numeric_limits<fixed<8, 8, nearest, checked>>::traps);
static_assert(std::numeric_limits<fixed<8, 8, stochastic>>::round_style == std::round_indeterminate);

// ---- to_double is exact ------------------------------------------------------------------
static_assert(fixed<1, 7>::from_raw(-1).to_double() == -0.0078125);
static_assert(static_cast<double>(fixed<20, 32>::from_raw((std::int64_t{1} << 51) + 1)) ==
              524288.0 + 1.0 / 4294967296.0);

TEST_CASE("checked overflow throws fxp::overflow_error naming the format", "[core]") {
  using checked8 = fixed<4, 4, nearest, checked>;
  CHECK_NOTHROW(checked8(7.9375));
  CHECK_THROWS_AS(checked8(8.0), fxp::overflow_error);
  CHECK_THROWS_AS(checked8(7.97), fxp::overflow_error);  // rounds up past the top
  CHECK_THROWS_AS(checked8(-8.04), fxp::overflow_error);
  CHECK_THROWS_AS(checked8(std::numeric_limits<double>::infinity()), fxp::overflow_error);
  CHECK_THROWS_AS(fixed_cast<checked8>(fixed<8, 0>(8)), fxp::overflow_error);
  CHECK_THROWS_WITH(checked8(100.0), Catch::Contains("fixed<4,4,nearest,checked>"));
  checked8 x(7.0);
  CHECK_THROWS_AS((x += fixed<4, 4>(1.0)), fxp::overflow_error);
  CHECK(x.raw() == 112);  // untouched by the failed assignment
}

TEST_CASE("NaN and division by zero throw std::domain_error", "[core]") {
  CHECK_THROWS_AS((fixed<8, 8>(std::nan(""))), std::domain_error);
  CHECK_THROWS_AS((fixed<8, 8, nearest, wrap>(std::numeric_limits<float>::quiet_NaN())),
                  std::domain_error);
  CHECK_THROWS_WITH((fixed<8, 8>(std::nan(""))), Catch::Contains("NaN"));
  CHECK_THROWS_AS((divide<fixed<8, 8>>(fixed<4, 4>(1), fixed<4, 4>(0))), std::domain_error);
}

TEST_CASE("compound assignment narrows back by the left operand's policies", "[core]") {
  fixed<4, 4> acc;
  for (int i = 0; i < 10; ++i) acc += fixed<1, 7>(0.75);
  CHECK(acc.raw() == 120);  // 7.5, exact
  acc += fixed<1, 7>(0.75);
  CHECK(acc.raw() == 127);  // 8.25 saturates at 7.9375
  fixed<4, 4, fxp::truncate, wrap> w(7.0);
  w += fixed<4, 4>(1.0);
  CHECK(w.raw() == -128);  // 8 wraps to -8
  fixed<8, 8> p(1.5);
  p *= fixed<8, 8>(-2.25);
  CHECK(p == fixed<8, 8>(-3.375));
  p /= fixed<8, 8>(-3.375);
  CHECK(p == 1);
  p -= fixed<1, 7>(0.5);
  CHECK(p.to_double() == 0.5);
}

// An independent decimal expansion: long division of raw by 2^F, digit by digit, in
// u128 for magnitudes up to 2^64 and F <= 60.
static std::string reference_decimal(i128 raw, int f) {
  std::string sign = raw < 0 ? "-" : "";
  u128 m = static_cast<u128>(raw < 0 ? -raw : raw);
  if (f <= 0) {
    m <<= -f;
    std::string digits;
    do {
      digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(m % 10)));
      m /= 10;
    } while (m != 0);
    return sign + digits;
  }
  const u128 one = static_cast<u128>(1) << f;
  u128 integer = m >> f;
  u128 rest = m & (one - 1);
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(integer % 10)));
    integer /= 10;
  } while (integer != 0);
  if (rest != 0) digits += '.';
  while (rest != 0) {  // each step: multiply the remainder by 10, take the integer part
    rest *= 10;
    digits += static_cast<char>('0' + static_cast<int>(rest >> f));
    rest &= one - 1;
  }
  return sign + digits;
}

TEST_CASE("printing gives the exact decimal value", "[core][print]") {
  CHECK(to_string(fixed<1, 7>(-1.0)) == "-1");
  CHECK(to_string(fixed<1, 7>::from_raw(-1)) == "-0.0078125");
  CHECK(to_string(ufixed<8, -3>::from_raw(31)) == "248");
  CHECK(to_string(fixed<64, 0>::from_raw(std::numeric_limits<std::int64_t>::min())) ==
        "-9223372036854775808");
  CHECK(to_string(ufixed<64, 0>::from_raw(~std::uint64_t{0})) == "18446744073709551615");
  // 2^-300 has 300 decimal places ending in ...5; its exact expansion starts 4.909...e-91.
  const std::string tiny = to_string(fixed<-290, 300>::from_raw(1));
  CHECK(tiny.size() == 302);
  CHECK(tiny.substr(0, 93) == "0." + std::string(90, '0') + "4");
  CHECK(tiny.back() == '5');
  std::ostringstream os;
  os << fixed<4, 4>(-2.5625) << ' ' << ufixed<2, 6>(0.5);
  CHECK(os.str() == "-2.5625 0.5");

  std::mt19937_64 gen(7);
  for (int i = 0; i < 2000; ++i) {
    const auto raw = static_cast<std::int32_t>(gen());
    CHECK(to_string(fixed<8, 24>::from_raw(raw)) == reference_decimal(raw, 24));
    CHECK(to_string(fixed<40, -8>::from_raw(raw)) == reference_decimal(raw, -8));
    const auto raw64 = static_cast<std::int64_t>(gen());
    CHECK(to_string(fixed<4, 60>::from_raw(raw64)) == reference_decimal(raw64, 60));
  }
}

TEST_CASE("std::hash follows the raw value", "[core]") {
  // Exhaustive over a small format: equal values hash equal however they were made, and
  // distinct values hash apart, which a constant hash (or one of the type alone) fails.
  using q = fixed<3, 4>;  // 128 values
  using h = std::hash<q>;
  std::unordered_set<std::size_t> hashes;
  for (int raw = q::raw_min; raw <= q::raw_max; ++raw) {
    const q x = q::from_raw(static_cast<q::raw_type>(raw));
    const double value = std::ldexp(raw, -4);
    const q from_double(value);                                         // from a double
    const q from_wider = fixed_cast<q>(fixed<8, 12>(value));            // narrowed exactly
    const q from_narrower(fixed<3, 2>::from_raw(static_cast<std::int8_t>(raw / 4)));
    const q from_arithmetic = fixed_cast<q>(x + fixed<3, 4>());         // x + 0, widened back
    REQUIRE(from_double == x);
    REQUIRE(from_wider == x);
    REQUIRE(from_arithmetic == x);
    CHECK(h{}(from_double) == h{}(x));
    CHECK(h{}(from_wider) == h{}(x));
    CHECK(h{}(from_arithmetic) == h{}(x));
    if (raw % 4 == 0) {
      REQUIRE(from_narrower == x);
      CHECK(h{}(from_narrower) == h{}(x));
    }
    hashes.insert(h{}(x));
  }
  CHECK(hashes.size() >= 127);  // >= 99% of the 128 values hash apart

  // A wider format, every value: >= 99% distinct hashes, and a set finds each value.
  std::unordered_set<std::size_t> wide_hashes;
  std::unordered_set<fixed<8, 8>> set;
  for (int raw = -32768; raw <= 32767; ++raw) {
    const auto x = fixed<8, 8>::from_raw(static_cast<std::int16_t>(raw));
    wide_hashes.insert(std::hash<fixed<8, 8>>{}(x));
    set.insert(x);
  }
  CHECK(wide_hashes.size() >= 64881);  // 99% of 65536
  CHECK(set.size() == 65536);
  CHECK(set.count(fixed<8, 8>(0.5)) == 1);
}

TEST_CASE("64-bit formats convert, compare and multiply exactly", "[core][wide]") {
  using q63 = fixed<1, 63>;
  using i64 = fixed<64, 0>;
  using u64 = ufixed<64, 0>;
  std::mt19937_64 gen(11);
  for (int i = 0; i < 10000; ++i) {
    const auto r = static_cast<std::int64_t>(gen());
    const auto s = static_cast<std::int64_t>(gen());
    const i128 wide_r = r;
    // q63 -> fixed<1,31> with nearest: add half an ulp (2^31) and shift; saturate at the top.
    const i128 expected = std::min<i128>((wide_r + (i128{1} << 31)) >> 32,
                                                 std::numeric_limits<std::int32_t>::max());
    CHECK(fixed<1, 31>(q63::from_raw(r)).raw() == expected);
    // Comparisons between far-apart formats: r * 2^-63 vs s * 2^0.
    const bool less = (wide_r < (static_cast<i128>(s) << 63));  // both scaled by 2^63
    CHECK((q63::from_raw(r) < i64::from_raw(s)) == less);
    CHECK((u64::from_raw(static_cast<std::uint64_t>(r)) > i64::from_raw(s)) ==
          (static_cast<i128>(static_cast<std::uint64_t>(r)) > s));
    // A 32 x 32 product is exact in fixed<64,0>.
    const auto a = static_cast<std::int32_t>(r);
    const auto b = static_cast<std::int32_t>(s);
    CHECK((fixed<32, 0>::from_raw(a) * fixed<32, 0>::from_raw(b)).raw() ==
          std::int64_t{a} * std::int64_t{b});
  }
}
