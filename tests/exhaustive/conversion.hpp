// SPDX-License-Identifier: MIT
#pragma once
// Conversions between grid formats: which (source, target, rounding, overflow) combinations
// are compiled, and the table entries the run-time test walks.
//
// Compile-time budget: all 146 x 146 pairs under all 15 policy combinations would be 320k
// instantiations (~10 minutes of compiler time at ~2 ms each), so the plan is:
//  - every pair of grid formats is converted, every value, under at least one combination
//    (the pair's (source index + target index) mod 15, so every combination meets every
//    source and every target format);
//  - the 4155 pairs that start a shift class (plan.hpp: I = -2 on one side) get all 15
//    combinations. A conversion's raw mapping depends only on the class (source width and
//    sign, target width and sign, F_from - F_to), so the 15 combinations meet every
//    distinct conversion of the grid; the test "conversion plan" checks that claim, and the
//    other pairs check the other scales.
// That is 4155 x 15 + 17161 = 79486 thunks, in 15 parts (one per policy combination).

#include <array>    // the plan
#include <cstddef>  // std::size_t
#include <cstdint>  // raw values
#include <span>     // the table of one part

#include "plan.hpp"

namespace fxp_exhaustive {

/// One conversion: from format `from` (policies irrelevant) to `to` with rounding `round`
/// and overflow `over`, through API call `path` (see conversion_thunks.hpp):
/// path 0: `T(x)`, or `fxp::fixed_cast<T>(x, gen)` for stochastic;
/// path 1: `fxp::fixed_cast<T>(x)`, or `fxp::fixed_cast<T', fxp::stochastic>(x, gen)` with
///         T' = T but rounding `nearest` (plan.hpp's other_rounding), so the override must
///         win.
struct conversion_key {
  format from;
  format to;
  rounding round;
  overflow over;
  int path;
};

/// x's raw value (of `from`) -> the converted raw value; may throw.
using convert_fn = std::int64_t (*)(std::int64_t raw, fixed_word_generator& gen);

struct conversion_entry {
  conversion_key key;
  convert_fn fn;
};

/// Whether the pair (grid[a], grid[b]) is converted under policy combination c.
[[nodiscard]] constexpr bool planned(std::size_t a, std::size_t b, int c) noexcept {
  return starts_shift_class(grid[a], grid[b]) || static_cast<int>((a + b) % policy_count) == c;
}

[[nodiscard]] constexpr std::size_t conversion_part_size(int c) noexcept {
  std::size_t n = 0;
  for (std::size_t b = 0; b < grid_size; ++b)
    for (std::size_t a = 0; a < grid_size; ++a)
      if (planned(a, b, c)) ++n;
  return n;
}

/// The keys of part c: the conversions under policy combination c, by target then source.
/// One combination per part keeps the number of distinct target types of a translation
/// unit small, so the library functions they share are instantiated once, not per part.
template <int C>
[[nodiscard]] constexpr std::array<conversion_key, conversion_part_size(C)> make_conversion_part() {
  std::array<conversion_key, conversion_part_size(C)> keys{};
  std::size_t n = 0;
  for (std::size_t b = 0; b < grid_size; ++b) {
    for (std::size_t a = 0; a < grid_size; ++a) {
      if (planned(a, b, C)) {
        keys[n] = conversion_key{grid[a], grid[b], rounding_of_combination(C),
                                 overflow_of_combination(C), static_cast<int>((a + b + n) % 2)};
        ++n;
      }
    }
  }
  return keys;
}

struct conversion_tables {
  static_assert(parts == policy_count, "one part per policy combination");

  using key_type = conversion_key;
  using entry = conversion_entry;

  template <std::size_t P>
  static constexpr std::array<key_type, conversion_part_size(static_cast<int>(P))> part_keys =
      make_conversion_part<static_cast<int>(P)>();

  template <std::size_t P>
  [[nodiscard]] static constexpr std::size_t size() noexcept {
    return part_keys<P>.size();
  }
  template <std::size_t P>
  [[nodiscard]] static constexpr key_type key(std::size_t n) noexcept {
    return part_keys<P>[n];
  }

  /// The entries of part P (defined in conversion_thunks.hpp).
  template <std::size_t P>
  static std::span<const entry> part();

  /// The entry of key K, with its thunk (defined in conversion_thunks.hpp).
  template <conversion_key K>
  static constexpr entry make();
};

}  // namespace fxp_exhaustive
