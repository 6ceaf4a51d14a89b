// SPDX-License-Identifier: MIT
#pragma once
// The compile-time side of the exhaustive tests, included only by the generated table
// translation units: run-time descriptions (formats, policy enums) mapped to fxp types, and
// the generic builder of a part's table of thunks.

#include <array>        // a part's table
#include <cstddef>      // std::size_t
#include <span>         // the table handed to the run-time side
#include <type_traits>  // std::is_same_v for reading policies back
#include <utility>      // std::index_sequence over the plan

// The scalar core's umbrella rather than fxp/fxp.hpp: these ~50 translation units need
// nothing of tensors or SIMD, and parsing those headers in each would add minutes.
#include <fxp/core/core.hpp>

#include "plan.hpp"

namespace fxp_exhaustive {

template <rounding R>
struct rounding_tag;
template <>
struct rounding_tag<rounding::truncate> {
  using type = fxp::truncate;
};
template <>
struct rounding_tag<rounding::toward_zero> {
  using type = fxp::toward_zero;
};
template <>
struct rounding_tag<rounding::nearest> {
  using type = fxp::nearest;
};
template <>
struct rounding_tag<rounding::nearest_even> {
  using type = fxp::nearest_even;
};
template <>
struct rounding_tag<rounding::stochastic> {
  using type = fxp::stochastic;
};

template <overflow O>
struct overflow_tag;
template <>
struct overflow_tag<overflow::saturate> {
  using type = fxp::saturate;
};
template <>
struct overflow_tag<overflow::wrap> {
  using type = fxp::wrap;
};
template <>
struct overflow_tag<overflow::checked> {
  using type = fxp::checked;
};

template <rounding R>
using rounding_t = typename rounding_tag<R>::type;
template <overflow O>
using overflow_t = typename overflow_tag<O>::type;

/// The fxp type of format D with the given policies.
template <format D, rounding R = rounding::nearest, overflow O = overflow::saturate>
using type_of = fxp::basic_fixed<D.i, D.f, D.is_signed, rounding_t<R>, overflow_t<O>>;

/// The format of an fxp type, as the library declares it.
template <class T>
[[nodiscard]] constexpr format format_of() noexcept {
  return {T::integer_bits, T::fraction_bits, T::is_signed};
}

/// The policies of an fxp type, as the library declares them (-1 if not one of the five).
template <class T>
[[nodiscard]] constexpr int rounding_id_of() noexcept {
  using r = typename T::rounding_policy;
  if constexpr (std::is_same_v<r, fxp::truncate>) return 0;
  if constexpr (std::is_same_v<r, fxp::toward_zero>) return 1;
  if constexpr (std::is_same_v<r, fxp::nearest>) return 2;
  if constexpr (std::is_same_v<r, fxp::nearest_even>) return 3;
  if constexpr (std::is_same_v<r, fxp::stochastic>) return 4;
  return -1;
}
template <class T>
[[nodiscard]] constexpr int overflow_id_of() noexcept {
  using o = typename T::overflow_policy;
  if constexpr (std::is_same_v<o, fxp::saturate>) return 0;
  if constexpr (std::is_same_v<o, fxp::wrap>) return 1;
  if constexpr (std::is_same_v<o, fxp::checked>) return 2;
  return -1;
}

/// x of type T from its raw value (given as a 64-bit integer that fits T).
template <class T>
[[nodiscard]] T from_raw(std::int64_t raw) noexcept {
  return T::from_raw(static_cast<typename T::raw_type>(raw));
}

/// The raw value of x as a 64-bit integer.
template <class T>
[[nodiscard]] std::int64_t raw_of(const T& x) noexcept {
  return static_cast<std::int64_t>(x.raw());
}

// The table of one part: entries Tables::make<Tables::key<Part>(n)>() for n in
// [0, Tables::size<Part>()), each of which instantiates the thunk of one key.
template <class Tables, std::size_t Part, std::size_t... N>
[[nodiscard]] constexpr std::array<typename Tables::entry, sizeof...(N)> make_entries(
    std::index_sequence<N...>) {
  return {{Tables::template make<Tables::template key<Part>(N)>()...}};
}

template <class Tables, std::size_t Part>
[[nodiscard]] std::span<const typename Tables::entry> part_entries() {
  static_assert(Part < parts, "more table sources than FXP_EXHAUSTIVE_PARTS");
  constexpr std::size_t size = Tables::template size<Part>();
  static constexpr std::array<typename Tables::entry, size> entries =
      make_entries<Tables, Part>(std::make_index_sequence<size>{});
  return entries;
}

}  // namespace fxp_exhaustive
