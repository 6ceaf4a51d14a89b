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
    const std::int64_t lo = y.q.format().raw_min();
    const std::int64_t hi = y.q.format().raw_max();
    // Unsigned outputs rest at their lower bound, 0, after relu without having saturated.
    const bool check_lo = y.q.format().is_signed;
    // The count read once and the test written without branches: the loop then vectorizes
    // (with the count re-read from the shape at every element, as the stores into err
    // might have changed it, this loop was 13% of a fixed-point training step).
    const std::size_t n = dy.q.size();
    y.q.visit([&](const auto* out) {
      dy.q.visit([&](auto* err) {
        using carrier = std::remove_cvref_t<decltype(*err)>;
        using raw = typename carrier::raw_type;
        raw* e = fxp::detail::raw_pointer(err);
        std::size_t count = 0;
        for (std::size_t i = 0; i < n; ++i) {
          const auto r = static_cast<std::int64_t>(out[i].raw());
          const bool clipped = r == hi || (check_lo && r == lo);
          count += clipped && e[i] != 0 ? 1u : 0u;
          e[i] = clipped ? raw{0} : e[i];
        }
        zeroed += count;
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
