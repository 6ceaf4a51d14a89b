// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// Conversions on one batch of lanes, bit-identical to the scalar core: float -> fixed
/// (quantize_lanes), fixed -> fixed (requantize_lanes) and fixed -> float
/// (dequantize_lanes). The array kernels of quantize.hpp, and tensor expressions that fuse
/// a cast, call these.
///
/// Which path runs: formats of W <= 32 bits work in 32-bit integer lanes, exactly; wider
/// formats have no lane form (the array kernels fall back to the scalar core for them).

#include <concepts>  // same_as for the ordered-overflow concept
#include <cstdint>   // 32-bit words, 64-bit format bounds

#include "../core/fixed.hpp"
#include "detail/isa_namespace.hpp"
#include "detail/lane_ops.hpp"
#include "discarded.hpp"
#include "lanes.hpp"
#include "overflow.hpp"

namespace fxp::simd {
FXP_BEGIN_ISA_NAMESPACE

/// The outcome of narrowing one batch.
/// \tparam Arch the xsimd architecture of the lanes
template <simd_arch Arch>
struct narrowed_lanes {
  /// The target's raw value in every lane, sign-extended (signed formats) or zero-extended.
  word_lanes<Arch> raw;
  /// Lanes whose element the scalar core must convert instead, because it throws: a NaN
  /// input, or an overflow under fxp::checked. `raw` is meaningless in those lanes.
  mask_lanes<Arch> fallback;
};

/// A conversion into `Target` that has a lane form: W <= 32, and rounding and overflow
/// policies with lane forms.
template <class Target, class Round, class Arch>
concept lane_target = fixed_point<Target> && Target::width <= 32 && lane_rounding<Round, Arch> &&
                      lane_overflow<typename Target::overflow_policy>;

FXP_END_ISA_NAMESPACE
namespace detail {
FXP_BEGIN_ISA_NAMESPACE

/// Lanes whose rounded value q lies outside Target's range. `UnsignedDomain`: q is read as
/// unsigned (a value of [0, 2^32)); otherwise as two's complement.
template <class Target, bool UnsignedDomain, class Arch, class Ops>
[[nodiscard]] inline mask_lanes<Arch> out_of_range(const word_lanes<Arch>& q, Ops ops) noexcept {
  using words = word_lanes<Arch>;
  constexpr std::int64_t hi = Target::raw_max;
  constexpr std::int64_t lo = Target::raw_min;
  mask_lanes<Arch> out(false);
  if constexpr (UnsignedDomain) {
    if constexpr (hi < 0xFFFFFFFF) out = less_unsigned<Arch>(words(static_cast<std::uint32_t>(hi)), q, ops);
  } else {
    if constexpr (hi < INT32_MAX) out = greater_signed<Arch>(q, words(static_cast<std::uint32_t>(hi)));
    if constexpr (lo > INT32_MIN) {
      out = out || less_signed<Arch>(q, words(static_cast<std::uint32_t>(lo)));
    }
  }
  return out;
}

/// Applies Target's overflow policy to the rounded values q. `check`: lanes whose range is
/// checked here; `overflow_before`: lanes already known to be out of range; `negative`: the
/// side of the overflow; `fallback`: lanes that go to the scalar core whatever happens.
template <class Target, bool UnsignedDomain, class Arch, class Ops>
[[nodiscard]] inline narrowed_lanes<Arch> fit(const word_lanes<Arch>& q, const mask_lanes<Arch>& check,
                                             const mask_lanes<Arch>& overflow_before,
                                             const mask_lanes<Arch>& negative,
                                             const mask_lanes<Arch>& fallback, Ops ops) noexcept {
  using policy = overflow_lanes<typename Target::overflow_policy>;
  const mask_lanes<Arch> overflow =
      (check && out_of_range<Target, UnsignedDomain, Arch>(q, ops)) || overflow_before;
  const word_lanes<Arch> raw = policy::template apply<Target, Arch>(q, overflow, negative);
  if constexpr (policy::throws) {
    return {raw, fallback || overflow};
  } else {
    return {raw, fallback};
  }
}

FXP_END_ISA_NAMESPACE
}  // namespace detail
FXP_BEGIN_ISA_NAMESPACE

/// Whether overflow policy `Overflow` has an `apply_ordered` form (see overflow_lanes).
template <class Overflow, class Target, class Arch>
concept ordered_overflow = requires(const word_lanes<Arch>& q) {
  { overflow_lanes<Overflow>::template apply_ordered<Target, Arch>(q) } -> std::same_as<word_lanes<Arch>>;
};

FXP_END_ISA_NAMESPACE
namespace detail {
FXP_BEGIN_ISA_NAMESPACE
/// fit for values q (read as int32) that are exact or, out of range, beyond Target's bound
/// on the side of the exact value: the cheap apply_ordered form of the overflow policy.
template <class Target, class Arch, class Ops>
  requires ordered_overflow<typename Target::overflow_policy, Target, Arch>
[[nodiscard]] inline narrowed_lanes<Arch> fit_ordered(const word_lanes<Arch>& q, Ops ops) noexcept {
  using policy = overflow_lanes<typename Target::overflow_policy>;
  if constexpr (policy::throws) {
    return {q, out_of_range<Target, false, Arch>(q, ops)};
  } else {
    return {policy::template apply_ordered<Target, Arch>(q), mask_lanes<Arch>(false)};
  }
}
FXP_END_ISA_NAMESPACE
}  // namespace detail
FXP_BEGIN_ISA_NAMESPACE

/// float -> Target on lanes: lane i is the raw value of
/// `fxp::fixed_cast<Target, Round>(x[i], gen)` where `gen` would draw `word[i]`.
///
/// The float is taken apart into +-m * 2^e (m of 24 bits, subnormals included) and the
/// signed mantissa is shifted in 32-bit integer lanes by a per-lane count, as the scalar
/// core shifts the double's mantissa: floor(x * 2^F) modulo 2^32, the top 32 bits of the
/// discarded fraction and a sticky bit are exact for every float input and every F.
/// \tparam Target the fixed-point format (W <= 32)
/// \tparam Round the rounding policy
/// \tparam Arch the xsimd architecture
/// \tparam Ops fxp::simd::native or fxp::simd::portable (same bits)
/// \param bits the float inputs' bit patterns
/// \param word the elements' random words (ignored by deterministic policies)
template <class Target, class Round, simd_arch Arch, instruction_selection Ops = native>
  requires lane_target<Target, Round, Arch>
[[nodiscard]] inline narrowed_lanes<Arch> quantize_lanes(const word_lanes<Arch>& bits,
                                                        const word_lanes<Arch>& word) noexcept {
  using words = word_lanes<Arch>;
  using ints = detail::int_lanes<Arch>;
  using mask = mask_lanes<Arch>;
  using overflow_policy = typename Target::overflow_policy;
  using policy = overflow_lanes<overflow_policy>;
  constexpr Ops ops{};
  constexpr int f = Target::fraction_bits;
  // x = m * 2^(max(E, 1) - 150), so x * 2^F = m * 2^-s with s = 150 - F - max(E, 1).
  constexpr std::int32_t shift_base = 150 - f;
  // Normal floats have m >= 2^23, so with s <= 0 the value is at least 2^23 in magnitude:
  // out of range of every format of up to 23 bits (subnormals reach s <= 0 only if F >= 149).
  constexpr bool large_overflows = Target::width <= 23 && f < 149;
  // An infinity (E = 255, m = 2^23) has s = -105 - F: for F >= -73 it shifts out of 32
  // bits, into an overflow with low bits 0 as the core's; otherwise it is flagged explicitly.
  constexpr bool flag_infinity = f < -73;
  // The cheap path, for saturate and checked on formats of up to 22 bits: s is raised to
  // at least 1, so a large value (s <= 0, |x * 2^F| >= 2^23) keeps |floor| >= 2^22 on its
  // own side (an infinity too, as F >= -73 gives it s <= 1): out of range on the right
  // side, which is all that clamping (or checking) needs.
  constexpr bool ordered = Target::width <= 22 && f < 149 && !flag_infinity &&
                           ordered_overflow<overflow_policy, Target, Arch>;

  const words magnitude_bits = bits & 0x7FFFFFFFu;
  const ints e1 = detail::lane_max(detail::as_signed<Arch>(magnitude_bits >> 23), ints(1));
  const words m = (magnitude_bits + 0x00800000u) - detail::as_words<Arch>(e1 << 23);
  const words sign = detail::as_words<Arch>(detail::as_signed<Arch>(bits) >> 31);
  const words v = (m ^ sign) - sign;  // x * 2^F = v * 2^-s, v in two's complement
  // Capped at 64: beyond, v lies wholly below the top 32 fraction bits anyway.
  ints capped = detail::lane_min(ints(shift_base) - e1, ints(64));
  if constexpr (ordered) capped = detail::lane_max(capped, ints(1));
  const words s = detail::as_words<Arch>(capped);

  // The shifts return 0 (or the sign) for counts of 32 or more, negative counts included,
  // which selects the right term for every s without branches.
  const mask rounded = detail::greater_signed<Arch>(s, words(0u));  // s > 0: |floor| < 2^24
  words floor = detail::shift_right_arith<Arch>(v, s, ops);
  if constexpr (!ordered && (!large_overflows || policy::needs_low_bits)) {
    // s <= 0: the exact value v * 2^-s (modulo 2^32).
    floor = detail::select(rounded, floor, detail::shift_left<Arch>(v, words(0u) - s, ops));
  }
  // The top 32 fraction bits: v's low s bits moved up, or (s > 32) its bits s-32 .. s-1.
  const mask deep = detail::greater_signed<Arch>(s, words(32u));
  const words fraction = detail::select(deep, detail::shift_right_arith<Arch>(v, s - 32u, ops),
                                       detail::shift_left<Arch>(v, words(32u) - s, ops));
  const mask sticky = detail::shift_left<Arch>(v, words(64u) - s, ops) != 0u;
  const mask negative = detail::less_signed<Arch>(v, words(0u));  // -0 is not negative
  const discarded_lanes<Arch> d(negative, (floor & 1u) != 0u, fraction, sticky);
  words q = detail::increment_where<Arch>(floor, round_up<Round, Arch, Ops>(d, word), ops);

  const mask nan = detail::greater_signed<Arch>(magnitude_bits, words(0x7F800000u));
  if constexpr (ordered) {
    if constexpr (policy::throws) {
      return {q, nan || detail::out_of_range<Target, false, Arch>(q, ops)};
    } else {
      return {policy::template apply_ordered<Target, Arch>(q), nan};
    }
  } else {
    mask overflow_before(false);
    if constexpr (large_overflows) {
      overflow_before = !rounded;
    } else {
      // Shifted left by -s: out of range iff m > bound >> -s (bound = -raw_min or raw_max).
      const words hi(static_cast<std::uint32_t>(Target::raw_max));
      const words minus_lo(static_cast<std::uint32_t>(-static_cast<std::int64_t>(Target::raw_min)));
      const words bound = hi ^ ((hi ^ minus_lo) & sign);
      overflow_before = !rounded && detail::less_unsigned<Arch>(
                                        detail::shift_right<Arch>(bound, words(0u) - s, ops), m, ops);
    }
    if constexpr (flag_infinity) {
      const mask infinite = magnitude_bits == 0x7F800000u;
      overflow_before = overflow_before || infinite;
      q = detail::select(infinite, words(0u), q);  // the core's on_overflow(negative, 0)
    }
    return detail::fit<Target, false, Arch>(q, rounded, overflow_before, negative, nan, ops);
  }
}

/// From -> To on lanes: lane i is the raw value of `fxp::fixed_cast<To, Round>(x[i], gen)`
/// where `gen` would draw `word[i]`; `raw` holds From's raw values, sign- or zero-extended.
/// The shift is known at compile time, so this is a handful of constant shifts.
/// \tparam To the target format (W <= 32)
/// \tparam Round the rounding policy
/// \tparam From the source format (W <= 32)
/// \tparam Arch the xsimd architecture
/// \tparam Ops fxp::simd::native or fxp::simd::portable (same bits)
template <class To, class Round, class From, simd_arch Arch, instruction_selection Ops = native>
  requires lane_target<To, Round, Arch> && fixed_point<From> && (From::width <= 32)
[[nodiscard]] inline narrowed_lanes<Arch> requantize_lanes(
    const word_lanes<Arch>& raw, [[maybe_unused]] const word_lanes<Arch>& word) noexcept {
  using words = word_lanes<Arch>;
  using mask = mask_lanes<Arch>;
  constexpr Ops ops{};
  constexpr int shift = From::fraction_bits - To::fraction_bits;
  // A 32-bit unsigned source does not fit int32 lanes; every other source does.
  constexpr bool unsigned_domain = !From::is_signed && From::width == 32;
  const mask negative =
      From::is_signed ? detail::sign_mask<Arch>(raw, ops) : mask(false);
  const mask none(false);

  if constexpr (shift <= 0) {
    // Widening: a plain shift left (the core uses truncate: nothing is discarded), out of
    // range iff raw > raw_max >> up or raw < -(-raw_min >> up), as in the core.
    constexpr int up = -shift;
    constexpr std::int64_t hi = fxp::detail::shift_floor<std::int64_t>(To::raw_max, up);
    constexpr std::int64_t lo = -fxp::detail::shift_floor<std::int64_t>(-std::int64_t{To::raw_min}, up);
    words q(0u);
    if constexpr (up < 32) q = raw << up;
    mask overflow(false);
    if constexpr (unsigned_domain) {
      if constexpr (hi < 0xFFFFFFFF) {
        overflow = detail::less_unsigned<Arch>(words(static_cast<std::uint32_t>(hi)), raw, ops);
      }
    } else {
      if constexpr (hi < INT32_MAX) {
        overflow = detail::greater_signed<Arch>(raw, words(static_cast<std::uint32_t>(hi)));
      }
      if constexpr (lo > INT32_MIN) {
        overflow = overflow || detail::less_signed<Arch>(raw, words(static_cast<std::uint32_t>(lo)));
      }
    }
    return detail::fit<To, unsigned_domain, Arch>(q, none, overflow, negative, none, ops);
  } else {
    // Narrowing by `shift` bits: floor, the top 32 discarded bits and the sticky bit, read
    // off the two's complement (or unsigned) source as the core reads its wide integer.
    const auto shift_down = [](const words& x, int k) {
      if constexpr (From::is_signed) {
        return detail::as_words<Arch>(detail::as_signed<Arch>(x) >> (k < 31 ? k : 31));
      } else {
        return k < 32 ? words(x >> k) : words(0u);
      }
    };
    const words floor = shift_down(raw, shift);
    words fraction(0u);
    mask sticky(false);
    if constexpr (shift <= 32) {
      fraction = raw << (32 - shift);
    } else {
      fraction = shift_down(raw, shift - 32);
      if constexpr (shift < 64) {
        sticky = (raw << (64 - shift)) != 0u;
      } else {
        sticky = raw != 0u;
      }
    }
    const discarded_lanes<Arch> d(negative, (floor & 1u) != 0u, fraction, sticky);
    const words q = detail::increment_where<Arch>(floor, round_up<Round, Arch, Ops>(d, word), ops);
    using overflow_policy = typename To::overflow_policy;
    if constexpr (!unsigned_domain && ordered_overflow<overflow_policy, To, Arch>) {
      return detail::fit_ordered<To, Arch>(q, ops);  // q is exact
    } else {
      return detail::fit<To, unsigned_domain, Arch>(q, mask(true), none, negative, none, ops);
    }
  }
}

/// From -> float on lanes, as `static_cast<float>(x)`: the raw value converted to float
/// (rounded once, to nearest even, when W > 24) times 2^-F as a float.
/// \tparam From the source format: W <= 32 and F such that float arithmetic rounds once
///         (fxp::detail::float_scaling_is_exact; other formats take the scalar path)
/// \tparam Arch the xsimd architecture
/// \param raw From's raw values, sign- or zero-extended
template <class From, simd_arch Arch>
  requires fixed_point<From> &&
           (fxp::detail::float_scaling_is_exact(From::width, From::fraction_bits))
[[nodiscard]] inline float_lanes<Arch> dequantize_lanes(const word_lanes<Arch>& raw) noexcept {
  using floats = float_lanes<Arch>;
  // The very expression of basic_fixed::operator float: the double scale rounded to float.
  constexpr float scale = static_cast<float>(fxp::detail::pow2(-From::fraction_bits));
  floats value;
  if constexpr (From::is_signed || From::width < 32) {
    value = detail::to_float<Arch>(detail::as_signed<Arch>(raw));
  } else {
    // No unsigned conversion before AVX-512: 2^16 * hi + lo, both exact, rounds once.
    value = detail::to_float<Arch>(detail::as_signed<Arch>(raw >> 16)) * floats(65536.0f) +
            detail::to_float<Arch>(detail::as_signed<Arch>(raw & 0xFFFFu));
  }
  return value * scale;
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp::simd
