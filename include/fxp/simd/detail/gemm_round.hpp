// SPDX-License-Identifier: MIT
#pragma once
// The one rounding of a GEMM: an exact sum of products, an integer in units of the product
// format's last bit, narrowed into the output format by a rounding policy and the output's
// overflow policy. The policies of core/rounding.hpp decide through the predicates of a
// "discarded" object; sum_discarded answers them straight from the sum's low bits, so the
// per-element work is a few integer operations that compilers vectorize over a tile row.
// Shifts outside the fast range go through the core's own narrowing (fxp::fixed_cast).

#include <cstddef>      // std::size_t
#include <cstdint>      // sums and random words
#include <type_traits>  // std::conditional_t for the working integer

#include "../../core/cast.hpp"
#include "../../core/random.hpp"
#include "../../core/rounding.hpp"
#include "../philox.hpp"  // fill_words and philox_blocks for the kernels that round through here
#include "gemm_plan.hpp"
#include "isa_namespace.hpp"

namespace fxp::simd::detail {
FXP_BEGIN_ISA_NAMESPACE

/// A generator that returns one given word: how an element's own random word (drawn from
/// its counter) reaches the core's narrowing.
struct single_word {
  using result_type = std::uint32_t;
  std::uint32_t word;
  [[nodiscard]] static constexpr result_type min() noexcept { return 0; }
  [[nodiscard]] static constexpr result_type max() noexcept { return 0xFFFFFFFFu; }
  constexpr result_type operator()() const noexcept { return word; }
};

/// The discarded part of v * 2^-Shift, 1 <= Shift < bit width of Int: v's low Shift bits.
template <class Int, int Shift>
struct sum_discarded {
  static constexpr Int mask = static_cast<Int>((Int{1} << Shift) - 1);
  static constexpr Int half = static_cast<Int>(Int{1} << (Shift - 1));
  Int v;

  [[nodiscard]] constexpr bool negative() const noexcept { return v < 0; }
  [[nodiscard]] constexpr bool odd() const noexcept { return ((v >> Shift) & 1) != 0; }
  [[nodiscard]] constexpr bool exact() const noexcept { return (v & mask) == 0; }
  [[nodiscard]] constexpr bool at_least_half() const noexcept { return (v & half) != 0; }
  [[nodiscard]] constexpr bool above_half() const noexcept { return (v & mask) > half; }
  [[nodiscard]] constexpr bool tie() const noexcept { return (v & mask) == half; }
  [[nodiscard]] constexpr std::uint32_t fraction32() const noexcept {
    if constexpr (Shift <= 32) {
      return static_cast<std::uint32_t>(static_cast<std::uint64_t>(v & mask) << (32 - Shift));
    } else {
      return static_cast<std::uint32_t>(static_cast<std::uint64_t>(v) >> (Shift - 32));
    }
  }
};

/// Rounds exact sums (raw values of format Sum, held in Acc) into format C by policy Round
/// and C's overflow policy: the result of fxp::fixed_cast<C, Round>(Sum::from_raw(v)).
template <class C, class Round, class Sum, class Acc>
struct sum_rounding {
  using raw_type = typename C::raw_type;
  using overflow = typename C::overflow_policy;
  static constexpr int shift = Sum::fraction_bits - C::fraction_bits;
  static constexpr bool needs_word = !deterministic_rounding<Round>;

  // The fast path works in int32 when the sum, the shift and C's range allow, else int64.
  static constexpr bool c_in_int32 = C::width < 32 || (C::width == 32 && C::is_signed);
  static constexpr bool c_in_int64 = C::width < 64 || C::is_signed;
  using fast_int = std::conditional_t<
      sizeof(Acc) == 4 && shift >= 1 && shift <= 30 && c_in_int32, std::int32_t, std::int64_t>;
  static constexpr bool fast = c_in_int64 && shift >= -62 && shift <= 62;

  // Bounds on the sum for a left shift (shift <= 0) not to overflow C, as the core checks.
  static constexpr int up = shift < 0 ? -shift : 0;
  static constexpr std::int64_t v_hi =
      static_cast<std::int64_t>(static_cast<int128>(C::raw_max) >> up);
  static constexpr std::int64_t v_lo =
      static_cast<std::int64_t>(-((-static_cast<int128>(C::raw_min)) >> up));

  /// The raw value of C for the exact sum v; `word` is the element's random word (unused
  /// by deterministic policies).
  [[nodiscard]] static raw_type apply(Acc v, std::uint32_t word) {
    if constexpr (!fast) {
      single_word gen{word};
      return fixed_cast<C, Round>(Sum::from_raw(static_cast<typename Sum::raw_type>(v)), gen)
          .raw();
    } else if constexpr (shift <= 0) {
      const auto w = static_cast<std::int64_t>(v);
      if (w > v_hi || w < v_lo) {
        return overflow::template on_overflow<C>(
            w < 0, static_cast<std::uint64_t>(w) << up);  // the low 64 bits of w * 2^up
      }
      return static_cast<raw_type>(static_cast<std::int64_t>(static_cast<std::uint64_t>(w) << up));
    } else {
      using I = fast_int;
      const auto x = static_cast<I>(v);
      I q = static_cast<I>(x >> shift);
      const sum_discarded<I, shift> d{x};
      bool round_up;
      if constexpr (needs_word) {
        round_up = Round::round_up(d, word);
      } else {
        round_up = Round::round_up(d);
      }
      q = static_cast<I>(q + (round_up ? 1 : 0));
      if (q > static_cast<I>(C::raw_max) || q < static_cast<I>(C::raw_min)) {
        return overflow::template on_overflow<C>(q < 0, static_cast<std::uint64_t>(q));
      }
      return static_cast<raw_type>(q);
    }
  }
};

FXP_END_ISA_NAMESPACE
}  // namespace fxp::simd::detail
