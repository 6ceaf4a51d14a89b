// SPDX-License-Identifier: MIT
#pragma once
// Scalar rounding of exact wide values into run-time formats, for the element-wise parts of
// the fixed-point layers and optimizers (pooling, bias gradients, updates). The decision
// rules are the scalar core's (fxp/core/rounding.hpp): the discarded fraction x - floor(x)
// is looked at through its top 64 bits and a sticky bit; stochastic rounding goes up when
// the element's 32-bit random word is below the top 32 bits of that fraction.

#include <cmath>      // std::floor, std::ldexp for values given as doubles
#include <cstdint>    // raw integers
#include <stdexcept>  // std::domain_error for NaN, std::overflow_error for shifts

#include "../../simd/detail/isa_namespace.hpp"
#include "../../tensor/dynamic.hpp"

namespace fxp::nn::detail {
FXP_BEGIN_ISA_NAMESPACE

/// A 128-bit signed integer: wide enough for every exact product of two 32-bit raw values
/// scaled by a 24-bit hyperparameter.
__extension__ using int128 = __int128;
__extension__ using uint128 = unsigned __int128;

/// Whether floor(x) goes up by one under `mode`, given what was discarded.
[[nodiscard]] constexpr bool round_up(rounding_mode mode, bool negative, bool odd,
                                      std::uint64_t fraction, bool sticky,
                                      std::uint32_t word) noexcept {
  constexpr std::uint64_t half = std::uint64_t{1} << 63;
  switch (mode) {
    case rounding_mode::truncate:
      return false;
    case rounding_mode::toward_zero:
      return negative && (fraction != 0 || sticky);
    case rounding_mode::nearest:
      return fraction >= half;
    case rounding_mode::nearest_even:
      return fraction > half || (fraction == half && sticky) ||
             (fraction == half && !sticky && odd);
    case rounding_mode::stochastic:
      return word < static_cast<std::uint32_t>(fraction >> 32);
  }
  return false;
}

/// v * 2^-shift rounded to an integer by `mode` (word: the element's random word).
[[noreturn]] inline void shift_out_of_range() {
  throw std::overflow_error("fxp::nn: a fixed-point shift beyond 100 bits");
}

[[nodiscard]] __attribute__((always_inline)) inline int128 round_shift(int128 v, int shift, rounding_mode mode,
                                        std::uint32_t word = 0) {
  if (shift <= 0) {
    if (shift < -100) shift_out_of_range();
    return v * (int128{1} << -shift);
  }
  if (shift > 120) shift_out_of_range();
  const int128 q = v >> shift;  // floor: arithmetic shift
  const uint128 rem = static_cast<uint128>(v - q * (int128{1} << shift));  // in [0, 2^shift)
  std::uint64_t fraction = 0;
  bool sticky = false;
  if (shift <= 64) {
    fraction = static_cast<std::uint64_t>(rem << (64 - shift));
  } else {
    fraction = static_cast<std::uint64_t>(rem >> (shift - 64));
    sticky = (rem & ((uint128{1} << (shift - 64)) - 1)) != 0;
  }
  return q + (round_up(mode, v < 0, (q & 1) != 0, fraction, sticky, word) ? 1 : 0);
}

/// round_shift in 64-bit arithmetic, for a caller that has bounded its values and shifts:
/// |v| < 2^62, shift <= 62, and v * 2^-shift within int64 when shift < 0. The same result
/// as round_shift for those, at about half the work per element.
[[nodiscard]] __attribute__((always_inline)) inline std::int64_t round_shift64(
    std::int64_t v, int shift, rounding_mode mode, std::uint32_t word = 0) noexcept {
  if (shift <= 0) return static_cast<std::int64_t>(static_cast<std::uint64_t>(v) << -shift);
  const std::int64_t q = v >> shift;  // floor: arithmetic shift
  const std::uint64_t rem = static_cast<std::uint64_t>(v) & ((std::uint64_t{1} << shift) - 1);
  const std::uint64_t fraction = rem << (64 - shift);  // shift <= 62: nothing below it
  return q + (round_up(mode, v < 0, (q & 1) != 0, fraction, false, word) ? 1 : 0);
}

/// round_shift64 for 0 <= shift <= 62 without a branch on the shift (a loop of them
/// vectorizes): the same result for those shifts.
[[nodiscard]] __attribute__((always_inline)) inline std::int64_t round_right_shift64(
    std::int64_t v, int shift, rounding_mode mode, std::uint32_t word = 0) noexcept {
  const std::int64_t q = v >> shift;
  const std::uint64_t rem = static_cast<std::uint64_t>(v) & ((std::uint64_t{1} << shift) - 1);
  const std::uint64_t fraction = (rem << 1) << (63 - shift);  // rem << (64 - shift); 0 for shift 0
  return q + (round_up(mode, v < 0, (q & 1) != 0, fraction, false, word) ? 1 : 0);
}

/// num / den (den > 0) rounded to an integer by `mode`.
[[nodiscard]] inline int128 round_ratio(int128 num, int128 den, rounding_mode mode,
                                        std::uint32_t word = 0) {
  int128 q = num / den;
  int128 r = num % den;
  if (r < 0) {  // floor division
    q -= 1;
    r += den;
  }
  // fraction = floor(r * 2^64 / den), by long division one 32-bit half at a time (r < den,
  // so r * 2^32 fits whenever den < 2^95).
  const int128 hi_num = r << 32;
  const int128 hi = hi_num / den;
  const int128 lo_num = (hi_num % den) << 32;
  const int128 lo = lo_num / den;
  const bool sticky = (lo_num % den) != 0;
  const auto fraction = static_cast<std::uint64_t>((static_cast<uint128>(hi) << 32) |
                                                   static_cast<uint128>(lo));
  return q + (round_up(mode, num < 0, (q & 1) != 0, fraction, sticky, word) ? 1 : 0);
}

/// x (finite) rounded to an integer by `mode`; |x| must be below 2^62.
[[nodiscard]] inline int128 round_double(double x, rounding_mode mode, std::uint32_t word = 0) {
  if (std::isnan(x)) throw std::domain_error("fxp::nn: NaN in a fixed-point rounding");
  if (x >= 0x1p62) return int128{1} << 62;
  if (x <= -0x1p62) return -(int128{1} << 62);
  const double fl = std::floor(x);
  const double frac = std::ldexp(x - fl, 64);  // x - fl is exact; the scaling too
  const double frac_floor = std::floor(frac);
  const auto fraction = static_cast<std::uint64_t>(frac_floor);
  const bool sticky = frac != frac_floor;
  const auto q = static_cast<int128>(static_cast<std::int64_t>(fl));
  return q + (round_up(mode, x < 0, (q & 1) != 0, fraction, sticky, word) ? 1 : 0);
}

/// v clamped into f's raw range; counts a clamp in `saturations`.
[[nodiscard]] inline std::int64_t saturate(int128 v, const dynamic_format& f,
                                           std::uint64_t& saturations) noexcept {
  const auto lo = static_cast<int128>(f.raw_min());
  const auto hi = static_cast<int128>(f.raw_max());
  if (v < lo) {
    ++saturations;
    return f.raw_min();
  }
  if (v > hi) {
    ++saturations;
    return f.raw_max();
  }
  return static_cast<std::int64_t>(v);
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp::nn::detail
