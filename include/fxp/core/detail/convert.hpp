// SPDX-License-Identifier: MIT
#pragma once
// The one place where values are narrowed: every conversion (fixed -> fixed, integer or
// floating point -> fixed, division) ends in narrow(), which rounds by a policy and then
// applies the target's overflow policy.

#include <algorithm>  // std::max over format widths
#include <bit>        // bit_cast: take an IEEE double apart, also in constant expressions
#include <concepts>   // std::integral, std::same_as
#include <cstdint>    // raw words
#include <stdexcept>  // std::domain_error for NaN

#include "../random.hpp"
#include "../rounding.hpp"
#include "bits.hpp"

namespace fxp::detail {

/// Tag: draw random bits, if the policy needs any, from the calling thread's generator.
struct thread_generator {};

template <class Round, class Gen>
[[nodiscard]] constexpr bool decide(const discarded_bits& d, Gen& gen) {
  if constexpr (deterministic_rounding<Round>) {
    return Round::round_up(d);
  } else if constexpr (std::same_as<Gen, thread_generator>) {
    return Round::round_up(d, draw32(default_generator()));
  } else {
    return Round::round_up(d, draw32(gen));
  }
}

/// The bits of v below bit k (k >= 1) as a fraction, top-aligned in 64 bits.
template <class Int>
[[nodiscard]] constexpr std::uint64_t fraction_below(Int v, int k) noexcept {
  if (k < 64) return low64(v) << (64 - k);
  return low64(shift_floor(v, k - 64));  // bits k-64 .. k-1 of v's two's complement
}

/// The raw value of `Target` closest to v * 2^-shift by rounding policy `Round`, with the
/// target's overflow policy applied. `Int` must hold v and the target's range with two
/// bits to spare (see wide_t). `extra_sticky` says that the exact value is a little above
/// v * 2^-shift (a division's nonzero remainder).
template <class Target, class Round, class Int, class Gen>
[[nodiscard]] constexpr typename Target::raw_type narrow(Int v, int shift, Gen&& gen,
                                                         bool extra_sticky = false) {
  using raw_type = typename Target::raw_type;
  using overflow = typename Target::overflow_policy;
  constexpr Int lo = static_cast<Int>(Target::raw_min);
  constexpr Int hi = static_cast<Int>(Target::raw_max);
  if (shift <= 0) {
    const int up = -shift;
    // Check the range before shifting so that the shift itself cannot overflow.
    if (v > shift_floor(hi, up) || v < -shift_floor(Int(-lo), up)) {
      return overflow::template on_overflow<Target>(v < 0, low64(shift_left(v, up)));
    }
    const Int q = shift_left(v, up);
    if constexpr (!deterministic_rounding<Round>) {
      // Nothing is discarded, but a random policy still draws its word, so that every
      // conversion from a float consumes the same number of random bits.
      (void)decide<Round>(discarded_bits{v < 0, false, 0, extra_sticky}, gen);
    }
    return static_cast<raw_type>(q);
  }
  Int q = shift_floor(v, shift);
  const discarded_bits d{v < 0, (q & 1) != 0, fraction_below(v, shift),
                         extra_sticky || has_bits_below(v, shift - 64)};
  if (decide<Round>(d, gen)) ++q;
  if (q > hi || q < lo) return overflow::template on_overflow<Target>(q < 0, low64(q));
  return static_cast<raw_type>(q);
}

/// Fixed -> fixed: the shift is known at compile time, so a widening conversion is a
/// plain shift and never draws random bits.
template <class Target, class Round, class Source, class Gen>
[[nodiscard]] constexpr typename Target::raw_type from_fixed(const Source& x, Gen&& gen) {
  using Int = wide_t<std::max(Source::width + 1, Target::width)>;
  constexpr int shift = Source::fraction_bits - Target::fraction_bits;
  if constexpr (shift <= 0) {
    return narrow<Target, truncate>(static_cast<Int>(x.raw()), shift, gen);
  } else {
    return narrow<Target, Round>(static_cast<Int>(x.raw()), shift, gen);
  }
}

/// Integer -> fixed: the integer is a format with no fractional bits.
template <class Target, class Round, std::integral Integer, class Gen>
[[nodiscard]] constexpr typename Target::raw_type from_integer(Integer n, Gen&& gen) {
  using Int = wide_t<std::max(bit_width_v<Integer> + 1, Target::width)>;
  constexpr int shift = -Target::fraction_bits;
  if constexpr (shift <= 0) {
    return narrow<Target, truncate>(static_cast<Int>(n), shift, gen);
  } else {
    return narrow<Target, Round>(static_cast<Int>(n), shift, gen);
  }
}

/// double -> fixed, exactly: the double is taken apart into m * 2^e, an integer and a
/// shift, and rounded like any other value. float converts to double without loss first.
template <class Target, class Round, class Gen>
[[nodiscard]] constexpr typename Target::raw_type from_double(double x, Gen&& gen) {
  const auto bits = std::bit_cast<std::uint64_t>(x);
  const bool negative = (bits >> 63) != 0;
  const int biased_exponent = static_cast<int>((bits >> 52) & 0x7FF);
  const std::uint64_t mantissa = bits & ((std::uint64_t{1} << 52) - 1);
  if (biased_exponent == 0x7FF) {
    if (mantissa != 0) throw std::domain_error("fxp: cannot convert NaN to " + Target::name());
    return Target::overflow_policy::template on_overflow<Target>(negative, 0);  // +-inf
  }
  using Int = wide_t<std::max(55, Target::width)>;
  const bool normal = biased_exponent != 0;
  const Int m = static_cast<Int>(normal ? mantissa | (std::uint64_t{1} << 52) : mantissa);
  const int exponent = (normal ? biased_exponent : 1) - 1075;  // x = m * 2^exponent
  return narrow<Target, Round>(negative ? -m : m, -(exponent + Target::fraction_bits), gen);
}

}  // namespace fxp::detail
