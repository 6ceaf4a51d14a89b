// SPDX-License-Identifier: MIT
#pragma once
// GEMM micro-kernels: an MR x NR tile of C from a packed micro-panel of A and one of B.
//
// Packed layouts (what gemm_pack.hpp writes): for each step s of the reduction,
//   A: MR lines of KStep values, a[s][r][t] = A(r, s * KStep + t)
//   B: NR lines of KStep values, b[s][c][t] = B(s * KStep + t, c)
// The x86 integer kernels take k in pairs (KStep = 2) of int16 and produce int32 sums,
// which is what vpmaddwd computes: a(r,2s) b(2s,c) + a(r,2s+1) b(2s+1,c) per 32-bit lane.
// The caller keeps every partial sum inside int32 (gemm_plan.hpp), so no kernel overflows.
// Float kernels and the portable kernels take k one at a time (KStep = 1).
//
// Each instruction set is a tag. The x86 kernels are compiled inside target regions
// (target_region.hpp), in a namespace per instruction set, so a build with the compiler's
// default flags has them all and fxp::gemm picks one at run time (simd/isa.hpp); what the
// flags guarantee is `native_isa`, which such a build runs without asking the processor.

#include <cstddef>  // std::size_t step counts
#include <cstdint>  // int16 lanes, int32 sums

#include "isa_namespace.hpp"
#include "target_region.hpp"
#if defined(FXP_HAVE_TARGET_REGIONS)
#include "x86_intrinsics.hpp"  // vector types, loads and stores around the asm
#endif

namespace fxp::simd::detail {
FXP_BEGIN_ISA_NAMESPACE

/// Plain C++ loops: any target; compilers vectorize them for what they target.
struct portable_isa {
  static constexpr const char* name = "portable";
};
/// AVX2: vpmaddwd + vpaddd on 256-bit registers; FMA for float.
struct avx2_isa {
  static constexpr const char* name = "avx2";
};
/// AVX2 with VNNI's vpdpwssd (AVX-VNNI or AVX512-VNNI + VL) on 256-bit registers.
struct avx2_vnni_isa {
  static constexpr const char* name = "avx2_vnni";
};
/// AVX-512 (BW + VNNI): vpdpwssd on 512-bit registers; FMA on 512-bit registers for float.
struct avx512_isa {
  static constexpr const char* name = "avx512";
};

// What the compiler's flags guarantee. Every AVX-512F processor has FMA, but g++'s
// -mavx512f does not imply -mfma (clang's does): AVX-512F counts as FMA here, else a g++
// build with -mavx512f -mavx512bw -mavx512vl -mavx512vnni would not count as AVX2.
#if defined(__x86_64__) && defined(__AVX2__) && (defined(__FMA__) || defined(__AVX512F__))
#define FXP_GEMM_NATIVE_AVX2 1
#endif
#if defined(FXP_GEMM_NATIVE_AVX2) && \
    (defined(__AVXVNNI__) || (defined(__AVX512VNNI__) && defined(__AVX512VL__)))
#define FXP_GEMM_NATIVE_AVX2_VNNI 1
#endif
#if defined(FXP_GEMM_NATIVE_AVX2) && defined(__AVX512F__) && defined(__AVX512BW__) && \
    defined(__AVX512VNNI__)
#define FXP_GEMM_NATIVE_AVX512 1
#endif

// What is compiled in: the x86 kernels (GNU inline asm, GCC and clang) whatever the flags,
// in target regions. vpdpwssd on 256-bit registers only where the flags guarantee it: its
// encoding (VEX with AVX-VNNI, EVEX with AVX512-VL) follows from them; a dispatching build
// uses the AVX2 kernels there.
#if defined(FXP_HAVE_TARGET_REGIONS)
#define FXP_GEMM_HAVE_AVX2 1
#define FXP_GEMM_HAVE_AVX512 1
#if defined(FXP_GEMM_NATIVE_AVX2_VNNI)
#define FXP_GEMM_HAVE_AVX2_VNNI 1
#endif
#endif

/// Whether the kernels of an instruction set are compiled in (whether this processor runs
/// them is isa_runs<Isa>(), simd/isa.hpp).
template <class Isa>
inline constexpr bool isa_available = false;
template <>
inline constexpr bool isa_available<portable_isa> = true;
#if defined(FXP_GEMM_HAVE_AVX2)
template <>
inline constexpr bool isa_available<avx2_isa> = true;
#endif
#if defined(FXP_GEMM_HAVE_AVX2_VNNI)
template <>
inline constexpr bool isa_available<avx2_vnni_isa> = true;
#endif
#if defined(FXP_GEMM_HAVE_AVX512)
template <>
inline constexpr bool isa_available<avx512_isa> = true;
#endif

/// The best instruction set the compiler's flags guarantee: what fxp::gemm runs without a
/// run-time choice (portable_isa: no guarantee, fxp::gemm asks the processor).
#if defined(FXP_GEMM_NATIVE_AVX512)
using native_isa = avx512_isa;
#elif defined(FXP_GEMM_NATIVE_AVX2_VNNI)
using native_isa = avx2_vnni_isa;
#elif defined(FXP_GEMM_NATIVE_AVX2)
using native_isa = avx2_isa;
#else
using native_isa = portable_isa;
#endif

/// int16 x int16 -> int32 tile kernel of an instruction set: `in_type`, `out_type`,
/// `kstep`, `mr`, `nr` and `run(steps, a, b, c)`, which overwrites the row-major mr x nr
/// tile c with the sums over `steps` steps of kstep values.
template <class Isa>
struct int16_kernel;

/// float tile kernel of an instruction set, same shape as int16_kernel.
template <class Isa>
struct float_kernel;

/// int16 x int16 -> int64 tile kernel for an A split into two parts (gemm_plan.hpp's byte
/// split): `a_parts` = 2, and `run(steps, a, b, c)` reads both parts of a packed micro-panel
/// (the low part steps * mr * kstep values after the high one) and overwrites c with the
/// exact sums high * 2^high_shift + low. Both parts share each load of B, and the sums are
/// combined in registers, where two int16_kernel passes would store and reload two int32
/// tiles. Defined where the registers hold both parts' accumulators (`has_split_kernel`).
template <class Isa>
struct int16_split_kernel;
template <class Isa>
inline constexpr bool has_split_kernel = false;

/// The portable kernel: plain loops over a tile of accumulators, which compilers keep in
/// vector registers and vectorize along the columns. The int16 one takes k one value at a
/// time (KStep = 1): pairs would need a de-interleave that compilers vectorize poorly
/// (measured 2.5x slower on SSE2).
template <class In, class Out, std::size_t KStep, std::size_t MR, std::size_t NR>
struct portable_kernel {
  using in_type = In;
  using out_type = Out;
  static constexpr std::size_t kstep = KStep;
  static constexpr std::size_t mr = MR;
  static constexpr std::size_t nr = NR;
  static void run(std::size_t steps, const In* a, const In* b, Out* c) noexcept {
    Out acc[MR][NR] = {};
    for (std::size_t s = 0; s < steps; ++s, a += KStep * MR, b += KStep * NR) {
      for (std::size_t r = 0; r < MR; ++r) {
        for (std::size_t t = 0; t < KStep; ++t) {
          const Out ar = static_cast<Out>(a[KStep * r + t]);
          for (std::size_t j = 0; j < NR; ++j) {
            acc[r][j] = static_cast<Out>(acc[r][j] + ar * static_cast<Out>(b[KStep * j + t]));
          }
        }
      }
    }
    for (std::size_t r = 0; r < MR; ++r) {
      for (std::size_t j = 0; j < NR; ++j) c[r * NR + j] = acc[r][j];
    }
  }
};

template <>
struct int16_kernel<portable_isa> : portable_kernel<std::int16_t, std::int32_t, 1, 4, 16> {};
template <>
struct float_kernel<portable_isa> : portable_kernel<float, float, 1, 4, 16> {};

/// Exact int64 products and sums, k one at a time: the kernel for fixed-point operands
/// wider than 16 bits (whose sums the plan bounds within int64), on every target.
using int64_kernel = portable_kernel<std::int64_t, std::int64_t, 1, 4, 8>;

#if defined(FXP_GEMM_HAVE_AVX2)

// The x86 kernels keep an MR x 2 grid of accumulator registers and, per k step, load two
// registers of B and broadcast one value (or int16 pair) of A per row. The multiply-adds
// are written as GNU inline asm, two rows per statement with the accumulators as in/out
// register operands: with intrinsics, GCC 12 copies or spills the loop-carried accumulators
// (measured: 170 instead of 230 GOP/s per core for the AVX2 kernel), while this form gives
// the same peak-rate loop on GCC and clang. The compiler still allocates every register.

// One k step of two rows r, r+1 (accumulators c00 c01, c10 c11): broadcast A's int16 pair
// or float of row r from a and of row r+1 from a + 4 bytes, multiply by the two registers
// of B, b0 and b1, and accumulate.
#define FXP_GEMM_ASM_MADD_ROWS                                                      \
  "vpbroadcastd (%[a]), %[t]\n\t"                                                    \
  "vpmaddwd %[b0], %[t], %[u]\n\tvpaddd %[u], %[c00], %[c00]\n\t"                    \
  "vpmaddwd %[b1], %[t], %[u]\n\tvpaddd %[u], %[c01], %[c01]\n\t"                    \
  "vpbroadcastd 4(%[a]), %[t]\n\t"                                                   \
  "vpmaddwd %[b0], %[t], %[u]\n\tvpaddd %[u], %[c10], %[c10]\n\t"                    \
  "vpmaddwd %[b1], %[t], %[u]\n\tvpaddd %[u], %[c11], %[c11]"
#define FXP_GEMM_ASM_DPWSSD_ROWS(dp)                                                \
  "vpbroadcastd (%[a]), %[t]\n\t" dp " %[b0], %[t], %[c00]\n\t" dp                  \
  " %[b1], %[t], %[c01]\n\tvpbroadcastd 4(%[a]), %[t]\n\t" dp " %[b0], %[t], %[c10]\n\t" dp \
  " %[b1], %[t], %[c11]"
#define FXP_GEMM_ASM_FMA_ROWS                                                       \
  "vbroadcastss (%[a]), %[t]\n\tvfmadd231ps %[b0], %[t], %[c00]\n\t"                 \
  "vfmadd231ps %[b1], %[t], %[c01]\n\tvbroadcastss 4(%[a]), %[t]\n\t"                \
  "vfmadd231ps %[b0], %[t], %[c10]\n\tvfmadd231ps %[b1], %[t], %[c11]"

FXP_BEGIN_TARGET_REGION(FXP_AVX2_TARGETS)
FXP_END_ISA_NAMESPACE
namespace avx2 {
FXP_BEGIN_ISA_NAMESPACE

/// Register-level operations of one vector type: zero, load a row of B, store a row of C.
struct ymm_int {
  using vec = __m256i;
  using in_type = std::int16_t;
  using out_type = std::int32_t;
  static constexpr std::size_t kstep = 2;
  static constexpr std::size_t width = 8;  // output lanes per register
  static vec zero() noexcept { return _mm256_setzero_si256(); }
  static vec load(const in_type* p) noexcept {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  static void store(out_type* p, vec v) noexcept {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
  }
};
struct ymm_float {
  using vec = __m256;
  using in_type = float;
  using out_type = float;
  static constexpr std::size_t kstep = 1;
  static constexpr std::size_t width = 8;
  static vec zero() noexcept { return _mm256_setzero_ps(); }
  static vec load(const in_type* p) noexcept { return _mm256_loadu_ps(p); }
  static void store(out_type* p, vec v) noexcept { _mm256_storeu_ps(p, v); }
};

/// vpmaddwd + vpaddd, two rows.
struct madd_rows {
  static void apply(__m256i& c00, __m256i& c01, __m256i& c10, __m256i& c11,
                    const std::int16_t* a, __m256i b0, __m256i b1) noexcept {
    __m256i t;
    __m256i u;
    asm(FXP_GEMM_ASM_MADD_ROWS
        : [c00] "+x"(c00), [c01] "+x"(c01), [c10] "+x"(c10), [c11] "+x"(c11), [t] "=&x"(t),
          [u] "=&x"(u)
        : [a] "r"(a), [b0] "x"(b0), [b1] "x"(b1)
        : "memory");
  }
};
/// vfmadd231ps, two rows.
struct fma_rows_256 {
  static void apply(__m256& c00, __m256& c01, __m256& c10, __m256& c11, const float* a,
                    __m256 b0, __m256 b1) noexcept {
    __m256 t;
    asm(FXP_GEMM_ASM_FMA_ROWS
        : [c00] "+x"(c00), [c01] "+x"(c01), [c10] "+x"(c10), [c11] "+x"(c11), [t] "=&x"(t)
        : [a] "r"(a), [b0] "x"(b0), [b1] "x"(b1)
        : "memory");
  }
};
#if defined(FXP_GEMM_HAVE_AVX2_VNNI)
/// vpdpwssd on 256-bit registers (VEX-encoded with AVX-VNNI, else EVEX with AVX512-VL), two rows.
struct dpwssd_rows_256 {
  static void apply(__m256i& c00, __m256i& c01, __m256i& c10, __m256i& c11,
                    const std::int16_t* a, __m256i b0, __m256i b1) noexcept {
    __m256i t;
#if defined(__AVXVNNI__)
    // %{ %} escape the braces of the {vex} prefix in an asm template.
    asm(FXP_GEMM_ASM_DPWSSD_ROWS("%{vex%} vpdpwssd")
#else
    asm(FXP_GEMM_ASM_DPWSSD_ROWS("vpdpwssd")
#endif
        : [c00] "+x"(c00), [c01] "+x"(c01), [c10] "+x"(c10), [c11] "+x"(c11), [t] "=&x"(t)
        : [a] "r"(a), [b0] "x"(b0), [b1] "x"(b1)
        : "memory");
  }
};
#endif

#include "gemm_x86_tile.inl"

FXP_END_ISA_NAMESPACE
}  // namespace avx2
FXP_BEGIN_ISA_NAMESPACE
FXP_END_TARGET_REGION

// 4 x 16 for int16: the same rate as 6 x 16 (measured) and no padding for the 16 or 32
// output channels of typical convolutions. 6 x 16 for float: 12 of the 16 registers.
template <>
struct int16_kernel<avx2_isa> : avx2::x86_kernel<avx2::ymm_int, avx2::madd_rows, 4> {};
template <>
struct float_kernel<avx2_isa> : avx2::x86_kernel<avx2::ymm_float, avx2::fma_rows_256, 6> {};
// No split kernels on 256-bit registers: with 16 registers the tile shrinks to 2 x 16,
// measured no faster than two passes of the 4 x 16 kernel.
#if defined(FXP_GEMM_HAVE_AVX2_VNNI)
template <>
struct int16_kernel<avx2_vnni_isa>
    : avx2::x86_kernel<avx2::ymm_int, avx2::dpwssd_rows_256, 4> {};
template <>
struct float_kernel<avx2_vnni_isa>
    : avx2::x86_kernel<avx2::ymm_float, avx2::fma_rows_256, 6> {};
#endif

#if defined(FXP_GEMM_HAVE_AVX512)
FXP_BEGIN_TARGET_REGION(FXP_AVX512_TARGETS)
FXP_END_ISA_NAMESPACE
namespace avx512 {
FXP_BEGIN_ISA_NAMESPACE

struct zmm_int {
  using vec = __m512i;
  using in_type = std::int16_t;
  using out_type = std::int32_t;
  static constexpr std::size_t kstep = 2;
  static constexpr std::size_t width = 16;
  static vec zero() noexcept { return _mm512_setzero_si512(); }
  static vec load(const in_type* p) noexcept { return _mm512_loadu_si512(p); }
  static void store(out_type* p, vec v) noexcept { _mm512_storeu_si512(p, v); }
  /// p[0 .. width) = high * 2^shift + low, exactly, in int64.
  static void store_combined(std::int64_t* p, vec high, vec low, int shift) noexcept {
    const __m128i count = _mm_cvtsi32_si128(shift);
    for (int half = 0; half < 2; ++half) {
      const __m512i h = _mm512_cvtepi32_epi64(half == 0 ? _mm512_castsi512_si256(high)
                                                        : _mm512_extracti64x4_epi64(high, 1));
      const __m512i l = _mm512_cvtepi32_epi64(half == 0 ? _mm512_castsi512_si256(low)
                                                        : _mm512_extracti64x4_epi64(low, 1));
      _mm512_storeu_si512(p + 8 * half, _mm512_add_epi64(_mm512_sll_epi64(h, count), l));
    }
  }
};
struct zmm_float {
  using vec = __m512;
  using in_type = float;
  using out_type = float;
  static constexpr std::size_t kstep = 1;
  static constexpr std::size_t width = 16;
  static vec zero() noexcept { return _mm512_setzero_ps(); }
  static vec load(const in_type* p) noexcept { return _mm512_loadu_ps(p); }
  static void store(out_type* p, vec v) noexcept { _mm512_storeu_ps(p, v); }
};
/// vpdpwssd on 512-bit registers, two rows.
struct dpwssd_rows_512 {
  static void apply(__m512i& c00, __m512i& c01, __m512i& c10, __m512i& c11,
                    const std::int16_t* a, __m512i b0, __m512i b1) noexcept {
    __m512i t;
    asm(FXP_GEMM_ASM_DPWSSD_ROWS("vpdpwssd")
        : [c00] "+v"(c00), [c01] "+v"(c01), [c10] "+v"(c10), [c11] "+v"(c11), [t] "=&v"(t)
        : [a] "r"(a), [b0] "v"(b0), [b1] "v"(b1)
        : "memory");
  }
};
/// vfmadd231ps on 512-bit registers, two rows.
struct fma_rows_512 {
  static void apply(__m512& c00, __m512& c01, __m512& c10, __m512& c11, const float* a,
                    __m512 b0, __m512 b1) noexcept {
    __m512 t;
    asm(FXP_GEMM_ASM_FMA_ROWS
        : [c00] "+v"(c00), [c01] "+v"(c01), [c10] "+v"(c10), [c11] "+v"(c11), [t] "=&v"(t)
        : [a] "r"(a), [b0] "v"(b0), [b1] "v"(b1)
        : "memory");
  }
};

#include "gemm_x86_tile.inl"

FXP_END_ISA_NAMESPACE
}  // namespace avx512
FXP_BEGIN_ISA_NAMESPACE
FXP_END_TARGET_REGION

// 8 x 32: 16 accumulators of the 32 registers, at the measured vpdpwssd / FMA peak.
template <>
struct int16_kernel<avx512_isa>
    : avx512::x86_kernel<avx512::zmm_int, avx512::dpwssd_rows_512, 8> {};
template <>
struct float_kernel<avx512_isa>
    : avx512::x86_kernel<avx512::zmm_float, avx512::fma_rows_512, 8> {};

// 4 x 32 with both parts: the same 16 accumulators as the 8 x 32 kernel.
template <>
struct int16_split_kernel<avx512_isa>
    : avx512::x86_split_kernel<avx512::zmm_int, avx512::dpwssd_rows_512, 4> {};
template <>
inline constexpr bool has_split_kernel<avx512_isa> = true;
#endif  // FXP_GEMM_HAVE_AVX512

#undef FXP_GEMM_ASM_MADD_ROWS
#undef FXP_GEMM_ASM_DPWSSD_ROWS
#undef FXP_GEMM_ASM_FMA_ROWS

#endif  // FXP_GEMM_HAVE_AVX2

FXP_END_ISA_NAMESPACE
}  // namespace fxp::simd::detail
