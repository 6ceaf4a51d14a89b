// SPDX-License-Identifier: MIT
#pragma once
// The names of the core types, for headers that only need to mention them.

#include <type_traits>  // bool_constant for the fixed_point trait

#include "overflow.hpp"
#include "rounding.hpp"

namespace fxp {

template <int I, int F, bool Signed, rounding_policy Round, overflow_policy Overflow>
class basic_fixed;

/// Signed fixed point: W = I + F bits in two's complement, I counting the sign bit;
/// value = raw * 2^-F. `fixed<1, 7>` spans [-1, 1 - 2^-7].
/// \tparam I integer bits, sign included (may be negative)
/// \tparam F fractional bits (may be negative)
/// \tparam Round rounding policy applied when a value is narrowed into this format
/// \tparam Overflow what happens when a value does not fit
template <int I, int F, rounding_policy Round = nearest, overflow_policy Overflow = saturate>
using fixed = basic_fixed<I, F, true, Round, Overflow>;

/// Unsigned fixed point: W = I + F bits, value = raw * 2^-F, range [0, 2^I - 2^-F].
template <int I, int F, rounding_policy Round = nearest, overflow_policy Overflow = saturate>
using ufixed = basic_fixed<I, F, false, Round, Overflow>;

template <class T>
struct is_fixed_point : std::false_type {};
template <int I, int F, bool S, class R, class O>
struct is_fixed_point<basic_fixed<I, F, S, R, O>> : std::true_type {};

/// True for every fxp::fixed and fxp::ufixed type.
template <class T>
inline constexpr bool is_fixed_point_v = is_fixed_point<std::remove_cv_t<T>>::value;

/// A fixed-point type of any format and policies.
template <class T>
concept fixed_point = is_fixed_point_v<T>;

}  // namespace fxp
