// SPDX-License-Identifier: MIT
#pragma once
// Rounding policies: empty tags, each holding its whole rule in one function.

#include <concepts>     // invocable, unsigned_integral, same_as for the policy concepts
#include <cstdint>      // the 64-bit discarded fraction
#include <type_traits>  // invoke_result_t, bool_constant for bit_generator

namespace fxp {

namespace detail {
inline constexpr std::uint64_t half_fraction = std::uint64_t{1} << 63;
}  // namespace detail

/// What a narrowing conversion throws away, handed to a rounding policy to decide whether
/// the kept value floor(x) (in units of the target's last bit) goes up by one.
///
/// Policies see it only through the predicates below, so a SIMD kernel can hand them a
/// batch of lanes with the same predicates (returning masks) and reuse every policy as is.
struct discarded_bits {
  bool is_negative;        ///< the exact value is below zero
  bool is_odd;             ///< floor(x) is odd
  std::uint64_t fraction;  ///< x - floor(x), as the top 64 bits of a binary fraction
  bool sticky;             ///< nonzero bits below those 64 (x - floor(x) > fraction / 2^64)

  [[nodiscard]] constexpr bool negative() const noexcept { return is_negative; }
  [[nodiscard]] constexpr bool odd() const noexcept { return is_odd; }
  /// Nothing was discarded.
  [[nodiscard]] constexpr bool exact() const noexcept { return fraction == 0 && !sticky; }
  /// x - floor(x) >= 1/2.
  [[nodiscard]] constexpr bool at_least_half() const noexcept {
    return fraction >= detail::half_fraction;
  }
  /// x - floor(x) > 1/2.
  [[nodiscard]] constexpr bool above_half() const noexcept {
    return fraction > detail::half_fraction || (fraction == detail::half_fraction && sticky);
  }
  /// x - floor(x) == 1/2 exactly.
  [[nodiscard]] constexpr bool tie() const noexcept {
    return fraction == detail::half_fraction && !sticky;
  }
  /// floor((x - floor(x)) * 2^32): what a 32-bit random word is compared with.
  [[nodiscard]] constexpr std::uint32_t fraction32() const noexcept {
    return static_cast<std::uint32_t>(fraction >> 32);
  }
};

/// A source of uniform random words: the requirements of std::uniform_random_bit_generator,
/// restated so that the core need not include <random>. fxp::philox, std::mt19937 and
/// std::mt19937_64 all qualify.
template <class Gen>
concept bit_generator = std::invocable<Gen&> && std::unsigned_integral<std::invoke_result_t<Gen&>> &&
                        requires {
                          { Gen::min() } -> std::same_as<std::invoke_result_t<Gen&>>;
                          { Gen::max() } -> std::same_as<std::invoke_result_t<Gen&>>;
                          requires std::bool_constant<(Gen::min() < Gen::max())>::value;
                        };

namespace detail {
/// 32 uniform random bits from any standard generator of 32 or 64 bits.
template <bit_generator Gen>
[[nodiscard]] std::uint32_t draw32(Gen& gen) {
  static_assert(Gen::min() == 0 && (Gen::max() == 0xFFFFFFFFu || Gen::max() == ~std::uint64_t{0}),
                "Gen: stochastic rounding needs a generator of uniform 32- or 64-bit words "
                "(min() == 0, max() == 2^32-1 or 2^64-1), such as fxp::philox or std::mt19937");
  if constexpr (Gen::max() == 0xFFFFFFFFu) {
    return static_cast<std::uint32_t>(gen());
  } else {
    return static_cast<std::uint32_t>(static_cast<std::uint64_t>(gen()) >> 32);
  }
}
}  // namespace detail

/// Round toward minus infinity: drop the bits (what an arithmetic shift does).
struct truncate {
  static constexpr const char* name = "truncate";
  template <class Discarded>
  [[nodiscard]] static constexpr bool round_up(const Discarded&) noexcept {
    return false;
  }
};

/// Round toward zero: drop the bits of the magnitude.
struct toward_zero {
  static constexpr const char* name = "toward_zero";
  template <class Discarded>
  [[nodiscard]] static constexpr auto round_up(const Discarded& d) noexcept {
    return d.negative() && !d.exact();
  }
};

/// Round to nearest, ties toward plus infinity: add half an ulp, then drop the bits.
struct nearest {
  static constexpr const char* name = "nearest";
  template <class Discarded>
  [[nodiscard]] static constexpr auto round_up(const Discarded& d) noexcept {
    return d.at_least_half();
  }
};

/// Round to nearest, ties to even: unbiased on ties, as IEEE 754 does by default.
struct nearest_even {
  static constexpr const char* name = "nearest_even";
  template <class Discarded>
  [[nodiscard]] static constexpr auto round_up(const Discarded& d) noexcept {
    return d.above_half() || (d.tie() && d.odd());
  }
};

/// Stochastic rounding: round up with probability equal to the discarded fraction, so
/// E[round(x)] = x (Gupta et al., "Deep Learning with Limited Numerical Precision",
/// arXiv:1502.02551). One uniform 32-bit random word decides: exact in distribution when at
/// most 32 bits are discarded; beyond that the probability is the fraction truncated to 32
/// bits (off by less than 2^-32 of an ulp). The caller draws the word (a scalar conversion
/// from its generator, a SIMD kernel from the element's Philox counter).
struct stochastic {
  static constexpr const char* name = "stochastic";
  template <class Discarded, class Word>
  [[nodiscard]] static constexpr auto round_up(const Discarded& d, const Word& word) noexcept {
    return word < d.fraction32();
  }
};

/// A rounding policy whose decision depends on the discarded bits alone.
template <class R>
concept deterministic_rounding = requires(const discarded_bits& d) {
  { R::name } -> std::convertible_to<const char*>;
  { R::round_up(d) } -> std::convertible_to<bool>;
};

/// A rounding policy that also consumes one uniform 32-bit random word per decision (and so
/// is a constant expression only when the word is given).
template <class R>
concept random_rounding = requires(const discarded_bits& d, std::uint32_t word) {
  { R::name } -> std::convertible_to<const char*>;
  { R::round_up(d, word) } -> std::convertible_to<bool>;
};

/// Any rounding policy: fxp::truncate, toward_zero, nearest, nearest_even, stochastic, or a
/// user tag of the same shape.
template <class R>
concept rounding_policy = deterministic_rounding<R> || random_rounding<R>;

}  // namespace fxp
