// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// The batch form of fxp::discarded_bits: what a narrowing conversion throws away, one lane
/// per element, behind the same predicates. The core's rounding policies are single
/// expressions over those predicates, so every policy (and a user policy written the same
/// way) runs on lanes unchanged: `d.at_least_half()` is a mask instead of a bool, and
/// `word < d.fraction32()` compares lanes (the word being a fxp::simd::random_word_lanes).

#include <concepts>     // same_as, convertible_to for the lane-rounding concept
#include <cstdint>      // 32-bit words
#include <type_traits>  // the result type of a policy's round_up

#include "../core/rounding.hpp"
#include "detail/isa_namespace.hpp"
#include "detail/lane_ops.hpp"
#include "lanes.hpp"

namespace fxp::simd {
FXP_BEGIN_ISA_NAMESPACE

/// What a narrowing conversion discards, for every lane; the predicates are those of
/// fxp::discarded_bits and agree with them bit for bit.
///
/// The scalar core keeps the top 64 bits of the discarded fraction and a sticky bit; the
/// predicates only ever look at the top 32 bits (fraction32, and the half-way bit) and at
/// whether anything is set below them, so the lanes keep exactly that.
/// \tparam Arch the xsimd architecture of the lanes
template <simd_arch Arch>
class discarded_lanes {
 public:
  using mask_type = mask_lanes<Arch>;
  using word_type = word_lanes<Arch>;

  /// \param is_negative the exact value is below zero
  /// \param is_odd floor(x) is odd
  /// \param fraction the top 32 bits of x - floor(x), as a binary fraction
  /// \param sticky some bit of x - floor(x) below those 32 is set
  discarded_lanes(const mask_type& is_negative, const mask_type& is_odd, const word_type& fraction,
                  const mask_type& sticky) noexcept
      : is_negative_(is_negative), is_odd_(is_odd), fraction_(fraction), sticky_(sticky) {}

  /// The exact value is below zero.
  [[nodiscard]] mask_type negative() const noexcept { return is_negative_; }
  /// floor(x) is odd.
  [[nodiscard]] mask_type odd() const noexcept { return is_odd_; }
  /// Nothing was discarded.
  [[nodiscard]] mask_type exact() const noexcept { return (fraction_ == 0u) && !sticky_; }
  /// x - floor(x) >= 1/2: the top fraction bit.
  [[nodiscard]] mask_type at_least_half() const noexcept {
    return detail::less_signed<Arch>(fraction_, word_type(0u));  // the top bit, as a sign
  }
  /// x - floor(x) > 1/2.
  [[nodiscard]] mask_type above_half() const noexcept { return at_least_half() && !tie(); }
  /// x - floor(x) == 1/2 exactly.
  [[nodiscard]] mask_type tie() const noexcept { return (fraction_ == half) && !sticky_; }
  /// floor((x - floor(x)) * 2^32): what a 32-bit random word is compared with.
  [[nodiscard]] word_type fraction32() const noexcept { return fraction_; }

 private:
  static constexpr std::uint32_t half = 0x80000000u;

  mask_type is_negative_;
  mask_type is_odd_;
  word_type fraction_;
  mask_type sticky_;
};

/// The random words of a batch of elements as a random rounding policy receives them: one
/// word per lane, compared with `d.fraction32()` (an xsimd batch) as unsigned words through
/// fxp's own compare, which is three instructions on AVX2 where xsimd 8.1 splits the
/// register in two.
/// \tparam Arch the xsimd architecture of the lanes
/// \tparam Ops fxp::simd::native or fxp::simd::portable (same results)
template <simd_arch Arch, instruction_selection Ops = native>
class random_word_lanes {
 public:
  /// The words `w`, one per lane.
  explicit random_word_lanes(const word_lanes<Arch>& w) noexcept : words_(w) {}

  /// The words as an xsimd batch.
  [[nodiscard]] const word_lanes<Arch>& value() const noexcept { return words_; }

  [[nodiscard]] friend mask_lanes<Arch> operator<(const random_word_lanes& a,
                                                  const word_lanes<Arch>& b) noexcept {
    return detail::less_unsigned<Arch>(a.words_, b, Ops{});
  }
  [[nodiscard]] friend mask_lanes<Arch> operator<(const word_lanes<Arch>& a,
                                                  const random_word_lanes& b) noexcept {
    return detail::less_unsigned<Arch>(a, b.words_, Ops{});
  }
  [[nodiscard]] friend mask_lanes<Arch> operator>(const random_word_lanes& a,
                                                  const word_lanes<Arch>& b) noexcept {
    return b < a;
  }
  [[nodiscard]] friend mask_lanes<Arch> operator>(const word_lanes<Arch>& a,
                                                  const random_word_lanes& b) noexcept {
    return b < a;
  }
  [[nodiscard]] friend mask_lanes<Arch> operator<=(const random_word_lanes& a,
                                                   const word_lanes<Arch>& b) noexcept {
    return !(b < a);
  }
  [[nodiscard]] friend mask_lanes<Arch> operator<=(const word_lanes<Arch>& a,
                                                   const random_word_lanes& b) noexcept {
    return !(b < a);
  }
  [[nodiscard]] friend mask_lanes<Arch> operator>=(const random_word_lanes& a,
                                                   const word_lanes<Arch>& b) noexcept {
    return !(a < b);
  }
  [[nodiscard]] friend mask_lanes<Arch> operator>=(const word_lanes<Arch>& a,
                                                   const random_word_lanes& b) noexcept {
    return !(a < b);
  }

 private:
  word_lanes<Arch> words_;
};

/// A rounding policy's decision as a mask: policies return a mask, or a plain bool
/// (fxp::truncate's `false`) that holds in every lane.
template <simd_arch Arch, class Decision>
[[nodiscard]] inline mask_lanes<Arch> as_mask(const Decision& decision) noexcept {
  if constexpr (std::same_as<Decision, bool>) {
    return mask_lanes<Arch>(decision);
  } else {
    return decision;
  }
}

/// A rounding policy that runs on lanes: its round_up accepts fxp::simd::discarded_lanes
/// (and, for a random policy, a batch of random words) and returns a mask or a bool. Every
/// policy of fxp qualifies; a user policy does when it is written as a template on its
/// argument, like fxp's.
template <class Round, class Arch>
concept lane_rounding =
    simd_arch<Arch> && rounding_policy<Round> &&
    ((deterministic_rounding<Round> &&
      requires(const discarded_lanes<Arch>& d) {
        { as_mask<Arch>(Round::round_up(d)) } -> std::same_as<mask_lanes<Arch>>;
      }) ||
     (!deterministic_rounding<Round> &&
      requires(const discarded_lanes<Arch>& d, const random_word_lanes<Arch>& word) {
        { as_mask<Arch>(Round::round_up(d, word)) } -> std::same_as<mask_lanes<Arch>>;
      }));

/// Whether rounding by `Round` goes up by one, in every lane: the lane form of the core's
/// decision (a deterministic policy looks at `d` alone; a random one also at `word`, the
/// element's 32-bit random word).
template <class Round, simd_arch Arch, instruction_selection Ops = native>
  requires lane_rounding<Round, Arch>
[[nodiscard]] inline mask_lanes<Arch> round_up(const discarded_lanes<Arch>& d,
                                               [[maybe_unused]] const word_lanes<Arch>& word) noexcept {
  if constexpr (deterministic_rounding<Round>) {
    return as_mask<Arch>(Round::round_up(d));
  } else {
    return as_mask<Arch>(Round::round_up(d, random_word_lanes<Arch, Ops>(word)));
  }
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp::simd
