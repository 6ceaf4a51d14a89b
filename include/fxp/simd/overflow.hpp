// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// The lane forms of the overflow policies. A scalar policy's on_overflow takes one value's
/// sign and low 64 bits; on lanes the same rule picks, per lane, between the rounded value
/// and what the policy makes of it. A policy without a lane form (a user policy) makes the
/// kernels fall back to the scalar core.

#include <algorithm>  // std::min, std::max of the format bounds
#include <concepts>   // convertible_to for the lane-overflow concept
#include <cstdint>    // 32-bit words

#include "../core/overflow.hpp"
#include "detail/isa_namespace.hpp"
#include "detail/lane_ops.hpp"
#include "lanes.hpp"

namespace fxp::simd {
FXP_BEGIN_ISA_NAMESPACE

/// The lane form of overflow policy `Overflow`; not defined for policies that have none.
///
/// A specialization provides `apply<Target>(q, overflow, negative)`: `q` holds the rounded
/// value modulo 2^32 in every lane, `overflow` where it is outside Target's range, and
/// `negative` where it is below zero; the result is Target's raw value in every lane
/// (sign- or zero-extended), exactly as Overflow::on_overflow<Target> gives it for the
/// overflowing lanes. An infinite input reaches `apply` as an overflow with low bits 0, as
/// in the scalar core.
///
/// A policy that does not need the low bits may also provide `apply_ordered<Target>(q)`,
/// for when every lane of q (read as int32) is either the exact value or, out of range,
/// beyond the bound on the side of the exact value; kernels use it where they can
/// guarantee that cheaply.
/// \tparam Overflow fxp::saturate, fxp::wrap or fxp::checked
template <class Overflow>
struct overflow_lanes;

/// Clamp to the bound on the side of the exact value (fxp::saturate).
template <>
struct overflow_lanes<saturate> {
  /// Lanes out of range need not carry their low bits.
  static constexpr bool needs_low_bits = false;
  /// Never throws.
  static constexpr bool throws = false;

  template <class Target, simd_arch Arch>
  [[nodiscard]] static word_lanes<Arch> apply(const word_lanes<Arch>& q,
                                              const mask_lanes<Arch>& overflow,
                                              const mask_lanes<Arch>& negative) noexcept {
    const word_lanes<Arch> bound = detail::select(negative, word_lanes<Arch>(bits_of(Target::raw_min)),
                                                 word_lanes<Arch>(bits_of(Target::raw_max)));
    return detail::select(overflow, bound, q);
  }

  /// Out-of-range lanes lie beyond the right bound: clamping is saturation.
  template <class Target, simd_arch Arch>
  [[nodiscard]] static word_lanes<Arch> apply_ordered(const word_lanes<Arch>& q) noexcept {
    using ints = detail::int_lanes<Arch>;
    // Bounds beyond int32 cannot be crossed by an int32 lane.
    constexpr auto hi = static_cast<std::int32_t>(std::min<std::int64_t>(Target::raw_max, INT32_MAX));
    constexpr auto lo = static_cast<std::int32_t>(std::max<std::int64_t>(Target::raw_min, INT32_MIN));
    return detail::as_words<Arch>(detail::lane_max(detail::lane_min(detail::as_signed<Arch>(q), ints(hi)), ints(lo)));
  }

 private:
  template <class Raw>
  static constexpr std::uint32_t bits_of(Raw r) noexcept {
    return static_cast<std::uint32_t>(static_cast<std::int64_t>(r));  // sign-extends
  }
};

/// Keep the low W bits, sign-extended for a signed format (fxp::wrap).
template <>
struct overflow_lanes<wrap> {
  /// Lanes out of range must carry their exact low 32 bits.
  static constexpr bool needs_low_bits = true;
  /// Never throws.
  static constexpr bool throws = false;

  template <class Target, simd_arch Arch>
  [[nodiscard]] static word_lanes<Arch> apply(const word_lanes<Arch>& q, const mask_lanes<Arch>&,
                                              const mask_lanes<Arch>&) noexcept {
    // In-range lanes are already their own low W bits, so wrapping every lane is exact.
    constexpr int w = Target::width;
    if constexpr (w >= 32) {
      return q;
    } else if constexpr (Target::is_signed) {
      return detail::as_words<Arch>(detail::as_signed<Arch>(q << (32 - w)) >> (32 - w));
    } else {
      return q & ((std::uint32_t{1} << w) - 1u);
    }
  }
};

/// Throw fxp::overflow_error (fxp::checked). The kernels never store a chunk with an
/// overflowing lane: they redo it in the scalar core, which throws at the right element.
template <>
struct overflow_lanes<checked> {
  /// Lanes out of range are never stored.
  static constexpr bool needs_low_bits = false;
  /// An overflowing lane sends its chunk to the scalar core, which throws.
  static constexpr bool throws = true;

  template <class Target, simd_arch Arch>
  [[nodiscard]] static word_lanes<Arch> apply(const word_lanes<Arch>& q, const mask_lanes<Arch>&,
                                              const mask_lanes<Arch>&) noexcept {
    return q;
  }
  template <class Target, simd_arch Arch>
  [[nodiscard]] static word_lanes<Arch> apply_ordered(const word_lanes<Arch>& q) noexcept {
    return q;
  }
};

/// An overflow policy with a lane form.
template <class Overflow>
concept lane_overflow = overflow_policy<Overflow> && requires {
  { overflow_lanes<Overflow>::needs_low_bits } -> std::convertible_to<bool>;
  { overflow_lanes<Overflow>::throws } -> std::convertible_to<bool>;
};

FXP_END_ISA_NAMESPACE
}  // namespace fxp::simd
