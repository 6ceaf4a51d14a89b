// SPDX-License-Identifier: MIT
#pragma once
// Counter-based random bits for stochastic rounding: the Philox4x32-10 block function, a
// 32-bit word stream keyed by (seed, stream) and indexed by a block counter, and the
// per-thread default generator. Because a block is a pure function of (seed, stream,
// counter), scalar code, SIMD lanes, any number of threads and a resumed checkpoint all
// draw the same bits for the same element.

#include <array>    // the 4-word counter / output and the 2-word key of a Philox block
#include <cstdint>  // fixed-width words of the Philox state

#include "rounding.hpp"  // random_rounding: which policies need a key

namespace fxp {

/// The 128-bit counter (and the 128-bit output) of one Philox4x32 block, as four 32-bit
/// words, least significant first.
using philox_counter = std::array<std::uint32_t, 4>;

/// The 64-bit key of Philox4x32, as two 32-bit words, least significant first.
using philox_key = std::array<std::uint32_t, 2>;

namespace detail {

// Constants of Philox4x32 (Salmon et al. 2011, and Random123's philox.h).
inline constexpr std::uint32_t philox_m0 = 0xD2511F53u;  // multiplier of words 0 and 1
inline constexpr std::uint32_t philox_m1 = 0xCD9E8D57u;  // multiplier of words 2 and 3
inline constexpr std::uint32_t philox_w0 = 0x9E3779B9u;  // Weyl key step: golden ratio
inline constexpr std::uint32_t philox_w1 = 0xBB67AE85u;  // Weyl key step: sqrt(3) - 1

/// The low 32 bits of a 64-bit word.
[[nodiscard]] constexpr std::uint32_t lo32(std::uint64_t v) noexcept {
  return static_cast<std::uint32_t>(v);
}

/// The high 32 bits of a 64-bit word.
[[nodiscard]] constexpr std::uint32_t hi32(std::uint64_t v) noexcept {
  return static_cast<std::uint32_t>(v >> 32);
}

/// One Philox4x32 round. Written as two 32x32->64 products, hi/lo splits and xors only,
/// with no tables or branches, so the same sequence maps one-to-one onto SIMD lanes.
[[nodiscard]] constexpr philox_counter philox4x32_round(const philox_counter& c,
                                                        const philox_key& k) noexcept {
  const std::uint64_t p0 = std::uint64_t{philox_m0} * c[0];
  const std::uint64_t p1 = std::uint64_t{philox_m1} * c[2];
  return {hi32(p1) ^ c[1] ^ k[0], lo32(p1), hi32(p0) ^ c[3] ^ k[1], lo32(p0)};
}

}  // namespace detail

/// The Philox4x32-10 block function: ten rounds of Philox4x32 on `counter` under `key`,
/// exactly as in Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3"
/// (SC 2011), so the output matches Random123's published known-answer vectors.
/// \param counter the 128-bit block counter, least significant word first
/// \param key the 64-bit key, least significant word first
/// \return four 32-bit words that are (for practical purposes) independent and uniform
[[nodiscard]] constexpr philox_counter philox4x32_10(philox_counter counter,
                                                     philox_key key) noexcept {
  // The key advances by a Weyl sequence between rounds; unsigned arithmetic wraps mod 2^32.
  // Bumping after the tenth round as well keeps the loop body uniform and is harmless.
  for (int round = 0; round < 10; ++round) {
    counter = detail::philox4x32_round(counter, key);
    key[0] += detail::philox_w0;
    key[1] += detail::philox_w1;
  }
  return counter;
}

/// A stream of 32-bit random words from Philox4x32-10; satisfies
/// `std::uniform_random_bit_generator`.
///
/// The key is (seed, stream); block `n` of the stream is
/// `philox4x32_10({lo32(n), hi32(n), lo32(stream), hi32(stream)}, {lo32(seed), hi32(seed)})`
/// and `operator()` returns its words 0, 1, 2, 3 in order before moving on to block n + 1.
/// The same (seed, stream, counter) therefore give the same bits anywhere; lane-parallel
/// code computes block `i` for element `i` with `philox::block` and needs no shared state.
/// The block counter wraps modulo 2^64, so a stream has a period of 2^66 words.
class philox {
 public:
  /// The type of one random word.
  using result_type = std::uint32_t;

  /// Number of 32-bit words in one Philox4x32 block.
  static constexpr unsigned words_per_block = 4;

  /// A generator whose next word is word 0 of block `counter` of stream `stream` under `seed`.
  /// \param seed first half of the key; distinct seeds give unrelated generators
  /// \param stream second half of the key, e.g. a tensor or layer id; distinct streams under
  ///        one seed give unrelated word sequences
  /// \param counter the block to start at
  constexpr explicit philox(std::uint64_t seed = 0, std::uint64_t stream = 0,
                            std::uint64_t counter = 0) noexcept
      : seed_(seed), stream_(stream), counter_(counter) {}

  /// The smallest word the generator returns.
  [[nodiscard]] static constexpr result_type min() noexcept { return 0; }

  /// The largest word the generator returns.
  [[nodiscard]] static constexpr result_type max() noexcept { return 0xFFFFFFFFu; }

  /// The four words of block `counter` of stream `stream` under `seed`, without any state;
  /// this is what `operator()` walks through, word 0 first.
  [[nodiscard]] static constexpr philox_counter block(std::uint64_t seed, std::uint64_t stream,
                                                      std::uint64_t counter) noexcept {
    return philox4x32_10(
        {detail::lo32(counter), detail::hi32(counter), detail::lo32(stream),
         detail::hi32(stream)},
        {detail::lo32(seed), detail::hi32(seed)});
  }

  /// The next random word: word `word_index()` of block `counter()`.
  constexpr result_type operator()() noexcept {
    // A block is computed once, when its first word is needed, and cached for the other three.
    if (index_ == 0) buffer_ = block(seed_, stream_, counter_);
    const result_type word = buffer_[index_];
    if (++index_ == words_per_block) {
      index_ = 0;
      ++counter_;
    }
    return word;
  }

  /// Skips `words` words in O(1); the same as calling `operator()` `words` times.
  constexpr void discard(std::uint64_t words) noexcept {
    // Split before adding so that a huge `words` cannot overflow index_ + words.
    counter_ += words / words_per_block;
    index_ += static_cast<unsigned>(words % words_per_block);
    if (index_ >= words_per_block) {
      index_ -= words_per_block;
      ++counter_;
    }
    refill();
  }

  /// The seed (first half of the key).
  [[nodiscard]] constexpr std::uint64_t seed() const noexcept { return seed_; }

  /// The stream (second half of the key).
  [[nodiscard]] constexpr std::uint64_t stream() const noexcept { return stream_; }

  /// The block that the next word comes from.
  [[nodiscard]] constexpr std::uint64_t counter() const noexcept { return counter_; }

  /// Which word (0 to 3) of block `counter()` comes next. `philox(seed(), stream(),
  /// counter())` followed by `discard(word_index())` restores this state exactly.
  [[nodiscard]] constexpr unsigned word_index() const noexcept { return index_; }

  /// The number of words drawn since block 0, modulo 2^64, i.e. `4 * counter() +
  /// word_index()`; exact while `counter() < 2^62`. Restore with `set_position`.
  [[nodiscard]] constexpr std::uint64_t position() const noexcept {
    return counter_ * words_per_block + index_;
  }

  /// Resumes the stream so that the next word is word number `words` counted from block 0
  /// (the inverse of `position`); the key is unchanged.
  constexpr void set_position(std::uint64_t words) noexcept {
    counter_ = words / words_per_block;
    index_ = static_cast<unsigned>(words % words_per_block);
    refill();
  }

  /// Two generators are equal when they will produce the same words: same key and position.
  [[nodiscard]] friend constexpr bool operator==(const philox& a, const philox& b) noexcept {
    // buffer_ is a cache derived from the rest, so it takes no part.
    return a.seed_ == b.seed_ && a.stream_ == b.stream_ && a.counter_ == b.counter_ &&
           a.index_ == b.index_;
  }

 private:
  // Invariant: while index_ != 0, buffer_ holds block(seed_, stream_, counter_).
  constexpr void refill() noexcept {
    if (index_ != 0) buffer_ = block(seed_, stream_, counter_);
  }

  std::uint64_t seed_;
  std::uint64_t stream_;
  std::uint64_t counter_;
  unsigned index_ = 0;
  philox_counter buffer_{};
};

/// Where the random bits of an element-wise operation come from. Element i of tensor
/// `tensor_id` at training step `step` draws word i of `philox(seed, stream())`, so a result
/// is the same whatever the SIMD width, the thread count or the order of evaluation, and
/// after a checkpoint is resumed.
struct random_key {
  std::uint64_t seed = 0;       ///< the run's seed
  std::uint32_t tensor_id = 0;  ///< which tensor (weights of layer 3, its gradient, ...)
  std::uint32_t step = 0;       ///< which training step

  /// The Philox stream of (tensor_id, step).
  [[nodiscard]] constexpr std::uint64_t stream() const noexcept {
    return (std::uint64_t{tensor_id} << 32) | step;
  }
  /// The random word of element `index`.
  [[nodiscard]] constexpr std::uint32_t word(std::uint64_t index) const noexcept {
    return philox::block(seed, stream(), index / philox::words_per_block)
        [index % philox::words_per_block];
  }
  /// A generator positioned at element `index`: the scalar reference for that element.
  [[nodiscard]] constexpr philox generator_at(std::uint64_t index) const noexcept {
    philox gen(seed, stream());
    gen.set_position(index);
    return gen;
  }
};

/// The calling thread's default generator, used by stochastic rounding when no generator
/// is passed. Each thread has its own, initially `philox(0, 0, 0)`; reset it with
/// `fxp::seed`.
[[nodiscard]] inline philox& default_generator() noexcept {
  // constexpr-constructible, so it is constant-initialised: no guard, no allocation.
  thread_local philox generator{};
  return generator;
}

/// Resets the calling thread's default generator to `philox(s, 0, 0)`; other threads'
/// generators are untouched.
inline void seed(std::uint64_t s) noexcept { default_generator() = philox(s, 0, 0); }

/// A fresh key: the next four words of `gen` (one Philox block when `gen` is on a block
/// boundary) as seed (low word first), tensor id and step. This is the key a kernel or a
/// cast draws when it is called without one, so after `fxp::seed(s)` a program makes the
/// same keys, and hence the same bits, on every run.
/// \param gen the generator to draw from, the calling thread's default one unless told
[[nodiscard]] inline random_key draw_key(philox& gen = default_generator()) noexcept {
  // One statement per word: the order of the draws is part of the result.
  const std::uint64_t low = gen();
  const std::uint64_t high = gen();
  const std::uint32_t tensor_id = gen();
  const std::uint32_t step = gen();
  return random_key{low | (high << 32), tensor_id, step};
}

/// The key parameter of the kernels and of fxp::cast: a random_key, or none. Converts
/// implicitly from a random_key and from a braced `{seed, tensor_id, step}` (or `{seed,
/// tensor_id}`), so explicit keys are written as before; `{}` (the default) is no key.
class optional_key {
 public:
  /// No key: a random rounding policy draws one (fxp::resolve_key).
  constexpr optional_key() noexcept = default;

  /// This key.
  constexpr optional_key(const random_key& key) noexcept  // implicit: a key is a key
      : key_(key), given_(true) {}

  /// The key {seed, tensor_id, step}, for braced arguments.
  constexpr optional_key(std::uint64_t seed, std::uint32_t tensor_id,
                         std::uint32_t step = 0) noexcept
      : optional_key(random_key{seed, tensor_id, step}) {}

  /// Whether a key was given.
  [[nodiscard]] constexpr bool has_value() const noexcept { return given_; }

  /// The key given (random_key{} when none was).
  [[nodiscard]] constexpr const random_key& value() const noexcept { return key_; }

 private:
  random_key key_{};
  bool given_ = false;
};

/// The key one kernel call rounds with: `key` when given; otherwise, when the call draws
/// random words (`random`), a fresh one from fxp::draw_key(); otherwise random_key{}, unused,
/// and the default generator is left alone, so deterministic calls do not shift the bits of
/// later stochastic ones. A kernel resolves its key once, before it splits the work among
/// threads, so the result does not depend on the thread count.
[[nodiscard]] inline random_key resolve_key(const optional_key& key, bool random) noexcept {
  if (key.has_value()) return key.value();
  return random ? draw_key() : random_key{};
}

/// resolve_key for a compile-time policy: draws only for a random one.
template <rounding_policy Round>
[[nodiscard]] random_key resolve_key(const optional_key& key) noexcept {
  return resolve_key(key, random_rounding<Round>);
}

}  // namespace fxp
