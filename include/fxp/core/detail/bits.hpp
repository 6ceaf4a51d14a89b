// SPDX-License-Identifier: MIT
#pragma once
// Integer plumbing shared by the core: storage selection, 128-bit intermediates and shifts
// that are defined for every shift count.

#include <bit>          // bit_cast: build and take apart IEEE doubles in constant expressions
#include <cstdint>      // fixed-width raw storage types
#include <type_traits>  // conditional_t, make_unsigned_t for storage selection

namespace fxp::detail {

// Exact intermediates for 64-bit formats need 128 bits; both g++ and clang provide them.
__extension__ using int128 = __int128;
__extension__ using uint128 = unsigned __int128;

/// The smallest standard integer of at least `Width` bits (the sign bit included).
template <int Width, bool Signed>
using storage_t = std::conditional_t<
    (Width <= 8), std::conditional_t<Signed, std::int8_t, std::uint8_t>,
    std::conditional_t<(Width <= 16), std::conditional_t<Signed, std::int16_t, std::uint16_t>,
    std::conditional_t<(Width <= 32), std::conditional_t<Signed, std::int32_t, std::uint32_t>,
    std::conditional_t<Signed, std::int64_t, std::uint64_t>>>>;

/// The intermediate used to compute on raw values of `Bits` bits with two bits of headroom
/// (one for a rounding increment, one for the sign of an unsigned operand).
template <int Bits>
using wide_t = std::conditional_t<(Bits <= 62), std::int64_t, int128>;

/// The unsigned twin of a raw or intermediate integer (std::make_unsigned rejects __int128
/// outside the GNU dialects).
template <class Int>
struct unsigned_of : std::make_unsigned<Int> {};
template <>
struct unsigned_of<int128> {
  using type = uint128;
};
template <class Int>
using unsigned_t = typename unsigned_of<Int>::type;

template <class Int>
inline constexpr int bit_width_v = static_cast<int>(sizeof(Int) * 8);

/// floor(v / 2^k) for every k >= 0 (a plain >> is undefined once k reaches the width).
template <class Int>
[[nodiscard]] constexpr Int shift_floor(Int v, int k) noexcept {
  if (k >= bit_width_v<Int>) return v < 0 ? Int(-1) : Int(0);
  return static_cast<Int>(v >> k);
}

/// v * 2^k for 0 <= k, computed in the unsigned twin so that a product that does not fit
/// wraps modulo 2^width instead of being undefined; callers check the range first.
template <class Int>
[[nodiscard]] constexpr Int shift_left(Int v, int k) noexcept {
  if (k >= bit_width_v<Int>) return Int(0);
  return static_cast<Int>(static_cast<unsigned_t<Int>>(v) << k);
}

/// Whether any bit of v below bit k is set (k >= 0).
template <class Int>
[[nodiscard]] constexpr bool has_bits_below(Int v, int k) noexcept {
  if (k <= 0) return false;
  if (k >= bit_width_v<Int>) return v != 0;
  return shift_left(v, bit_width_v<Int> - k) != 0;
}

/// The low 64 bits of v, i.e. v modulo 2^64.
template <class Int>
[[nodiscard]] constexpr std::uint64_t low64(Int v) noexcept {
  return static_cast<std::uint64_t>(v);
}

/// 2^e as a double, exactly, for -1022 <= e <= 1023.
[[nodiscard]] constexpr double pow2(int e) noexcept {
  // ldexp is not constexpr; the biased exponent field is.
  return std::bit_cast<double>(static_cast<std::uint64_t>(1023 + e) << 52);
}

/// Whether raw * 2^-F, raw an integer of W bits, is correctly rounded to float by float
/// arithmetic alone — static_cast<float>(raw) * float(2^-F), the form SIMD lanes take. The
/// scale must be a float (2^-149 to 2^127, subnormal scales included). Then a raw value
/// below 2^24 is exact and the one multiplication rounds once; a larger one (W <= 32)
/// rounds on conversion, and scaling it stays exact, its result being at least
/// 2^(24 - 149), a normal float.
[[nodiscard]] constexpr bool float_scaling_is_exact(int width, int frac) noexcept {
  return width <= 32 && frac >= -127 && frac <= 149;
}

/// The integer v as a double rounded to odd (truncated, the last bit set when bits were
/// lost): a float rounded from it is v correctly rounded (53 >= 24 + 2 bits), which a double
/// rounded to nearest would not guarantee. Exact when |v| < 2^53.
template <class Int>
[[nodiscard]] constexpr double to_double_rounded_to_odd(Int v) noexcept {
  using UInt = std::make_unsigned_t<Int>;
  bool negative = false;
  if constexpr (std::is_signed_v<Int>) negative = v < 0;
  UInt magnitude = static_cast<UInt>(v);
  if (negative) magnitude = static_cast<UInt>(UInt{0} - magnitude);
  int scale = 0;
  if constexpr (bit_width_v<UInt> > 53) {  // narrower integers are exact in double
    if (const int extra = static_cast<int>(std::bit_width(magnitude)) - 53; extra > 0) {
      const bool lost = (magnitude & ((UInt{1} << extra) - 1)) != 0;
      magnitude = static_cast<UInt>((magnitude >> extra) | (lost ? UInt{1} : UInt{0}));
      scale = extra;
    }
  }
  const double r = static_cast<double>(magnitude) * pow2(scale);
  return negative ? -r : r;
}

}  // namespace fxp::detail
