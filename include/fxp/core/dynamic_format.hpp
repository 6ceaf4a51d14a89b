// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// Formats and rounding chosen at run time: fxp::dynamic_format (bits, fractional bits,
/// signedness) and fxp::rounding_mode, for layers whose precision is set from a plan, a flag
/// or a file after compilation. The compile-time types stay the scalar API; a run-time
/// format reaches the kernels as a shift and two bounds, and rounds by exactly the rules of
/// the compile-time policies (the same tags decide, through the same predicates).

#include <charconv>     // std::from_chars parsing "s16.8"
#include <cstdint>      // raw bounds, random words
#include <stdexcept>    // std::invalid_argument on a bad format or mode
#include <string>       // messages and names
#include <string_view>  // parsing
#include <type_traits>  // std::is_same_v mapping a tag to its mode

#include "detail/bits.hpp"
#include "fwd.hpp"
#include "rounding.hpp"

namespace fxp {

/// The five rounding policies as a run-time value (the tags fxp::truncate, ... are the
/// compile-time ones; fxp::with_rounding maps one to the other).
enum class rounding_mode : std::uint8_t { truncate, toward_zero, nearest, nearest_even, stochastic };

/// The policy's name as its tag spells it: "truncate", "toward_zero", "nearest",
/// "nearest_even", "stochastic".
[[nodiscard]] constexpr std::string_view to_string(rounding_mode mode) noexcept {
  switch (mode) {
    case rounding_mode::truncate: return fxp::truncate::name;
    case rounding_mode::toward_zero: return fxp::toward_zero::name;
    case rounding_mode::nearest: return fxp::nearest::name;
    case rounding_mode::nearest_even: return fxp::nearest_even::name;
    case rounding_mode::stochastic: return fxp::stochastic::name;
  }
  return "?";
}

/// The mode named by `name` (as to_string spells it).
/// \throws std::invalid_argument naming the accepted spellings
[[nodiscard]] inline rounding_mode parse_rounding_mode(std::string_view name) {
  for (auto mode : {rounding_mode::truncate, rounding_mode::toward_zero, rounding_mode::nearest,
                    rounding_mode::nearest_even, rounding_mode::stochastic}) {
    if (name == to_string(mode)) return mode;
  }
  throw std::invalid_argument("fxp::parse_rounding_mode: '" + std::string(name) +
                              "' is not a rounding mode (truncate, toward_zero, nearest, "
                              "nearest_even, stochastic)");
}

/// Calls `f.template operator()<Tag>()` with the policy tag of `mode`: where a run-time
/// mode becomes a compile-time policy (five instantiations, whatever the formats).
template <class F>
decltype(auto) with_rounding(rounding_mode mode, F&& f) {
  switch (mode) {
    case rounding_mode::truncate: return f.template operator()<fxp::truncate>();
    case rounding_mode::toward_zero: return f.template operator()<fxp::toward_zero>();
    case rounding_mode::nearest: return f.template operator()<fxp::nearest>();
    case rounding_mode::nearest_even: return f.template operator()<fxp::nearest_even>();
    case rounding_mode::stochastic: break;
  }
  return f.template operator()<fxp::stochastic>();
}

namespace detail {
template <class Round>
consteval rounding_mode rounding_mode_of() {
  if constexpr (std::is_same_v<Round, fxp::truncate>) {
    return rounding_mode::truncate;
  } else if constexpr (std::is_same_v<Round, fxp::toward_zero>) {
    return rounding_mode::toward_zero;
  } else if constexpr (std::is_same_v<Round, fxp::nearest>) {
    return rounding_mode::nearest;
  } else if constexpr (std::is_same_v<Round, fxp::nearest_even>) {
    return rounding_mode::nearest_even;
  } else {
    static_assert(std::is_same_v<Round, fxp::stochastic>,
                  "fxp::rounding_mode_of<Round>: Round must be one of fxp's five policies "
                  "(truncate, toward_zero, nearest, nearest_even, stochastic); a user policy "
                  "has no run-time rounding_mode");
    return rounding_mode::stochastic;
  }
}
}  // namespace detail

/// The rounding_mode of a built-in policy tag: with_rounding's inverse.
template <class Round>
inline constexpr rounding_mode rounding_mode_of = detail::rounding_mode_of<Round>();

/// A fixed-point format chosen at run time: value = raw * 2^-frac, raw a `bits`-bit two's
/// complement integer (or unsigned). The same formats as fxp::fixed<bits - frac, frac> and
/// fxp::ufixed<bits - frac, frac>, up to 32 bits (31 unsigned), -64 <= frac <= 64.
struct dynamic_format {
  int bits = 16;          ///< total bits, the sign bit included when signed
  int frac = 8;           ///< fractional bits (may be negative, or exceed bits)
  bool is_signed = true;  ///< two's complement, or unsigned (e.g. activations after relu)

  static constexpr int max_frac = 64;

  /// Integer bits, the sign bit included: the I of fxp::fixed<I, F>.
  [[nodiscard]] constexpr int int_bits() const noexcept { return bits - frac; }
  /// The width of the raw integers holding it: 8, 16 or 32.
  [[nodiscard]] constexpr int storage_bits() const noexcept {
    return bits <= 8 ? 8 : bits <= 16 ? 16 : 32;
  }
  /// The smallest raw value: -2^(bits-1), or 0.
  [[nodiscard]] constexpr std::int64_t raw_min() const noexcept {
    return is_signed ? -(std::int64_t{1} << (bits - 1)) : 0;
  }
  /// The largest raw value: 2^(bits-1) - 1, or 2^bits - 1.
  [[nodiscard]] constexpr std::int64_t raw_max() const noexcept {
    return (std::int64_t{1} << (is_signed ? bits - 1 : bits)) - 1;
  }
  /// One unit of the last place, 2^-frac.
  [[nodiscard]] constexpr double step() const noexcept {
    double s = 1.0;
    for (int i = 0; i < (frac < 0 ? -frac : frac); ++i) s = frac < 0 ? s * 2.0 : s * 0.5;
    return s;
  }
  /// Whether the format is one fxp's run-time kernels take.
  [[nodiscard]] constexpr bool valid() const noexcept {
    return (is_signed ? bits >= 2 && bits <= 32 : bits >= 1 && bits <= 31) && frac >= -max_frac &&
           frac <= max_frac;
  }
  /// \throws std::invalid_argument naming `who`, the format and the allowed range
  void validate(const char* who) const {
    if (!valid()) {
      throw std::invalid_argument(std::string(who) + ": format " + to_string() +
                                  " is out of range (signed: 2..32 bits, unsigned: 1..31 bits, "
                                  "fractional bits -64..64)");
    }
  }

  /// The run-time twin of a compile-time format.
  template <fixed_point T>
  [[nodiscard]] static constexpr dynamic_format of() noexcept {
    return {T::width, T::fraction_bits, T::is_signed};
  }

  /// "s16.8" (signed, 16 bits, 8 fractional) or "u8.4".
  [[nodiscard]] std::string to_string() const {
    return (is_signed ? "s" : "u") + std::to_string(bits) + "." + std::to_string(frac);
  }
  /// The format spelled as to_string() does ("s16.8", "u8.-2").
  /// \throws std::invalid_argument saying what was expected
  [[nodiscard]] static dynamic_format parse(std::string_view text) {
    const auto fail = [&](const char* why) {
      return std::invalid_argument("fxp::dynamic_format::parse: '" + std::string(text) +
                                   "': " + why + " (expected s<bits>.<frac> or u<bits>.<frac>, "
                                   "e.g. s16.8)");
    };
    if (text.size() < 4 || (text[0] != 's' && text[0] != 'u')) throw fail("no s/u prefix");
    dynamic_format f{0, 0, text[0] == 's'};
    const char* end = text.data() + text.size();
    auto [dot, e1] = std::from_chars(text.data() + 1, end, f.bits);
    if (e1 != std::errc{} || dot == end || *dot != '.') throw fail("bad bit count");
    auto [last, e2] = std::from_chars(dot + 1, end, f.frac);
    if (e2 != std::errc{} || last != end) throw fail("bad fractional bit count");
    f.validate("fxp::dynamic_format::parse");
    return f;
  }

  friend constexpr bool operator==(const dynamic_format&, const dynamic_format&) = default;
};

namespace detail {

/// What v / 2^shift discards (v an exact integer held in Int, 1 <= shift < bits of Int),
/// through the predicates the rounding policies read, so a run-time shift rounds by the
/// compile-time rules.
template <class Int, class UInt>
struct shifted_discarded {
  Int v;
  int shift;

  [[nodiscard]] constexpr UInt low() const noexcept {
    return static_cast<UInt>(v) & ((static_cast<UInt>(1) << shift) - 1);
  }
  [[nodiscard]] constexpr UInt half() const noexcept { return static_cast<UInt>(1) << (shift - 1); }
  [[nodiscard]] constexpr bool negative() const noexcept { return v < 0; }
  [[nodiscard]] constexpr bool odd() const noexcept { return ((v >> shift) & 1) != 0; }
  [[nodiscard]] constexpr bool exact() const noexcept { return low() == 0; }
  [[nodiscard]] constexpr bool at_least_half() const noexcept { return low() >= half(); }
  [[nodiscard]] constexpr bool above_half() const noexcept { return low() > half(); }
  [[nodiscard]] constexpr bool tie() const noexcept { return low() == half(); }
  [[nodiscard]] constexpr std::uint32_t fraction32() const noexcept {
    return static_cast<std::uint32_t>(shift <= 32 ? low() << (32 - shift) : low() >> (shift - 32));
  }
};

/// floor(v / 2^shift) plus the policy's decision, in Int.
template <rounding_policy Round, class Int, class UInt>
[[nodiscard, gnu::always_inline]] constexpr Int round_down_or_up(Int v, int shift,
                                                                 std::uint32_t word) noexcept {
  const shifted_discarded<Int, UInt> d{v, shift};
  bool up;
  if constexpr (deterministic_rounding<Round>) {
    up = Round::round_up(d);
    (void)word;
  } else {
    up = Round::round_up(d, word);
  }
  return static_cast<Int>((v >> shift) + (up ? 1 : 0));
}

/// round(v * 2^-shift) by policy Round for an exact integer v (|v| < 2^63) and any shift:
/// a left shift when shift <= 0 (the caller bounds the result: beyond 64 bits it keeps only
/// the sign and that the value is out of every run-time format's range), else the policy's
/// choice between floor and floor + 1; `word` is the element's random word (random
/// policies). Shifts up to 62 work in 64 bits; larger ones in 128, where every predicate of
/// v / 2^s is the same for all s >= 95 (v / 2^s is below 2^-32: the top 32 fraction bits
/// are all zero, or all one below zero), so larger shifts are clamped to 96.
template <rounding_policy Round>
[[nodiscard]] constexpr int128 round_shifted(std::int64_t v, int shift,
                                             std::uint32_t word) noexcept {
  if (shift <= 0) {
    return static_cast<int128>(v) * (static_cast<int128>(1) << (-shift < 64 ? -shift : 64));
  }
  if (shift <= 62) return round_down_or_up<Round, std::int64_t, std::uint64_t>(v, shift, word);
  return round_down_or_up<Round, int128, uint128>(v, shift < 96 ? shift : 96, word);
}

}  // namespace detail

}  // namespace fxp
