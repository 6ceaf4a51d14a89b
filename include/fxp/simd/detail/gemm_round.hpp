// SPDX-License-Identifier: MIT
#pragma once
// The one rounding of a GEMM: an exact sum of products, an integer in units of the product
// format's last bit, narrowed into the output format by a rounding policy and the output's
// overflow policy. The policies of core/rounding.hpp decide through the predicates of a
// "discarded" object; sum_discarded answers them straight from the sum's low bits, so the
// per-element work is a few integer operations that compilers vectorize over a tile row.
// Shifts outside the fast range go through the core's own narrowing (fxp::fixed_cast).

#include <algorithm>    // std::min
#include <cstddef>      // std::size_t
#include <cstdint>      // sums and random words
#include <cstring>      // std::memcpy of words
#include <type_traits>  // std::conditional_t for the working integer

#if defined(__AVX2__)
#include "x86_intrinsics.hpp"  // eight Philox blocks at a time
#endif

#include "../../core/cast.hpp"
#include "../../core/random.hpp"
#include "../../core/rounding.hpp"
#include "gemm_plan.hpp"

namespace fxp::simd::detail {

/// A generator that returns one given word: how an element's own random word (drawn from
/// its counter) reaches the core's narrowing.
struct single_word {
  using result_type = std::uint32_t;
  std::uint32_t word;
  [[nodiscard]] static constexpr result_type min() noexcept { return 0; }
  [[nodiscard]] static constexpr result_type max() noexcept { return 0xFFFFFFFFu; }
  constexpr result_type operator()() const noexcept { return word; }
};

/// The discarded part of v * 2^-Shift, 1 <= Shift < bit width of Int: v's low Shift bits.
template <class Int, int Shift>
struct sum_discarded {
  static constexpr Int mask = static_cast<Int>((Int{1} << Shift) - 1);
  static constexpr Int half = static_cast<Int>(Int{1} << (Shift - 1));
  Int v;

  [[nodiscard]] constexpr bool negative() const noexcept { return v < 0; }
  [[nodiscard]] constexpr bool odd() const noexcept { return ((v >> Shift) & 1) != 0; }
  [[nodiscard]] constexpr bool exact() const noexcept { return (v & mask) == 0; }
  [[nodiscard]] constexpr bool at_least_half() const noexcept { return (v & half) != 0; }
  [[nodiscard]] constexpr bool above_half() const noexcept { return (v & mask) > half; }
  [[nodiscard]] constexpr bool tie() const noexcept { return (v & mask) == half; }
  [[nodiscard]] constexpr std::uint32_t fraction32() const noexcept {
    if constexpr (Shift <= 32) {
      return static_cast<std::uint32_t>(static_cast<std::uint64_t>(v & mask) << (32 - Shift));
    } else {
      return static_cast<std::uint32_t>(static_cast<std::uint64_t>(v) >> (Shift - 32));
    }
  }
};

/// Rounds exact sums (raw values of format Sum, held in Acc) into format C by policy Round
/// and C's overflow policy: the result of fxp::fixed_cast<C, Round>(Sum::from_raw(v)).
template <class C, class Round, class Sum, class Acc>
struct sum_rounding {
  using raw_type = typename C::raw_type;
  using overflow = typename C::overflow_policy;
  static constexpr int shift = Sum::fraction_bits - C::fraction_bits;
  static constexpr bool needs_word = !deterministic_rounding<Round>;

  // The fast path works in int32 when the sum, the shift and C's range allow, else int64.
  static constexpr bool c_in_int32 = C::width < 32 || (C::width == 32 && C::is_signed);
  static constexpr bool c_in_int64 = C::width < 64 || C::is_signed;
  using fast_int = std::conditional_t<
      sizeof(Acc) == 4 && shift >= 1 && shift <= 30 && c_in_int32, std::int32_t, std::int64_t>;
  static constexpr bool fast = c_in_int64 && shift >= -62 && shift <= 62;

  // Bounds on the sum for a left shift (shift <= 0) not to overflow C, as the core checks.
  static constexpr int up = shift < 0 ? -shift : 0;
  static constexpr std::int64_t v_hi =
      static_cast<std::int64_t>(static_cast<int128>(C::raw_max) >> up);
  static constexpr std::int64_t v_lo =
      static_cast<std::int64_t>(-((-static_cast<int128>(C::raw_min)) >> up));

  /// The raw value of C for the exact sum v; `word` is the element's random word (unused
  /// by deterministic policies).
  [[nodiscard]] static raw_type apply(Acc v, std::uint32_t word) {
    if constexpr (!fast) {
      single_word gen{word};
      return fixed_cast<C, Round>(Sum::from_raw(static_cast<typename Sum::raw_type>(v)), gen)
          .raw();
    } else if constexpr (shift <= 0) {
      const auto w = static_cast<std::int64_t>(v);
      if (w > v_hi || w < v_lo) {
        return overflow::template on_overflow<C>(
            w < 0, static_cast<std::uint64_t>(w) << up);  // the low 64 bits of w * 2^up
      }
      return static_cast<raw_type>(static_cast<std::int64_t>(static_cast<std::uint64_t>(w) << up));
    } else {
      using I = fast_int;
      const auto x = static_cast<I>(v);
      I q = static_cast<I>(x >> shift);
      const sum_discarded<I, shift> d{x};
      bool round_up;
      if constexpr (needs_word) {
        round_up = Round::round_up(d, word);
      } else {
        round_up = Round::round_up(d);
      }
      q = static_cast<I>(q + (round_up ? 1 : 0));
      if (q > static_cast<I>(C::raw_max) || q < static_cast<I>(C::raw_min)) {
        return overflow::template on_overflow<C>(q < 0, static_cast<std::uint64_t>(q));
      }
      return static_cast<raw_type>(q);
    }
  }
};

/// Philox4x32-10 blocks ids[0 .. count) of a stream: out[4 i + w] is word w of block ids[i],
/// in the order random_key::word counts them; the rounds
/// of fxp::philox4x32_10 (core/random.hpp). With AVX2 the blocks go eight to a register and
/// four registers at a time, so that the rounds' multiply latency overlaps; otherwise one
/// block at a time through the core. The tests compare the words with random_key::word.
inline void philox_blocks(std::uint64_t seed, std::uint64_t stream, const std::uint64_t* ids,
                          std::size_t count, std::uint32_t* out) noexcept {
#if defined(__AVX2__)
  using fxp::detail::hi32;
  using fxp::detail::lo32;
  constexpr std::size_t groups = 4;
  constexpr std::size_t lanes = 8 * groups;
  const __m256i m0 = _mm256_set1_epi32(static_cast<int>(fxp::detail::philox_m0));
  const __m256i m1 = _mm256_set1_epi32(static_cast<int>(fxp::detail::philox_m1));
  // 32 x 32 -> 64-bit products of all eight lanes: even lanes directly, odd lanes shifted
  // down; then the low and high halves regathered into lane order.
  const auto multiply = [](__m256i c, __m256i m, __m256i& low, __m256i& high) {
    const __m256i even = _mm256_mul_epu32(c, m);
    const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(c, 32), m);
    low = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    high = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
  };
  for (std::size_t first = 0; first < count; first += lanes) {
    alignas(32) std::uint32_t words[4][lanes];
    for (std::size_t i = 0; i < lanes; ++i) {
      const std::uint64_t id = first + i < count ? ids[first + i] : 0;
      words[0][i] = lo32(id);
      words[1][i] = hi32(id);
    }
    __m256i c[4][groups];
    for (std::size_t g = 0; g < groups; ++g) {
      c[0][g] = _mm256_load_si256(reinterpret_cast<const __m256i*>(words[0] + 8 * g));
      c[1][g] = _mm256_load_si256(reinterpret_cast<const __m256i*>(words[1] + 8 * g));
      c[2][g] = _mm256_set1_epi32(static_cast<int>(lo32(stream)));
      c[3][g] = _mm256_set1_epi32(static_cast<int>(hi32(stream)));
    }
    std::uint32_t k0 = lo32(seed);
    std::uint32_t k1 = hi32(seed);
    for (int round = 0; round < 10; ++round) {
      const __m256i key0 = _mm256_set1_epi32(static_cast<int>(k0));
      const __m256i key1 = _mm256_set1_epi32(static_cast<int>(k1));
      for (std::size_t g = 0; g < groups; ++g) {
        __m256i lo0;
        __m256i hi0;
        __m256i lo1;
        __m256i hi1;
        multiply(c[0][g], m0, lo0, hi0);
        multiply(c[2][g], m1, lo1, hi1);
        c[0][g] = _mm256_xor_si256(_mm256_xor_si256(hi1, c[1][g]), key0);
        c[2][g] = _mm256_xor_si256(_mm256_xor_si256(hi0, c[3][g]), key1);
        c[1][g] = lo1;
        c[3][g] = lo0;
      }
      k0 += fxp::detail::philox_w0;
      k1 += fxp::detail::philox_w1;
    }
    for (std::size_t w = 0; w < 4; ++w) {
      for (std::size_t g = 0; g < groups; ++g) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(words[w] + 8 * g), c[w][g]);
      }
    }
    for (std::size_t i = 0; i < lanes && first + i < count; ++i) {
      for (std::size_t w = 0; w < 4; ++w) out[4 * (first + i) + w] = words[w][i];
    }
  }
#else
  for (std::size_t i = 0; i < count; ++i) {
    const philox_counter block = philox::block(seed, stream, ids[i]);
    for (std::size_t w = 0; w < 4; ++w) out[4 * i + w] = block[w];
  }
#endif
}

/// out[i] = key.word(first + i) for i < count: the random words of consecutive elements.
inline void fill_words(const random_key& key, std::uint64_t first, std::size_t count,
                       std::uint32_t* out) noexcept {
  constexpr std::size_t batch = 32;  // blocks per call: one full pass of philox_blocks
  std::uint64_t ids[batch];
  std::uint32_t words[batch * philox::words_per_block];
  std::uint64_t index = first;
  while (count > 0) {
    const std::uint64_t first_block = index / philox::words_per_block;
    for (std::size_t i = 0; i < batch; ++i) ids[i] = first_block + i;
    philox_blocks(key.seed, key.stream(), ids, batch, words);
    const auto offset = static_cast<std::size_t>(index % philox::words_per_block);
    const std::size_t n = std::min(count, batch * philox::words_per_block - offset);
    std::memcpy(out, words + offset, n * sizeof(std::uint32_t));
    out += n;
    index += n;
    count -= n;
  }
}

}  // namespace fxp::simd::detail
