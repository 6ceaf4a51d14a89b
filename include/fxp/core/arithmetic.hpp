// SPDX-License-Identifier: MIT
#pragma once
// Exact arithmetic. + - * and unary minus return a format wide enough for every exact
// result (bit growth as in ac_fixed), published as fxp::result_t so users can name it;
// rounding happens only when a result is narrowed. Division rounds into a format you name.

#include <algorithm>    // std::max for result formats
#include <concepts>     // std::same_as
#include <stdexcept>    // std::domain_error on division by zero
#include <type_traits>  // std::conditional_t for the common policies

#include "cast.hpp"
#include "fixed.hpp"

namespace fxp {

/// Operation tags for fxp::result_t.
namespace op {
struct add {};
struct sub {};
struct mul {};
struct neg {};
}  // namespace op

namespace detail {

/// Policies of a result: the operands' when they agree, the defaults otherwise, so that
/// a + b and b + a have the same type.
template <class A, class B>
using common_rounding_t = std::conditional_t<
    std::same_as<typename A::rounding_policy, typename B::rounding_policy>,
    typename A::rounding_policy, nearest>;
template <class A, class B>
using common_overflow_t = std::conditional_t<
    std::same_as<typename A::overflow_policy, typename B::overflow_policy>,
    typename A::overflow_policy, saturate>;

template <int Width>
constexpr bool check_result_width() {
  static_assert(Width <= 64,
                "fxp: the exact result of this operation needs more than 64 bits; narrow an "
                "operand first with fxp::fixed_cast");
  return true;
}

template <int I, int F, bool Signed, class Round, class Overflow>
  requires(check_result_width<I + F>())
using result_format = basic_fixed<I, F, Signed, Round, Overflow>;

}  // namespace detail

/// The exact result type of an operation on fixed-point operands.
/// \tparam Op fxp::op::add, sub, mul or neg
/// \tparam A the left (or only) operand type
/// \tparam B the right operand type (void for neg)
template <class Op, fixed_point A, class B = void>
struct result;

// a + b, a - b: align the binary points, one more integer bit for the carry. An unsigned
// operand meeting a signed one needs one more bit to keep its top value.
template <class Op, fixed_point A, fixed_point B>
  requires(std::same_as<Op, op::add> || std::same_as<Op, op::sub>)
struct result<Op, A, B> {
  static constexpr int i_a = A::integer_bits + (!A::is_signed && B::is_signed ? 1 : 0);
  static constexpr int i_b = B::integer_bits + (A::is_signed && !B::is_signed ? 1 : 0);
  using type = detail::result_format<
      std::max(i_a, i_b) + 1, std::max(A::fraction_bits, B::fraction_bits),
      A::is_signed || B::is_signed || std::same_as<Op, op::sub>,
      detail::common_rounding_t<A, B>, detail::common_overflow_t<A, B>>;
};

// a * b: the widths add (the one value that needs the extra bit, min * min, fits).
template <fixed_point A, fixed_point B>
struct result<op::mul, A, B> {
  using type = detail::result_format<A::integer_bits + B::integer_bits,
                                     A::fraction_bits + B::fraction_bits,
                                     A::is_signed || B::is_signed,
                                     detail::common_rounding_t<A, B>,
                                     detail::common_overflow_t<A, B>>;
};

// -a: one more integer bit, since -min does not fit the format of min.
template <fixed_point A>
struct result<op::neg, A, void> {
  using type = detail::result_format<A::integer_bits + 1, A::fraction_bits, true,
                                     typename A::rounding_policy,
                                     typename A::overflow_policy>;
};

/// The exact result type of `Op` on A (and B); e.g. result_t<op::mul, fixed<1,7>,
/// fixed<1,7>> is fixed<2,14>.
template <class Op, fixed_point A, class B = void>
using result_t = typename result<Op, A, B>::type;

namespace detail {
/// The raw value of x expressed in format R (which has at least x's fractional bits), as
/// the wide integer used to compute R's results.
template <class R, class X>
[[nodiscard]] constexpr wide_t<R::width> aligned_raw(const X& x) noexcept {
  return shift_left(static_cast<wide_t<R::width>>(x.raw()), R::fraction_bits - X::fraction_bits);
}
}  // namespace detail

/// Exact sum.
template <fixed_point A, fixed_point B>
[[nodiscard]] constexpr result_t<op::add, A, B> operator+(const A& a, const B& b) noexcept {
  using R = result_t<op::add, A, B>;
  return R::from_raw(static_cast<typename R::raw_type>(detail::aligned_raw<R>(a) +
                                                       detail::aligned_raw<R>(b)));
}

/// Exact difference.
template <fixed_point A, fixed_point B>
[[nodiscard]] constexpr result_t<op::sub, A, B> operator-(const A& a, const B& b) noexcept {
  using R = result_t<op::sub, A, B>;
  return R::from_raw(static_cast<typename R::raw_type>(detail::aligned_raw<R>(a) -
                                                       detail::aligned_raw<R>(b)));
}

/// Exact product.
template <fixed_point A, fixed_point B>
[[nodiscard]] constexpr result_t<op::mul, A, B> operator*(const A& a, const B& b) noexcept {
  using R = result_t<op::mul, A, B>;
  using wide = detail::wide_t<R::width>;
  return R::from_raw(
      static_cast<typename R::raw_type>(static_cast<wide>(a.raw()) * static_cast<wide>(b.raw())));
}

/// Exact negation.
template <fixed_point A>
[[nodiscard]] constexpr result_t<op::neg, A> operator-(const A& a) noexcept {
  using R = result_t<op::neg, A>;
  return R::from_raw(static_cast<typename R::raw_type>(-detail::aligned_raw<R>(a)));
}

/// The value itself.
template <fixed_point A>
[[nodiscard]] constexpr A operator+(const A& a) noexcept {
  return a;
}

namespace detail {
// Guard bits of a division quotient: 32 below the result's last bit feed stochastic
// rounding its 32-bit fraction; the remainder's sign gives the sticky bit.
inline constexpr int division_guard_bits = 32;

template <class R, class A, class B>
constexpr bool check_division() {
  constexpr int shift = R::fraction_bits + B::fraction_bits - A::fraction_bits +
                        division_guard_bits;
  static_assert(A::width + std::max(shift, 0) <= 126 && B::width + std::max(-shift, 0) <= 126,
                "fxp::divide<R>(a, b): R's fractional bits are too far from a's and b's "
                "for an exact 128-bit quotient; choose R closer to the operands' formats");
  return true;
}

template <class R, class Round, class A, class B, class Gen>
[[nodiscard]] constexpr R divide_with(const A& a, const B& b, Gen&& gen) {
  static_assert(check_division<R, A, B>());
  if (b.raw() == 0) throw std::domain_error("fxp::divide: division by zero");
  // R's raw = (a.raw / b.raw) * 2^(F_R + F_b - F_a); compute the quotient with guard bits.
  constexpr int shift =
      R::fraction_bits + B::fraction_bits - A::fraction_bits + division_guard_bits;
  int128 numerator = a.raw();
  int128 denominator = b.raw();
  if constexpr (shift >= 0) {
    numerator = shift_left(numerator, shift);
  } else {
    denominator = shift_left(denominator, -shift);
  }
  int128 quotient = numerator / denominator;  // toward zero; make it floor:
  int128 remainder = numerator % denominator;
  if (remainder != 0 && ((remainder < 0) != (denominator < 0))) --quotient;
  return R::from_raw(narrow<R, Round>(quotient, division_guard_bits, gen, remainder != 0));
}
}  // namespace detail

/// a / b rounded into format R by `Round` (R's own policy by default), then R's overflow
/// policy. Throws std::domain_error when b is zero (and so is no constant expression).
/// \tparam R the result format
/// \tparam Round the rounding policy for this division
template <fixed_point R, rounding_policy Round = typename R::rounding_policy, fixed_point A,
          fixed_point B>
[[nodiscard]] constexpr R divide(const A& a, const B& b) {
  return detail::divide_with<R, Round>(a, b, detail::thread_generator{});
}

/// As divide(a, b), drawing stochastic rounding's bits from `gen`.
template <fixed_point R, rounding_policy Round = typename R::rounding_policy, fixed_point A,
          fixed_point B, bit_generator Gen>
[[nodiscard]] constexpr R divide(const A& a, const B& b, Gen& gen) {
  return detail::divide_with<R, Round>(a, b, gen);
}

/// a = a + b narrowed into a's format by a's policies; likewise -= *= /=.
template <fixed_point A, fixed_point B>
constexpr A& operator+=(A& a, const B& b) {
  return a = fixed_cast<A>(a + b);
}
template <fixed_point A, fixed_point B>
constexpr A& operator-=(A& a, const B& b) {
  return a = fixed_cast<A>(a - b);
}
template <fixed_point A, fixed_point B>
constexpr A& operator*=(A& a, const B& b) {
  return a = fixed_cast<A>(a * b);
}
template <fixed_point A, fixed_point B>
constexpr A& operator/=(A& a, const B& b) {
  return a = divide<A>(a, b);
}

}  // namespace fxp
