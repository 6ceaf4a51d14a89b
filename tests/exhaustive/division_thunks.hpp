// SPDX-License-Identifier: MIT
#pragma once
// The thunks of the division tests. Included only by the generated table sources.

#include "division.hpp"
#include "types.hpp"

namespace fxp_exhaustive {

template <division_key K>
std::int64_t divide(std::int64_t ra, std::int64_t rb, fixed_word_generator& gen) {
  using a_type = type_of<K.a>;
  using b_type = type_of<K.b>;
  const a_type a = from_raw<a_type>(ra);
  const b_type b = from_raw<b_type>(rb);
  if constexpr (K.path == 0) {
    using quotient = type_of<K.quotient, K.round, K.over>;
    if constexpr (K.round == rounding::stochastic) {
      return raw_of(fxp::divide<quotient>(a, b, gen));
    } else {
      (void)gen;
      return raw_of(fxp::divide<quotient>(a, b));
    }
  } else {
    using quotient = type_of<K.quotient, other_rounding(K.round), K.over>;
    if constexpr (K.round == rounding::stochastic) {
      return raw_of(fxp::divide<quotient, fxp::stochastic>(a, b, gen));
    } else {
      (void)gen;
      return raw_of(fxp::divide<quotient, rounding_t<K.round>>(a, b));
    }
  }
}

template <division_key K>
constexpr division_entry division_tables::make() {
  return {K, &divide<K>};
}

template <std::size_t P>
std::span<const division_entry> division_tables::part() {
  return part_entries<division_tables, P>();
}

}  // namespace fxp_exhaustive
