// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// Array kernels: float -> fixed (quantize), fixed -> fixed (requantize) and fixed -> float
/// (dequantize) over contiguous arrays, bit-identical to a scalar loop over the core.
///
/// Which path runs:
/// - Formats of W <= 32 bits with fxp's rounding and overflow policies: the lane forms of
///   narrow.hpp, over chunks of 4 batches (16 elements on SSE2, 32 on AVX2, 64 on AVX-512),
///   with a scalar head and tail through the core. The lanes are xsimd's on
///   `fxp::simd::default_arch` (the best instruction set the compiler flags enable:
///   AVX-512BW, AVX2, ..., SSE2); a build whose flags guarantee neither AVX2 nor AVX-512
///   (x86-64 without -march) runs them on generic vectors of 64 or 32 bytes inside an
///   AVX-512 or AVX2 target region instead when the processor has it (fxp::simd::active_isa,
///   detail/array_dispatch.hpp), the same bits on every path. float -> fixed has
///   a cheaper form for saturate and checked on formats of up to 22 bits with -73 <= F < 149
///   (out-of-range values need no exact low bits there: a clamp saturates), and the general
///   form otherwise (wrap, wider formats, extreme F). Stochastic rounding draws its Philox
///   words a tile (16 chunks) ahead into a buffer on the stack.
/// - W > 32 (up to 64), or a user policy without a lane form: the scalar core for every
///   element, in order.
/// Any alignment of `in` and `out` is fine: loads and stores are unaligned; the head aligns
/// the stores when it can (deterministic policies) or the element index to a Philox block
/// (stochastic rounding, whose four words per block are then used whole).

#include <algorithm>    // std::min for the head length
#include <array>        // the batches of a chunk
#include <cstddef>      // std::size_t sizes
#include <cstdint>      // element indices, addresses

#include "../core/cast.hpp"
#include "../core/detail/raw_array.hpp"
#include "../core/random.hpp"
#include "detail/array_dispatch.hpp"
#include "detail/isa_namespace.hpp"
#include "detail/memory.hpp"
#include "lanes.hpp"
#include "narrow.hpp"
#include "philox.hpp"

namespace fxp::simd {

namespace detail {
FXP_BEGIN_ISA_NAMESPACE

/// The scalar reference generator of element j (`key.generator_at(j)`), reusing the block
/// it has already computed when elements come in order.
class element_generator {
 public:
  explicit element_generator(const random_key& key) noexcept : gen_(key.seed, key.stream()) {}

  /// A generator whose next word is element j's.
  [[nodiscard]] philox& at(std::uint64_t j) noexcept {
    // A conversion draws at most one word (none for an infinity), so in-order elements
    // mostly find the generator in place already. (Compared by block and word, not by
    // position(): after element 2^64 - 1 the generator moves on to block 2^62, while element
    // 0 is block 0.)
    if (gen_.counter() != j / philox::words_per_block ||
        gen_.word_index() != j % philox::words_per_block) {
      gen_.set_position(j);
    }
    return gen_;
  }

 private:
  philox gen_;
};

/// The core's conversion of element j: the reference every lane must match.
template <class To, class Round, class From>
[[nodiscard]] inline To convert_element(const From& x, element_generator& gen, std::uint64_t j) {
  if constexpr (deterministic_rounding<Round>) {
    return fixed_cast<To, Round>(x);  // draws nothing
  } else {
    return fixed_cast<To, Round>(x, gen.at(j));
  }
}

/// The scalar loop over the core: every element converted as the contract says.
template <class To, class Round, class From>
inline void convert_all(const From* in, To* out, std::size_t n, const random_key& key,
                        std::uint64_t first_index) {
  element_generator gen(key);
  for (std::size_t i = 0; i < n; ++i) out[i] = convert_element<To, Round>(in[i], gen, first_index + i);
}

/// The random words of the chunks for a random policy; nothing for a deterministic one.
template <class Arch, class Ops, bool Random>
class chunk_words {
 public:
  explicit chunk_words(const random_key&) noexcept {}
  [[nodiscard]] quad_lanes<Arch> operator()(std::uint64_t, std::uint64_t) noexcept { return {}; }
};
template <class Arch, class Ops>
class chunk_words<Arch, Ops, true> {
 public:
  explicit chunk_words(const random_key& key) noexcept : buffer_(key) {}

  /// The words of elements j ... j + chunk_size - 1 (chunks in order, the last ending at
  /// `end`), from the buffer that generates them many at a time.
  [[nodiscard]] quad_lanes<Arch> operator()(std::uint64_t j, std::uint64_t end) noexcept {
    constexpr std::size_t lanes = lane_count<Arch>;
    const std::uint32_t* w = buffer_.words(j, chunk_size<Arch>, end - j);
    return {word_lanes<Arch>::load_unaligned(w), word_lanes<Arch>::load_unaligned(w + lanes),
            word_lanes<Arch>::load_unaligned(w + 2 * lanes),
            word_lanes<Arch>::load_unaligned(w + 3 * lanes)};
  }

 private:
  word_buffer<Arch, Ops> buffer_;
};

/// Runs a kernel over n elements: a scalar head, whole chunks, a scalar tail. `chunk(i, end)`
/// converts elements i ... i + chunk_size - 1 (the last chunk ending at `end`), or returns
/// false without storing anything
/// when some element needs the scalar core (which then redoes the chunk, throwing at the
/// first offending element exactly as a scalar loop would); `scalar(begin, end)` converts
/// a range through the core.
template <class Arch, bool Random, class Out, class Chunk, class Scalar>
inline void run_chunks(std::size_t n, std::uint64_t first_index, const Out* out, Chunk&& chunk,
                       Scalar&& scalar) {
  constexpr std::size_t size = chunk_size<Arch>;
  if (n < size) {
    // Also keeps the vector body out of sight when n is a small constant (GCC's
    // -Warray-bounds would otherwise see loads it cannot prove unreachable).
    scalar(0, n);
    return;
  }
  std::size_t head = 0;
  if constexpr (Random) {
    // Start the body on a Philox block boundary, so that every chunk uses whole blocks.
    head = static_cast<std::size_t>((4 - first_index % 4) % 4);
  } else {
    constexpr std::uintptr_t align = Arch::alignment();
    const auto address = reinterpret_cast<std::uintptr_t>(out);
    if (address % sizeof(Out) == 0) head = ((align - address % align) % align) / sizeof(Out);
  }
  std::size_t i = std::min(n, head);
  scalar(0, i);
  const std::size_t end = i + (n - i) / size * size;
  for (; i < end; i += size) {
    if (!chunk(i, end)) scalar(i, i + size);
  }
  scalar(i, n);
}

FXP_END_ISA_NAMESPACE
}  // namespace detail

namespace detail {
FXP_BEGIN_ISA_NAMESPACE

/// The one narrowing kernel behind quantize_on and requantize_on: `load(i)` reads the quad
/// of input lanes at element i, `narrow(lanes, words)` converts one batch (a lane form of
/// narrow.hpp), and chunks that need the scalar core (NaN, checked overflow) are redone
/// by it, so that errors surface exactly as in the scalar loop.
template <class Arch, class Ops, class To, class Round, bool Random, class From, class Load,
          class Narrow>
void narrow_array(const From* in, To* out, std::size_t n, const random_key& key,
                  std::uint64_t first_index, Load load, Narrow narrow) {
  element_generator gen(key);
  const auto scalar = [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      out[i] = convert_element<To, Round>(in[i], gen, first_index + i);
    }
  };
  chunk_words<Arch, Ops, Random> words(key);
  auto* raw_out = fxp::detail::raw_pointer(out);
  const auto chunk = [&](std::size_t i, std::size_t end) {
    const quad_lanes<Arch> word = words(first_index + i, first_index + end);
    const quad_lanes<Arch> x = load(i);
    quad_lanes<Arch> raw;
    mask_lanes<Arch> fallback(false);
    FXP_UNROLL_BATCHES
    for (std::size_t k = 0; k < 4; ++k) {
      const narrowed_lanes<Arch> r = narrow(x[k], word[k]);
      raw[k] = r.raw;
      fallback = fallback || r.fallback;
    }
    if (any_lane(fallback)) return false;
    store_quad<Arch>(raw_out + i, raw, Ops{});
    return true;
  };
  run_chunks<Arch, Random>(n, first_index, raw_out, chunk, scalar);
}

FXP_END_ISA_NAMESPACE
}  // namespace detail
FXP_BEGIN_ISA_NAMESPACE

/// Converts n floats to fixed point: out[i] = fxp::fixed_cast<T, Round>(in[i], gen) with
/// gen = key.generator_at(first_index + i), bit for bit, on architecture Arch.
/// See fxp::quantize for the contract; this form names the architecture and the instruction
/// selection (tests and benchmarks run several in one binary).
/// \tparam Arch an xsimd architecture enabled by the compiler flags
/// \tparam T the fixed-point element type
/// \tparam Round the rounding policy (T's own by default)
/// \tparam Ops fxp::simd::native or fxp::simd::portable
template <simd_arch Arch, fixed_point T, rounding_policy Round = typename T::rounding_policy,
          instruction_selection Ops = native>
void quantize_on(const float* in, T* out, std::size_t n, optional_key key = {},
                 std::uint64_t first_index = 0) {
  const random_key resolved = resolve_key<Round>(key);
  if constexpr (!lane_target<T, Round, Arch>) {
    detail::convert_all<T, Round>(in, out, n, resolved, first_index);
  } else {
    detail::narrow_array<Arch, Ops, T, Round, !deterministic_rounding<Round>>(
        in, out, n, resolved, first_index,
        [in](std::size_t i) { return detail::load_float_bits<Arch>(in + i); },
        [](const word_lanes<Arch>& bits, const word_lanes<Arch>& word) {
          return quantize_lanes<T, Round, Arch, Ops>(bits, word);
        });
  }
}

/// Converts n fixed-point values to another format: out[i] = fxp::fixed_cast<To,
/// Round>(in[i], gen) with gen = key.generator_at(first_index + i), on architecture Arch.
/// See fxp::requantize for the contract.
/// \tparam Arch an xsimd architecture enabled by the compiler flags
/// \tparam To the target element type
/// \tparam Round the rounding policy (To's own by default)
/// \tparam From the source element type
/// \tparam Ops fxp::simd::native or fxp::simd::portable
template <simd_arch Arch, fixed_point To, rounding_policy Round = typename To::rounding_policy,
          fixed_point From, instruction_selection Ops = native>
void requantize_on(const From* in, To* out, std::size_t n, optional_key key = {},
                   std::uint64_t first_index = 0) {
  const random_key resolved = resolve_key<Round>(key);
  if constexpr (!lane_target<To, Round, Arch> || From::width > 32) {
    detail::convert_all<To, Round>(in, out, n, resolved, first_index);
  } else {
    // Widening never discards bits, so it never draws: no words needed.
    constexpr bool random = !deterministic_rounding<Round> && From::fraction_bits > To::fraction_bits;
    const auto* raw_in = fxp::detail::raw_pointer(in);
    detail::narrow_array<Arch, Ops, To, Round, random>(
        in, out, n, resolved, first_index,
        [raw_in](std::size_t i) { return detail::load_quad<Arch>(raw_in + i, Ops{}); },
        [](const word_lanes<Arch>& raw, const word_lanes<Arch>& word) {
          return requantize_lanes<To, Round, From, Arch, Ops>(raw, word);
        });
  }
}

/// Converts n fixed-point values to float, each as `static_cast<float>(in[i])`, on
/// architecture Arch. See fxp::dequantize.
/// \tparam Arch an xsimd architecture enabled by the compiler flags
/// \tparam From the source element type
/// \tparam Ops fxp::simd::native or fxp::simd::portable
template <simd_arch Arch, fixed_point From, instruction_selection Ops = native>
void dequantize_on(const From* in, float* out, std::size_t n) noexcept {
  const auto scalar = [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) out[i] = static_cast<float>(in[i]);
  };
  if constexpr (!fxp::detail::float_scaling_is_exact(From::width, From::fraction_bits)) {
    scalar(0, n);  // wide or extreme formats: the double path of operator float
  } else {
    constexpr std::size_t lanes = lane_count<Arch>;
    const auto* raw_in = fxp::detail::raw_pointer(in);
    const auto chunk = [&](std::size_t i, std::size_t) {
      const detail::quad_lanes<Arch> raw = detail::load_quad<Arch>(raw_in + i, Ops{});
      FXP_UNROLL_BATCHES
      for (std::size_t k = 0; k < 4; ++k) {
        dequantize_lanes<From, Arch>(raw[k]).store_unaligned(out + i + k * lanes);
      }
      return true;
    };
    detail::run_chunks<Arch, false>(n, 0, out, chunk, scalar);
  }
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp::simd

namespace fxp {
FXP_BEGIN_ISA_NAMESPACE

/// Quantizes n floats into fixed point: `out[i] = fxp::fixed_cast<T, Round>(in[i], gen)`,
/// bit for bit, where gen = `key.generator_at(first_index + i)` (element j draws word j of
/// Philox stream (key.seed, key.stream()); deterministic policies ignore key and
/// first_index). Splitting an array into pieces at any boundaries, with first_index the
/// offset of each piece, gives the same bits as converting it whole, whatever the number of
/// threads or the SIMD width.
///
/// Errors are those of the scalar loop, at the same element: a NaN throws
/// std::domain_error, and under fxp::checked an out-of-range value (infinities included)
/// throws fxp::overflow_error. When element k throws, out[0 .. k) hold their results and
/// out[k .. n) are untouched.
///
/// Runs on the instruction set of fxp::simd::active_isa() for formats of up to 32 bits; see
/// fxp/simd/quantize.hpp for which path runs. `in` and `out` must not overlap; any alignment is fine.
/// \tparam T the fixed-point element type (any fxp::fixed or fxp::ufixed)
/// \tparam Round the rounding policy, T's own by default
/// \param in n floats
/// \param out n elements
/// \param key the (seed, tensor id, step) of the random bits of stochastic rounding; without
///        one, a random policy draws a fresh key from fxp::default_generator() (see
///        fxp::draw_key), so a program that calls fxp::seed first is reproducible
/// \param first_index the element index of in[0] within its tensor
template <fixed_point T, rounding_policy Round = typename T::rounding_policy>
void quantize(const float* in, T* out, std::size_t n, optional_key key = {},
              std::uint64_t first_index = 0) {
  const random_key resolved = resolve_key<Round>(key);
  simd::detail::run_array_kernel([&]<class Arch>(Arch) {
    if constexpr (simd::simd_arch<Arch>) {
      simd::quantize_on<Arch, T, Round>(in, out, n, resolved, first_index);
    } else {  // no vector instruction set enabled
      simd::detail::convert_all<T, Round>(in, out, n, resolved, first_index);
    }
  });
}

/// Requantizes n fixed-point values into another format: `out[i] = fxp::fixed_cast<To,
/// Round>(in[i], gen)`, bit for bit, with gen = `key.generator_at(first_index + i)`. A
/// conversion that keeps every fractional bit draws no random bits. Errors as for
/// fxp::quantize (fxp::overflow_error under fxp::checked; out[0 .. k) written, the rest
/// untouched). `in` and `out` must not overlap.
/// \tparam To the target element type
/// \tparam Round the rounding policy, To's own by default
/// \tparam From the source element type
/// \param in n elements
/// \param out n elements
/// \param key the (seed, tensor id, step) of the random bits of stochastic rounding; without
///        one, a random policy draws a fresh key as fxp::quantize does
/// \param first_index the element index of in[0] within its tensor
template <fixed_point To, rounding_policy Round = typename To::rounding_policy, fixed_point From>
void requantize(const From* in, To* out, std::size_t n, optional_key key = {},
                std::uint64_t first_index = 0) {
  const random_key resolved = resolve_key<Round>(key);
  simd::detail::run_array_kernel([&]<class Arch>(Arch) {
    if constexpr (simd::simd_arch<Arch>) {
      simd::requantize_on<Arch, To, Round>(in, out, n, resolved, first_index);
    } else {
      simd::detail::convert_all<To, Round>(in, out, n, resolved, first_index);
    }
  });
}

/// Converts n fixed-point values to float, each exactly as `static_cast<float>(in[i])`.
/// `in` and `out` must not overlap. Throws nothing of its own: only std::invalid_argument
/// from fxp::simd::active_isa(), at the first kernel call of a dispatching build whose
/// FXP_ISA names a path this processor cannot run.
/// \tparam From the source element type
/// \param in n elements
/// \param out n floats
template <fixed_point From>
void dequantize(const From* in, float* out, std::size_t n) {
  simd::detail::run_array_kernel([&]<class Arch>(Arch) {
    if constexpr (simd::simd_arch<Arch>) {
      simd::dequantize_on<Arch>(in, out, n);
    } else {
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(in[i]);
    }
  });
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp
