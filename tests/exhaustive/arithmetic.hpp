// SPDX-License-Identifier: MIT
#pragma once
// Exact arithmetic on every pair of grid formats: a + b, a - b and a * b for every pair of
// values (and -a for every format), checking the result's format, policies and raw value.
// One thunk per pair of formats computes a whole row (one a, every b) of all three
// operations: 146 x 146 + 146 = 21462 thunks, and one indirect call per row for the
// ~4.5 * 10^8 results.

#include <array>    // the grid
#include <cstddef>  // std::size_t
#include <cstdint>  // raw values
#include <span>     // the table of one part

#include "plan.hpp"

namespace fxp_exhaustive {

enum class arithmetic_op : std::uint8_t { add, sub, mul, neg };
inline constexpr std::size_t binary_ops = 3;

[[nodiscard]] inline const char* to_string(arithmetic_op op) noexcept {
  constexpr const char* names[] = {"+", "-", "*", "unary -"};
  return names[static_cast<int>(op)];
}

/// a + b, a - b, a * b (or, when `negation`, just -a) with both operands carrying policies
/// (round, over), which the results must carry too: policies change no exact result, they
/// are varied to check that they are passed on.
struct arithmetic_key {
  format a;
  format b;
  rounding round;
  overflow over;
  bool negation;
};

/// For a of raw `ra` and b_k of raw rb_first + k, k < n: out[k] = raw of a + b_k,
/// out[n + k] = raw of a - b_k, out[2n + k] = raw of a * b_k; for a negation key, out[0] =
/// raw of -a (n = 1).
using arithmetic_fn = void (*)(std::int64_t ra, std::int64_t rb_first, std::size_t n,
                               std::int64_t* out);

/// The type of one result as the library declares it.
struct result_type_info {
  format result;      ///< format of decltype(a op b)
  int rounding_id;    ///< its rounding policy (enum rounding), -1 if none of the five
  int overflow_id;    ///< its overflow policy (enum overflow), -1 if none of the three
  bool trait_agrees;  ///< decltype(a op b) is fxp::result_t<op, A, B>
};

struct arithmetic_entry {
  arithmetic_key key;
  arithmetic_fn fn;
  std::array<result_type_info, binary_ops> types;  ///< of +, -, * (of -a in [0] for negation)
};

inline constexpr std::size_t arithmetic_keys = grid_size * grid_size + grid_size;

/// Key number n: by b, then a, then the negations. The operands' policy combination
/// changes every 10 right-hand formats: every combination meets every left-hand format,
/// while one translation unit sees few distinct types.
[[nodiscard]] constexpr arithmetic_key arithmetic_key_at(std::size_t n) noexcept {
  if (n >= grid_size * grid_size) {
    const std::size_t a = n - grid_size * grid_size;
    const int c = static_cast<int>(a / 10 % policy_count);
    return {grid[a], grid[a], rounding_of_combination(c), overflow_of_combination(c), true};
  }
  const std::size_t b = n / grid_size;
  const std::size_t a = n % grid_size;
  const int c = static_cast<int>(b / 10 % policy_count);
  return {grid[a], grid[b], rounding_of_combination(c), overflow_of_combination(c), false};
}

struct arithmetic_tables {
  using entry = arithmetic_entry;

  template <std::size_t P>
  [[nodiscard]] static constexpr std::size_t size() noexcept {
    return part_begin(arithmetic_keys, P + 1) - part_begin(arithmetic_keys, P);
  }
  template <std::size_t P>
  [[nodiscard]] static constexpr arithmetic_key key(std::size_t n) noexcept {
    return arithmetic_key_at(part_begin(arithmetic_keys, P) + n);
  }

  template <std::size_t P>
  static std::span<const entry> part();

  template <arithmetic_key K>
  static constexpr entry make();
};

}  // namespace fxp_exhaustive
