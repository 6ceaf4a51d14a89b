// SPDX-License-Identifier: MIT
#pragma once
// fxp::fixed_cast: explicit narrowing with the target's rounding or one chosen per call,
// and with an explicit random generator for stochastic rounding.

#include <concepts>  // std::integral, std::floating_point

#include "fixed.hpp"

namespace fxp {

namespace detail {
template <class From>
concept castable = fixed_point<From> || (std::integral<From> && !std::same_as<From, bool>) ||
                   binary_float<From>;

template <class To, class Round, class From, class Gen>
[[nodiscard]] constexpr To cast_with(const From& x, Gen& gen) {
  if constexpr (fixed_point<From>) {
    return To::from_raw(from_fixed<To, Round>(x, gen));
  } else if constexpr (binary_float<From>) {
    return To::from_raw(from_double<To, Round>(static_cast<double>(x), gen));
  } else {
    return To::from_raw(from_integer<To, Round>(x, gen));
  }
}
}  // namespace detail

/// Converts x (fixed, integer or floating point) to `To`, rounding by `Round` (by default
/// To's own policy) and then applying To's overflow policy. A random policy draws from the
/// calling thread's default generator (see fxp::seed).
/// \tparam To the target fixed-point type
/// \tparam Round the rounding policy for this one conversion
template <fixed_point To, rounding_policy Round = typename To::rounding_policy,
          detail::castable From>
[[nodiscard]] constexpr To fixed_cast(const From& x) {
  detail::thread_generator gen;
  return detail::cast_with<To, Round>(x, gen);
}

/// As fixed_cast(x), drawing the random bits of a random policy from `gen` (any standard
/// generator of 32- or 64-bit words; fxp::philox makes results reproducible anywhere).
/// Each conversion that can discard bits draws exactly one 32-bit word.
template <fixed_point To, rounding_policy Round = typename To::rounding_policy,
          detail::castable From, bit_generator Gen>
[[nodiscard]] constexpr To fixed_cast(const From& x, Gen& gen) {
  return detail::cast_with<To, Round>(x, gen);
}

}  // namespace fxp
