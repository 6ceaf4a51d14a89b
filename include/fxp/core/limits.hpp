// SPDX-License-Identifier: MIT
#pragma once
// std::numeric_limits and std::hash for fixed-point types.

#include <cstddef>     // std::size_t for std::hash
#include <functional>  // the std::hash primary template
#include <limits>      // the std::numeric_limits primary template

#include "fixed.hpp"

namespace fxp::detail {
template <class Round>
constexpr std::float_round_style round_style_of() noexcept {
  if constexpr (std::same_as<Round, truncate>) return std::round_toward_neg_infinity;
  else if constexpr (std::same_as<Round, toward_zero>) return std::round_toward_zero;
  else if constexpr (std::same_as<Round, nearest> || std::same_as<Round, nearest_even>)
    return std::round_to_nearest;
  else return std::round_indeterminate;
}
}  // namespace fxp::detail

/// Limits of a fixed-point format. Like the integers (and fpm), min() is the lowest value;
/// epsilon() is one unit in the last place, 2^-F.
template <int I, int F, bool S, class R, class O>
class std::numeric_limits<fxp::basic_fixed<I, F, S, R, O>> {
  using T = fxp::basic_fixed<I, F, S, R, O>;

 public:
  static constexpr bool is_specialized = true;
  static constexpr bool is_signed = S;
  static constexpr bool is_integer = F <= 0;
  static constexpr bool is_exact = true;
  static constexpr bool has_infinity = false;
  static constexpr bool has_quiet_NaN = false;
  static constexpr bool has_signaling_NaN = false;
  static constexpr std::float_denorm_style has_denorm = std::denorm_absent;
  static constexpr bool has_denorm_loss = false;
  static constexpr std::float_round_style round_style = fxp::detail::round_style_of<R>();
  static constexpr bool is_iec559 = false;
  static constexpr bool is_bounded = true;
  static constexpr bool is_modulo = std::same_as<O, fxp::wrap>;
  static constexpr int radix = 2;
  static constexpr int digits = T::width - (S ? 1 : 0);
  static constexpr int digits10 = digits * 30103 / 100000;  // floor(digits * log10(2))
  static constexpr int max_digits10 = 0;
  static constexpr int min_exponent = 0;
  static constexpr int min_exponent10 = 0;
  static constexpr int max_exponent = 0;
  static constexpr int max_exponent10 = 0;
  static constexpr bool traps = std::same_as<O, fxp::checked>;
  static constexpr bool tinyness_before = false;

  [[nodiscard]] static constexpr T min() noexcept { return T::from_raw(T::raw_min); }
  [[nodiscard]] static constexpr T lowest() noexcept { return T::from_raw(T::raw_min); }
  [[nodiscard]] static constexpr T max() noexcept { return T::from_raw(T::raw_max); }
  [[nodiscard]] static constexpr T epsilon() noexcept { return T::from_raw(1); }
  /// One ulp: the largest error of the directed policies. (The nearest policies err by
  /// at most half of it, a value no format can hold in itself.)
  [[nodiscard]] static constexpr T round_error() noexcept { return T::from_raw(1); }
  [[nodiscard]] static constexpr T infinity() noexcept { return T{}; }
  [[nodiscard]] static constexpr T quiet_NaN() noexcept { return T{}; }
  [[nodiscard]] static constexpr T signaling_NaN() noexcept { return T{}; }
  [[nodiscard]] static constexpr T denorm_min() noexcept { return T::from_raw(1); }
};

/// Hash of the raw value: equal values of one type hash equally.
template <int I, int F, bool S, class R, class O>
struct std::hash<fxp::basic_fixed<I, F, S, R, O>> {
  [[nodiscard]] std::size_t operator()(const fxp::basic_fixed<I, F, S, R, O>& x) const noexcept {
    return std::hash<typename fxp::basic_fixed<I, F, S, R, O>::raw_type>{}(x.raw());
  }
};
