// SPDX-License-Identifier: MIT
#pragma once
// Lane operations the kernels need beyond xsimd 8.1's API, each with a portable form (xsimd
// operations only, any architecture) and, where xsimd is missing or slow, a native form on
// x86 intrinsics. The native overloads are constrained templates, so for an architecture
// without one the unconstrained overload forwards `native` to the portable form.

#include <cstdint>      // 32-bit lanes
#include <type_traits>  // is_base_of_v to recognise architecture families
#include <utility>      // std::pair of high and low product words

#include "../lanes.hpp"
#include "isa_namespace.hpp"

namespace fxp::simd::detail {
FXP_BEGIN_ISA_NAMESPACE

/// Architecture families with native overloads (xsimd's arch types form a hierarchy:
/// sse2 <- sse3 <- ... <- sse4_2, avx <- avx2 <- fma3<avx2>, avx512f <- ... <- avx512bw).
template <class Arch>
concept sse2_family = bool(XSIMD_WITH_SSE2) && std::is_base_of_v<xsimd::sse2, Arch>;
template <class Arch>
concept avx2_family = bool(XSIMD_WITH_AVX2) && std::is_base_of_v<xsimd::avx2, Arch>;
template <class Arch>
concept avx512_family = bool(XSIMD_WITH_AVX512F) && std::is_base_of_v<xsimd::avx512f, Arch>;
// vpmovm2d / vpmovd2m (mask <-> vector) need AVX-512DQ.
template <class Arch>
concept avx512dq_family = bool(XSIMD_WITH_AVX512DQ) && std::is_base_of_v<xsimd::avx512dq, Arch>;

/// Generic-vector architectures (vector_lanes.hpp): the portable forms compile to the
/// instruction set around them; a few operations have better generic forms below.
template <class Arch>
concept vector_family = is_vector_arch<Arch>;

template <class Arch>
using int_lanes = xsimd::batch<std::int32_t, Arch>;

/// The bits of x as lanes of To (xsimd's bitwise_cast).
template <class To, class T, class A>
[[nodiscard]] inline To lane_bitcast(const xsimd::batch<T, A>& x) noexcept {
  return xsimd::bitwise_cast<To>(x);
}

/// The lanes reinterpreted as signed, for arithmetic shifts and signed compares.
template <class Arch>
[[nodiscard]] inline int_lanes<Arch> as_signed(const word_lanes<Arch>& x) noexcept {
  return lane_bitcast<int_lanes<Arch>>(x);
}

template <class Arch>
[[nodiscard]] inline word_lanes<Arch> as_words(const int_lanes<Arch>& x) noexcept {
  return lane_bitcast<word_lanes<Arch>>(x);
}

/// xsimd::select(m, a, b): a where m holds, b elsewhere. On AVX-512 through the 32-bit
/// blend directly: xsimd 8.1's AVX-512BW select does not compile without optimisation (its
/// switch over the lane size passes a batch to _mm512_mask_blend_epi8, which GCC's headers
/// define as a macro at -O0), so a debug build with -march=native would not compile.
template <class T, class Arch>
[[nodiscard]] inline xsimd::batch<T, Arch> select(const xsimd::batch_bool<T, Arch>& m,
                                                  const xsimd::batch<T, Arch>& a,
                                                  const xsimd::batch<T, Arch>& b) noexcept {
#if XSIMD_WITH_AVX512F
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch> && sizeof(T) == 4) {
    using mask_register = typename xsimd::batch_bool<T, Arch>::register_type;
    return xsimd::batch<T, Arch>(_mm512_mask_blend_epi32(static_cast<mask_register>(m), b, a));
  } else {
    return xsimd::select(m, a, b);
  }
#else
  return xsimd::select(m, a, b);
#endif
}

/// The larger and the smaller of each pair of lanes, and whether some lane of a mask holds
/// (the generic-vector forms are in vector_lanes.hpp).
template <class T, class Arch>
[[nodiscard]] inline xsimd::batch<T, Arch> lane_max(const xsimd::batch<T, Arch>& a,
                                                    const xsimd::batch<T, Arch>& b) noexcept {
  return xsimd::max(a, b);
}
template <class T, class Arch>
[[nodiscard]] inline xsimd::batch<T, Arch> lane_min(const xsimd::batch<T, Arch>& a,
                                                    const xsimd::batch<T, Arch>& b) noexcept {
  return xsimd::min(a, b);
}
template <class T, class Arch>
[[nodiscard]] inline bool any_lane(const xsimd::batch_bool<T, Arch>& m) noexcept {
  return xsimd::any(m);
}
/// xsimd's zip_lo and zip_hi: interleaves within each 16-byte block.
template <class T, class Arch>
[[nodiscard]] inline xsimd::batch<T, Arch> lane_zip_lo(const xsimd::batch<T, Arch>& a,
                                                       const xsimd::batch<T, Arch>& b) noexcept {
  return xsimd::zip_lo(a, b);
}
template <class T, class Arch>
[[nodiscard]] inline xsimd::batch<T, Arch> lane_zip_hi(const xsimd::batch<T, Arch>& a,
                                                       const xsimd::batch<T, Arch>& b) noexcept {
  return xsimd::zip_hi(a, b);
}

/// Signed lanes converted to float (rounded to nearest even).
template <class Arch>
[[nodiscard]] inline float_lanes<Arch> to_float(const int_lanes<Arch>& x) noexcept {
  if constexpr (vector_family<Arch>) {
    return lane_convert<float>(x);
  } else {
    return xsimd::batch_cast<float>(x);
  }
}

/// A mask computed on signed lanes, as a mask of the unsigned lanes (free: the same
/// register).
template <class Arch>
[[nodiscard]] inline mask_lanes<Arch> as_word_mask(
    const xsimd::batch_bool<std::int32_t, Arch>& m) noexcept {
  if constexpr (vector_family<Arch>) {
    return mask_cast<std::uint32_t>(m);
  } else {
    using reg = typename mask_lanes<Arch>::register_type;
    return mask_lanes<Arch>(static_cast<reg>(m));
  }
}

/// a < b and a > b with the lanes read as two's complement (native on every x86 level,
/// unlike xsimd's unsigned compare on AVX2, which splits into SSE halves).
template <class Arch>
[[nodiscard]] inline mask_lanes<Arch> less_signed(const word_lanes<Arch>& a,
                                                  const word_lanes<Arch>& b) noexcept {
  return as_word_mask<Arch>(as_signed<Arch>(a) < as_signed<Arch>(b));
}
template <class Arch>
[[nodiscard]] inline mask_lanes<Arch> greater_signed(const word_lanes<Arch>& a,
                                                     const word_lanes<Arch>& b) noexcept {
  return as_word_mask<Arch>(as_signed<Arch>(a) > as_signed<Arch>(b));
}

// ---- mask <-> word ----------------------------------------------------------------------

/// All ones in the lanes where m holds, zero elsewhere.
template <class Arch>
[[nodiscard]] inline word_lanes<Arch> mask_to_word(const mask_lanes<Arch>& m, portable) noexcept {
  return detail::select(m, word_lanes<Arch>(~std::uint32_t{0}), word_lanes<Arch>(0u));
}
template <class Arch>
[[nodiscard]] inline word_lanes<Arch> mask_to_word(const mask_lanes<Arch>& m, native) noexcept {
  return mask_to_word<Arch>(m, portable{});
}
/// The sign bit of every lane, as a mask.
template <class Arch>
[[nodiscard]] inline mask_lanes<Arch> sign_mask(const word_lanes<Arch>& x, portable) noexcept {
  return less_signed<Arch>(x, word_lanes<Arch>(0u));
}
template <class Arch>
[[nodiscard]] inline mask_lanes<Arch> sign_mask(const word_lanes<Arch>& x, native) noexcept {
  return sign_mask<Arch>(x, portable{});
}

#if XSIMD_WITH_SSE2
// SSE and AVX masks are all-ones words already.
template <class Arch>
  requires(sse2_family<Arch> || avx2_family<Arch>)
[[nodiscard]] inline word_lanes<Arch> mask_to_word(const mask_lanes<Arch>& m, native) noexcept {
  return word_lanes<Arch>(static_cast<typename word_lanes<Arch>::register_type>(m));
}
template <class Arch>
  requires(sse2_family<Arch> || avx2_family<Arch>)
[[nodiscard]] inline mask_lanes<Arch> sign_mask(const word_lanes<Arch>& x, native) noexcept {
  return mask_lanes<Arch>(static_cast<typename mask_lanes<Arch>::register_type>(
      as_words<Arch>(as_signed<Arch>(x) >> 31)));
}
#endif
#if XSIMD_WITH_AVX512DQ
template <class Arch>
  requires avx512dq_family<Arch>
[[nodiscard]] inline word_lanes<Arch> mask_to_word(const mask_lanes<Arch>& m, native) noexcept {
  return _mm512_movm_epi32(m);
}
template <class Arch>
  requires avx512dq_family<Arch>
[[nodiscard]] inline mask_lanes<Arch> sign_mask(const word_lanes<Arch>& x, native) noexcept {
  return _mm512_movepi32_mask(x);
}
#endif

/// q + 1 in the lanes where m holds.
template <class Arch, class Ops>
[[nodiscard]] inline word_lanes<Arch> increment_where(const word_lanes<Arch>& q,
                                                      const mask_lanes<Arch>& m, Ops ops) noexcept {
  return q - mask_to_word<Arch>(m, ops);  // minus all-ones is plus one
}
#if XSIMD_WITH_AVX512F
template <class Arch>
  requires avx512_family<Arch>
[[nodiscard]] inline word_lanes<Arch> increment_where(const word_lanes<Arch>& q,
                                                      const mask_lanes<Arch>& m, native) noexcept {
  return _mm512_mask_add_epi32(q, m, q, _mm512_set1_epi32(1));
}
#endif

// ---- per-lane shifts ----------------------------------------------------------------------
// x86 semantics: a count of 32 or more (as unsigned, so a negative count too) gives 0 (or
// the sign, for the arithmetic shift). The kernels rely on that to select between left and
// right shifts without branches.

template <class Arch>
[[nodiscard]] inline word_lanes<Arch> shift_left(const word_lanes<Arch>& x,
                                                 const word_lanes<Arch>& count, portable) noexcept {
  // A C++ shift by 32 or more is undefined, so shift by the count modulo 32 and then clear.
  return detail::select((count & ~31u) == 0u, x << (count & 31u), word_lanes<Arch>(0u));
}
template <class Arch>
[[nodiscard]] inline word_lanes<Arch> shift_right(const word_lanes<Arch>& x,
                                                  const word_lanes<Arch>& count, portable) noexcept {
  return detail::select((count & ~31u) == 0u, x >> (count & 31u), word_lanes<Arch>(0u));
}
template <class Arch>
[[nodiscard]] inline word_lanes<Arch> shift_left(const word_lanes<Arch>& x,
                                                 const word_lanes<Arch>& count, native) noexcept {
  return shift_left<Arch>(x, count, portable{});
}
template <class Arch>
[[nodiscard]] inline word_lanes<Arch> shift_right(const word_lanes<Arch>& x,
                                                  const word_lanes<Arch>& count, native) noexcept {
  return shift_right<Arch>(x, count, portable{});
}
/// Arithmetic shift right by per-lane counts; a count of 32 or more (as unsigned) fills
/// the lane with its sign bit, as vpsravd does.
template <class Arch>
[[nodiscard]] inline word_lanes<Arch> shift_right_arith(const word_lanes<Arch>& x,
                                                        const word_lanes<Arch>& count,
                                                        portable) noexcept {
  const int_lanes<Arch> v = as_signed<Arch>(x);
  return as_words<Arch>(
      detail::select(as_signed<Arch>(count & ~31u) == 0, v >> as_signed<Arch>(count & 31u), v >> 31));
}
template <class Arch>
[[nodiscard]] inline word_lanes<Arch> shift_right_arith(const word_lanes<Arch>& x,
                                                        const word_lanes<Arch>& count,
                                                        native) noexcept {
  return shift_right_arith<Arch>(x, count, portable{});
}
#if XSIMD_WITH_AVX2
template <class Arch>
  requires avx2_family<Arch>
[[nodiscard]] inline word_lanes<Arch> shift_left(const word_lanes<Arch>& x,
                                                 const word_lanes<Arch>& count, native) noexcept {
  return _mm256_sllv_epi32(x, count);
}
template <class Arch>
  requires avx2_family<Arch>
[[nodiscard]] inline word_lanes<Arch> shift_right(const word_lanes<Arch>& x,
                                                  const word_lanes<Arch>& count, native) noexcept {
  return _mm256_srlv_epi32(x, count);
}
template <class Arch>
  requires avx2_family<Arch>
[[nodiscard]] inline word_lanes<Arch> shift_right_arith(const word_lanes<Arch>& x,
                                                        const word_lanes<Arch>& count,
                                                        native) noexcept {
  return _mm256_srav_epi32(x, count);
}
#endif
#if XSIMD_WITH_AVX512F
template <class Arch>
  requires avx512_family<Arch>
[[nodiscard]] inline word_lanes<Arch> shift_left(const word_lanes<Arch>& x,
                                                 const word_lanes<Arch>& count, native) noexcept {
  return _mm512_sllv_epi32(x, count);
}
template <class Arch>
  requires avx512_family<Arch>
[[nodiscard]] inline word_lanes<Arch> shift_right(const word_lanes<Arch>& x,
                                                  const word_lanes<Arch>& count, native) noexcept {
  return _mm512_srlv_epi32(x, count);
}
template <class Arch>
  requires avx512_family<Arch>
[[nodiscard]] inline word_lanes<Arch> shift_right_arith(const word_lanes<Arch>& x,
                                                        const word_lanes<Arch>& count,
                                                        native) noexcept {
  return _mm512_srav_epi32(x, count);
}
#endif

// Generic vectors of 32 and 64 bytes: the x86 instructions (vector_x86.hpp), called with
// references so that they are safe anywhere and free in their region.
#if defined(FXP_HAVE_X86_VECTOR_FORMS)
template <class Arch>
concept x86_vector_family = vector_family<Arch> && has_x86_vector_forms<Arch::alignment()>;

/// shift(r, x, count) on the vectors of the lanes.
template <class Arch, class Shift>
[[nodiscard]] inline word_lanes<Arch> x86_shift(const word_lanes<Arch>& x,
                                                const word_lanes<Arch>& count, Shift shift) noexcept {
  typename word_lanes<Arch>::native_type r;
  shift(r, x.native(), count.native());
  return word_lanes<Arch>::from_native(r);
}
template <class Arch>
  requires x86_vector_family<Arch>
[[nodiscard]] inline word_lanes<Arch> shift_left(const word_lanes<Arch>& x,
                                                 const word_lanes<Arch>& count, native) noexcept {
  return x86_shift<Arch>(x, count, [](auto&... v) { x86::shift_left(v...); });
}
template <class Arch>
  requires x86_vector_family<Arch>
[[nodiscard]] inline word_lanes<Arch> shift_right(const word_lanes<Arch>& x,
                                                  const word_lanes<Arch>& count, native) noexcept {
  return x86_shift<Arch>(x, count, [](auto&... v) { x86::shift_right(v...); });
}
template <class Arch>
  requires x86_vector_family<Arch>
[[nodiscard]] inline word_lanes<Arch> shift_right_arith(const word_lanes<Arch>& x,
                                                        const word_lanes<Arch>& count,
                                                        native) noexcept {
  return x86_shift<Arch>(x, count, [](auto&... v) { x86::shift_right_arith(v...); });
}
#endif

// ---- unsigned compare ---------------------------------------------------------------------

/// a < b as unsigned 32-bit words.
template <class Arch>
[[nodiscard]] inline mask_lanes<Arch> less_unsigned(const word_lanes<Arch>& a,
                                                    const word_lanes<Arch>& b, portable) noexcept {
  return a < b;
}
template <class Arch>
[[nodiscard]] inline mask_lanes<Arch> less_unsigned(const word_lanes<Arch>& a,
                                                    const word_lanes<Arch>& b, native) noexcept {
  return a < b;  // native in xsimd for SSE2 (bias trick) and AVX-512 (vpcmpud)
}
#if XSIMD_WITH_AVX2
template <class Arch>
  requires avx2_family<Arch>
[[nodiscard]] inline mask_lanes<Arch> less_unsigned(const word_lanes<Arch>& a,
                                                    const word_lanes<Arch>& b, native) noexcept {
  // Flipping the sign bits maps unsigned order onto signed order: three instructions
  // instead of xsimd's split into two SSE halves.
  const __m256i bias = _mm256_set1_epi32(INT32_MIN);
  return _mm256_cmpgt_epi32(_mm256_xor_si256(b, bias), _mm256_xor_si256(a, bias));
}
#endif

// ---- 32x32 -> 64-bit products ---------------------------------------------------------------

/// The high and low words of x * m in every lane (Philox's multiply).
template <class Arch>
[[nodiscard]] inline std::pair<word_lanes<Arch>, word_lanes<Arch>> mul_hi_lo(
    const word_lanes<Arch>& x, std::uint32_t m, portable) noexcept {
  // Schoolbook on 16-bit halves: every partial product fits 32 bits.
  const std::uint32_t m_lo = m & 0xFFFFu;
  const std::uint32_t m_hi = m >> 16;
  const word_lanes<Arch> x_lo = x & 0xFFFFu;
  const word_lanes<Arch> x_hi = x >> 16;
  const word_lanes<Arch> ll = x_lo * m_lo;
  const word_lanes<Arch> lh = x_lo * m_hi;
  const word_lanes<Arch> hl = x_hi * m_lo;
  const word_lanes<Arch> hh = x_hi * m_hi;
  const word_lanes<Arch> mid = (ll >> 16) + (lh & 0xFFFFu) + (hl & 0xFFFFu);
  const word_lanes<Arch> hi = hh + (lh >> 16) + (hl >> 16) + (mid >> 16);
  const word_lanes<Arch> lo = (mid << 16) | (ll & 0xFFFFu);
  return {hi, lo};
}
template <class Arch>
[[nodiscard]] inline std::pair<word_lanes<Arch>, word_lanes<Arch>> mul_hi_lo(
    const word_lanes<Arch>& x, std::uint32_t m, native) noexcept {
  return mul_hi_lo<Arch>(x, m, portable{});
}
#if XSIMD_WITH_SSE2
// pmuludq multiplies the even lanes into 64-bit products; the odd lanes are shifted down
// for a second one, and the halves are interleaved back (within each 128-bit lane).
template <class Arch>
  requires sse2_family<Arch>
[[nodiscard]] inline std::pair<word_lanes<Arch>, word_lanes<Arch>> mul_hi_lo(
    const word_lanes<Arch>& x, std::uint32_t m, native) noexcept {
  const __m128i mm = _mm_set1_epi32(static_cast<int>(m));
  const __m128i even = _mm_mul_epu32(x, mm);                     // lo0 hi0 lo2 hi2
  const __m128i odd = _mm_mul_epu32(_mm_srli_epi64(x, 32), mm);  // lo1 hi1 lo3 hi3
  const __m128i a = _mm_unpacklo_epi32(even, odd);               // lo0 lo1 hi0 hi1
  const __m128i b = _mm_unpackhi_epi32(even, odd);               // lo2 lo3 hi2 hi3
  return {word_lanes<Arch>(_mm_unpackhi_epi64(a, b)), word_lanes<Arch>(_mm_unpacklo_epi64(a, b))};
}
#endif
#if XSIMD_WITH_AVX2
template <class Arch>
  requires avx2_family<Arch>
[[nodiscard]] inline std::pair<word_lanes<Arch>, word_lanes<Arch>> mul_hi_lo(
    const word_lanes<Arch>& x, std::uint32_t m, native) noexcept {
  const __m256i mm = _mm256_set1_epi32(static_cast<int>(m));
  const __m256i even = _mm256_mul_epu32(x, mm);
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), mm);
  // A blend runs on more ports than a shuffle. The low words come from vpmulld: as many
  // micro-ops as splitting them out of the products on Intel, fewer on AMD; its longer
  // latency on Intel is off Philox's critical path (the low words are only xored a round
  // later).
  const __m256i hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
  return {word_lanes<Arch>(hi), word_lanes<Arch>(_mm256_mullo_epi32(x, mm))};
}
#endif
#if XSIMD_WITH_AVX512F
template <class Arch>
  requires avx512_family<Arch>
[[nodiscard]] inline std::pair<word_lanes<Arch>, word_lanes<Arch>> mul_hi_lo(
    const word_lanes<Arch>& x, std::uint32_t m, native) noexcept {
  const __m512i mm = _mm512_set1_epi32(static_cast<int>(m));
  const __m512i even = _mm512_mul_epu32(x, mm);
  const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(x, 32), mm);
  const __m512i hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
  return {word_lanes<Arch>(hi), word_lanes<Arch>(_mm512_mullo_epi32(x, mm))};
}
#endif

// Generic vectors: the 64-bit products of the even and of the odd lanes (vpmuludq, or
// vpmullq where g++ does not see the zero high halves), the high words blended back.
template <class Arch>
  requires vector_family<Arch>
[[nodiscard]] inline std::pair<word_lanes<Arch>, word_lanes<Arch>> mul_hi_lo(
    const word_lanes<Arch>& x, std::uint32_t m, native) noexcept {
#if defined(FXP_HAVE_X86_VECTOR_FORMS)
  if constexpr (has_x86_vector_forms<Arch::alignment()>) {
    typename word_lanes<Arch>::native_type hi, lo;
    x86::mul_hi_lo(hi, lo, x.native(), m);
    return {word_lanes<Arch>::from_native(hi), word_lanes<Arch>::from_native(lo)};
  }
#endif
  using wide = xsimd::batch<std::uint64_t, Arch>;
  const wide x64 = lane_bitcast<wide>(x);
  const wide even = (x64 & wide(0xFFFFFFFFu)) * wide(m);
  const wide odd = (x64 >> 32) * wide(m);
  const wide hi = (even >> 32) | (odd & wide(0xFFFFFFFF00000000u));
  return {lane_bitcast<word_lanes<Arch>>(hi), x * word_lanes<Arch>(m)};
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp::simd::detail
