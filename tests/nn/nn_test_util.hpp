// SPDX-License-Identifier: MIT
#pragma once
// Helpers of the nn tests: random tensors from fixed seeds and single-layer passes.

#include <fxp/nn/nn.hpp>

#include <cstdint>
#include <random>

namespace fxp_test {

/// Uniform in [lo, hi) from `seed`.
inline fxp::tensor<float> uniform(const fxp::shape& s, std::uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  fxp::tensor<float> t(s);
  for (auto& x : t) x = u(gen);
  return t;
}

/// A float context (training) for single-layer tests.
inline fxp::nn::context float_context(fxp::nn::training_mode m = fxp::nn::training_mode::floating) {
  return fxp::nn::context{m, true, 7, 0};
}

}  // namespace fxp_test
