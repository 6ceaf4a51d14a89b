// SPDX-License-Identifier: MIT
#pragma once
// The thunks of the narrowing tests. Included only by the generated table sources.

#include "narrowing.hpp"
#include "types.hpp"

namespace fxp_exhaustive {

// fxp::fixed_cast<Target, Round>(exact), with the generator when Round is stochastic.
template <class Target, rounding Round, class Exact>
std::int64_t narrow_exact(const Exact& exact, fixed_word_generator& gen) {
  if constexpr (Round == rounding::stochastic) {
    return raw_of(fxp::fixed_cast<Target, fxp::stochastic>(exact, gen));
  } else {
    (void)gen;
    return raw_of(fxp::fixed_cast<Target, rounding_t<Round>>(exact));
  }
}

template <narrowing_key K>
std::int64_t narrow_result(std::int64_t ra, std::int64_t rb, fixed_word_generator& gen) {
  using a_type = type_of<K.a>;
  using b_type = type_of<K.b>;
  using target = type_of<K.a, other_rounding(K.round), K.over>;
  const a_type a = from_raw<a_type>(ra);
  const b_type b = from_raw<b_type>(rb);
  if constexpr (K.op == arithmetic_op::add) {
    return narrow_exact<target, K.round>(a + b, gen);
  } else if constexpr (K.op == arithmetic_op::sub) {
    return narrow_exact<target, K.round>(a - b, gen);
  } else if constexpr (K.op == arithmetic_op::mul) {
    return narrow_exact<target, K.round>(a * b, gen);
  } else {
    (void)b;
    return narrow_exact<target, K.round>(-a, gen);
  }
}

template <narrowing_key K>
constexpr narrowing_entry narrowing_tables::make() {
  return {K, &narrow_result<K>};
}

template <std::size_t P>
std::span<const narrowing_entry> narrowing_tables::part() {
  return part_entries<narrowing_tables, P>();
}

}  // namespace fxp_exhaustive
