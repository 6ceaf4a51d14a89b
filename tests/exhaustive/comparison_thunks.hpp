// SPDX-License-Identifier: MIT
#pragma once
// The thunks of the comparison tests. Included only by the generated table sources.

#include <compare>      // std::strong_ordering
#include <type_traits>  // std::is_same_v
#include <utility>      // std::declval

#include "comparison.hpp"
#include "types.hpp"

namespace fxp_exhaustive {

template <comparison_key K>
void comparison_row(std::int64_t ra, std::int64_t rb_first, std::size_t n, std::uint16_t* out) {
  using a_type = type_of<K.a, K.round, K.over>;
  using b_type = type_of<K.b, K.round, K.over>;
  const a_type a = from_raw<a_type>(ra);
  for (std::size_t k = 0; k < n; ++k) {
    const b_type b = from_raw<b_type>(rb_first + static_cast<std::int64_t>(k));
    const auto order = a <=> b;
    unsigned bits = 0;
    if (a == b) bits |= bit_eq;
    if (a != b) bits |= bit_ne;
    if (a < b) bits |= bit_lt;
    if (a <= b) bits |= bit_le;
    if (a > b) bits |= bit_gt;
    if (a >= b) bits |= bit_ge;
    if (order < 0) bits |= bit_three_lt;
    if (order == 0) bits |= bit_three_eq;
    if (order > 0) bits |= bit_three_gt;
    out[k] = static_cast<std::uint16_t>(bits);
  }
}

template <comparison_key K>
constexpr comparison_entry comparison_tables::make() {
  using a_type = type_of<K.a, K.round, K.over>;
  using b_type = type_of<K.b, K.round, K.over>;
  using order = decltype(std::declval<const a_type&>() <=> std::declval<const b_type&>());
  return {K, &comparison_row<K>, std::is_same_v<order, std::strong_ordering>};
}

template <std::size_t P>
std::span<const comparison_entry> comparison_tables::part() {
  return part_entries<comparison_tables, P>();
}

}  // namespace fxp_exhaustive
