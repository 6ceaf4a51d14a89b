// SPDX-License-Identifier: MIT
#pragma once
// fxp::basic_fixed, the class behind fxp::fixed and fxp::ufixed: storage, construction,
// conversion out. Arithmetic, comparison, limits and printing have headers of their own.

#include <concepts>  // std::integral, std::floating_point
#include <string>    // name() for messages

#include "detail/bits.hpp"
#include "detail/convert.hpp"
#include "fwd.hpp"

namespace fxp {

namespace detail {

// Separate checks so that a failing one names the offending value in the compiler's
// "required from" line (C++20 static_assert messages cannot format numbers).
template <int Width, bool Signed>
constexpr bool check_width() {
  if constexpr (Signed) {
    static_assert(Width >= 2 && Width <= 64,
                  "fxp::fixed<I, F>: the word width W = I + F (sign bit included) must be "
                  "between 2 and 64");
  } else {
    static_assert(Width >= 1 && Width <= 64,
                  "fxp::ufixed<I, F>: the word width W = I + F must be between 1 and 64");
  }
  return true;
}

inline constexpr int max_fraction_bits = 512;

template <int F>
constexpr bool check_fraction_bits() {
  static_assert(F >= -max_fraction_bits && F <= max_fraction_bits,
                "fxp::fixed<I, F>: the fractional bits F must be between -512 and 512");
  return true;
}

/// Whether every value of format (IFrom, FFrom, SFrom) is a value of (ITo, FTo, STo).
constexpr bool is_lossless(int i_from, int f_from, bool s_from, int i_to, int f_to,
                           bool s_to) noexcept {
  if (f_to < f_from) return false;
  if (s_from && !s_to) return false;
  return i_to >= i_from + ((!s_from && s_to) ? 1 : 0);
}

template <class Integer>
inline constexpr int integer_bits_of = bit_width_v<Integer>;

/// The floating-point types converted exactly: float widens to double without loss.
template <class T>
concept binary_float = std::same_as<T, float> || std::same_as<T, double>;

}  // namespace detail

/// A fixed-point number with a compile-time format and policies; see fxp::fixed and
/// fxp::ufixed, the names to use.
/// \tparam I integer bits (the sign bit included when Signed)
/// \tparam F fractional bits
/// \tparam Signed two's complement when true
/// \tparam Round rounding policy applied when a value is narrowed into this format
/// \tparam Overflow overflow policy applied when a value does not fit this format
template <int I, int F, bool Signed, rounding_policy Round, overflow_policy Overflow>
class basic_fixed {
  static_assert(detail::check_width<I + F, Signed>());
  static_assert(detail::check_fraction_bits<F>());

 public:
  /// The rounding policy of this format.
  using rounding_policy = Round;
  /// The overflow policy of this format.
  using overflow_policy = Overflow;
  /// The smallest standard integer holding W bits.
  using raw_type = detail::storage_t<I + F, Signed>;

  static constexpr int integer_bits = I;
  static constexpr int fraction_bits = F;
  static constexpr int width = I + F;
  static constexpr bool is_signed = Signed;
  static constexpr raw_type raw_min =
      Signed ? static_cast<raw_type>(-(detail::int128{1} << (width - 1))) : raw_type{0};
  static constexpr raw_type raw_max = static_cast<raw_type>(
      (detail::int128{1} << (Signed ? width - 1 : width)) - 1);

  /// Zero.
  constexpr basic_fixed() noexcept = default;

  /// From another fixed-point format: implicit when every value converts exactly,
  /// otherwise explicit, rounding by this format's policy.
  template <fixed_point Other>
    requires(!std::same_as<Other, basic_fixed>)
  constexpr explicit(!detail::is_lossless(Other::integer_bits, Other::fraction_bits,
                                          Other::is_signed, I, F, Signed))
      basic_fixed(const Other& x)
      : raw_(detail::from_fixed<basic_fixed, Round>(x, detail::thread_generator{})) {}

  /// From an integer: implicit when every value of the integer type fits exactly.
  template <std::integral Integer>
    requires(!std::same_as<Integer, bool>)
  constexpr explicit(!detail::is_lossless(detail::integer_bits_of<Integer>, 0,
                                          std::is_signed_v<Integer>, I, F, Signed))
      basic_fixed(Integer n)
      : raw_(detail::from_integer<basic_fixed, Round>(n, detail::thread_generator{})) {}

  /// From float or double, rounding by this format's policy. NaN throws std::domain_error;
  /// an infinity overflows (saturates, wraps to 0, or throws, per the overflow policy).
  /// (long double is left out: it would be rounded twice.)
  template <detail::binary_float Float>
  constexpr explicit basic_fixed(Float x)
      : raw_(detail::from_double<basic_fixed, Round>(static_cast<double>(x),
                                                     detail::thread_generator{})) {}

  /// The value with raw representation `raw` (value = raw * 2^-F).
  [[nodiscard]] static constexpr basic_fixed from_raw(raw_type raw) noexcept {
    basic_fixed x;
    x.raw_ = raw;
    return x;
  }

  /// The raw two's complement (or unsigned) integer; value = raw() * 2^-F.
  [[nodiscard]] constexpr raw_type raw() const noexcept { return raw_; }

  /// The value as a double, correctly rounded; exact when W <= 53.
  [[nodiscard]] constexpr double to_double() const noexcept {
    return static_cast<double>(raw_) * scale;
  }

  /// The value as float, double or long double, correctly rounded, for every format.
  template <std::floating_point Float>
  [[nodiscard]] constexpr explicit operator Float() const noexcept {
    if constexpr (!std::same_as<Float, float>) {
      // raw rounds at most once; 2^-F is exact and the result normal (|F| <= 512).
      return static_cast<Float>(raw_) * static_cast<Float>(scale);
    } else if constexpr (detail::float_scaling_is_exact(width, F)) {
      return static_cast<float>(raw_) * static_cast<float>(scale);  // the SIMD lanes' form
    } else {
      // Exact (W <= 53) or rounded to odd in double, scaled exactly, then rounded once.
      return static_cast<float>(detail::to_double_rounded_to_odd(raw_) * scale);
    }
  }

  /// "fixed<I,F,round,overflow>" or "ufixed<...>", for messages and printing.
  [[nodiscard]] static std::string name() {
    return std::string(Signed ? "fixed<" : "ufixed<") + std::to_string(I) + "," +
           std::to_string(F) + "," + Round::name + "," + Overflow::name + ">";
  }

 private:
  static constexpr double scale = detail::pow2(-F);

  raw_type raw_{};
};

}  // namespace fxp
