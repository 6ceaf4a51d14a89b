// SPDX-License-Identifier: MIT
// The work of one translation unit of test_mixed_flags: every kind of fxp kernel whose code
// depends on the instruction set (array conversions, expressions and casts, reductions,
// GEMM, convolution, a training step of the NN stack, calibration and a bit-width plan,
// a training state through a checkpoint archive), on fixed data. Included by
// baseline.cpp and native.cpp, each defining FXP_MIXED_ENTRY; everything else here has
// internal linkage, so the two copies never meet at link time.

#include <fxp/fxp.hpp>
#include <fxp/io/training_checkpoint.hpp>
#include <fxp/quant/plan.hpp>

#include <bit>
#include <cstdint>
#include <cstring>
#include <vector>

#include "results.hpp"

namespace {

using q7 = fxp::fixed<1, 7>;
using q15 = fxp::fixed<1, 15>;
using q12 = fxp::fixed<4, 12>;

/// n dyadic floats in [-2, 2): float products and sums of a few of them are exact, so float
/// kernels must agree bit for bit whatever the instruction set (FMA or not).
std::vector<float> dyadic(std::size_t n, std::uint32_t salt) {
  std::vector<float> v(n);
  std::uint32_t s = salt * 2654435761u + 1u;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<float>(static_cast<int>(s >> 22) - 512) / 256.0f;
  }
  return v;
}

template <class T>
std::vector<std::int64_t> raws(const T* p, std::size_t n) {
  std::vector<std::int64_t> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<T, float>) {
      out[i] = std::bit_cast<std::uint32_t>(p[i]);
    } else {
      out[i] = static_cast<std::int64_t>(p[i].raw());
    }
  }
  return out;
}

template <class Tensor>
std::vector<std::int64_t> raws(const Tensor& t) {
  return raws(t.data(), t.size());
}

}  // namespace

fxp_mixed::results fxp_mixed::FXP_MIXED_ENTRY() {
  results r;
  const fxp::random_key key{20261201, 5, 9};
  constexpr std::size_t n = 1003;  // not a multiple of any chunk: heads and tails run too
  const std::vector<float> x = dyadic(n, 1);

  // Array kernels.
  std::vector<q7> a(n);
  fxp::quantize<q7, fxp::nearest>(x.data(), a.data(), n);
  r["quantize nearest"] = raws(a.data(), n);
  fxp::quantize<q7, fxp::stochastic>(x.data(), a.data(), n, key);
  r["quantize stochastic"] = raws(a.data(), n);
  std::vector<q15> wide(n);
  fxp::quantize<q15>(x.data(), wide.data(), n);
  fxp::requantize<q7, fxp::stochastic>(wide.data(), a.data(), n, key, 17);
  r["requantize stochastic"] = raws(a.data(), n);
  std::vector<float> back(n);
  fxp::dequantize(a.data(), back.data(), n);
  r["dequantize"] = raws(back.data(), n);

  // Tensors, expressions, casts and reductions.
  const fxp::tensor<float> t(fxp::shape{17, 59}, x);
  const auto tq = fxp::quantize<q7, fxp::stochastic>(t, key);
  r["tensor quantize"] = raws(tq);
  const auto e = fxp::eval(fxp::cast<q7, fxp::nearest_even>(tq * tq + tq));
  r["cast expression"] = raws(e);
  const auto s = fxp::eval(fxp::cast<q7, fxp::stochastic>(tq * tq - tq, key));
  r["stochastic cast"] = raws(s);
  r["sum, max"] = {fxp::sum(tq).raw(), fxp::max(tq * tq).raw(), fxp::sum_of_squares(e).raw()};

  // GEMM: 8-bit, 16-bit and dyadic float operands.
  const auto b8 = fxp::quantize<q7>(fxp::tensor<float>(fxp::shape{59, 23}, dyadic(59 * 23, 2)));
  r["matmul 8-bit"] = raws(fxp::matmul<q12>(tq, b8));
  r["matmul 8-bit stochastic"] = raws(fxp::matmul<q12, fxp::stochastic>(tq, b8, fxp::transpose::no,
                                                                         fxp::transpose::no, key));
  const auto a16 = fxp::quantize<q15>(t);
  const auto b16 = fxp::quantize<q15>(fxp::tensor<float>(fxp::shape{59, 23}, dyadic(59 * 23, 3)));
  r["matmul 16-bit"] = raws(fxp::matmul<fxp::fixed<8, 24>>(a16, b16));
  const fxp::tensor<float> fb(fxp::shape{59, 23}, dyadic(59 * 23, 4));
  r["matmul float"] = raws(fxp::matmul<float>(t, fb));

  // Convolution and its backward products.
  const auto cx = fxp::quantize<q7>(fxp::tensor<float>(fxp::shape{2, 3, 9, 9}, dyadic(2 * 3 * 81, 5)));
  const auto cw = fxp::quantize<q7>(fxp::tensor<float>(fxp::shape{4, 3, 3, 3}, dyadic(4 * 27, 6)));
  const auto p = fxp::conv2d_params::square(1, 1);
  const auto cy = fxp::conv2d<q12>(cx, cw, p);
  r["conv2d"] = raws(cy);
  r["conv2d backward data"] = raws(fxp::conv2d_backward_data<fxp::fixed<8, 8>>(cw, cy, cx.shape(), p));
  r["conv2d backward weights"] =
      raws(fxp::conv2d_backward_weights<fxp::fixed<8, 8>, fxp::stochastic>(cx, cy, cw.shape(), p, key));

  // One training step of the reference CNN in fixed point, then its logits.
  namespace nn = fxp::nn;
  nn::sequential net = nn::reference_cnn(1);
  net.apply(nn::precision_plan::parse(
      "input acts=u8.7\n"
      "*     weights=s8.7 biases=s16.12 acts=s16.10 errors=s16.14 grads=s16.12 rounding=stochastic\n"));
  net.set_mode(nn::training_mode::fixed);
  nn::sgd opt(nn::lr_schedule::cosine(0.02, 100), 0.9, 5e-4);
  nn::trainer train(net, opt);
  std::vector<float> pixels = dyadic(4 * 28 * 28, 7);
  for (auto& v : pixels) v = v * v / 4.0f;  // in [0, 1]
  const fxp::tensor<float> images(fxp::shape{4, 1, 28, 28}, pixels);
  const std::vector<int> labels{3, 1, 4, 1};
  (void)train.step(images, labels);
  r["trained logits"] = raws(net.forward(images).to_float());

  // The training state through a checkpoint archive (in memory), into a second trainer.
  nn::sequential copy = nn::reference_cnn(1);
  copy.apply(net.plan());
  copy.set_mode(nn::training_mode::fixed);
  nn::sgd copy_opt(nn::lr_schedule::cosine(0.02, 100), 0.9, 5e-4);
  nn::trainer resumed(copy, copy_opt);
  resumed.load_state(fxp::io::to_training_state(fxp::io::to_archive(train.state())));
  r["resumed logits"] = raws(copy.forward(images).to_float());

  // Calibration and an SQNR-optimal plan of per-layer weight bits, applied to a float model.
  nn::sequential float_net = nn::reference_cnn(2);
  const std::vector<std::uint8_t> calibration_labels{3, 1, 4, 1};
  const auto stats = fxp::quant::calibrate(float_net, images, calibration_labels, 2, 2);
  const auto terms = fxp::quant::make_layer_terms(stats);
  const auto allocation = fxp::quant::allocate_layers(terms, 20.0);
  float_net.apply(fxp::quant::make_precision_plan(stats, allocation));
  float_net.set_mode(nn::training_mode::qat);
  r["planned logits"] = raws(float_net.forward(images).to_float());
  return r;
}
