// SPDX-License-Identifier: MIT
#pragma once
// Packing for the GEMM micro-kernels: copies a block of op(A) or op(B) into the layout the
// kernels read (see gemm_kernels.hpp), converting each element on the way (a byte of a raw
// fixed-point value, or a float as is) and padding with zeros to whole micro-panels.
// pack_panel is the generic version; avx2::pack_pairs_x86 (an AVX2 target region, for the
// x86 kernels, which only run where AVX2 does) moves whole registers for the common case of
// 8- and 16-bit operands used whole.

#include <cstddef>      // std::size_t strides and counts
#include <cstdint>      // int16 lanes
#include <cstring>      // std::memcpy of raw pairs
#include <type_traits>  // std::is_signed_v for widening raw bytes

#include "isa_namespace.hpp"
#include "target_region.hpp"
#if defined(FXP_HAVE_TARGET_REGIONS)
#include "x86_intrinsics.hpp"  // unpack / permute for interleaving and transposing pairs
#endif

namespace fxp::simd::detail {
FXP_BEGIN_ISA_NAMESPACE

/// Packs one micro-panel of `Lines` lines (rows of op(A), or columns of op(B)) over the
/// reduction range [0, kcur) in `steps` steps of KStep values: dst[s][l][t] =
/// convert(element (l, s * KStep + t)). Element (l, kk) of the source is
/// src[l * line_stride + kk * k_stride]; lines from `valid` on and values past kcur are zero.
template <std::size_t Lines, std::size_t KStep, class Out, class Src, class Convert>
void pack_panel(const Src* src, std::size_t line_stride, std::size_t k_stride,
                std::size_t valid, std::size_t kcur, std::size_t steps, Out* dst,
                const Convert& convert) {
  constexpr std::size_t step_size = Lines * KStep;
  const std::size_t full_steps = kcur / KStep;
  if (valid < Lines || full_steps < steps) {
    // Zero first, the data overwrites it: simpler than tracking each kind of padding.
    for (std::size_t i = 0; i < steps * step_size; ++i) dst[i] = Out{};
  }
  if (line_stride == 1 && valid == Lines) {
    // The lines of one k are adjacent (rows of B, or of a transposed A): read KStep rows
    // and interleave them.
    for (std::size_t s = 0; s < full_steps; ++s) {
      Out* d = dst + s * step_size;
      const Src* row = src + s * KStep * k_stride;
      for (std::size_t l = 0; l < Lines; ++l) {
        for (std::size_t t = 0; t < KStep; ++t) d[l * KStep + t] = convert(row[l + t * k_stride]);
      }
    }
  } else {
    // Each line runs along k (rows of A, or columns of a transposed B), or a ragged edge.
    for (std::size_t l = 0; l < valid; ++l) {
      const Src* line = src + l * line_stride;
      Out* d = dst + l * KStep;
      for (std::size_t s = 0; s < full_steps; ++s) {
        for (std::size_t t = 0; t < KStep; ++t) {
          d[s * step_size + t] = convert(line[(s * KStep + t) * k_stride]);
        }
      }
    }
  }
  // The last, partial step of an odd k (KStep = 2): its missing values stay zero.
  if (full_steps < steps) {
    const std::size_t s = full_steps;
    for (std::size_t l = 0; l < valid; ++l) {
      for (std::size_t t = 0; s * KStep + t < kcur; ++t) {
        dst[s * step_size + l * KStep + t] =
            convert(src[l * line_stride + (s * KStep + t) * k_stride]);
      }
    }
  }
}

/// What the int16 lanes of a packed operand hold: its raw values, or one byte part of
/// 16-bit raw values (gemm_plan.hpp's split: the high byte keeps a signed raw's sign, the
/// low byte is 0..255).
enum class lane_part { whole, high_byte, low_byte };

/// Part `Part` of one raw value, as lane_layout::part computes it.
template <lane_part Part, class Raw>
[[nodiscard]] constexpr std::int16_t part_of(Raw raw) noexcept {
  const auto wide = static_cast<std::int32_t>(raw);
  if constexpr (Part == lane_part::high_byte) {
    return static_cast<std::int16_t>(wide >> 8);
  } else if constexpr (Part == lane_part::low_byte) {
    return static_cast<std::int16_t>(wide & 0xFF);
  } else {
    return static_cast<std::int16_t>(raw);
  }
}

#if defined(FXP_HAVE_TARGET_REGIONS)
FXP_BEGIN_TARGET_REGION(FXP_AVX2_TARGETS)
FXP_END_ISA_NAMESPACE
namespace avx2 {
FXP_BEGIN_ISA_NAMESPACE

/// part_of on int16 lanes holding raw values of type Raw (as loaded, not yet split).
template <lane_part Part, class Raw>
[[nodiscard]] inline __m256i take_part(__m256i v) noexcept {
  if constexpr (Part == lane_part::whole) {
    return v;
  } else if constexpr (Part == lane_part::low_byte) {
    return _mm256_and_si256(v, _mm256_set1_epi16(0xFF));
  } else if constexpr (std::is_signed_v<Raw>) {
    return _mm256_srai_epi16(v, 8);
  } else {
    return _mm256_srli_epi16(v, 8);
  }
}
template <lane_part Part, class Raw>
[[nodiscard]] inline __m128i take_part(__m128i v) noexcept {
  if constexpr (Part == lane_part::whole) {
    return v;
  } else if constexpr (Part == lane_part::low_byte) {
    return _mm_and_si128(v, _mm_set1_epi16(0xFF));
  } else if constexpr (std::is_signed_v<Raw>) {
    return _mm_srai_epi16(v, 8);
  } else {
    return _mm_srli_epi16(v, 8);
  }
}

/// 16 raw values of type Raw (int8, uint8, or 16 bits) at p, as int16 lanes (16-bit raws
/// as their bits: take_part splits them).
template <class Raw>
[[nodiscard]] inline __m256i load16_as_int16(const unsigned char* p) noexcept {
  if constexpr (sizeof(Raw) == 2) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  } else if constexpr (std::is_signed_v<Raw>) {
    return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  } else {
    return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
}

/// The 8 x 8 transpose of 32-bit lanes: row j of the result is lane j of v[0..7].
inline void transpose_8x8_epi32(__m256i (&v)[8]) noexcept {
  const __m256i t0 = _mm256_unpacklo_epi32(v[0], v[1]);
  const __m256i t1 = _mm256_unpackhi_epi32(v[0], v[1]);
  const __m256i t2 = _mm256_unpacklo_epi32(v[2], v[3]);
  const __m256i t3 = _mm256_unpackhi_epi32(v[2], v[3]);
  const __m256i t4 = _mm256_unpacklo_epi32(v[4], v[5]);
  const __m256i t5 = _mm256_unpackhi_epi32(v[4], v[5]);
  const __m256i t6 = _mm256_unpacklo_epi32(v[6], v[7]);
  const __m256i t7 = _mm256_unpackhi_epi32(v[6], v[7]);
  const __m256i u0 = _mm256_unpacklo_epi64(t0, t2);
  const __m256i u1 = _mm256_unpackhi_epi64(t0, t2);
  const __m256i u2 = _mm256_unpacklo_epi64(t1, t3);
  const __m256i u3 = _mm256_unpackhi_epi64(t1, t3);
  const __m256i u4 = _mm256_unpacklo_epi64(t4, t6);
  const __m256i u5 = _mm256_unpackhi_epi64(t4, t6);
  const __m256i u6 = _mm256_unpacklo_epi64(t5, t7);
  const __m256i u7 = _mm256_unpackhi_epi64(t5, t7);
  v[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
  v[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
  v[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
  v[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
  v[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
  v[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
  v[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
  v[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

/// The AVX2 fast path of pack_panel for KStep = 2 and int16 lanes holding part `Part` of
/// raw values of type Raw: packs as many leading steps of the kcur values as whole registers
/// allow (lines from `valid` on get zeros, and so does the missing half of a last, odd
/// step) and returns how many; pack_panel does the rest. `src` points at the raw bytes of
/// element (0, 0); strides count elements.
template <std::size_t Lines, class Raw, lane_part Part = lane_part::whole>
[[nodiscard]] std::size_t pack_pairs_x86(const unsigned char* src, std::size_t line_stride,
                                         std::size_t k_stride, std::size_t valid,
                                         std::size_t kcur, std::int16_t* dst) noexcept {
  constexpr std::size_t size = sizeof(Raw);
  const std::size_t full_steps = kcur / 2;
  if (line_stride == 1 && Lines % 16 == 0) {
    // Rows 2s and 2s+1 hold 16 lines each per register: widen, interleave within the
    // 128-bit halves, then put the halves in order. A ragged edge is first copied into
    // zero-padded rows, so that no load reads past the last line; the row after the last
    // of an odd kcur is a row of zeros.
    alignas(32) unsigned char padded[2][Lines * size] = {};
    const std::size_t steps = full_steps + kcur % 2;
    for (std::size_t s = 0; s < steps; ++s) {
      const bool odd = s == full_steps;
      const unsigned char* r0 = src + 2 * s * k_stride * size;
      const unsigned char* r1 = odd ? padded[1] : r0 + k_stride * size;
      if (valid < Lines || odd) {
        for (std::size_t i = 0; i < valid * size; ++i) {
          padded[0][i] = r0[i];
          padded[1][i] = odd ? 0 : r1[i];
        }
        r0 = padded[0];
        r1 = padded[1];
      }
      std::int16_t* d = dst + s * Lines * 2;
      for (std::size_t c = 0; c < Lines; c += 16) {
        const __m256i a = take_part<Part, Raw>(load16_as_int16<Raw>(r0 + c * size));
        const __m256i b = take_part<Part, Raw>(load16_as_int16<Raw>(r1 + c * size));
        const __m256i lo = _mm256_unpacklo_epi16(a, b);
        const __m256i hi = _mm256_unpackhi_epi16(a, b);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + 2 * c),
                            _mm256_permute2x128_si256(lo, hi, 0x20));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + 2 * c + 16),
                            _mm256_permute2x128_si256(lo, hi, 0x31));
      }
    }
    return steps;
  }
  if (k_stride == 1 && Lines % 8 == 0) {
    // Each line runs along k: 8 lines x 8 pairs (32-bit lanes) per 8 x 8 transpose; the
    // lines of a ragged last group are copied pair by pair, the missing ones zeroed.
    const std::size_t blocks = full_steps / 8;
    const std::size_t whole = valid / 8 * 8;
    for (std::size_t b = 0; b < blocks; ++b) {
      for (std::size_t l0 = 0; l0 < whole; l0 += 8) {
        __m256i v[8];
        for (std::size_t i = 0; i < 8; ++i) {
          v[i] = take_part<Part, Raw>(
              load16_as_int16<Raw>(src + ((l0 + i) * line_stride + 16 * b) * size));
        }
        transpose_8x8_epi32(v);
        for (std::size_t j = 0; j < 8; ++j) {
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + (8 * b + j) * Lines * 2 + 2 * l0),
                              v[j]);
        }
      }
      for (std::size_t j = 0; j < 8; ++j) {
        std::int16_t* d = dst + (8 * b + j) * Lines * 2;
        for (std::size_t l = whole; l < Lines; ++l) {
          const std::size_t k = 16 * b + 2 * j;
          Raw pair[2] = {};
          if (l < valid) {
            std::memcpy(pair, src + (l * line_stride + k) * size, sizeof pair);
          }
          d[2 * l] = part_of<Part>(pair[0]);
          d[2 * l + 1] = part_of<Part>(pair[1]);
        }
      }
    }
    return blocks * 8;
  }
  if (k_stride == 1 && Lines == 4 && valid == Lines) {
    // Four lines (the AVX2 kernel's rows of A) along k: 4 x 4 pairs per 128-bit transpose.
    const std::size_t blocks = full_steps / 4;
    for (std::size_t b = 0; b < blocks; ++b) {
      __m128i v[4];
      for (std::size_t i = 0; i < 4; ++i) {
        const unsigned char* p = src + (i * line_stride + 8 * b) * size;
        if constexpr (size == 2) {
          v[i] = take_part<Part, Raw>(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        } else if constexpr (std::is_signed_v<Raw>) {
          v[i] = _mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
        } else {
          v[i] = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
        }
      }
      const __m128i t0 = _mm_unpacklo_epi32(v[0], v[1]);
      const __m128i t1 = _mm_unpackhi_epi32(v[0], v[1]);
      const __m128i t2 = _mm_unpacklo_epi32(v[2], v[3]);
      const __m128i t3 = _mm_unpackhi_epi32(v[2], v[3]);
      std::int16_t* d = dst + 4 * b * Lines * 2;
      _mm_storeu_si128(reinterpret_cast<__m128i*>(d), _mm_unpacklo_epi64(t0, t2));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 8), _mm_unpackhi_epi64(t0, t2));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 16), _mm_unpacklo_epi64(t1, t3));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 24), _mm_unpackhi_epi64(t1, t3));
    }
    return blocks * 4;
  }
  return 0;
}

FXP_END_ISA_NAMESPACE
}  // namespace avx2
FXP_BEGIN_ISA_NAMESPACE
FXP_END_TARGET_REGION
#endif  // FXP_HAVE_TARGET_REGIONS

FXP_END_ISA_NAMESPACE
}  // namespace fxp::simd::detail
