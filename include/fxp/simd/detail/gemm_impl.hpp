// SPDX-License-Identifier: MIT
#pragma once
// The format-specific halves of a GEMM, handed to the driver (gemm_driver.hpp) as function
// pointers: packing an operand through its lane layout, and storing finished tiles into C
// (one rounding per element for fixed point, a copy for float).

#include <algorithm>    // std::clamp
#include <cstddef>      // std::size_t
#include <cstdint>      // lanes, sums, counters, INT32_MIN
#include <type_traits>  // std::is_same_v selecting the register fast path

#include "../../core/detail/raw_array.hpp"
#include "../../core/random.hpp"
#include "../lanes.hpp"
#include "../narrow.hpp"
#include "gemm_pack.hpp"
#include "isa_namespace.hpp"
#include "memory.hpp"
#include "gemm_round.hpp"

namespace fxp::simd::detail {
FXP_BEGIN_ISA_NAMESPACE

/// A stored operand seen as lines (rows of op(A), or columns of op(B)) along the reduction:
/// element (line, kk) is data[line * line_stride + kk * k_stride].
template <class X>
struct operand_view {
  const X* data;
  std::size_t line_stride;
  std::size_t k_stride;
};

/// Lane layout of float operands: the value itself.
struct float_layout {
  static constexpr std::size_t parts = 1;
  [[nodiscard]] static float convert(float x, std::size_t) noexcept { return x; }
};

/// Lane layout of fixed-point operands wider than 16 bits: the raw value in int64.
template <class X>
struct int64_layout {
  static constexpr std::size_t parts = 1;
  [[nodiscard]] static std::int64_t convert(const X& x, std::size_t) noexcept {
    return static_cast<std::int64_t>(x.raw());
  }
};

/// Whether packing X through Layout has a register form: raw values of 8 or 16 bits (and
/// nothing else in the object), used whole (so a 16-bit raw value is below 2^15) or, 16-bit
/// ones, split into bytes.
template <class Layout, class X, class Packed>
inline constexpr bool register_packing = [] {
  if constexpr (std::is_same_v<Packed, std::int16_t> && !std::is_same_v<X, float>) {
    using raw = typename X::raw_type;
    constexpr bool bytes = std::is_same_v<raw, std::int8_t> || std::is_same_v<raw, std::uint8_t>;
    constexpr bool halves = std::is_same_v<raw, std::int16_t> || std::is_same_v<raw, std::uint16_t>;
    return sizeof(X) == sizeof(raw) &&
           (Layout::parts == 1 ? bytes || halves : Layout::split && halves);
  } else {
    return false;
  }
}();

/// The driver's pack callback: one micro-panel of `Lines` lines, every part of the layout
/// one after the other.
template <std::size_t Lines, std::size_t KStep, class Layout, class X, class Packed>
void pack_operand(const void* context, std::size_t line0, std::size_t lines, std::size_t k0,
                  std::size_t kcur, std::size_t steps, Packed* dst) {
  const auto& view = *static_cast<const operand_view<X>*>(context);
  const X* src = view.data + line0 * view.line_stride + k0 * view.k_stride;
  const std::size_t part_size = steps * Lines * KStep;
  std::size_t done = 0;
#if defined(FXP_HAVE_TARGET_REGIONS)
  if constexpr (register_packing<Layout, X, Packed> && KStep == 2) {
    // Pairs of k are the x86 kernels' layout, so AVX2 is there. Leading steps in whole
    // registers, the rest (and the zero padding) below.
    const auto* bytes = reinterpret_cast<const unsigned char*>(src);
    const auto pack = [&]<lane_part Part>(std::size_t p) {
      return avx2::pack_pairs_x86<Lines, typename X::raw_type, Part>(
          bytes, view.line_stride, view.k_stride, lines, kcur, dst + p * part_size);
    };
    if constexpr (Layout::parts == 1) {
      done = pack.template operator()<lane_part::whole>(0);
    } else {
      done = pack.template operator()<lane_part::high_byte>(0);
      (void)pack.template operator()<lane_part::low_byte>(1);  // the same steps
    }
    if (done == steps) return;  // the padding included
  }
#endif
  src += done * KStep * view.k_stride;
  for (std::size_t p = 0; p < Layout::parts; ++p) {
    pack_panel<Lines, KStep>(src, view.line_stride, view.k_stride, lines, kcur - done * KStep,
                             steps - done, dst + p * part_size + done * Lines * KStep,
                             [p](const X& x) { return Layout::convert(x, p); });
  }
}

/// Where C lives, and the counters of its elements for stochastic rounding: C(i, j) is
/// c[i * ldc + j] and draws word first + i * n + j under key.
template <class C>
struct output_view {
  C* c;
  std::size_t ldc;
  random_key key;
  std::uint64_t first;
  std::size_t n;
};

/// int32 sums whose rounding into C has a lane form: the rounding is then requantize_lanes
/// from the 32-bit format of the sums, the very lane code of fxp::requantize (bit-identical
/// to the core, tested there), a batch of sums at a time.
template <class C, class Round, class Sum, class T>
concept lane_rounded_sums =
    std::is_same_v<T, std::int32_t> && simd_arch<default_arch> && lane_target<C, Round, default_arch>;

/// int64 sums (16-bit operands, long reductions) rounded by a right shift into a format that
/// int32 lanes hold: the lane rounding of requantize_lanes from the parts of each sum.
template <class C, class Round, class Sum, class T>
concept lane_rounded_wide_sums =
    std::is_same_v<T, std::int64_t> && simd_arch<default_arch> &&
    lane_target<C, Round, default_arch> && (C::width < 32 || C::is_signed) &&
    Sum::fraction_bits - C::fraction_bits >= 1 && Sum::fraction_bits - C::fraction_bits <= 62;

/// One batch of int32 sums rounded into C: the sums are raw values of a 32-bit format with
/// Sum's fractional bits, so this is requantize_lanes itself.
template <class C, class Round, class Sum>
[[nodiscard, gnu::always_inline]] inline narrowed_lanes<default_arch> round_batch(
    const std::int32_t* sums, const word_lanes<default_arch>& word) {
  using sum32 = fixed<32 - Sum::fraction_bits, Sum::fraction_bits>;
  const auto raw = word_lanes<default_arch>::load_unaligned(reinterpret_cast<const std::uint32_t*>(sums));
  return requantize_lanes<C, Round, sum32, default_arch>(raw, word);
}

/// The deterministic policies whose rounding of v / 2^s is floor((v + bias) / 2^s) for a
/// bias that depends on v alone (below): one add before the shift.
template <class Round>
inline constexpr bool biased_floor_rounding =
    std::is_same_v<Round, fxp::truncate> || std::is_same_v<Round, fxp::nearest> ||
    std::is_same_v<Round, fxp::nearest_even> || std::is_same_v<Round, fxp::toward_zero>;

/// The bias of biased_floor_rounding. With v = f 2^s + r, 0 <= r < 2^s, floor((v + b) / 2^s)
/// is f + 1 exactly when r + b >= 2^s (b < 2^s): truncate b = 0 never; nearest (ties up)
/// b = 2^(s-1) when r >= 2^(s-1); toward_zero b = 2^s - 1 when v < 0 and r > 0;
/// nearest_even b = 2^(s-1) - 1 + (f & 1) when r > 2^(s-1), or r = 2^(s-1) and f is odd.
template <class Round, int Shift>
[[nodiscard]] constexpr std::int64_t rounding_bias(std::int64_t v) noexcept {
  constexpr std::int64_t half = std::int64_t{1} << (Shift - 1);
  if constexpr (std::is_same_v<Round, fxp::nearest>) {
    return half;
  } else if constexpr (std::is_same_v<Round, fxp::nearest_even>) {
    return half - 1 + ((v >> Shift) & 1);
  } else if constexpr (std::is_same_v<Round, fxp::toward_zero>) {
    return v < 0 ? 2 * half - 1 : 0;
  } else {
    return 0;
  }
}

/// One batch of int64 sums rounded into C, in 64-bit scalar code (loops compilers
/// vectorize), then C's overflow policy on 32-bit lanes as in requantize_lanes: the rounded
/// value modulo 2^32, its sign, and whether it leaves the int32 range (an overflow for every
/// C these lanes serve; wrap still gets the right low bits).
/// A biased_floor_rounding policy rounds in 64 bits (|v| <= 2^61 and bias < 2^62, so
/// v + bias cannot overflow). The others, stochastic among them, take each sum apart into
/// floor(v / 2^s), the top 32 discarded bits and a sticky bit, and round on 32-bit lanes as
/// requantize_lanes does.
template <class C, class Round, class Sum>
[[nodiscard, gnu::always_inline]] inline narrowed_lanes<default_arch> round_batch(
    const std::int64_t* sums, const word_lanes<default_arch>& word) {
  using arch = default_arch;
  using words_t = word_lanes<arch>;
  using mask = mask_lanes<arch>;
  constexpr int shift = Sum::fraction_bits - C::fraction_bits;
  constexpr std::size_t lanes = lane_count<arch>;
  using overflow_policy = typename C::overflow_policy;
  constexpr bool biased = biased_floor_rounding<Round> && Sum::width <= 62;
  const auto rounded = [](std::int64_t v) {
    return (v + rounding_bias<Round, shift>(v)) >> shift;
  };
  if constexpr (biased && ordered_overflow<overflow_policy, C, arch> &&
                (C::width < 32 || !overflow_lanes<overflow_policy>::throws)) {
    // Clamped into int32, a value is exact or beyond C's bound on its own side, which is
    // all that saturation, or a check of a format narrower than 32 bits, needs.
    alignas(64) std::uint32_t clamped[lanes];
    for (std::size_t l = 0; l < lanes; ++l) {
      clamped[l] = static_cast<std::uint32_t>(static_cast<std::int32_t>(
          std::clamp<std::int64_t>(rounded(sums[l]), INT32_MIN, INT32_MAX)));
    }
    return fit_ordered<C, arch>(words_t::load_aligned(clamped), native{});
  } else if constexpr (biased) {
    alignas(64) std::uint32_t low[lanes], negative[lanes], wide[lanes];
    for (std::size_t l = 0; l < lanes; ++l) {
      const std::int64_t q = rounded(sums[l]);
      low[l] = static_cast<std::uint32_t>(q);
      negative[l] = q < 0 ? ~0u : 0u;
      wide[l] = q < INT32_MIN || q > INT32_MAX ? ~0u : 0u;
    }
    return fit<C, false, arch>(words_t::load_aligned(low), mask(true),
                               words_t::load_aligned(wide) != 0u,
                               words_t::load_aligned(negative) != 0u, mask(false), native{});
  }
  alignas(64) std::uint32_t floor[lanes], fraction[lanes], sticky[lanes], negative[lanes],
      wide[lanes];
  for (std::size_t l = 0; l < lanes; ++l) {
    const std::int64_t v = sums[l];
    const std::int64_t f = v >> shift;
    const std::uint64_t low = static_cast<std::uint64_t>(v) << (64 - shift);
    floor[l] = static_cast<std::uint32_t>(f);
    fraction[l] = static_cast<std::uint32_t>(low >> 32);
    sticky[l] = static_cast<std::uint32_t>(low) != 0 ? ~0u : 0u;
    negative[l] = v < 0 ? ~0u : 0u;
    wide[l] = f < INT32_MIN || f > INT32_MAX ? ~0u : 0u;
  }
  const words_t fl = words_t::load_aligned(floor);
  const mask is_negative = words_t::load_aligned(negative) != 0u;
  const discarded_lanes<arch> d(is_negative, (fl & 1u) != 0u, words_t::load_aligned(fraction),
                                words_t::load_aligned(sticky) != 0u);
  const words_t q = increment_where<arch>(fl, round_up<Round, arch, native>(d, word), native{});
  return fit<C, false, arch>(q, mask(true), words_t::load_aligned(wide) != 0u, is_negative,
                             mask(false), native{});
}

/// Rounds sums[0 .. cols) into dst a batch at a time, as far as whole batches go; a batch
/// with an element the core would throw on goes to `scalar` (which throws as the core
/// does). Returns the number of elements done.
template <class C, class Round, class Sum, class T, class Scalar>
[[gnu::always_inline]] inline std::size_t round_lanes(const T* sums, const std::uint32_t* words,
                                                      C* dst, std::size_t cols,
                                                      const Scalar& scalar) {
  using words_t = word_lanes<default_arch>;
  constexpr std::size_t lanes = lane_count<default_arch>;
  std::size_t j = 0;
  for (; j + lanes <= cols; j += lanes) {
    const words_t word = words != nullptr ? words_t::load_unaligned(words + j) : words_t(0u);
    const narrowed_lanes<default_arch> q = round_batch<C, Round, Sum>(sums + j, word);
    if (xsimd::any(q.fallback)) {
      scalar(j, j + lanes);
      continue;
    }
    store_lanes<default_arch>(fxp::detail::raw_pointer(dst + j), q.raw, native{});
  }
  return j;
}

/// dst[0 .. count) = the exact sums[0 .. count) (raw values of Sum, held in T) rounded into
/// C by Round and C's overflow policy; words[j] is element j's random word (null for a
/// deterministic policy). Whole batches on lanes where the formats allow, the rest (and a
/// batch holding an element that throws) one by one.
template <class C, class Round, class Sum, class T>
[[gnu::always_inline]] inline void round_row(const T* sums, const std::uint32_t* words, C* dst,
                                             std::size_t count) {
  using rounding = sum_rounding<C, Round, Sum, T>;
  const auto scalar = [&](std::size_t begin, std::size_t end) {
    for (std::size_t j = begin; j < end; ++j) {
      dst[j] = C::from_raw(rounding::apply(sums[j], words != nullptr ? words[j] : 0));
    }
  };
  std::size_t j = 0;
  if constexpr (lane_rounded_sums<C, Round, Sum, T> || lane_rounded_wide_sums<C, Round, Sum, T>) {
    j = round_lanes<C, Round, Sum>(sums, words, dst, count, scalar);
  }
  scalar(j, count);
}

/// The driver's store callback for fixed point: each exact sum (raw units of format Sum,
/// held in T) rounded into C by Round and C's overflow policy.
template <class C, class Round, class Sum, std::size_t MR, std::size_t NR, class T>
void store_rounded(const void* context, std::size_t i0, std::size_t j0, std::size_t rows,
                   std::size_t cols, const T* tile) {
  using rounding = sum_rounding<C, Round, Sum, T>;
  const auto& out = *static_cast<const output_view<C>*>(context);
  // A random policy: the Philox blocks of every row of the tile in one batch.
  constexpr std::size_t max_blocks = MR * (NR / philox::words_per_block + 1);
  [[maybe_unused]] std::uint64_t ids[rounding::needs_word ? max_blocks : 1] = {};
  [[maybe_unused]] std::uint32_t words[rounding::needs_word ? 4 * max_blocks : 1];
  if constexpr (rounding::needs_word) {
    std::size_t count = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      const std::uint64_t first = out.first + (i0 + r) * out.n + j0;
      for (std::uint64_t b = first / philox::words_per_block;
           b <= (first + cols - 1) / philox::words_per_block; ++b) {
        ids[count++] = b;
      }
    }
    philox_blocks(out.key, ids, count, words);
  }
  std::size_t row_block = 0;  // the first block of row r in `words`
  for (std::size_t r = 0; r < rows; ++r) {
    C* dst = out.c + (i0 + r) * out.ldc + j0;
    const T* sums = tile + r * NR;
    const std::uint32_t* row_words = nullptr;
    if constexpr (rounding::needs_word) {
      const std::uint64_t first = out.first + (i0 + r) * out.n + j0;
      row_words = words + row_block * philox::words_per_block + first % philox::words_per_block;
      row_block += static_cast<std::size_t>((first + cols - 1) / philox::words_per_block -
                                            first / philox::words_per_block + 1);
    }
    round_row<C, Round, Sum>(sums, row_words, dst, cols);
  }
}

/// The driver's store callback for float: a copy.
template <std::size_t NR>
void store_float(const void* context, std::size_t i0, std::size_t j0, std::size_t rows,
                 std::size_t cols, const float* tile) {
  const auto& out = *static_cast<const output_view<float>*>(context);
  for (std::size_t r = 0; r < rows; ++r) {
    float* dst = out.c + (i0 + r) * out.ldc + j0;
    for (std::size_t j = 0; j < cols; ++j) dst[j] = tile[r * NR + j];
  }
}

// Cache blocking. Integer kernels: a kc x nr micro-panel of B (16-32 KiB of int16) stays in
// L1 and an mc x kc block of A in L2. Float: kc x nr floats (16-32 KiB) in L1.
inline constexpr std::size_t int16_kc = 512;
inline constexpr std::size_t int16_mc = 128;
inline constexpr std::size_t int16_nc = 512;
inline constexpr std::size_t float_kc = 256;
inline constexpr std::size_t float_mc = 96;
inline constexpr std::size_t float_nc = 512;
inline constexpr std::size_t int64_kc = 256;
inline constexpr std::size_t int64_mc = 64;
inline constexpr std::size_t int64_nc = 256;

FXP_END_ISA_NAMESPACE
}  // namespace fxp::simd::detail
