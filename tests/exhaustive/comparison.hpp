// SPDX-License-Identifier: MIT
#pragma once
// Comparisons: all six operators and <=>, every pair of values, for the pairs of grid
// formats at either end of every shift class (plan.hpp): I = -2 on one side (the most
// fractional bits) or I = W + 2 on one side (F = -2). The sign of a comparison depends only
// on the two raw values and the shift F_a - F_b, so these pairs meet every distinct
// comparison of the grid, each at its two extreme scales: 7860 of the 21316 pairs (all of
// them would add ~50 s of compile time for no new case). A thunk computes a whole row
// (one a, every b).

#include <array>    // the plan
#include <cstddef>  // std::size_t
#include <cstdint>  // raw values
#include <span>     // the table of one part

#include "plan.hpp"

namespace fxp_exhaustive {

/// a @ b for every operator @, with both operands carrying policies (round, over), which
/// must not matter.
struct comparison_key {
  format a;
  format b;
  rounding round;
  overflow over;
};

// The bits of a comparison row's results.
enum comparison_bit : unsigned {
  bit_eq = 1u << 0,        // a == b
  bit_ne = 1u << 1,        // a != b
  bit_lt = 1u << 2,        // a < b
  bit_le = 1u << 3,        // a <= b
  bit_gt = 1u << 4,        // a > b
  bit_ge = 1u << 5,        // a >= b
  bit_three_lt = 1u << 6,  // (a <=> b) < 0
  bit_three_eq = 1u << 7,  // (a <=> b) == 0
  bit_three_gt = 1u << 8,  // (a <=> b) > 0
};

/// out[k] = the bits of a @ b_k for a of raw `ra` and b_k of raw rb_first + k, k < n.
using comparison_fn = void (*)(std::int64_t ra, std::int64_t rb_first, std::size_t n,
                               std::uint16_t* out);

struct comparison_entry {
  comparison_key key;
  comparison_fn fn;
  bool strong_ordering;  ///< a <=> b is a std::strong_ordering
};

[[nodiscard]] constexpr bool compared(format a, format b) noexcept {
  return starts_shift_class(a, b) || ends_shift_class(a, b);
}

[[nodiscard]] constexpr std::size_t count_comparisons() noexcept {
  std::size_t n = 0;
  for (const format& b : grid)
    for (const format& a : grid)
      if (compared(a, b)) ++n;
  return n;
}

inline constexpr std::size_t comparison_keys = count_comparisons();

/// The compared pairs as grid indices (a, b), by b then a.
[[nodiscard]] constexpr std::array<std::array<std::uint8_t, 2>, comparison_keys>
make_comparison_pairs() noexcept {
  std::array<std::array<std::uint8_t, 2>, comparison_keys> pairs{};
  std::size_t n = 0;
  for (std::size_t b = 0; b < grid_size; ++b)
    for (std::size_t a = 0; a < grid_size; ++a)
      if (compared(grid[a], grid[b]))
        pairs[n++] = {static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b)};
  return pairs;
}

inline constexpr auto comparison_pairs = make_comparison_pairs();

/// Key number n; the operands' policy combination changes every 10 right-hand formats
/// (few distinct types per translation unit, every combination used).
[[nodiscard]] constexpr comparison_key comparison_key_at(std::size_t n) noexcept {
  const std::size_t a = comparison_pairs[n][0];
  const std::size_t b = comparison_pairs[n][1];
  const int c = static_cast<int>(b / 10 % policy_count);
  return {grid[a], grid[b], rounding_of_combination(c), overflow_of_combination(c)};
}

struct comparison_tables {
  using entry = comparison_entry;

  template <std::size_t P>
  [[nodiscard]] static constexpr std::size_t size() noexcept {
    return part_begin(comparison_keys, P + 1) - part_begin(comparison_keys, P);
  }
  template <std::size_t P>
  [[nodiscard]] static constexpr comparison_key key(std::size_t n) noexcept {
    return comparison_key_at(part_begin(comparison_keys, P) + n);
  }

  template <std::size_t P>
  static std::span<const entry> part();

  template <comparison_key K>
  static constexpr entry make();
};

}  // namespace fxp_exhaustive
