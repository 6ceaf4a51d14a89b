// SPDX-License-Identifier: MIT
#pragma once
// The thunks of the conversion tests: one per key of the plan in conversion.hpp, calling
// fxp's public conversion API. Included only by the generated table sources.

#include "conversion.hpp"
#include "types.hpp"

namespace fxp_exhaustive {

template <conversion_key K>
std::int64_t convert(std::int64_t raw, fixed_word_generator& gen) {
  using source = type_of<K.from>;
  using target = type_of<K.to, K.round, K.over>;
  const source x = from_raw<source>(raw);
  if constexpr (K.round == rounding::stochastic) {
    if constexpr (K.path == 0) {
      return raw_of(fxp::fixed_cast<target>(x, gen));
    } else {
      using other = type_of<K.to, other_rounding(K.round), K.over>;
      return raw_of(fxp::fixed_cast<other, fxp::stochastic>(x, gen));
    }
  } else {
    (void)gen;
    if constexpr (K.path == 0) {
      return raw_of(target(x));
    } else {
      return raw_of(fxp::fixed_cast<target>(x));
    }
  }
}

template <conversion_key K>
constexpr conversion_entry conversion_tables::make() {
  return {K, &convert<K>};
}

template <std::size_t P>
std::span<const conversion_entry> conversion_tables::part() {
  return part_entries<conversion_tables, P>();
}

}  // namespace fxp_exhaustive
