// SPDX-License-Identifier: MIT
#pragma once
// Narrowing of exact arithmetic results: fxp::fixed_cast<A', Round>(a op b) back into the
// left operand's format, under all 15 rounding x overflow combinations, every pair of
// values. The results of + - * are formats wider than the grid (up to W = 17 here), so
// this also narrows from 16- and 32-bit raw types.
//
// Compile-time budget: 146 x 146 pairs x 3 operations x 15 combinations would be ~960k
// thunks, so the operands are the 11 representative formats of plan.hpp (signed and
// unsigned, mixed; W from 1 to 8; negative I; negative F): 11 x 11 x 3 x 15 + 11 x 15
// (for -a) = 5610 thunks.

#include <array>    // the formats
#include <cstddef>  // std::size_t
#include <cstdint>  // raw values
#include <span>     // the table of one part

#include "arithmetic.hpp"  // arithmetic_op
#include "plan.hpp"

namespace fxp_exhaustive {

/// fxp::fixed_cast<T, round>(a op b) where T is a's format with overflow `over` and a
/// rounding policy of its own other than `round` (so the override must win); stochastic
/// rounding gets the test's generator.
struct narrowing_key {
  format a;
  format b;
  arithmetic_op op;
  rounding round;
  overflow over;
};

/// (raw of a, raw of b) -> raw of the narrowed result; may throw.
using narrowing_fn = std::int64_t (*)(std::int64_t ra, std::int64_t rb, fixed_word_generator& gen);

struct narrowing_entry {
  narrowing_key key;
  narrowing_fn fn;
};

inline constexpr std::size_t representative_count = representative_formats.size();
inline constexpr std::size_t narrowing_binary_per_policy =
    3 * representative_count * representative_count;
inline constexpr std::size_t narrowing_binary_keys = narrowing_binary_per_policy * policy_count;
inline constexpr std::size_t narrowing_keys =
    narrowing_binary_keys + representative_count * policy_count;

/// Key number n: by policy combination (few target types per translation unit), then
/// operation, then b, then a; the negations last.
[[nodiscard]] constexpr narrowing_key narrowing_key_at(std::size_t n) noexcept {
  if (n >= narrowing_binary_keys) {
    const std::size_t m = n - narrowing_binary_keys;
    const int c = static_cast<int>(m / representative_count);
    const format a = representative_formats[m % representative_count];
    return {a, a, arithmetic_op::neg, rounding_of_combination(c), overflow_of_combination(c)};
  }
  const int c = static_cast<int>(n / narrowing_binary_per_policy);
  const std::size_t m = n % narrowing_binary_per_policy;
  const auto op = static_cast<arithmetic_op>(m / (representative_count * representative_count));
  const std::size_t b = m / representative_count % representative_count;
  const std::size_t a = m % representative_count;
  return {representative_formats[a], representative_formats[b], op, rounding_of_combination(c),
          overflow_of_combination(c)};
}

struct narrowing_tables {
  using entry = narrowing_entry;

  template <std::size_t P>
  [[nodiscard]] static constexpr std::size_t size() noexcept {
    return part_begin(narrowing_keys, P + 1) - part_begin(narrowing_keys, P);
  }
  template <std::size_t P>
  [[nodiscard]] static constexpr narrowing_key key(std::size_t n) noexcept {
    return narrowing_key_at(part_begin(narrowing_keys, P) + n);
  }

  template <std::size_t P>
  static std::span<const entry> part();

  template <narrowing_key K>
  static constexpr entry make();
};

}  // namespace fxp_exhaustive
