// SPDX-License-Identifier: MIT
#pragma once
// fxp::cast<T, Round>(expression): the node where an expression rounds. Everything else in
// an expression is exact; a cast narrows (or converts to and from float) with any rounding
// and overflow policy, stochastic rounding included, inside the same single pass.
//
// Which path runs: when the cast's operand and target fit 32-bit lanes (W <= 32, or float)
// and the policies have lane forms, the lane conversions of fxp/simd/narrow.hpp; batches
// holding an element the core would throw on (NaN, fxp::checked overflow) and everything
// wider go element by element through the scalar core, with the same bits.

#include <array>        // a batch assembled element by element
#include <concepts>     // std::same_as
#include <cstddef>      // std::size_t
#include <cstdint>      // element indices, random words
#include <type_traits>  // std::conditional_t

#include "../core/cast.hpp"
#include "../core/random.hpp"
#include "../simd/detail/isa_namespace.hpp"
#include "../simd/narrow.hpp"
#include "../simd/philox.hpp"
#include "expression.hpp"

namespace fxp {

namespace expr {
FXP_BEGIN_ISA_NAMESPACE

/// The rounding policy a cast to `T` uses unless told: T's own (float has none to choose).
template <class T>
struct default_rounding {
  using type = nearest_even;  // unused: conversions to float round as static_cast does
};
template <fixed_point T>
struct default_rounding<T> {
  using type = typename T::rounding_policy;
};

/// The random words of consecutive elements as lanes, generated a few chunks ahead by the
/// one word engine (simd::word_buffer) of the architecture asking. One per cast node, so
/// evaluating on several threads (each with its own copy) needs no locking; the words do
/// not depend on the architecture, so neither does this buffer.
class word_tiles {
 public:
  explicit word_tiles(const random_key& key) noexcept : key_(key) {}

  /// The words of elements i ... i + lanes - 1 on Arch.
  template <class Arch>
  [[nodiscard]] simd::word_lanes<Arch> at(std::size_t i) {
    constexpr std::size_t lanes = simd::lane_count<Arch>;
    if (filled_ == 0 || i < first_ || i + lanes > first_ + filled_) {
      // Expressions are evaluated a batch at a time in order: fill 1024 words ahead.
      first_ = i;
      filled_ = words_.size();
      simd::word_buffer<Arch>(key_).fill(first_, filled_, words_.data());
    }
    return simd::word_lanes<Arch>::load_unaligned(words_.data() + (i - first_));
  }

 private:
  random_key key_;
  std::size_t first_ = 0;
  std::size_t filled_ = 0;
  std::array<std::uint32_t, 16 * 64> words_{};
};

/// No random words: deterministic policies draw none.
struct no_words {
  explicit no_words(const random_key&) noexcept {}
};

/// `Arg` converted to `To` with rounding policy `Round`; element i draws its random word (if
/// Round needs one) from counter i under `key`.
template <class To, class Round, class Arg>
class cast {
  using from = typename Arg::value_type;
  static constexpr bool random = random_rounding<Round> && fixed_point<To>;
  // The operand is read in its own lanes, which must be 32 bits wide to meet the target's
  // (so its format has at most 32 bits, and the lane conversions apply).
  static constexpr bool operand_in_words = sizeof(lane_for<from, Arg::max_width>) == 4;
  template <class Arch>
  static constexpr bool lane_form = [] {
    if constexpr (!simd::simd_arch<Arch> || !operand_in_words) {
      return false;
    } else if constexpr (fixed_point<To>) {
      return simd::lane_target<To, Round, Arch>;
    } else if constexpr (fixed_point<from>) {
      return fxp::detail::float_scaling_is_exact(from::width, from::fraction_bits);
    } else {
      return true;
    }
  }();


 public:
  using value_type = To;
  // A cast is a barrier: the operand is evaluated in its own lanes, so its widths do not
  // widen the lanes of the expression around it.
  static constexpr int max_width = width_of<To>;

  cast(Arg arg, const random_key& key) : arg_(arg), key_(key), words_(key) {}

  [[nodiscard]] const fxp::shape* shape() const noexcept { return arg_.shape(); }

  /// Element i by the scalar core: the reference the lanes must match.
  [[nodiscard]] To at(std::size_t i) const {
    const from x = arg_.at(i);
    if constexpr (!fixed_point<To>) {
      return static_cast<To>(x);
    } else if constexpr (random) {
      philox gen = key_.generator_at(i);
      return fixed_cast<To, Round>(x, gen);
    } else {
      return fixed_cast<To, Round>(x);
    }
  }

  /// Elements i .. i + lanes - 1 as raw lanes of To.
  template <class Lane, class Arch>
  [[nodiscard]] lanes<Lane, Arch> load(std::size_t i) const {
    if constexpr (lane_form<Arch> && sizeof(Lane) == 4) {
      using operand_lane = lane_for<from, Arg::max_width>;
      const auto operand = arg_.template load<operand_lane, Arch>(i);
      const auto bits = simd::detail::lane_bitcast<simd::word_lanes<Arch>>(operand);
      if constexpr (!fixed_point<To>) {
        if constexpr (fixed_point<from>) {
          return simd::dequantize_lanes<from, Arch>(bits);
        } else {
          return operand;  // float to float
        }
      } else {
        simd::word_lanes<Arch> word(0u);
        if constexpr (random) word = words_.template at<Arch>(i);
        simd::narrowed_lanes<Arch> narrowed;
        if constexpr (fixed_point<from>) {
          narrowed = simd::requantize_lanes<To, Round, from, Arch>(bits, word);
        } else {
          narrowed = simd::quantize_lanes<To, Round, Arch>(bits, word);
        }
        if (simd::detail::any_lane(narrowed.fallback)) return element_by_element<Lane, Arch>(i);
        return simd::detail::lane_bitcast<lanes<Lane, Arch>>(narrowed.raw);
      }
    } else {
      return element_by_element<Lane, Arch>(i);
    }
  }

 private:
  template <class Lane, class Arch>
  [[nodiscard]] lanes<Lane, Arch> element_by_element(std::size_t i) const {
    alignas(64) std::array<Lane, lanes<Lane, Arch>::size> raw{};
    for (std::size_t j = 0; j < raw.size(); ++j) raw[j] = static_cast<Lane>(raw_value(at(i + j)));
    return lanes<Lane, Arch>::load_aligned(raw.data());
  }

  Arg arg_;
  random_key key_;
  mutable std::conditional_t<random, word_tiles, no_words> words_;
};

template <class To, class Round, class Arg>
struct is_node<cast<To, Round, Arg>> : std::true_type {};

template <class To, class Round, class E>
[[nodiscard]] auto make_cast(const E& e, const random_key& key) {
  using node = decltype(as_node(e));
  using from = typename node::value_type;
  static_assert(fixed_point<To> || std::same_as<To, float>,
                "fxp::cast<T>: T must be float or an fxp::fixed / fxp::ufixed format");
  static_assert(fixed_point<To> || fixed_point<from> || std::same_as<from, float>);
  return cast<To, Round, node>(as_node(e), key);
}

FXP_END_ISA_NAMESPACE
}  // namespace expr
FXP_BEGIN_ISA_NAMESPACE

/// `e` converted element-wise to `T` (a fixed-point format or float) with rounding policy
/// `Round` (T's own by default) and T's overflow policy; a lazy expression. Under a random
/// policy, element i of the result rounds with random word i of `key` (seed, tensor id,
/// step), whatever the SIMD width, thread count or order of evaluation. Without a key, a
/// random policy draws a fresh one from fxp::default_generator() (see fxp::draw_key) when
/// the cast is built, so every evaluation of this expression gives the same bits and
/// fxp::seed makes the program reproducible; deterministic policies draw nothing.
template <class T, rounding_policy Round = typename expr::default_rounding<T>::type, tensor_expression E>
[[nodiscard]] auto cast(const E& e, optional_key key = {}) {
  return expr::make_cast<T, Round>(e, resolve_key(key, random_rounding<Round> && fixed_point<T>));
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp
