// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// The error through a saturated output is zero: an output clamped to its format's bound
/// does not move when the pre-activation does, so its derivative is 0 (the clipped
/// straight-through estimator). Passing the error through anyway keeps pushing the weights
/// that drove the output out of range, and 8-bit activations then diverge within a few
/// hundred steps; this is the mismatch between the function the forward pass ran and the
/// gradient back-propagation uses that Lin & Talathi, "Overcoming Challenges in Fixed Point
/// Training of Deep Convolutional Networks" (arXiv:1607.02241), analyse.

#include <cstddef>   // std::size_t
#include <cstdint>   // raw values
#include <optional>  // float roles have no format
#include <type_traits>  // the raw types of the carriers

#include "../../core/detail/raw_array.hpp"
#include "../../simd/detail/isa_namespace.hpp"
#include "../../tensor/dynamic.hpp"
#include "../layer.hpp"

namespace fxp::nn::detail {
FXP_BEGIN_ISA_NAMESPACE

/// Zeroes dy where y sits on a bound of `f` (y the layer's output of the pass, dy the error
/// of that output). Fixed modes compare raw values; QAT the fake-quantized floats. An
/// output exactly on the bound without having saturated loses its error too: a bound is a
/// single value of the format's 2^bits, and clipped estimators accept that.
/// \returns the number of errors zeroed
inline std::size_t clip_error(value& dy, const value& y, const std::optional<dynamic_format>& f) {
  if (!f || dy.shape().size() != y.shape().size()) return 0;
  std::size_t zeroed = 0;
  if (dy.is_fixed && y.is_fixed) {
    const std::int64_t hi = y.q.format().raw_max();
    // Unsigned outputs rest at their lower bound, 0, after relu without having saturated:
    // then only the upper bound counts (lo is taken equal to it).
    const std::int64_t lo = y.q.format().is_signed ? y.q.format().raw_min() : hi;
    // The count read once, the bounds compared in the output's own raw type and the test
    // written without branches: the loop then vectorizes on the narrow lanes (with the count
    // re-read from the shape at every element, as the stores into err might have changed
    // it, this loop was 13% of a fixed-point training step; in int64 lanes, 6%).
    const std::size_t n = dy.q.size();
    y.q.visit([&](const auto* out) {
      dy.q.visit([&](auto* err) {
        using out_raw = typename std::remove_cvref_t<decltype(*out)>::raw_type;
        using err_raw = typename std::remove_cvref_t<decltype(*err)>::raw_type;
        const out_raw* o = fxp::detail::raw_pointer(out);
        err_raw* e = fxp::detail::raw_pointer(err);
        const auto o_hi = static_cast<out_raw>(hi);  // y's bounds: within y's raw type
        const auto o_lo = static_cast<out_raw>(lo);
        constexpr std::size_t block = std::size_t{1} << 16;  // a 32-bit count per block
        for (std::size_t first = 0; first < n; first += block) {
          const std::size_t last = first + block < n ? first + block : n;
          std::uint32_t count = 0;
          for (std::size_t i = first; i < last; ++i) {
            const bool clipped = o[i] == o_hi || o[i] == o_lo;
            count += clipped && e[i] != 0 ? 1u : 0u;
            e[i] = clipped ? err_raw{0} : e[i];
          }
          zeroed += count;
        }
      });
    });
  } else if (!dy.is_fixed && !y.is_fixed) {
    const double step = f->step();
    const auto hi = static_cast<float>(static_cast<double>(f->raw_max()) * step);
    const auto lo = static_cast<float>(static_cast<double>(f->raw_min()) * step);
    const bool check_lo = f->is_signed;
    const std::size_t n = dy.f.size();
    float* e = dy.f.data();
    const float* out = y.f.data();
    std::size_t count = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const bool clipped = out[i] >= hi || (check_lo && out[i] <= lo);
      count += clipped && e[i] != 0.0f ? 1u : 0u;
      e[i] = clipped ? 0.0f : e[i];
    }
    zeroed += count;
  }
  return zeroed;
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp::nn::detail
