// SPDX-License-Identifier: MIT
#pragma once
// A small synthetic classification problem: 8x8 images, four classes, each class a bright
// 4x4 quadrant (plus uniform noise), from a fixed seed; and the small CNN the training
// tests use on it.

#include <fxp/nn/nn.hpp>

#include <cstdint>
#include <random>
#include <vector>

namespace fxp_test {

struct synthetic_set {
  fxp::tensor<float> images;  // (N, 1, 8, 8), values in [0, 1)
  std::vector<int> labels;
};

inline synthetic_set make_synthetic(std::size_t n, std::uint64_t seed) {
  synthetic_set s{fxp::tensor<float>(fxp::shape{n, 1, 8, 8}), std::vector<int>(n)};
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<float> noise(0.0f, 0.5f);
  for (std::size_t i = 0; i < n; ++i) {
    const int label = static_cast<int>(gen() % 4);
    s.labels[i] = label;
    const std::size_t r0 = label / 2 == 0 ? 0 : 4;
    const std::size_t c0 = label % 2 == 0 ? 0 : 4;
    for (std::size_t r = 0; r < 8; ++r)
      for (std::size_t c = 0; c < 8; ++c) {
        const bool on = r >= r0 && r < r0 + 4 && c >= c0 && c < c0 + 4;
        s.images(i, 0, r, c) = noise(gen) + (on ? 0.45f : 0.0f);
      }
  }
  return s;
}

/// conv (3x3, 1 -> 4, pad 1), relu, max pool 2, conv (3x3, 4 -> 8, stride 2), relu,
/// avg pool... kept small: flatten, dense (64 -> 16), relu, dense (16 -> 4).
inline fxp::nn::sequential small_cnn(std::uint64_t seed) {
  fxp::nn::sequential m;
  m.add<fxp::nn::conv2d>("conv1", 1, 4, 3, fxp::conv2d_params::square(1, 1));
  m.add<fxp::nn::relu>("relu1");
  m.add<fxp::nn::max_pool2d>("pool1", 2);
  m.add<fxp::nn::flatten>("flatten");
  m.add<fxp::nn::dense>("fc1", 64, 16);
  m.add<fxp::nn::relu>("relu2");
  m.add<fxp::nn::dense>("fc2", 16, 4);
  m.initialize(seed, fxp::nn::init_scheme::he_uniform);
  return m;
}

/// Mean loss over the last `window` steps of training `steps` steps on batches of 16.
inline double train_synthetic(fxp::nn::sequential& m, fxp::nn::optimizer& opt, std::size_t steps,
                              std::size_t window = 20) {
  const synthetic_set data = make_synthetic(512, 99);
  fxp::nn::trainer t(m, opt);
  double tail = 0.0;
  for (std::size_t s = 0; s < steps; ++s) {
    const std::size_t first = (s * 16) % 512;
    const fxp::tensor<float> x(data.images.slice(first, first + 16));
    const std::span<const int> y(data.labels.data() + first, 16);
    const auto r = t.step(x, y);
    if (s + window >= steps) tail += r.loss;
  }
  return tail / static_cast<double>(window);
}

}  // namespace fxp_test
