// SPDX-License-Identifier: MIT
#pragma once
// Run-time descriptions shared by every part of the exhaustive tests: a format (I, F,
// signedness) and the rounding and overflow policies as enumerations. Plain data, no fxp:
// the table sources map them to fxp types (types.hpp), the reference computes with them.

#include <cstdint>  // the enumerations' underlying type

namespace fxp_exhaustive {

enum class rounding : std::uint8_t { truncate, toward_zero, nearest, nearest_even, stochastic };
enum class overflow : std::uint8_t { saturate, wrap, checked };

inline constexpr int rounding_count = 5;
inline constexpr int overflow_count = 3;
inline constexpr int policy_count = rounding_count * overflow_count;

/// A format: I integer bits (the sign included when signed), F fractional bits, W = I + F;
/// value = raw * 2^-F.
struct format {
  int i;
  int f;
  bool is_signed;

  [[nodiscard]] constexpr int width() const noexcept { return i + f; }
  friend constexpr bool operator==(const format&, const format&) = default;
};

/// Policy combination c in [0, 15) is rounding c / 3 with overflow c % 3.
[[nodiscard]] constexpr rounding rounding_of_combination(int c) noexcept {
  return static_cast<rounding>(c / overflow_count);
}
[[nodiscard]] constexpr overflow overflow_of_combination(int c) noexcept {
  return static_cast<overflow>(c % overflow_count);
}
[[nodiscard]] constexpr int combination_of(rounding r, overflow o) noexcept {
  return static_cast<int>(r) * overflow_count + static_cast<int>(o);
}

}  // namespace fxp_exhaustive
