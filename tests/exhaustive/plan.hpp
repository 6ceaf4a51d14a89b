// SPDX-License-Identifier: MIT
#pragma once
// What the exhaustive tests cover: the grid of formats, the representative operand and
// quotient formats, a random generator whose words the test chooses, and the split of the
// thunk tables into translation units. Shared by the table sources and the checking
// sources; it includes neither fxp nor the reference.
//
// Why thunks: every (format, format, rounding, overflow) combination is a distinct template
// instantiation, and at 1.5-3 ms of compiler time each, instantiations are what limits
// these tests. So the library is called only from tiny generated functions ("thunks", one
// per combination, with a uniform signature on raw integers) compiled at -O0 in many
// translation units that build in parallel; everything else — the loops over values, the
// reference, the comparisons — is ordinary run-time code compiled once per category.

#include <array>    // the grid
#include <cstddef>  // std::size_t
#include <cstdint>  // random words
#include <span>     // the table of one translation unit
#include <utility>  // std::index_sequence over the parts
#include <vector>   // all parts of a table together

#include "formats.hpp"

#ifndef FXP_EXHAUSTIVE_PARTS
#error \
    "FXP_EXHAUSTIVE_PARTS (the number of table translation units) comes from tests/exhaustive/CMakeLists.txt"
#endif

namespace fxp_exhaustive {

// ---------------------------------------------------------------------------------------
// The grid: every format with W <= 8 and I from -2 to W + 2 (so F = W - I from W + 2 down
// to -2): signed formats have 2 <= W <= 8, unsigned ones 1 <= W <= 8. 70 + 76 = 146 formats.

[[nodiscard]] constexpr std::size_t count_grid() noexcept {
  std::size_t n = 0;
  for (int w = 2; w <= 8; ++w) n += static_cast<std::size_t>(w + 5);
  for (int w = 1; w <= 8; ++w) n += static_cast<std::size_t>(w + 5);
  return n;
}

inline constexpr std::size_t grid_size = count_grid();

[[nodiscard]] constexpr std::array<format, grid_size> make_grid() noexcept {
  std::array<format, grid_size> g{};
  std::size_t n = 0;
  for (int w = 2; w <= 8; ++w)
    for (int i = -2; i <= w + 2; ++i) g[n++] = format{i, w - i, true};
  for (int w = 1; w <= 8; ++w)
    for (int i = -2; i <= w + 2; ++i) g[n++] = format{i, w - i, false};
  return g;
}

inline constexpr std::array<format, grid_size> grid = make_grid();

/// Whether the pair (from, to) is the representative of its "shift class" (see below):
/// I = -2, the grid's smallest, on at least one side.
///
/// For conversions and comparisons the raw result depends only on the two widths and
/// signednesses and on the shift d = F_a - F_b: moving both binary points together changes
/// nothing but the scale. Within the rectangle [-2, W_a + 2] x [-2, W_b + 2] of (I_a, I_b)
/// such a class is a diagonal I_a - I_b = const, which starts on the lower or left edge:
/// exactly one pair of each class has I = -2 on one side. The grid has 4155 classes.
[[nodiscard]] constexpr bool starts_shift_class(format a, format b) noexcept {
  return a.i == -2 || b.i == -2;
}

/// The other end of the diagonal: I = W + 2 (F = -2, the grid's smallest) on one side.
[[nodiscard]] constexpr bool ends_shift_class(format a, format b) noexcept {
  return a.i == a.width() + 2 || b.i == b.width() + 2;
}

/// Operand formats of the tests that cannot afford every pair of the grid (narrowing of
/// arithmetic results, division): signed and unsigned, W from 1 to 8, negative I, negative
/// F, I = 0, F = 0, and the extremes I = -2 and I = W + 2 of the grid.
inline constexpr std::array<format, 11> representative_formats{{
    {1, 1, true},    // fixed<1,1>: the smallest signed width
    {-2, 5, true},   // fixed<-2,5>: negative I (the grid's minimum), all fraction
    {2, 2, true},    //
    {7, -2, true},   // fixed<7,-2>: negative F (the grid's minimum), I = W + 2
    {0, 6, true},    // fixed<0,6>: I = 0
    {4, 4, true},    // a full byte
    {1, 0, false},   // ufixed<1,0>: a single bit
    {-1, 4, false},  // ufixed<-1,4>: unsigned with negative I
    {2, 3, false},   //
    {9, -2, false},  // ufixed<9,-2>: unsigned with negative F, I = W + 2
    {8, 0, false},   // ufixed<8,0>: an unsigned byte
}};

/// Operand formats of division: the representative formats but the unsigned byte (every
/// pair of values of every pair of operand formats, into every quotient format, under 15
/// policies, costs run time; the signed byte fixed<4,4> stays).
inline constexpr std::array<format, 10> division_operand_formats{{
    {1, 1, true},
    {-2, 5, true},
    {2, 2, true},
    {7, -2, true},
    {0, 6, true},
    {4, 4, true},
    {1, 0, false},
    {-1, 4, false},
    {2, 3, false},
    {9, -2, false},
}};

/// Result formats of division: as wide as the widest operands, narrower, wider (W = 24, a
/// 32-bit raw type), negative I, negative F, unsigned.
inline constexpr std::array<format, 6> quotient_formats{{
    {4, 4, true},    // same width as the widest operands
    {2, 1, true},    // narrower: most quotients overflow or lose bits
    {10, 14, true},  // wider: W = 24
    {-1, 6, true},   // negative I
    {9, -2, true},   // negative F
    {3, 5, false},   // unsigned: negative quotients overflow
}};

/// The rounding policy a target type carries when the test passes `round` explicitly
/// (fixed_cast<T, Round>, divide<R, Round>): another one, so that the override must win.
[[nodiscard]] constexpr rounding other_rounding(rounding round) noexcept {
  return round == rounding::nearest ? rounding::truncate : rounding::nearest;
}

// ---------------------------------------------------------------------------------------

/// A uniform_random_bit_generator of 32-bit words that returns the word the test set and
/// counts the words drawn; with it stochastic rounding is exactly predictable: it rounds
/// up iff word < floor(fraction * 2^32).
struct fixed_word_generator {
  using result_type = std::uint32_t;
  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return 0xFFFFFFFFu; }
  result_type operator()() noexcept {
    ++draws;
    return word;
  }
  result_type word = 0;
  unsigned draws = 0;
};

// ---------------------------------------------------------------------------------------
// Tables are split into FXP_EXHAUSTIVE_PARTS translation units (see CMakeLists.txt).
//
// A category of tests describes its tables as a struct with `using entry`, constexpr
// `size<P>()` and `key<P>(n)` (the keys of part P, computed in that part's translation unit
// only), `template <key K> static constexpr entry make()` (the entry of key K, with its
// thunk) and `template <std::size_t P> static std::span<const entry> part()`, the table of
// part P. make and part are defined in <category>_thunks.hpp, which only the generated
// table sources (table_part.cpp.in) include, each explicitly instantiating one part.

inline constexpr std::size_t parts = FXP_EXHAUSTIVE_PARTS;

/// The first index of part `p` when `total` keys are split evenly into the parts.
[[nodiscard]] constexpr std::size_t part_begin(std::size_t total, std::size_t p) noexcept {
  return total * p / parts;
}

template <class Tables, std::size_t... P>
[[nodiscard]] std::vector<typename Tables::entry> gather(std::index_sequence<P...>) {
  std::vector<typename Tables::entry> all;
  const auto append = [&all](std::span<const typename Tables::entry> part) {
    all.insert(all.end(), part.begin(), part.end());
  };
  (append(Tables::template part<P>()), ...);
  return all;
}

/// Every entry of a category's tables, part after part.
template <class Tables>
[[nodiscard]] std::vector<typename Tables::entry> gather() {
  return gather<Tables>(std::make_index_sequence<parts>{});
}

}  // namespace fxp_exhaustive
