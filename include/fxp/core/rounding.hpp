#pragma once
// Rounding policies: empty tags, each holding its whole rule in one function.

#include <concepts>     // invocable, unsigned_integral, same_as for the policy concepts
#include <type_traits>  // invoke_result_t, bool_constant for bit_generator
#include <cstdint>      // the 64-bit discarded fraction

namespace fxp {

/// What a narrowing conversion throws away, handed to a rounding policy to decide whether
/// the kept value `floor(x)` (in units of the target's last bit) goes up by one.
struct discarded_bits {
  bool negative;           ///< the exact value is below zero
  bool odd;                ///< floor(x) is odd (ties-to-even needs it)
  std::uint64_t fraction;  ///< x - floor(x), as the top 64 bits of a binary fraction
  bool sticky;             ///< nonzero bits below those 64 (x - floor(x) > fraction / 2^64)

  [[nodiscard]] constexpr bool exact() const noexcept { return fraction == 0 && !sticky; }
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
inline constexpr std::uint64_t half_fraction = std::uint64_t{1} << 63;

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
  [[nodiscard]] static constexpr bool round_up(const discarded_bits&) noexcept { return false; }
};

/// Round toward zero: drop the bits of the magnitude.
struct toward_zero {
  static constexpr const char* name = "toward_zero";
  [[nodiscard]] static constexpr bool round_up(const discarded_bits& d) noexcept {
    return d.negative && !d.exact();
  }
};

/// Round to nearest, ties toward plus infinity: add half an ulp, then drop the bits.
struct nearest {
  static constexpr const char* name = "nearest";
  [[nodiscard]] static constexpr bool round_up(const discarded_bits& d) noexcept {
    return d.fraction >= detail::half_fraction;
  }
};

/// Round to nearest, ties to even: unbiased on ties, as IEEE 754 does by default.
struct nearest_even {
  static constexpr const char* name = "nearest_even";
  [[nodiscard]] static constexpr bool round_up(const discarded_bits& d) noexcept {
    if (d.fraction != detail::half_fraction) return d.fraction > detail::half_fraction;
    return d.sticky || d.odd;
  }
};

/// Stochastic rounding: round up with probability equal to the discarded fraction, so
/// E[round(x)] = x (Gupta et al., "Deep Learning with Limited Numerical Precision",
/// arXiv:1502.02551). One 32-bit random word decides: exact in distribution when at most 32
/// bits are discarded; beyond that the probability is the fraction truncated to 32 bits
/// (off by less than 2^-32 of an ulp).
struct stochastic {
  static constexpr const char* name = "stochastic";
  template <bit_generator Gen>
  [[nodiscard]] static bool round_up(const discarded_bits& d, Gen& gen) {
    return detail::draw32(gen) < static_cast<std::uint32_t>(d.fraction >> 32);
  }
};

/// A rounding policy whose decision depends on the discarded bits alone.
template <class R>
concept deterministic_rounding = requires(const discarded_bits& d) {
  { R::name } -> std::convertible_to<const char*>;
  { R::round_up(d) } -> std::same_as<bool>;
};

namespace detail {
/// A generator type used only to state the shape of a random policy's round_up.
struct any_bits32 {
  using result_type = std::uint32_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return 0xFFFFFFFFu; }
  result_type operator()();
};
}  // namespace detail

/// A rounding policy that also draws random bits (and so is never a constant expression).
template <class R>
concept random_rounding = requires(const discarded_bits& d, detail::any_bits32& gen) {
  { R::name } -> std::convertible_to<const char*>;
  { R::round_up(d, gen) } -> std::same_as<bool>;
};

/// Any rounding policy: fxp::truncate, toward_zero, nearest, nearest_even, stochastic, or a
/// user tag of the same shape.
template <class R>
concept rounding_policy = deterministic_rounding<R> || random_rounding<R>;

}  // namespace fxp
