// SPDX-License-Identifier: MIT
#pragma once
// The independent reference of the exhaustive tests: every operation of fxp's scalar core
// computed straight from its definition (README, "A tour of the core") on exact rationals held in 128-bit
// integers. It includes nothing of fxp and shares no code with it, so a bug in the library
// cannot hide by appearing on both sides of a comparison.
//
// A value is a rational num / den (den > 0). Formats are plain run-time descriptions.
// Rounding works on the exact rational: q = floor(x), r = x - q, and each policy decides
// from r whether the result is q or q + 1; the overflow policy then sees that integer.

#include <cstdint>  // raw values and the 32-bit stochastic words
#include <string>   // names for failure messages

#include "formats.hpp"

namespace fxp_exhaustive::reference {

// Every intermediate fits 128 bits with a wide margin (none exceeds 2^60 on this grid; the
// largest is r * 2^32 in stochastic_threshold for a quotient).
__extension__ using int128 = __int128;

/// 2^k for 0 <= k < 126.
[[nodiscard]] constexpr int128 pow2(int k) noexcept { return int128{1} << k; }

[[nodiscard]] constexpr int128 raw_min(format t) noexcept {
  return t.is_signed ? -pow2(t.width() - 1) : 0;
}
[[nodiscard]] constexpr int128 raw_max(format t) noexcept {
  return (t.is_signed ? pow2(t.width() - 1) : pow2(t.width())) - 1;
}

/// floor(n / d) for d > 0 (C++ division truncates toward zero).
[[nodiscard]] constexpr int128 floor_div(int128 n, int128 d) noexcept {
  int128 q = n / d;
  if (n % d != 0 && n < 0) --q;
  return q;
}

/// The exact rational num / den, den > 0.
struct ratio {
  int128 num;
  int128 den;
};

/// n * 2^e, exactly.
[[nodiscard]] constexpr ratio times_pow2(int128 n, int e) noexcept {
  return e >= 0 ? ratio{n * pow2(e), 1} : ratio{n, pow2(-e)};
}

/// The value raw * 2^-f_from expressed in units of 2^-f_to (the target's last bit).
[[nodiscard]] constexpr ratio in_units(int128 raw, int f_from, int f_to) noexcept {
  return times_pow2(raw, f_to - f_from);
}

/// The quotient (ra * 2^-fa) / (rb * 2^-fb) in units of 2^-fr; rb != 0.
[[nodiscard]] constexpr ratio quotient_in_units(int128 ra, int fa, int128 rb, int fb,
                                                int fr) noexcept {
  const int e = fr + fb - fa;
  ratio q = e >= 0 ? ratio{ra * pow2(e), rb} : ratio{ra, rb * pow2(-e)};
  if (q.den < 0) q = ratio{-q.num, -q.den};
  return q;
}

/// floor(fraction * 2^32) where fraction = x - floor(x) is in [0, 1): stochastic rounding
/// rounds up exactly when the generator's word is below this.
[[nodiscard]] constexpr std::uint32_t stochastic_threshold(ratio x) noexcept {
  const int128 r = x.num - floor_div(x.num, x.den) * x.den;  // 0 <= r < den
  return static_cast<std::uint32_t>(floor_div(r * pow2(32), x.den));
}

/// x rounded to an integer by `mode`; `word` is the one random word stochastic rounding
/// draws.
[[nodiscard]] constexpr int128 round_to_integer(ratio x, rounding mode,
                                                std::uint32_t word) noexcept {
  const int128 q = floor_div(x.num, x.den);
  const int128 r = x.num - q * x.den;  // x = q + r / den, 0 <= r < den
  bool up = false;
  switch (mode) {
    case rounding::truncate:  // toward minus infinity
      up = false;
      break;
    case rounding::toward_zero:  // a negative inexact value moves up toward zero
      up = x.num < 0 && r != 0;
      break;
    case rounding::nearest:  // halfway goes toward plus infinity
      up = 2 * r >= x.den;
      break;
    case rounding::nearest_even:  // halfway goes to the even neighbour
      up = 2 * r > x.den || (2 * r == x.den && q % 2 != 0);
      break;
    case rounding::stochastic:  // up with probability r / den, decided by one 32-bit word
      up = word < stochastic_threshold(x);
      break;
  }
  return up ? q + 1 : q;
}

/// What an operation gives: a raw value, or an exception of one of the kinds the library
/// documents (fxp::overflow_error from `checked`, std::domain_error from a division by zero).
/// `other` stands for anything else thrown, which the reference never expects.
enum class event : std::uint8_t { value, overflow_error, domain_error, other };

struct outcome {
  event kind;
  std::int64_t raw;  ///< meaningful when kind == event::value
  friend constexpr bool operator==(const outcome&, const outcome&) = default;
};

/// The integer v (in units of t's last bit) made to fit t by the overflow policy.
[[nodiscard]] constexpr outcome fit(int128 v, format t, overflow mode) noexcept {
  const int128 lo = raw_min(t);
  const int128 hi = raw_max(t);
  if (v >= lo && v <= hi) return {event::value, static_cast<std::int64_t>(v)};
  switch (mode) {
    case overflow::saturate:
      return {event::value, static_cast<std::int64_t>(v < lo ? lo : hi)};
    case overflow::wrap: {
      const int128 modulus = pow2(t.width());
      int128 m = v - floor_div(v, modulus) * modulus;  // v mod 2^W, in [0, 2^W)
      if (t.is_signed && m >= modulus / 2) m -= modulus;
      return {event::value, static_cast<std::int64_t>(m)};
    }
    case overflow::checked:
      break;
  }
  return {event::overflow_error, 0};
}

/// The exact value x (in units of t's last bit) narrowed into t: round, then overflow.
[[nodiscard]] constexpr outcome narrow(ratio x, format t, rounding r, overflow o,
                                       std::uint32_t word) noexcept {
  return fit(round_to_integer(x, r, word), t, o);
}

// Formats of the exact results (README, "A tour of the core"): + and - align the binary points and add a
// carry bit, an unsigned operand meeting a signed one counting one more integer bit; the
// difference is always signed. * adds the widths. -a gains one integer bit and a sign.
[[nodiscard]] constexpr format sum_format(format a, format b, bool difference) noexcept {
  const int ia = a.i + (!a.is_signed && b.is_signed ? 1 : 0);
  const int ib = b.i + (a.is_signed && !b.is_signed ? 1 : 0);
  return {(ia > ib ? ia : ib) + 1, a.f > b.f ? a.f : b.f, a.is_signed || b.is_signed || difference};
}
[[nodiscard]] constexpr format product_format(format a, format b) noexcept {
  return {a.i + b.i, a.f + b.f, a.is_signed || b.is_signed};
}
[[nodiscard]] constexpr format negation_format(format a) noexcept { return {a.i + 1, a.f, true}; }

/// The exact a + b (or a - b) of raws ra and rb as a raw value of format `r`, which has at
/// least both operands' fractional bits.
[[nodiscard]] constexpr int128 sum_raw(int128 ra, format a, int128 rb, format b, format r,
                                       bool difference) noexcept {
  const int128 x = ra * pow2(r.f - a.f);
  const int128 y = rb * pow2(r.f - b.f);
  return difference ? x - y : x + y;
}

/// The sign of (ra * 2^-fa) - (rb * 2^-fb): -1, 0 or 1.
[[nodiscard]] constexpr int compare(int128 ra, int fa, int128 rb, int fb) noexcept {
  const int f = fa > fb ? fa : fb;
  const int128 d = ra * pow2(f - fa) - rb * pow2(f - fb);
  return d < 0 ? -1 : (d > 0 ? 1 : 0);
}

[[nodiscard]] inline std::string to_string(format t) {
  return std::string(t.is_signed ? "fixed<" : "ufixed<") + std::to_string(t.i) + "," +
         std::to_string(t.f) + ">";
}
[[nodiscard]] inline std::string to_string(rounding r) {
  constexpr const char* names[] = {"truncate", "toward_zero", "nearest", "nearest_even",
                                   "stochastic"};
  return names[static_cast<int>(r)];
}
[[nodiscard]] inline std::string to_string(overflow o) {
  constexpr const char* names[] = {"saturate", "wrap", "checked"};
  return names[static_cast<int>(o)];
}
[[nodiscard]] inline std::string to_string(outcome x) {
  switch (x.kind) {
    case event::value:
      return "raw " + std::to_string(x.raw);
    case event::overflow_error:
      return "fxp::overflow_error";
    case event::domain_error:
      return "std::domain_error";
    case event::other:
      break;
  }
  return "an unexpected exception";
}

}  // namespace fxp_exhaustive::reference
