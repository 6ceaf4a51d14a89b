// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// Philox4x32-10 on SIMD lanes, bit-identical to fxp::philox4x32_10, and the random words of
/// fxp::random_key for a whole chunk of consecutive elements at once.

#include <algorithm>  // std::copy_n, std::min of the last words
#include <array>      // four words per lane, the key schedule
#include <cstddef>    // std::size_t lane indices
#include <cstdint>    // 32- and 64-bit counters
#include <cstring>    // std::memcpy of buffered words

#include "../core/random.hpp"
#include "detail/array_dispatch.hpp"
#include "detail/isa_namespace.hpp"
#include "detail/lane_ops.hpp"
#include "lanes.hpp"

namespace fxp::simd {
FXP_BEGIN_ISA_NAMESPACE

/// The ten round keys of Philox4x32-10 for one key, broadcast once so that a kernel does not
/// rebuild them for every block.
/// \tparam Arch the xsimd architecture of the lanes
template <simd_arch Arch>
struct philox_key_schedule {
  std::array<word_lanes<Arch>, 10> k0;  ///< word 0 of the key in round r
  std::array<word_lanes<Arch>, 10> k1;  ///< word 1 of the key in round r

  /// The schedule of `key` (least significant word first, as fxp::philox_key).
  explicit philox_key_schedule(philox_key key) noexcept {
    for (std::size_t round = 0; round < 10; ++round) {
      k0[round] = word_lanes<Arch>(key[0]);
      k1[round] = word_lanes<Arch>(key[1]);
      key[0] += fxp::detail::philox_w0;  // the Weyl sequence of the scalar block function
      key[1] += fxp::detail::philox_w1;
    }
  }
};

FXP_END_ISA_NAMESPACE
namespace detail {
FXP_BEGIN_ISA_NAMESPACE
/// Rounds first_round ... 9 of Philox4x32-10 on groups of lanes: the round of
/// fxp::detail::philox4x32_round, lane-wise. The key is folded into the other operand
/// first, off the multiply's critical path.
template <simd_arch Arch, instruction_selection Ops, std::size_t Groups>
[[nodiscard]] inline std::array<std::array<word_lanes<Arch>, 4>, Groups> philox_rounds(
    const std::array<std::array<word_lanes<Arch>, 4>, Groups>& start,
    const philox_key_schedule<Arch>& key, std::size_t first_round) noexcept {
  // Vectors by reference: by value, a 64-byte vector's calling convention depends on the
  // instruction set of the caller.
  std::array<std::array<word_lanes<Arch>, 4>, Groups> counter = start;
  for (std::size_t round = first_round; round < 10; ++round) {
    for (auto& c : counter) {
      const auto [hi0, lo0] = mul_hi_lo<Arch>(c[0], fxp::detail::philox_m0, Ops{});
      const auto [hi1, lo1] = mul_hi_lo<Arch>(c[2], fxp::detail::philox_m1, Ops{});
      c = {(c[1] ^ key.k0[round]) ^ hi1, lo1, (c[3] ^ key.k1[round]) ^ hi0, lo0};
    }
  }
  return counter;
}
FXP_END_ISA_NAMESPACE
}  // namespace detail
FXP_BEGIN_ISA_NAMESPACE

/// Philox4x32-10 on several independent groups of lanes at once: lane i of group g of the
/// result is `fxp::philox4x32_10({c[g][0][i], c[g][1][i], c[g][2][i], c[g][3][i]}, key)`.
/// The ten rounds are a chain of dependent multiplies; interleaving groups gives the
/// processor independent work to overlap with their latency.
/// \tparam Arch the xsimd architecture of the lanes
/// \tparam Ops fxp::simd::native (a 32x32->64 multiply through pmuludq, which xsimd lacks) or
///         fxp::simd::portable (16-bit partial products in xsimd operations)
/// \tparam Groups the number of groups
/// \param counter the four counter words of each lane of each group, least significant first
/// \param key the key schedule
/// \return the four output words of each lane of each group
template <simd_arch Arch, instruction_selection Ops = native, std::size_t Groups = 1>
[[nodiscard]] inline std::array<std::array<word_lanes<Arch>, 4>, Groups> philox4x32_10(
    const std::array<std::array<word_lanes<Arch>, 4>, Groups>& counter,
    const philox_key_schedule<Arch>& key) noexcept {
  return detail::philox_rounds<Arch, Ops, Groups>(counter, key, 0);
}

/// Philox4x32-10 in every lane: lane i of the result is
/// `fxp::philox4x32_10({c[0][i], c[1][i], c[2][i], c[3][i]}, key)`.
/// \tparam Arch the xsimd architecture of the lanes
/// \tparam Ops fxp::simd::native or fxp::simd::portable (same bits)
/// \param counter the four counter words of each lane, least significant first
/// \param key the key schedule
/// \return the four output words of each lane
template <simd_arch Arch, instruction_selection Ops = native>
[[nodiscard]] inline std::array<word_lanes<Arch>, 4> philox4x32_10(
    const std::array<word_lanes<Arch>, 4>& counter, const philox_key_schedule<Arch>& key) noexcept {
  return philox4x32_10<Arch, Ops, 1>(std::array<std::array<word_lanes<Arch>, 4>, 1>{counter},
                                     key)[0];
}

/// The random words of fxp::random_key, many elements at a time: element j draws word
/// j % 4 of Philox block j / 4 of stream `key.stream()` under `key.seed`
/// (fxp::random_key::word), so the words do not depend on the SIMD width.
///
/// Each lane computes one whole block, four groups of lanes at a time (the rounds are a
/// chain of multiplies; four independent chains keep the multiplier busy), and the four
/// output words are transposed into element order with in-register interleaves (xsimd's
/// zip_lo/zip_hi, which work within 128-bit halves on AVX2 and AVX-512). Lanes are
/// assigned to blocks in the order that makes the interleaves come out in element order,
/// so no cross-lane shuffle is needed.
/// \tparam Arch the xsimd architecture of the lanes
/// \tparam Ops fxp::simd::native or fxp::simd::portable (same bits)
template <simd_arch Arch, instruction_selection Ops = native>
class philox_words {
 public:
  /// Lanes per batch.
  static constexpr std::size_t lanes = lane_count<Arch>;
  /// Independent groups of lanes per call.
  static constexpr std::size_t groups = 4;
  /// Elements per call of `generate`: one block (four words) per lane of every group.
  static constexpr std::size_t words_per_call = 4 * groups * lanes;

  /// The words of the elements of tensor `key.tensor_id` at step `key.step`.
  explicit philox_words(const random_key& key) noexcept
      : schedule_({fxp::detail::lo32(key.seed), fxp::detail::hi32(key.seed)}),
        seed_lo_(fxp::detail::lo32(key.seed)),
        seed_hi_(fxp::detail::hi32(key.seed)),
        stream_lo_(fxp::detail::lo32(key.stream())),
        stream_hi_(fxp::detail::hi32(key.stream())) {
    alignas(64) std::array<std::uint32_t, lanes> offsets{};
    for (std::size_t lane = 0; lane < lanes; ++lane) offsets[lane] = block_of_lane(lane);
    offsets_ = word_lanes<Arch>::load_aligned(offsets.data());
  }

  /// Writes the words of elements 4 * block ... 4 * block + words_per_call - 1 to
  /// out[0 .. words_per_call) (any alignment).
  void generate(std::uint64_t block, std::uint32_t* out) const noexcept {
    if constexpr (detail::is_vector_arch<Arch>) {
      generate_inline(block, out);  // inlined into the target region of its kernel
    } else {
      generate_out_of_line(block, out);
    }
  }

 private:
  // generate's body, always inlined: into a generic-vector kernel, so that its target region
  // encloses the rounds, and into generate_out_of_line for the others.
  [[gnu::always_inline]] inline void generate_inline(std::uint64_t block,
                                                     std::uint32_t* out) const noexcept {
    // Element indices are 64-bit, so the block of element j is j / 4 taken modulo 2^62;
    // the scalar path is needed only when the blocks cross a 2^32 boundary (a carry into
    // counter word 1) or that 2^62 wrap.
    constexpr std::uint64_t block_mask = (std::uint64_t{1} << 62) - 1;
    constexpr std::uint32_t last = groups * lanes - 1;
    std::array<std::array<word_lanes<Arch>, 4>, groups> state;
    if (fxp::detail::lo32(block) <= 0xFFFFFFFFu - last && block + last <= block_mask) {
      // Counter words 1-3 are the same in every lane, so in the first two rounds only one of
      // the two products differs between lanes; the other is computed once, in scalar code.
      using fxp::detail::hi32;
      using fxp::detail::lo32;
      using fxp::detail::philox_m0;
      using fxp::detail::philox_m1;
      using fxp::detail::philox_w0;
      using fxp::detail::philox_w1;
      const std::uint64_t p1 = std::uint64_t{philox_m1} * stream_lo_;  // round 0, word 2
      const std::uint32_t c0_after0 = hi32(p1) ^ hi32(block) ^ seed_lo_;
      const std::uint64_t p0 = std::uint64_t{philox_m0} * c0_after0;  // round 1, word 0
      const word_lanes<Arch> c1_after1_key(lo32(p1) ^ (seed_lo_ + philox_w0));
      const word_lanes<Arch> c2_after1_key(hi32(p0) ^ (seed_hi_ + philox_w1));
      const word_lanes<Arch> c3_after1(lo32(p0));
      const word_lanes<Arch> c3_key(stream_hi_ ^ seed_hi_);
      for (std::size_t g = 0; g < groups; ++g) {
        const auto first = static_cast<std::uint32_t>(lo32(block) + g * lanes);
        const auto [hi0, lo0] =
            detail::mul_hi_lo<Arch>(word_lanes<Arch>(first) + offsets_, philox_m0, Ops{});
        const auto [hi1, lo1] = detail::mul_hi_lo<Arch>(hi0 ^ c3_key, philox_m1, Ops{});
        state[g] = {c1_after1_key ^ hi1, lo1, lo0 ^ c2_after1_key, c3_after1};
      }
      state = detail::philox_rounds<Arch, Ops, groups>(state, schedule_, 2);
    } else {
      std::array<std::array<word_lanes<Arch>, 4>, groups> counter;
      for (std::size_t g = 0; g < groups; ++g) {
        alignas(64) std::array<std::uint32_t, lanes> lo{};
        alignas(64) std::array<std::uint32_t, lanes> hi{};
        for (std::size_t lane = 0; lane < lanes; ++lane) {
          const std::uint64_t b = (block + g * lanes + block_of_lane(lane)) & block_mask;
          lo[lane] = fxp::detail::lo32(b);
          hi[lane] = fxp::detail::hi32(b);
        }
        counter[g] = {word_lanes<Arch>::load_aligned(lo.data()), word_lanes<Arch>::load_aligned(hi.data()),
                      word_lanes<Arch>(stream_lo_), word_lanes<Arch>(stream_hi_)};
      }
      state = philox4x32_10<Arch, Ops, groups>(counter, schedule_);
    }
    store_in_element_order(state, out);
  }

  // Not inlined: it runs once per tile of 16 chunks, and inlining its ten unrolled rounds
  // into every kernel would only grow them. (A kernel on generic vectors inlines them: its
  // target region must enclose the rounds, or they would be compiled for the flags' set.)
  [[gnu::noinline]] void generate_out_of_line(std::uint64_t block, std::uint32_t* out) const noexcept {
    generate_inline(block, out);
  }

 public:

  /// Writes the four words of block ids[i] to out[4 i ... 4 i + 3] for i < count: blocks
  /// in any order (a GEMM tile's rows are not consecutive elements). Word w of block b is
  /// `key.word(4 b + w)`; block ids are taken modulo 2^62 as in `generate`.
  void blocks(const std::uint64_t* ids, std::size_t count, std::uint32_t* out) const noexcept {
    constexpr std::uint64_t block_mask = (std::uint64_t{1} << 62) - 1;
    constexpr std::size_t per_call = groups * lanes;
    for (std::size_t first = 0; first < count; first += per_call) {
      // Every lane's counter words written first, then loaded as vectors: a vector load
      // right after the scalar stores it spans waits for them to reach the cache (they
      // cannot be forwarded), which was a sixth of a stochastic GEMM store's time.
      alignas(64) std::array<std::array<std::uint32_t, lanes>, groups> lo;
      alignas(64) std::array<std::array<std::uint32_t, lanes>, groups> hi;
      for (std::size_t g = 0; g < groups; ++g) {
        for (std::size_t lane = 0; lane < lanes; ++lane) {
          // The lane whose block `generate` would put at this output position.
          const std::size_t i = first + g * lanes + block_of_lane(lane);
          const std::uint64_t b = i < count ? ids[i] & block_mask : 0;
          lo[g][lane] = fxp::detail::lo32(b);
          hi[g][lane] = fxp::detail::hi32(b);
        }
      }
      std::array<std::array<word_lanes<Arch>, 4>, groups> counter;
      for (std::size_t g = 0; g < groups; ++g) {
        counter[g] = {word_lanes<Arch>::load_aligned(lo[g].data()), word_lanes<Arch>::load_aligned(hi[g].data()),
                      word_lanes<Arch>(stream_lo_), word_lanes<Arch>(stream_hi_)};
      }
      // Through a buffer: `out` may be shorter than a whole call (a GEMM tile's blocks).
      alignas(64) std::array<std::uint32_t, words_per_call> words;
      store_in_element_order(philox4x32_10<Arch, Ops, groups>(counter, schedule_), words.data());
      std::copy_n(words.data(), 4 * std::min(per_call, count - first), out + 4 * first);
    }
  }

 private:
  // The four words of each lane's block, transposed into element order with in-register
  // interleaves: a 4x4 transpose within each 128-bit half, zip(zip(w0, w2), zip(w1, w3)).
  static void store_in_element_order(const std::array<std::array<word_lanes<Arch>, 4>, groups>& w,
                                     std::uint32_t* out) noexcept {
    for (std::size_t g = 0; g < groups; ++g) {
      const word_lanes<Arch> t0 = detail::lane_zip_lo(w[g][0], w[g][2]);
      const word_lanes<Arch> t1 = detail::lane_zip_lo(w[g][1], w[g][3]);
      const word_lanes<Arch> t2 = detail::lane_zip_hi(w[g][0], w[g][2]);
      const word_lanes<Arch> t3 = detail::lane_zip_hi(w[g][1], w[g][3]);
      std::uint32_t* group_out = out + 4 * lanes * g;
      detail::lane_zip_lo(t0, t1).store_unaligned(group_out);
      detail::lane_zip_hi(t0, t1).store_unaligned(group_out + lanes);
      detail::lane_zip_lo(t2, t3).store_unaligned(group_out + 2 * lanes);
      detail::lane_zip_hi(t2, t3).store_unaligned(group_out + 3 * lanes);
    }
  }

  // After the transpose, output batch k holds in 128-bit half h the four words of the block
  // that lane 4h + k computed; for element order that must be block k * halves + h.
  static constexpr std::uint32_t block_of_lane(std::size_t lane) noexcept {
    constexpr std::size_t halves = lanes / 4;
    return static_cast<std::uint32_t>((lane % 4) * halves + lane / 4);
  }

  philox_key_schedule<Arch> schedule_;
  std::uint32_t seed_lo_;
  std::uint32_t seed_hi_;
  std::uint32_t stream_lo_;
  std::uint32_t stream_hi_;
  word_lanes<Arch> offsets_;
};

/// The one buffer of random words: the words of consecutive elements of one key, generated
/// many at a time by philox_words (so that Philox runs in long independent chains and the
/// rounding does not wait on it) and handed out in element order. Every kernel that draws
/// random words reads them through this class or through `fill_words` / `philox_blocks`
/// below, which use the same engine: there is one generator of stochastic bits.
/// \tparam Arch the xsimd architecture of the lanes
/// \tparam Ops fxp::simd::native or fxp::simd::portable (same bits)
template <simd_arch Arch, instruction_selection Ops = native>
class word_buffer {
  using engine = philox_words<Arch, Ops>;

 public:
  /// The most words one call of `words` returns.
  static constexpr std::size_t capacity = 4 * engine::words_per_call - 3;

  /// The words of the elements of tensor `key.tensor_id` at step `key.step`.
  explicit word_buffer(const random_key& key) noexcept : engine_(key) {}

  /// The words of elements i ... i + n - 1 (n <= capacity), valid until the next call.
  /// `ahead` (>= n) is how many elements from i the caller will read in order: a refill
  /// generates no more than that, so a short tensor does not pay for a whole buffer.
  [[nodiscard]] const std::uint32_t* words(std::uint64_t i, std::size_t n, std::uint64_t ahead) noexcept {
    // Element indices count modulo 2^64, like the counters they map to.
    if (filled_ == 0 || i - first_ >= filled_ || filled_ - (i - first_) < n) {
      refill(i, std::max<std::uint64_t>(n, ahead));
    }
    return buffer_.data() + (i - first_);
  }

  /// out[k] = key.word(first + k) for k < count.
  void fill(std::uint64_t first, std::size_t count, std::uint32_t* out) noexcept {
    while (count > 0) {
      const std::size_t n = std::min(count, capacity);
      std::memcpy(out, words(first, n, count), n * sizeof(std::uint32_t));
      out += n;
      first += n;
      count -= n;
    }
  }

 private:
  void refill(std::uint64_t i, std::uint64_t wanted) noexcept {
    const auto offset = static_cast<std::size_t>(i % philox::words_per_block);
    first_ = i - offset;  // whole blocks
    const std::uint64_t needed = std::min<std::uint64_t>(buffer_.size(), wanted + offset);
    filled_ = 0;
    for (; filled_ < needed; filled_ += engine::words_per_call) {
      engine_.generate(first_ / philox::words_per_block + filled_ / philox::words_per_block,
                       buffer_.data() + filled_);
    }
  }

  engine engine_;
  std::uint64_t first_ = 0;  // the element of buffer_[0]
  std::size_t filled_ = 0;   // how many words of buffer_ are valid
  alignas(64) std::array<std::uint32_t, 4 * engine::words_per_call> buffer_;
};

FXP_END_ISA_NAMESPACE
namespace detail {
FXP_BEGIN_ISA_NAMESPACE

/// out[k] = key.word(first + k) for k < count: the random words of consecutive elements,
/// for kernels that keep their own buffer (on the architecture of active_isa()).
inline void fill_words(const random_key& key, std::uint64_t first, std::size_t count,
                       std::uint32_t* out) {
  run_array_kernel([&]<class Arch>(Arch) {
    if constexpr (simd_arch<Arch>) {
      word_buffer<Arch>(key).fill(first, count, out);
    } else {
      for (std::size_t k = 0; k < count; ++k) out[k] = key.word(first + k);
    }
  });
}

/// philox_blocks through the core's block function, one block after another. Always
/// inlined: in a caller compiled for a wider instruction set than the flags' (a GEMM store
/// in its target region), the compiler vectorizes the loop across blocks for that set.
[[gnu::always_inline]] inline void philox_blocks_by_core(const random_key& key,
                                                         const std::uint64_t* ids,
                                                         std::size_t count,
                                                         std::uint32_t* out) noexcept {
  for (std::size_t i = 0; i < count; ++i) {
    const philox_counter block = philox::block(key.seed, key.stream(), ids[i]);
    for (std::size_t w = 0; w < philox::words_per_block; ++w) out[4 * i + w] = block[w];
  }
}

/// out[4 i + w] = word w of Philox block ids[i] of `key` (= key.word(4 ids[i] + w)) for
/// i < count: blocks in any order, for a GEMM tile whose rows are far apart.
template <class Arch = default_arch>
void philox_blocks(const random_key& key, const std::uint64_t* ids, std::size_t count,
                   std::uint32_t* out) noexcept {
  if constexpr (simd_arch<Arch>) {
    philox_words<Arch>(key).blocks(ids, count, out);
  } else {
    philox_blocks_by_core(key, ids, count, out);
  }
}

FXP_END_ISA_NAMESPACE
}  // namespace detail

}  // namespace fxp::simd
