// SPDX-License-Identifier: MIT
#pragma once
// The thunks of the exact arithmetic tests. Included only by the generated table sources.

#include <type_traits>  // std::is_same_v for the result types
#include <utility>      // std::declval

#include "arithmetic.hpp"
#include "types.hpp"

namespace fxp_exhaustive {

/// The type of an expression as the library declares it, and fxp::result_t's name for it.
template <class Result, class Trait>
[[nodiscard]] constexpr result_type_info type_info_of() noexcept {
  return {format_of<Result>(), rounding_id_of<Result>(), overflow_id_of<Result>(),
          std::is_same_v<Result, Trait>};
}

template <arithmetic_key K>
void arithmetic_row(std::int64_t ra, std::int64_t rb_first, std::size_t n, std::int64_t* out) {
  using a_type = type_of<K.a, K.round, K.over>;
  using b_type = type_of<K.b, K.round, K.over>;
  const a_type a = from_raw<a_type>(ra);
  if constexpr (K.negation) {
    (void)rb_first;
    (void)n;
    out[0] = raw_of(-a);
  } else {
    for (std::size_t k = 0; k < n; ++k) {
      const b_type b = from_raw<b_type>(rb_first + static_cast<std::int64_t>(k));
      out[k] = raw_of(a + b);
      out[n + k] = raw_of(a - b);
      out[2 * n + k] = raw_of(a * b);
    }
  }
}

template <arithmetic_key K>
constexpr arithmetic_entry arithmetic_tables::make() {
  using a_type = type_of<K.a, K.round, K.over>;
  using b_type = type_of<K.b, K.round, K.over>;
  using fxp::result_t;
  if constexpr (K.negation) {
    using neg = decltype(-std::declval<const a_type&>());
    return {K, &arithmetic_row<K>, {{type_info_of<neg, result_t<fxp::op::neg, a_type>>(), {}, {}}}};
  } else {
    using add = decltype(std::declval<const a_type&>() + std::declval<const b_type&>());
    using sub = decltype(std::declval<const a_type&>() - std::declval<const b_type&>());
    using mul = decltype(std::declval<const a_type&>() * std::declval<const b_type&>());
    return {K,
            &arithmetic_row<K>,
            {{type_info_of<add, result_t<fxp::op::add, a_type, b_type>>(),
              type_info_of<sub, result_t<fxp::op::sub, a_type, b_type>>(),
              type_info_of<mul, result_t<fxp::op::mul, a_type, b_type>>()}}};
  }
}

template <std::size_t P>
std::span<const arithmetic_entry> arithmetic_tables::part() {
  return part_entries<arithmetic_tables, P>();
}

}  // namespace fxp_exhaustive
