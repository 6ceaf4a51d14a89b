// SPDX-License-Identifier: MIT
#pragma once
// Division: fxp::divide<R>(a, b) for every pair of values of the dividend formats of
// plan.hpp (10 representative formats; all 146 x 146 pairs would be ~2 million thunks), into
// its 6 quotient formats, under all 15 rounding x overflow combinations, through R's own
// rounding and an overridden one; b = 0 must throw std::domain_error.
// 10 x 10 x 6 x 15 = 9000 thunks.

#include <array>    // the formats
#include <cstddef>  // std::size_t
#include <cstdint>  // raw values
#include <span>     // the table of one part

#include "plan.hpp"

namespace fxp_exhaustive {

/// a / b into format `quotient` with rounding `round` and overflow `over`, through API call
/// `path`: 0 is `fxp::divide<R>(a, b)` (or `(a, b, gen)`) with R's own rounding `round`;
/// 1 is `fxp::divide<R', round>(a, b)` (or `(a, b, gen)`) with R' = R but another rounding
/// of its own, so that the override must win.
struct division_key {
  format a;
  format b;
  format quotient;
  rounding round;
  overflow over;
  int path;
};

/// (raw of a, raw of b) -> raw of the quotient; may throw.
using division_fn = std::int64_t (*)(std::int64_t ra, std::int64_t rb, fixed_word_generator& gen);

struct division_entry {
  division_key key;
  division_fn fn;
};

inline constexpr std::size_t division_operands = division_operand_formats.size();
inline constexpr std::size_t division_per_quotient = division_operands * division_operands;
inline constexpr std::size_t division_per_policy = division_per_quotient * quotient_formats.size();
inline constexpr std::size_t division_keys = division_per_policy * policy_count;

/// Key number n: by policy combination, then quotient format (few result types per
/// translation unit), then b, then a.
[[nodiscard]] constexpr division_key division_key_at(std::size_t n) noexcept {
  const int c = static_cast<int>(n / division_per_policy);
  const std::size_t q = n % division_per_policy / division_per_quotient;
  const std::size_t b = n % division_per_quotient / division_operands;
  const std::size_t a = n % division_operands;
  const int path = static_cast<int>((a + b) % 2);
  return {.a = division_operand_formats[a],
          .b = division_operand_formats[b],
          .quotient = quotient_formats[q],
          .round = rounding_of_combination(c),
          .over = overflow_of_combination(c),
          .path = path};
}

struct division_tables {
  using entry = division_entry;

  template <std::size_t P>
  [[nodiscard]] static constexpr std::size_t size() noexcept {
    return part_begin(division_keys, P + 1) - part_begin(division_keys, P);
  }
  template <std::size_t P>
  [[nodiscard]] static constexpr division_key key(std::size_t n) noexcept {
    return division_key_at(part_begin(division_keys, P) + n);
  }

  template <std::size_t P>
  static std::span<const entry> part();

  template <division_key K>
  static constexpr entry make();
};

}  // namespace fxp_exhaustive
