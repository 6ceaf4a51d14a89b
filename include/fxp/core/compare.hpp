// SPDX-License-Identifier: MIT
#pragma once
// Exact comparisons between any two formats, and with integers, without widening: the
// finer operand is shifted down and the bits it loses break ties.

#include <algorithm>  // std::max over widths
#include <compare>    // std::strong_ordering
#include <concepts>   // std::integral

#include "detail/bits.hpp"
#include "fwd.hpp"

namespace fxp {

namespace detail {

/// Orders x * 2^-fx against y * 2^-fy exactly, for fx >= fy.
template <class Int>
[[nodiscard]] constexpr std::strong_ordering compare_finer(Int x, int fx, Int y,
                                                           int fy) noexcept {
  const int d = fx - fy;
  if (d == 0) return x <=> y;
  const Int x_floor = shift_floor(x, d);  // x * 2^-d rounded down
  if (x_floor != y) return x_floor <=> y;
  // Equal integer parts at y's scale: x is greater exactly when it has bits below.
  return has_bits_below(x, d) ? std::strong_ordering::greater : std::strong_ordering::equal;
}

template <class Int>
[[nodiscard]] constexpr std::strong_ordering compare_scaled(Int x, int fx, Int y,
                                                            int fy) noexcept {
  if (fx >= fy) return compare_finer(x, fx, y, fy);
  return 0 <=> compare_finer(y, fy, x, fx);
}

template <class A, class B>
[[nodiscard]] constexpr std::strong_ordering compare(const A& a, const B& b) noexcept {
  using Int = wide_t<std::max(A::width, B::width) + 1>;
  return compare_scaled(static_cast<Int>(a.raw()), A::fraction_bits, static_cast<Int>(b.raw()),
                        B::fraction_bits);
}

/// An integer seen as a format with no fractional bits.
template <std::integral Integer>
struct integer_as_fixed {
  static constexpr int width = bit_width_v<Integer>;
  static constexpr int fraction_bits = 0;
  Integer value;
  [[nodiscard]] constexpr Integer raw() const noexcept { return value; }
};

template <class T>
concept comparable_integer = std::integral<T> && !std::same_as<T, bool>;

}  // namespace detail

/// Exact three-way comparison of the values of two fixed-point numbers of any formats.
template <fixed_point A, fixed_point B>
[[nodiscard]] constexpr std::strong_ordering operator<=>(const A& a, const B& b) noexcept {
  return detail::compare(a, b);
}

/// Exact equality of the values of two fixed-point numbers of any formats.
template <fixed_point A, fixed_point B>
[[nodiscard]] constexpr bool operator==(const A& a, const B& b) noexcept {
  return detail::compare(a, b) == 0;
}

/// Exact comparison with an integer (`x < 0`, `1 == x`).
template <fixed_point A, detail::comparable_integer Integer>
[[nodiscard]] constexpr std::strong_ordering operator<=>(const A& a, Integer n) noexcept {
  return detail::compare(a, detail::integer_as_fixed<Integer>{n});
}

/// Exact equality with an integer.
template <fixed_point A, detail::comparable_integer Integer>
[[nodiscard]] constexpr bool operator==(const A& a, Integer n) noexcept {
  return detail::compare(a, detail::integer_as_fixed<Integer>{n}) == 0;
}

}  // namespace fxp
