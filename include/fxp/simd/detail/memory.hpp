// SPDX-License-Identifier: MIT
#pragma once
// Moving raw values between memory and 32-bit lanes, four batches (a quad) at a time:
// 8- and 16-bit raws are sign- or zero-extended on the way in and narrowed on the way out.
// xsimd 8.1 has no widening or narrowing conversions, so the portable form goes through a
// small buffer; the native forms use pmovsx/pack (SSE2, AVX2) and vpmov (AVX-512).

#include <array>        // a chunk of four batches
#include <cstddef>      // std::size_t offsets
#include <cstdint>      // raw storage types
#include <type_traits>  // is_signed_v to choose sign or zero extension

#include "../lanes.hpp"
#include "isa_namespace.hpp"
#include "lane_ops.hpp"

namespace fxp::simd::detail {
FXP_BEGIN_ISA_NAMESPACE

/// Four batches: 4 * lane_count consecutive elements, batch k holding elements
/// k * lane_count ... (k + 1) * lane_count - 1; as many 8-bit raws fill one register.
template <class Arch>
using quad_lanes = std::array<word_lanes<Arch>, 4>;

/// The raw storage types a 32-bit lane holds exactly.
template <class Raw>
concept narrow_raw = std::is_same_v<Raw, std::int8_t> || std::is_same_v<Raw, std::uint8_t> ||
                     std::is_same_v<Raw, std::int16_t> || std::is_same_v<Raw, std::uint16_t> ||
                     std::is_same_v<Raw, std::int32_t> || std::is_same_v<Raw, std::uint32_t>;

/// The raw value as a 32-bit word: sign-extended when Raw is signed, zero-extended if not.
template <narrow_raw Raw>
[[nodiscard]] constexpr std::uint32_t widen(Raw r) noexcept {
  if constexpr (std::is_signed_v<Raw>) {
    return static_cast<std::uint32_t>(static_cast<std::int32_t>(r));
  } else {
    return static_cast<std::uint32_t>(r);
  }
}

// ---- loads ----------------------------------------------------------------------------------

template <class Arch, narrow_raw Raw>
[[nodiscard]] inline quad_lanes<Arch> load_quad(const Raw* p, portable) noexcept {
  constexpr std::size_t n = lane_count<Arch>;
  quad_lanes<Arch> c;
  if constexpr (sizeof(Raw) == 4) {
    const auto* words = reinterpret_cast<const std::uint32_t*>(p);  // same size and value bits
    FXP_UNROLL_BATCHES
    for (std::size_t k = 0; k < 4; ++k) c[k] = word_lanes<Arch>::load_unaligned(words + k * n);
  } else {
    alignas(64) std::uint32_t buffer[4 * n];
    for (std::size_t i = 0; i < 4 * n; ++i) buffer[i] = widen(p[i]);
    for (std::size_t k = 0; k < 4; ++k) c[k] = word_lanes<Arch>::load_aligned(buffer + k * n);
  }
  return c;
}
template <class Arch, narrow_raw Raw>
[[nodiscard]] inline quad_lanes<Arch> load_quad(const Raw* p, native) noexcept {
  return load_quad<Arch>(p, portable{});
}

#if XSIMD_WITH_SSE2
template <class Arch, narrow_raw Raw>
  requires(sse2_family<Arch> && sizeof(Raw) < 4)
[[nodiscard]] inline quad_lanes<Arch> load_quad(const Raw* p, native) noexcept {
  // Duplicating each byte (or half word) up to the top of its 32-bit lane and shifting it
  // back down extends it: arithmetically for signed raws, logically for unsigned ones.
  constexpr int drop = 32 - 8 * static_cast<int>(sizeof(Raw));
  const auto extend = [](__m128i x) {
    if constexpr (std::is_signed_v<Raw>) {
      return word_lanes<Arch>(_mm_srai_epi32(x, drop));
    } else {
      return word_lanes<Arch>(_mm_srli_epi32(x, drop));
    }
  };
  const auto* bytes = reinterpret_cast<const __m128i*>(p);
  if constexpr (sizeof(Raw) == 1) {
    const __m128i v = _mm_loadu_si128(bytes);
    const __m128i lo = _mm_unpacklo_epi8(v, v);
    const __m128i hi = _mm_unpackhi_epi8(v, v);
    return {extend(_mm_unpacklo_epi16(lo, lo)), extend(_mm_unpackhi_epi16(lo, lo)),
            extend(_mm_unpacklo_epi16(hi, hi)), extend(_mm_unpackhi_epi16(hi, hi))};
  } else {
    const __m128i a = _mm_loadu_si128(bytes);
    const __m128i b = _mm_loadu_si128(bytes + 1);
    return {extend(_mm_unpacklo_epi16(a, a)), extend(_mm_unpackhi_epi16(a, a)),
            extend(_mm_unpacklo_epi16(b, b)), extend(_mm_unpackhi_epi16(b, b))};
  }
}
#endif
#if XSIMD_WITH_AVX2
template <class Arch, narrow_raw Raw>
  requires(avx2_family<Arch> && sizeof(Raw) < 4)
[[nodiscard]] inline quad_lanes<Arch> load_quad(const Raw* p, native) noexcept {
  quad_lanes<Arch> c;
  for (std::size_t k = 0; k < 4; ++k) {
    const Raw* q = p + 8 * k;
    if constexpr (std::is_same_v<Raw, std::int8_t>) {
      c[k] = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q)));
    } else if constexpr (std::is_same_v<Raw, std::uint8_t>) {
      c[k] = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q)));
    } else if constexpr (std::is_same_v<Raw, std::int16_t>) {
      c[k] = _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)));
    } else {
      c[k] = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)));
    }
  }
  return c;
}
#endif
#if XSIMD_WITH_AVX512F
template <class Arch, narrow_raw Raw>
  requires(avx512_family<Arch> && sizeof(Raw) < 4)
[[nodiscard]] inline quad_lanes<Arch> load_quad(const Raw* p, native) noexcept {
  quad_lanes<Arch> c;
  for (std::size_t k = 0; k < 4; ++k) {
    const Raw* q = p + 16 * k;
    if constexpr (std::is_same_v<Raw, std::int8_t>) {
      c[k] = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)));
    } else if constexpr (std::is_same_v<Raw, std::uint8_t>) {
      c[k] = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)));
    } else if constexpr (std::is_same_v<Raw, std::int16_t>) {
      c[k] = _mm512_cvtepi16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)));
    } else {
      c[k] = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)));
    }
  }
  return c;
}
#endif

// Generic vectors: one widening conversion per batch (vpmovsxbd and kin where the region
// has them).
template <class Arch, narrow_raw Raw>
  requires(vector_family<Arch> && sizeof(Raw) < 4)
[[nodiscard]] inline quad_lanes<Arch> load_quad(const Raw* p, native) noexcept {
  constexpr std::size_t n = lane_count<Arch>;
  using wide = std::conditional_t<std::is_signed_v<Raw>, std::int32_t, std::uint32_t>;
  quad_lanes<Arch> c;
  FXP_UNROLL_BATCHES
  for (std::size_t k = 0; k < 4; ++k) {
    c[k] = lane_bitcast<word_lanes<Arch>>(
        lane_convert<wide>(vector_lanes<Raw, n * sizeof(Raw)>::load_unaligned(p + k * n)));
  }
  return c;
}

/// Four batches of floats as their bit patterns.
template <class Arch>
[[nodiscard]] inline quad_lanes<Arch> load_float_bits(const float* p) noexcept {
  constexpr std::size_t n = lane_count<Arch>;
  quad_lanes<Arch> c;
  FXP_UNROLL_BATCHES
  for (std::size_t k = 0; k < 4; ++k) {
    c[k] = lane_bitcast<word_lanes<Arch>>(float_lanes<Arch>::load_unaligned(p + k * n));
  }
  return c;
}

// ---- stores ---------------------------------------------------------------------------------
// Every lane already holds a value of Raw (sign- or zero-extended), so narrowing keeps the
// low bits; the saturating packs below are exact on such values.

// One batch: what a loop over rows of a tile stores, where a quad would span rows.
template <class Arch, narrow_raw Raw>
inline void store_lanes(Raw* p, const word_lanes<Arch>& v, portable) noexcept {
  if constexpr (sizeof(Raw) == 4) {
    v.store_unaligned(reinterpret_cast<std::uint32_t*>(p));
  } else {
    alignas(64) std::uint32_t buffer[lane_count<Arch>];
    v.store_aligned(buffer);
    for (std::size_t i = 0; i < lane_count<Arch>; ++i) p[i] = static_cast<Raw>(buffer[i]);
  }
}
template <class Arch, narrow_raw Raw>
inline void store_lanes(Raw* p, const word_lanes<Arch>& v, native) noexcept {
  store_lanes<Arch>(p, v, portable{});
}

template <class Arch, narrow_raw Raw>
inline void store_quad(Raw* p, const quad_lanes<Arch>& c, portable) noexcept {
  for (std::size_t k = 0; k < 4; ++k) store_lanes<Arch>(p + k * lane_count<Arch>, c[k], portable{});
}
template <class Arch, narrow_raw Raw>
inline void store_quad(Raw* p, const quad_lanes<Arch>& c, native) noexcept {
  store_quad<Arch>(p, c, portable{});
}

// Generic vectors: one narrowing conversion per batch (store_converted: vpmovdb and kin on
// AVX-512, packs on AVX2).
template <class Arch, narrow_raw Raw>
  requires(vector_family<Arch> && sizeof(Raw) < 4)
inline void store_lanes(Raw* p, const word_lanes<Arch>& v, native) noexcept {
  store_converted(p, v);
}
template <class Arch, narrow_raw Raw>
  requires(vector_family<Arch> && sizeof(Raw) < 4)
inline void store_quad(Raw* p, const quad_lanes<Arch>& c, native) noexcept {
#if defined(FXP_HAVE_X86_VECTOR_FORMS)
  // On AVX2 the four batches pack together (one batch at a time wastes half the packs).
  if constexpr (Arch::alignment() == 32) {
    x86::store_quad_narrow<sizeof(Raw), std::is_signed_v<Raw>>(p, c[0].native(), c[1].native(),
                                                              c[2].native(), c[3].native());
    return;
  }
#endif
  FXP_UNROLL_BATCHES
  for (std::size_t k = 0; k < 4; ++k) store_lanes<Arch>(p + k * lane_count<Arch>, c[k], native{});
}

#if XSIMD_WITH_SSE2
template <class Arch, narrow_raw Raw>
  requires(sse2_family<Arch> && sizeof(Raw) < 4)
inline void store_quad(Raw* p, const quad_lanes<Arch>& c, native) noexcept {
  auto* out = reinterpret_cast<__m128i*>(p);
  if constexpr (sizeof(Raw) == 1) {
    const __m128i a = _mm_packs_epi32(c[0], c[1]);  // 16-bit values, exact
    const __m128i b = _mm_packs_epi32(c[2], c[3]);
    _mm_storeu_si128(out, std::is_signed_v<Raw> ? _mm_packs_epi16(a, b) : _mm_packus_epi16(a, b));
  } else if constexpr (std::is_signed_v<Raw>) {
    _mm_storeu_si128(out, _mm_packs_epi32(c[0], c[1]));
    _mm_storeu_si128(out + 1, _mm_packs_epi32(c[2], c[3]));
  } else {
    // SSE2 has no unsigned 32->16 pack: bias into the signed range, pack, unbias.
    const __m128i bias32 = _mm_set1_epi32(32768);
    const __m128i bias16 = _mm_set1_epi16(INT16_MIN);
    const auto pack = [&](__m128i x, __m128i y) {
      return _mm_xor_si128(
          _mm_packs_epi32(_mm_sub_epi32(x, bias32), _mm_sub_epi32(y, bias32)), bias16);
    };
    _mm_storeu_si128(out, pack(c[0], c[1]));
    _mm_storeu_si128(out + 1, pack(c[2], c[3]));
  }
}
#endif
#if XSIMD_WITH_AVX2
template <class Arch, narrow_raw Raw>
  requires(avx2_family<Arch> && sizeof(Raw) < 4)
inline void store_quad(Raw* p, const quad_lanes<Arch>& c, native) noexcept {
  auto* out = reinterpret_cast<__m256i*>(p);
  // The packs work within 128-bit halves; a final permutation restores element order.
  if constexpr (sizeof(Raw) == 1) {
    const __m256i a = _mm256_packs_epi32(c[0], c[1]);
    const __m256i b = _mm256_packs_epi32(c[2], c[3]);
    const __m256i bytes =
        std::is_signed_v<Raw> ? _mm256_packs_epi16(a, b) : _mm256_packus_epi16(a, b);
    _mm256_storeu_si256(
        out, _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
  } else {
    const auto pack = [](__m256i x, __m256i y) {
      const __m256i halves =
          std::is_signed_v<Raw> ? _mm256_packs_epi32(x, y) : _mm256_packus_epi32(x, y);
      return _mm256_permute4x64_epi64(halves, 0xD8);
    };
    _mm256_storeu_si256(out, pack(c[0], c[1]));
    _mm256_storeu_si256(out + 1, pack(c[2], c[3]));
  }
}
#endif
#if XSIMD_WITH_AVX512F
template <class Arch, narrow_raw Raw>
  requires(avx512_family<Arch> && sizeof(Raw) < 4)
inline void store_lanes(Raw* p, const word_lanes<Arch>& v, native) noexcept {
  if constexpr (sizeof(Raw) == 1) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_cvtepi32_epi8(v));
  } else {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtepi32_epi16(v));
  }
}
template <class Arch, narrow_raw Raw>
  requires(avx512_family<Arch> && sizeof(Raw) < 4)
inline void store_quad(Raw* p, const quad_lanes<Arch>& c, native) noexcept {
  for (std::size_t k = 0; k < 4; ++k) store_lanes<Arch>(p + 16 * k, c[k], native{});
}
#endif

FXP_END_ISA_NAMESPACE
}  // namespace fxp::simd::detail
