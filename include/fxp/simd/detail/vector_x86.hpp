// SPDX-License-Identifier: MIT
#pragma once
// x86 forms of the generic-vector lane operations that g++ 12 does not find on its own:
// per-lane shifts with x86's rule for counts of 32 or more (a C++ shift must compare and
// blend around them), narrowing stores (vpmovdb, packs), 32x32 -> 64-bit products, the
// max and min of signed lanes and the any-lane test. Each is compiled in the target region
// of its vector size (64 bytes: AVX-512, 32 bytes: AVX2) and takes every vector by
// reference. Inlined into a kernel of that region (array_dispatch.hpp flattens it there),
// it is the instruction itself; called from anywhere else (a debug build flattens nothing,
// tests call lanes directly) it is a plain call that passes no vector in a register, so
// the calling conventions of two instruction sets never meet. Either way the processor
// must have the region's instruction sets: vector_arch<64> and vector_arch<32> lanes run
// on AVX-512 and on AVX2 processors only.

#include <cstddef>  // std::size_t vector sizes
#include <cstdint>  // lane types

#include "isa_namespace.hpp"
#include "target_region.hpp"
#include "x86_intrinsics.hpp"

namespace fxp::simd::detail {
FXP_BEGIN_ISA_NAMESPACE

// g++ only: clang 14's `flatten` inlines one level of calls, so a kernel's lane code stays
// outside the region there and each of these would be a call per operation (measured 5-9x
// slower than the generic forms, which are themselves compiled for SSE2 in that case).
#if defined(FXP_HAVE_TARGET_REGIONS) && !defined(__clang__)
#define FXP_HAVE_X86_VECTOR_FORMS 1
#endif

/// Whether the lane operations of generic vectors of Bytes bytes have x86 forms here.
template <std::size_t Bytes>
inline constexpr bool has_x86_vector_forms =
#if defined(FXP_HAVE_X86_VECTOR_FORMS)
    Bytes == 32 || Bytes == 64;
#else
    false;
#endif

#if defined(FXP_HAVE_X86_VECTOR_FORMS)
namespace x86 {

typedef std::uint32_t u32x16 __attribute__((vector_size(64)));
typedef std::int32_t i32x16 __attribute__((vector_size(64)));
typedef std::uint32_t u32x8 __attribute__((vector_size(32)));
typedef std::int32_t i32x8 __attribute__((vector_size(32)));

FXP_BEGIN_TARGET_REGION(FXP_AVX512_TARGETS)
inline void shift_left(u32x16& out, const u32x16& x, const u32x16& count) noexcept {
  out = reinterpret_cast<u32x16>(_mm512_sllv_epi32(reinterpret_cast<__m512i>(x),
                                                   reinterpret_cast<__m512i>(count)));
}
inline void shift_right(u32x16& out, const u32x16& x, const u32x16& count) noexcept {
  out = reinterpret_cast<u32x16>(_mm512_srlv_epi32(reinterpret_cast<__m512i>(x),
                                                   reinterpret_cast<__m512i>(count)));
}
inline void shift_right_arith(u32x16& out, const u32x16& x, const u32x16& count) noexcept {
  out = reinterpret_cast<u32x16>(_mm512_srav_epi32(reinterpret_cast<__m512i>(x),
                                                   reinterpret_cast<__m512i>(count)));
}
inline void max(i32x16& out, const i32x16& a, const i32x16& b) noexcept {
  out = reinterpret_cast<i32x16>(
      _mm512_max_epi32(reinterpret_cast<__m512i>(a), reinterpret_cast<__m512i>(b)));
}
inline void min(i32x16& out, const i32x16& a, const i32x16& b) noexcept {
  out = reinterpret_cast<i32x16>(
      _mm512_min_epi32(reinterpret_cast<__m512i>(a), reinterpret_cast<__m512i>(b)));
}
[[nodiscard]] inline bool any(const i32x16& m) noexcept {
  const auto v = reinterpret_cast<__m512i>(m);
  return _mm512_test_epi32_mask(v, v) != 0;
}
/// a && b as one vpternlogd, which g++ cannot turn into anything else (see batch_bool's
/// operator&&).
inline void mask_and(i32x16& out, const i32x16& a, const i32x16& b) noexcept {
  const auto va = reinterpret_cast<__m512i>(a);
  const auto vb = reinterpret_cast<__m512i>(b);
  out = reinterpret_cast<i32x16>(_mm512_ternarylogic_epi32(va, vb, vb, 0xC0));
}
inline void mul_hi_lo(u32x16& hi, u32x16& lo, const u32x16& x, std::uint32_t m) noexcept {
  const auto v = reinterpret_cast<__m512i>(x);
  const __m512i mm = _mm512_set1_epi32(static_cast<int>(m));
  const __m512i even = _mm512_mul_epu32(v, mm);
  const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(v, 32), mm);
  hi = reinterpret_cast<u32x16>(_mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd));
  lo = reinterpret_cast<u32x16>(_mm512_mullo_epi32(v, mm));
}
/// The low 8 or 16 bits of each lane, stored at p.
template <std::size_t RawBytes>
inline void store_narrow(void* p, const u32x16& x) noexcept {
  const auto v = reinterpret_cast<__m512i>(x);
  if constexpr (RawBytes == 1) {
    _mm_storeu_si128(static_cast<__m128i*>(p), _mm512_cvtepi32_epi8(v));
  } else {
    _mm256_storeu_si256(static_cast<__m256i*>(p), _mm512_cvtepi32_epi16(v));
  }
}
FXP_END_TARGET_REGION

FXP_BEGIN_TARGET_REGION(FXP_AVX2_TARGETS)
inline void shift_left(u32x8& out, const u32x8& x, const u32x8& count) noexcept {
  out = reinterpret_cast<u32x8>(_mm256_sllv_epi32(reinterpret_cast<__m256i>(x),
                                                  reinterpret_cast<__m256i>(count)));
}
inline void shift_right(u32x8& out, const u32x8& x, const u32x8& count) noexcept {
  out = reinterpret_cast<u32x8>(_mm256_srlv_epi32(reinterpret_cast<__m256i>(x),
                                                  reinterpret_cast<__m256i>(count)));
}
inline void shift_right_arith(u32x8& out, const u32x8& x, const u32x8& count) noexcept {
  out = reinterpret_cast<u32x8>(_mm256_srav_epi32(reinterpret_cast<__m256i>(x),
                                                  reinterpret_cast<__m256i>(count)));
}
inline void max(i32x8& out, const i32x8& a, const i32x8& b) noexcept {
  out = reinterpret_cast<i32x8>(
      _mm256_max_epi32(reinterpret_cast<__m256i>(a), reinterpret_cast<__m256i>(b)));
}
inline void min(i32x8& out, const i32x8& a, const i32x8& b) noexcept {
  out = reinterpret_cast<i32x8>(
      _mm256_min_epi32(reinterpret_cast<__m256i>(a), reinterpret_cast<__m256i>(b)));
}
[[nodiscard]] inline bool any(const i32x8& m) noexcept {
  const auto v = reinterpret_cast<__m256i>(m);
  return !_mm256_testz_si256(v, v);
}
inline void mul_hi_lo(u32x8& hi, u32x8& lo, const u32x8& x, std::uint32_t m) noexcept {
  const auto v = reinterpret_cast<__m256i>(x);
  const __m256i mm = _mm256_set1_epi32(static_cast<int>(m));
  const __m256i even = _mm256_mul_epu32(v, mm);
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(v, 32), mm);
  hi = reinterpret_cast<u32x8>(_mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA));
  lo = reinterpret_cast<u32x8>(_mm256_mullo_epi32(v, mm));
}
/// The 8 lanes, each holding a value of the raw type (8 or 16 bits, signed or not),
/// narrowed and stored at p.
template <std::size_t RawBytes, bool Signed>
inline void store_narrow(void* p, const u32x8& x) noexcept {
  const auto v = reinterpret_cast<__m256i>(x);
  const __m128i lo = _mm256_castsi256_si128(v);
  const __m128i hi = _mm256_extracti128_si256(v, 1);
  if constexpr (RawBytes == 1) {
    const __m128i words = _mm_packs_epi32(lo, hi);  // exact: the values fit 8 bits
    const __m128i bytes = Signed ? _mm_packs_epi16(words, words) : _mm_packus_epi16(words, words);
    _mm_storel_epi64(static_cast<__m128i*>(p), bytes);
  } else {
    _mm_storeu_si128(static_cast<__m128i*>(p),
                     Signed ? _mm_packs_epi32(lo, hi) : _mm_packus_epi32(lo, hi));
  }
}
/// Four batches of 8 lanes, each holding a value of the raw type (8 or 16 bits, signed
/// or not), narrowed and stored at p in order: the saturating packs are exact on such
/// values, and work within 128-bit halves, which a permutation puts back in order.
template <std::size_t RawBytes, bool Signed>
inline void store_quad_narrow(void* p, const u32x8& c0, const u32x8& c1, const u32x8& c2,
                              const u32x8& c3) noexcept {
  const auto a0 = reinterpret_cast<__m256i>(c0);
  const auto a1 = reinterpret_cast<__m256i>(c1);
  const auto a2 = reinterpret_cast<__m256i>(c2);
  const auto a3 = reinterpret_cast<__m256i>(c3);
  auto* out = static_cast<__m256i*>(p);
  if constexpr (RawBytes == 1) {
    const __m256i a = _mm256_packs_epi32(a0, a1);
    const __m256i b = _mm256_packs_epi32(a2, a3);
    const __m256i bytes = Signed ? _mm256_packs_epi16(a, b) : _mm256_packus_epi16(a, b);
    _mm256_storeu_si256(out,
                        _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
  } else {
    const __m256i a = Signed ? _mm256_packs_epi32(a0, a1) : _mm256_packus_epi32(a0, a1);
    const __m256i b = Signed ? _mm256_packs_epi32(a2, a3) : _mm256_packus_epi32(a2, a3);
    _mm256_storeu_si256(out, _mm256_permute4x64_epi64(a, 0xD8));
    _mm256_storeu_si256(out + 1, _mm256_permute4x64_epi64(b, 0xD8));
  }
}
FXP_END_TARGET_REGION

}  // namespace x86
#endif

FXP_END_ISA_NAMESPACE
}  // namespace fxp::simd::detail
