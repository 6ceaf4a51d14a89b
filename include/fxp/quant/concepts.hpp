// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// What the run-time half of fxp::quant accepts as data: any range whose elements convert to
/// double (std::vector<float>, std::span<const double>, fxp::tensor<float>, a tensor or
/// array of fxp::fixed values), so the quant layer needs no tensor or nn header.

#include <ranges>  // range concepts and range_reference_t

namespace fxp::quant {

/// A range of values explicitly convertible to double.
template <class R>
concept real_range = std::ranges::input_range<R> && requires(std::ranges::range_reference_t<R> x) {
  static_cast<double>(x);
};

/// A real_range that can be traversed more than once (the statistics take two passes over
/// each batch, for the exact mean before the deviations from it).
template <class R>
concept real_forward_range = real_range<R> && std::ranges::forward_range<R>;

}  // namespace fxp::quant
