// SPDX-License-Identifier: MIT
#pragma once
// Reductions of tensor expressions: exact sums for fixed point, in one SIMD pass.

#include <algorithm>  // std::max for the horizontal step
#include <array>      // spilled lanes
#include <cstddef>    // std::size_t
#include <cstdint>    // accumulators
#include <stdexcept>  // std::invalid_argument, std::overflow_error

#include "../simd/detail/array_dispatch.hpp"
#include "../simd/detail/isa_namespace.hpp"
#include "../simd/detail/lane_ops.hpp"
#include "expression.hpp"

namespace fxp {

namespace detail {
FXP_BEGIN_ISA_NAMESPACE
[[nodiscard]] inline std::int64_t checked_add(std::int64_t total, std::int64_t part) {
  std::int64_t out = 0;
  if (__builtin_add_overflow(total, part, &out)) {
    throw std::overflow_error("fxp::sum: the exact sum does not fit in 64 bits");
  }
  return out;
}
FXP_END_ISA_NAMESPACE
}  // namespace detail
FXP_BEGIN_ISA_NAMESPACE

/// The number of float partial sums of fxp::sum: every architecture keeps this many (one
/// AVX-512 batch, two AVX2 batches, four SSE batches), so a float sum has the same bits on
/// every instruction set.
inline constexpr std::size_t float_sum_lanes = 16;

/// The exact sum of a fixed-point expression, as a 64-bit value with the expression's
/// fractional bits (std::overflow_error if it does not fit); for float, the float sum in a
/// fixed order that depends neither on threads nor on the instruction set: element i of
/// each whole block of 16 goes to partial sum i, the 16 partial sums are then added in
/// order, and the elements after the last whole block last, in order.
template <tensor_expression E>
[[nodiscard]] auto sum(const E& e) {
  // The node's type is spelled out, not `auto`: g++ 12 confuses a deduced local type named
  // inside a generic lambda (the kernel below) with the lambda's own parameter.
  using node_t = decltype(expr::as_node(e));
  const node_t node = expr::as_node(e);
  using value = typename node_t::value_type;
  const std::size_t n = node.shape() ? node.shape()->size() : 1;
  if constexpr (fixed_point<value>) {
    using result = fixed<64 - value::fraction_bits, value::fraction_bits>;
    // 32-bit lanes need one spare bit for the sum of two elements; 64-bit values have none.
    if constexpr (value::width >= 64) {
      std::int64_t total = 0;
      for (std::size_t i = 0; i < n; ++i)
        total = detail::checked_add(total, static_cast<std::int64_t>(node.at(i).raw()));
      return result::from_raw(total);
    } else {
      using lane = std::conditional_t<(value::width < 32 && node_t::max_width <= 32),
                                      std::int32_t, std::int64_t>;
      constexpr int lane_bits = static_cast<int>(sizeof(lane) * 8);
      // Each lane adds at most this many values before it could overflow; then it spills
      // into the 64-bit total.
      constexpr std::size_t spill_every = std::size_t{1} << std::min(lane_bits - 1 - value::width, 40);
      std::int64_t total = 0;
      std::size_t i = 0;
      simd::detail::run_array_kernel([&]<class Arch>(Arch) {
        if constexpr (simd::simd_arch<Arch>) {
          using batch = expr::lanes<lane, Arch>;
          while (i + batch::size <= n) {
            batch partial(lane{0});
            for (std::size_t k = 0; k < spill_every && i + batch::size <= n; ++k, i += batch::size)
              partial = partial + node.template load<lane, Arch>(i);
            alignas(64) std::array<lane, batch::size> spilled;
            partial.store_aligned(spilled.data());
            for (lane x : spilled) total = detail::checked_add(total, x);
          }
        }
      });
      for (; i < n; ++i) total = detail::checked_add(total, static_cast<std::int64_t>(node.at(i).raw()));
      return result::from_raw(total);
    }
  } else {
    constexpr std::size_t block = float_sum_lanes;
    alignas(64) std::array<value, block> partial{};
    std::size_t i = 0;
    simd::detail::run_array_kernel([&]<class Arch>(Arch) {
      if constexpr (simd::simd_arch<Arch> && block % expr::lanes<value, Arch>::size == 0) {
        using batch = expr::lanes<value, Arch>;
        constexpr std::size_t batches = block / batch::size;
        std::array<batch, batches> sums;
        for (auto& s : sums) s = batch(value{0});
        for (; i + block <= n; i += block) {
          for (std::size_t k = 0; k < batches; ++k)
            sums[k] = sums[k] + node.template load<value, Arch>(i + k * batch::size);
        }
        for (std::size_t k = 0; k < batches; ++k) sums[k].store_aligned(partial.data() + k * batch::size);
      } else {
        for (; i + block <= n; i += block) {
          for (std::size_t k = 0; k < block; ++k) partial[k] += node.at(i + k);
        }
      }
    });
    value total = 0;
    for (value x : partial) total += x;
    for (; i < n; ++i) total += node.at(i);
    return total;
  }
}

/// The exact sum of squares (fixed point) or the float sum of squares.
template <tensor_expression E>
[[nodiscard]] auto sum_of_squares(const E& e) {
  const auto node = expr::as_node(e);
  return sum(node * node);
}

/// The largest element; std::invalid_argument for an empty tensor.
template <tensor_expression E>
[[nodiscard]] auto max(const E& e) {
  // The node's type is spelled out, not `auto`: g++ 12 confuses a deduced local type named
  // inside a generic lambda (the kernel below) with the lambda's own parameter.
  using node_t = decltype(expr::as_node(e));
  const node_t node = expr::as_node(e);
  using value = typename node_t::value_type;
  const std::size_t n = node.shape() ? node.shape()->size() : 1;
  if (n == 0) throw std::invalid_argument("fxp::max: the tensor is empty");
  using lane = expr::lane_for<value, node_t::max_width>;
  value best = node.at(0);
  std::size_t i = 0;
  simd::detail::run_array_kernel([&]<class Arch>(Arch) {
    if constexpr (simd::simd_arch<Arch>) {
      using batch = expr::lanes<lane, Arch>;
      if (n < batch::size) return;
      batch lanes_max = node.template load<lane, Arch>(0);
      for (i = batch::size; i + batch::size <= n; i += batch::size)
        lanes_max = simd::detail::lane_max(lanes_max, node.template load<lane, Arch>(i));
      alignas(64) std::array<lane, batch::size> spilled;
      lanes_max.store_aligned(spilled.data());
      lane top = spilled[0];
      for (lane x : spilled) top = std::max(top, x);
      if constexpr (fixed_point<value>) {
        best = value::from_raw(static_cast<typename value::raw_type>(top));
      } else {
        best = top;
      }
    }
  });
  for (; i < n; ++i) {
    const value x = node.at(i);
    if (best < x) best = x;
  }
  return best;
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp
