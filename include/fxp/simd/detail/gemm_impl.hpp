// SPDX-License-Identifier: MIT
#pragma once
// The format-specific halves of a GEMM, handed to the driver (gemm_driver.hpp) as function
// pointers: packing an operand through its lane layout, and storing finished tiles into C
// (one rounding per element for fixed point, a copy for float).

#include <atomic>       // the clamp count of a run-time output
#include <cstddef>      // std::size_t
#include <cstdint>      // sums, counters
#include <limits>       // the 32-bit range of the run-time store's fast path
#include <type_traits>  // std::is_same_v selecting the register fast path

#include "../../core/dynamic_format.hpp"  // round_down_or_up of a run-time output
#include "../../core/random.hpp"
#include "gemm_kernels.hpp"  // the kernel tags, and the x86 sets compiled in
#include "gemm_pack.hpp"
#include "gemm_round.hpp"
#include "isa_namespace.hpp"
#include "target_region.hpp"

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

/// The integer type of a run-time output's raw values.
enum class raw_carrier : std::uint8_t { int8, uint8, int16, uint16, int32 };

/// Where a GEMM with a run-time output format stores: C(i, j), an element of the raw array
/// `c` (of type `carrier`, rows ldc apart), is the exact sum plus row_bias[i] (when given)
/// plus col_bias[j] (when given), all in units of 2^-(the products' fractional bits),
/// rounded with the run-time `shift` (1..62) by the GEMM's policy and clamped into [lo, hi];
/// the clamped elements are added to *clamped. A random policy draws word first + i * n + j
/// under key.
struct run_time_output {
  void* c;
  std::size_t ldc;
  raw_carrier carrier;
  random_key key;
  std::uint64_t first;
  std::size_t n;
  int shift;
  std::int64_t lo;
  std::int64_t hi;
  const std::int64_t* row_bias;
  const std::int64_t* col_bias;
  std::atomic<std::uint64_t>* clamped;
};

/// Where a GEMM adds its exact sums instead of storing them: C(i, j) is added to
/// sums[row_offset[i] + j * column_step]. Rows whose targets overlap accumulate (col2im
/// done by the store: see simd::detail::backward_data_sums).
struct offset_sums {
  std::int64_t* sums;
  const std::size_t* row_offset;
  std::size_t column_step;
};

// The store callbacks: the portable set's here, and each x86 set's in its own namespace and
// target region, like its tile kernels (gemm_kernels.hpp). A stochastic store draws its
// words from the SIMD Philox engine (philox.hpp), which runs at the flags' instruction set;
// in a build whose flags guarantee less than a region's set (one that dispatches), the
// region's store draws them instead through the core's block function in a plain loop,
// which the compiler vectorizes for the region: the same words, 1.7x faster on AVX-512
// than the engine's SSE2 lanes.
inline constexpr bool words_by_block_loop = false;
#include "gemm_store.inl"

FXP_END_ISA_NAMESPACE
#if defined(FXP_GEMM_HAVE_AVX2)
FXP_BEGIN_TARGET_REGION(FXP_AVX2_TARGETS)
namespace avx2 {
FXP_BEGIN_ISA_NAMESPACE
inline constexpr bool words_by_block_loop = std::is_same_v<native_isa, portable_isa>;
#include "gemm_store.inl"
FXP_END_ISA_NAMESPACE
}  // namespace avx2
FXP_END_TARGET_REGION
#endif
#if defined(FXP_GEMM_HAVE_AVX512)
FXP_BEGIN_TARGET_REGION(FXP_AVX512_TARGETS)
namespace avx512 {
FXP_BEGIN_ISA_NAMESPACE
inline constexpr bool words_by_block_loop = std::is_same_v<native_isa, portable_isa>;
#include "gemm_store.inl"
FXP_END_ISA_NAMESPACE
}  // namespace avx512
FXP_END_TARGET_REGION
#endif
FXP_BEGIN_ISA_NAMESPACE

/// The store callbacks compiled for the kernels of tag Isa (gemm_kernels.hpp).
template <class Isa>
struct store_of {
  using type = gemm_store;
};
#if defined(FXP_GEMM_HAVE_AVX2)
template <>
struct store_of<avx2_isa> {
  using type = avx2::gemm_store;
};
#endif
#if defined(FXP_GEMM_HAVE_AVX2_VNNI)
template <>
struct store_of<avx2_vnni_isa> {
  using type = avx2::gemm_store;
};
#endif
#if defined(FXP_GEMM_HAVE_AVX512)
template <>
struct store_of<avx512_isa> {
  using type = avx512::gemm_store;
};
#endif

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
