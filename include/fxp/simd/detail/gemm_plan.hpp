// SPDX-License-Identifier: MIT
#pragma once
// Compile-time planning of a fixed-point GEMM: the exact-sum format and its accumulator, and
// how the operands are laid out in 16-bit lanes for the multiply-add micro-kernels (whole,
// or split into a high and a low byte when a 16-bit product would overflow the kernel's
// 32-bit partial sums too soon).

#include <algorithm>  // std::min, std::max over bounds
#include <cstddef>    // std::size_t reduction lengths
#include <cstdint>    // int32 / int64 accumulators, int16 lanes
#include <limits>     // the accumulators' ranges
#include <type_traits>  // std::conditional_t for the accumulator

#include "../../core/arithmetic.hpp"
#include "../../core/fixed.hpp"
#include "isa_namespace.hpp"

namespace fxp::simd::detail {
FXP_BEGIN_ISA_NAMESPACE

using fxp::detail::int128;

/// The default bound on the reduction length K of a GEMM (a template argument of fxp::gemm).
inline constexpr std::size_t default_max_k = std::size_t{1} << 20;

/// ceil(log2(n)) for n >= 1 (0 for n = 1).
[[nodiscard]] constexpr int ceil_log2(std::size_t n) noexcept {
  int bits = 0;
  while (bits < 64 && (std::size_t{1} << bits) < n) ++bits;
  return bits;
}

/// The closed range of values of a raw operand (or of one byte of it).
struct raw_range {
  int128 lo;
  int128 hi;
};

template <class X>
[[nodiscard]] constexpr raw_range range_of() noexcept {
  return {static_cast<int128>(X::raw_min), static_cast<int128>(X::raw_max)};
}

/// The range of x * y for x in a and y in b (the extremes are at the corners).
[[nodiscard]] constexpr raw_range product_range(raw_range a, raw_range b) noexcept {
  const int128 corners[] = {a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi};
  raw_range r{corners[0], corners[0]};
  for (const int128 c : corners) {
    r.lo = std::min(r.lo, c);
    r.hi = std::max(r.hi, c);
  }
  return r;
}

/// The largest number of terms of range `term` whose every partial sum lies in [lo, hi]
/// (capped at 2^62, "unbounded").
[[nodiscard]] constexpr std::size_t max_terms(raw_range term, int128 lo, int128 hi) noexcept {
  constexpr int128 unbounded = int128{1} << 62;
  int128 n = unbounded;
  if (term.hi > 0) n = std::min(n, hi / term.hi);
  if (term.lo < 0) n = std::min(n, lo / term.lo);
  return static_cast<std::size_t>(n);
}

template <class Int>
inline constexpr int128 min_of = static_cast<int128>(std::numeric_limits<Int>::min());
template <class Int>
inline constexpr int128 max_of = static_cast<int128>(std::numeric_limits<Int>::max());

/// Whether every sum of up to MaxK products of A and B fits an int32 / an int64.
template <class A, class B, std::size_t MaxK>
inline constexpr bool sum_fits_int32 =
    max_terms(product_range(range_of<A>(), range_of<B>()), min_of<std::int32_t>,
              max_of<std::int32_t>) >= MaxK;
template <class A, class B, std::size_t MaxK>
inline constexpr bool sum_fits_int64 =
    max_terms(product_range(range_of<A>(), range_of<B>()), min_of<std::int64_t>,
              max_of<std::int64_t>) >= MaxK;

template <class A, class B, std::size_t MaxK>
constexpr bool check_accumulator() {
  static_assert(MaxK >= 1, "fxp::gemm: MaxK (the largest reduction length) must be at least 1");
  static_assert(sum_fits_int64<A, B, MaxK>,
                "fxp::gemm: a sum of MaxK products of these operand formats can exceed 64 bits; "
                "lower the MaxK template argument or narrow the operands");
  return true;
}

/// The accumulator of an exact sum of up to MaxK products of A and B: int32 when every such
/// sum fits, else int64.
template <fixed_point A, fixed_point B, std::size_t MaxK>
  requires(check_accumulator<A, B, MaxK>())
using accumulator_t =
    std::conditional_t<sum_fits_int32<A, B, MaxK>, std::int32_t, std::int64_t>;

template <int Width>
constexpr bool check_sum_width() {
  static_assert(Width <= 64,
                "fxp::gemm_sum_t: the product format widened by ceil(log2(MaxK)) integer bits "
                "exceeds 64 bits; lower MaxK or narrow the operands");
  return true;
}

/// The exact format of a sum of up to MaxK products: the product format result_t<op::mul,
/// A, B> with ceil(log2(MaxK)) more integer bits (and its policies).
template <fixed_point A, fixed_point B, std::size_t MaxK>
struct sum_format {
  using product = result_t<op::mul, A, B>;
  static constexpr int extra_bits = ceil_log2(MaxK);
  static_assert(check_sum_width<product::width + extra_bits>());
  using type = basic_fixed<product::integer_bits + extra_bits, product::fraction_bits,
                           product::is_signed, typename product::rounding_policy,
                           typename product::overflow_policy>;
};

// ---------------------------------------------------------------------------------------
// 16-bit lanes

/// How an operand of W <= 16 bits sits in int16 lanes: whole (its raw value), or split into
/// a high byte (signed like the operand, weight 2^8) and a low byte (0..255, weight 1).
template <class X, bool Split>
struct lane_layout {
  static constexpr std::size_t parts = Split ? 2 : 1;
  static constexpr bool split = Split;

  /// Part p of a raw value (part 0 is the high byte when split).
  [[nodiscard]] static constexpr std::int16_t part(typename X::raw_type raw,
                                                   std::size_t p) noexcept {
    if constexpr (Split) {
      const auto wide = static_cast<std::int32_t>(raw);
      return static_cast<std::int16_t>(p == 0 ? (wide >> 8) : (wide & 0xFF));
    } else {
      (void)p;
      return static_cast<std::int16_t>(raw);
    }
  }
  /// Part p of a value, for the packing.
  [[nodiscard]] static constexpr std::int16_t convert(const X& x, std::size_t p) noexcept {
    return part(x.raw(), p);
  }
  /// The weight of part p, as a power of two.
  [[nodiscard]] static constexpr int shift(std::size_t p) noexcept {
    return Split && p == 0 ? 8 : 0;
  }
  [[nodiscard]] static constexpr raw_range range(std::size_t p) noexcept {
    if constexpr (Split) {
      if (p == 0) return {range_of<X>().lo >> 8, range_of<X>().hi >> 8};
      return {0, std::min<int128>(255, range_of<X>().hi)};
    } else {
      (void)p;
      return range_of<X>();
    }
  }
};

/// Whether a format's raw values fit int16 lanes whole / after a byte split.
template <class X>
inline constexpr bool fits_int16 = X::width <= (X::is_signed ? 16 : 15);
template <class X>
inline constexpr bool fits_int16_split = X::width <= 16;

/// The longest run of products (an even count, for the kernels' k pairs) whose int32
/// partial sums cannot overflow, for every combination of parts.
template <class LayoutA, class LayoutB>
[[nodiscard]] constexpr std::size_t int32_chunk() noexcept {
  std::size_t chunk = std::size_t{1} << 62;
  for (std::size_t pa = 0; pa < LayoutA::parts; ++pa) {
    for (std::size_t pb = 0; pb < LayoutB::parts; ++pb) {
      chunk = std::min(chunk, max_terms(product_range(LayoutA::range(pa), LayoutB::range(pb)),
                                        min_of<std::int32_t>, max_of<std::int32_t>));
    }
  }
  return chunk & ~std::size_t{1};
}

// Below this many products per int32 run, splitting an operand (twice the multiply-adds) is
// cheaper than widening the partial sums that often.
inline constexpr std::size_t min_chunk = 32;

/// Whether A and B go through the int16 multiply-add kernels, and how.
template <class A, class B>
struct int16_plan {
  static constexpr bool usable = fits_int16_split<A> && fits_int16_split<B>;

 private:
  static constexpr bool must_split_a = !fits_int16<A>;
  static constexpr bool must_split_b = !fits_int16<B>;
  static constexpr bool short_chunk =
      int32_chunk<lane_layout<A, must_split_a>, lane_layout<B, must_split_b>>() < min_chunk;
  // Split the wider operand (A on a tie) when the chunk is short; a byte split leaves
  // products of at most 8 x 16 bits, whose chunk is long enough.
  static constexpr bool prefer_a = A::width >= B::width ? !must_split_a : must_split_b;

 public:
  static constexpr bool split_a = must_split_a || (short_chunk && prefer_a);
  static constexpr bool split_b = must_split_b || (short_chunk && !prefer_a);
  using layout_a = lane_layout<A, split_a>;
  using layout_b = lane_layout<B, split_b>;
  /// Products per int32 run of the kernels.
  static constexpr std::size_t chunk = int32_chunk<layout_a, layout_b>();
  static_assert(!usable || chunk >= 2);
};

/// The largest magnitude among the raw values of `outer` rows of `inner` elements of a
/// format of at most 16 bits (rows `stride` elements apart), at least 0. Blocks of a fixed
/// length, which the compiler vectorizes at -O2 too.
template <class X>
[[nodiscard]] std::int32_t max_magnitude(const X* x, std::size_t outer, std::size_t inner,
                                         std::size_t stride) noexcept {
  static_assert(X::width <= 16, "max_magnitude: raw values of at most 16 bits");
  using raw = typename X::raw_type;
  constexpr std::size_t block = 32;
  raw lo[block] = {};  // zero lies in every range: a harmless start
  raw hi[block] = {};
  for (std::size_t o = 0; o < outer; ++o) {
    const X* row = x + o * stride;
    std::size_t j = 0;
    for (; j + block <= inner; j += block) {
      for (std::size_t t = 0; t < block; ++t) {
        const raw v = row[j + t].raw();
        lo[t] = v < lo[t] ? v : lo[t];
        hi[t] = v > hi[t] ? v : hi[t];
      }
    }
    for (std::size_t t = 0; j < inner; ++j, ++t) {
      const raw v = row[j].raw();
      lo[t] = v < lo[t] ? v : lo[t];
      hi[t] = v > hi[t] ? v : hi[t];
    }
  }
  std::int32_t most = 0;
  for (std::size_t t = 0; t < block; ++t) {
    most = std::max({most, -static_cast<std::int32_t>(lo[t]), static_cast<std::int32_t>(hi[t])});
  }
  return most;
}

/// Products per int32 run when A's raw values lie within [-a, a] and B's within [-b, b]
/// (an even count; 0 when either is not below 2^15, which int16 lanes cannot hold whole).
[[nodiscard]] constexpr std::size_t whole_lanes_chunk(std::int32_t a, std::int32_t b) noexcept {
  constexpr std::int32_t lane_max = std::numeric_limits<std::int16_t>::max();
  if (a > lane_max || b > lane_max) return 0;
  const raw_range product = product_range({-a, a}, {-b, b});
  return max_terms(product, min_of<std::int32_t>, max_of<std::int32_t>) & ~std::size_t{1};
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp::simd::detail
