// SPDX-License-Identifier: MIT
#pragma once
// The one rounding of a GEMM: an exact sum of products, an integer in units of the product
// format's last bit, narrowed into the output format by a rounding policy and the output's
// overflow policy. The policies of core/rounding.hpp decide through the predicates of a
// "discarded" object; sum_discarded answers them straight from the sum's low bits, so the
// per-element work is a few integer operations that compilers vectorize over a tile row.
// Shifts outside the fast range go through the core's own narrowing (fxp::fixed_cast).

#include <algorithm>    // std::min, std::max of a clamp
#include <cstddef>      // std::size_t
#include <cstdint>      // sums and random words
#include <type_traits>  // std::conditional_t for the working integer

#include "../../core/cast.hpp"
#include "../../core/detail/raw_array.hpp"
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

/// A deterministic policy's rule as a threshold on the discarded part r of a value of the
/// given sign and parity: the first of the classes r = 0, 0 < r < 1/2, r = 1/2, r > 1/2 (0 to
/// 3) from which it rounds up, 4 if it never does, or -1 if its decisions are not one such
/// threshold (or not the same across the probes of a class). Found by asking the policy
/// itself, at compile time, about discarded parts of each class.
template <class Round>
[[nodiscard]] constexpr int rounding_threshold(bool negative, bool odd) noexcept {
  constexpr std::uint64_t half = fxp::detail::half_fraction;
  struct probe {
    std::uint64_t fraction;
    bool sticky;
    int cls;
  };
  constexpr probe probes[] = {
      {0, false, 0},      {0, true, 1},     {1, false, 1},   {std::uint64_t{1} << 32, false, 1},
      {half - 1, true, 1}, {half, false, 2}, {half, true, 3}, {half + 1, false, 3},
      {~std::uint64_t{0}, true, 3}};
  int decided[4] = {-1, -1, -1, -1};  // per class: -1 unknown, else 0 or 1
  for (const probe& p : probes) {
    const int up = Round::round_up(discarded_bits{negative, odd, p.fraction, p.sticky}) ? 1 : 0;
    if (decided[p.cls] >= 0 && decided[p.cls] != up) return -1;
    decided[p.cls] = up;
  }
  int first = 4;
  for (int c = 3; c >= 0; --c) {
    if (decided[c] == 1) {
      if (first != c + 1) return -1;  // rounds up below a class where it does not
      first = c;
    }
  }
  return first;
}

/// Whether a deterministic policy rounds v / 2^s as floor((v + b) / 2^s) for a bias b that
/// depends on v's sign and floor's parity alone (every threshold rule does: truncate,
/// toward_zero, nearest, nearest_even), and that bias.
template <class Round, int Shift>
struct rounding_bias {
  static constexpr bool exists = [] {
    if constexpr (!deterministic_rounding<Round>) {
      return false;
    } else {
      for (const bool negative : {false, true}) {
        for (const bool odd : {false, true}) {
          if (rounding_threshold<Round>(negative, odd) < 0) return false;
        }
      }
      return true;
    }
  }();

  /// The bias of threshold class c: r + b >= 2^s exactly when r is in class c or above.
  [[nodiscard]] static constexpr std::int64_t of_class(int c) noexcept {
    constexpr std::int64_t one = std::int64_t{1} << Shift;
    constexpr std::int64_t half = one / 2;
    constexpr std::int64_t biases[5] = {one, one - 1, half, half - 1, 0};
    return biases[c];
  }
  /// The bias for (negative, odd) = (0, 0), (0, 1), (1, 0), (1, 1).
  static constexpr std::int64_t b00 =
      exists ? of_class(rounding_threshold<Round>(false, false)) : 0;
  static constexpr std::int64_t b01 =
      exists ? of_class(rounding_threshold<Round>(false, true)) : 0;
  static constexpr std::int64_t b10 =
      exists ? of_class(rounding_threshold<Round>(true, false)) : 0;
  static constexpr std::int64_t b11 = exists ? of_class(rounding_threshold<Round>(true, true)) : 0;

  /// b for a value of sign `negative` whose floor has parity `odd`, as adds that the
  /// compiler drops where they are zero (a constant for nearest and truncate).
  template <class I>
  [[nodiscard, gnu::always_inline]] static constexpr I of(bool negative, I odd) noexcept {
    constexpr auto odd_step = static_cast<I>(b01 - b00);
    constexpr auto negative_step = static_cast<I>(b10 - b00);
    constexpr auto both_step = static_cast<I>(b11 - b10 - b01 + b00);
    I b = static_cast<I>(b00);
    if constexpr (odd_step != 0) b = static_cast<I>(b + odd * odd_step);
    if constexpr (negative_step != 0) b = static_cast<I>(b + (negative ? negative_step : I{0}));
    if constexpr (both_step != 0) b = static_cast<I>(b + (negative ? odd * both_step : I{0}));
    return b;
  }
};

/// Whether overflow policy O, for format C, clamps to C's range: it gives raw_min for every
/// negative and raw_max for every positive overflow, whatever the low bits (fxp::saturate).
/// Asked of the policy at compile time; a policy that throws is no constant expression
/// there, and does not clamp.
template <class O, class C>
[[nodiscard]] constexpr bool clamps_probe() {
  for (const std::uint64_t low : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1} << 63,
                                  ~std::uint64_t{0}}) {
    if (O::template on_overflow<C>(true, low) != C::raw_min) return false;
    if (O::template on_overflow<C>(false, low) != C::raw_max) return false;
  }
  return true;
}
template <class O, class C>
inline constexpr bool overflow_clamps = requires {
  typename std::bool_constant<clamps_probe<O, C>()>;
} && clamps_probe<O, C>();

/// Rounds exact sums (raw values of format Sum, held in Acc) into format C by policy Round
/// and C's overflow policy: the result of fxp::fixed_cast<C, Round>(Sum::from_raw(v)).
///
/// The one rule for every policy: floor(v / 2^shift), plus one where Round::round_up says so
/// (asked through the sum's own low bits, sum_discarded), then C's overflow policy where the
/// result leaves C's range. Every step is a few integer operations without branches, so the
/// loops of round_row vectorize for whatever instruction set they are compiled for; no
/// policy is named here, and a new one needs nothing added.
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

  /// The policy as a bias (see rounding_bias), where it is one and x + b cannot overflow
  /// the working integer: |x| < 2^(Sum::width - 1) and b <= 2^shift.
  using bias = rounding_bias<Round, (shift >= 1 && shift <= 62 ? shift : 1)>;
  static constexpr bool biased =
      bias::exists && shift >= 1 && Sum::width <= 8 * static_cast<int>(sizeof(fast_int)) - 2;

  /// Whether C's overflow policy can throw (fxp::checked): a row is then checked whole
  /// before it is stored, so that the loop that stores it has no call that throws.
  static constexpr bool may_throw =
      !noexcept(overflow::template on_overflow<C>(false, std::uint64_t{0}));

  /// The exact sum v rounded into units of C's last bit (fast path only), before C's range
  /// is applied: the value (modulo 2^64 where it overflows), with `out` set where it leaves
  /// C's range and `negative` where the exact value is below zero. `word` is the element's
  /// random word (unused by deterministic policies).
  [[nodiscard, gnu::always_inline]] static fast_int round(Acc v, std::uint32_t word, bool& out,
                                                          bool& negative) noexcept {
    if constexpr (shift <= 0) {
      const auto w = static_cast<std::int64_t>(v);
      out = w > v_hi || w < v_lo;
      negative = w < 0;
      return static_cast<std::int64_t>(static_cast<std::uint64_t>(w) << up);
    } else {
      using I = fast_int;
      const auto x = static_cast<I>(v);
      I q;
      if constexpr (biased) {
        // floor((x + b) / 2^shift): one add where the policy is a threshold rule.
        (void)word;
        const auto odd = static_cast<I>((x >> shift) & 1);
        q = static_cast<I>((x + bias::template of<I>(x < 0, odd)) >> shift);
      } else {
        const sum_discarded<I, shift> d{x};
        bool round_up;
        if constexpr (needs_word) {
          round_up = Round::round_up(d, word);
        } else {
          (void)word;
          round_up = Round::round_up(d);
        }
        q = static_cast<I>((x >> shift) + (round_up ? 1 : 0));
      }
      out = q > static_cast<I>(C::raw_max) || q < static_cast<I>(C::raw_min);
      negative = q < 0;
      return q;
    }
  }

  /// C's raw value for the exact sum v (fast path only): the rounded value, or what C's
  /// overflow policy makes of it.
  [[nodiscard, gnu::always_inline]] static raw_type round_and_fit(
      Acc v, std::uint32_t word) noexcept(!may_throw) {
    bool out;
    bool negative;
    const fast_int q = round(v, word, out, negative);
    if constexpr (shift > 0 && overflow_clamps<overflow, C>) {
      // A clamp is a min and a max, where the general form is two compares and a select.
      constexpr auto lo = static_cast<fast_int>(C::raw_min);
      constexpr auto hi = static_cast<fast_int>(C::raw_max);
      return static_cast<raw_type>(std::max(std::min(q, hi), lo));
    } else {
      return out ? overflow::template on_overflow<C>(negative, static_cast<std::uint64_t>(q))
                 : static_cast<raw_type>(q);
    }
  }

  /// The raw value of C for the exact sum v, one element at a time.
  [[nodiscard]] static raw_type apply(Acc v, std::uint32_t word) {
    if constexpr (fast) {
      return round_and_fit(v, word);
    } else {
      single_word gen{word};
      return fixed_cast<C, Round>(Sum::from_raw(static_cast<typename Sum::raw_type>(v)), gen)
          .raw();
    }
  }
};

/// dst[0 .. count) = the exact sums[0 .. count) (raw values of Sum, held in T) rounded into
/// C by Round and C's overflow policy; words[j] is element j's random word (null for a
/// deterministic policy). Plain loops, always inlined: a kernel compiled for an instruction
/// set (a GEMM's store callback in its target region) vectorizes them for that set.
/// With a policy that throws (fxp::checked), a row with an element out of range is redone
/// one element at a time, which stores the elements before the one that throws, as the
/// core would.
template <class C, class Round, class Sum, class T>
[[gnu::always_inline]] inline void round_row(const T* sums, const std::uint32_t* words, C* dst,
                                             std::size_t count) {
  using rounding = sum_rounding<C, Round, Sum, T>;
  typename C::raw_type* raw = fxp::detail::raw_pointer(dst);
  const auto word = [words](std::size_t j) noexcept -> std::uint32_t {
    if constexpr (rounding::needs_word) {
      return words[j];
    } else {
      (void)words;
      (void)j;
      return 0;
    }
  };
  if constexpr (!rounding::fast) {
    for (std::size_t j = 0; j < count; ++j) raw[j] = rounding::apply(sums[j], word(j));
  } else if constexpr (rounding::may_throw) {
    bool any_out = false;
    for (std::size_t j = 0; j < count; ++j) {
      bool out;
      bool negative;
      (void)rounding::round(sums[j], word(j), out, negative);
      any_out |= out;
    }
    if (any_out) {
      for (std::size_t j = 0; j < count; ++j) raw[j] = rounding::round_and_fit(sums[j], word(j));
    } else {
      for (std::size_t j = 0; j < count; ++j) {
        bool out;
        bool negative;
        raw[j] = static_cast<typename C::raw_type>(
            rounding::round(sums[j], word(j), out, negative));
      }
    }
  } else {
    for (std::size_t j = 0; j < count; ++j) raw[j] = rounding::round_and_fit(sums[j], word(j));
  }
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp::simd::detail
