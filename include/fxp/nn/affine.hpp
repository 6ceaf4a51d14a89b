// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// Layers with weights and a bias per output channel: fxp::nn::dense and fxp::nn::conv2d,
/// over one shared implementation of the four training modes (fxp::nn::affine_layer).

#include <cmath>      // std::sqrt for the initialisation bounds
#include <cstddef>    // std::size_t
#include <cstdint>    // seeds
#include <stdexcept>  // std::invalid_argument
#include <string>     // names
#include <utility>    // std::move

#include "../simd/detail/isa_namespace.hpp"
#include "../tensor/dynamic.hpp"
#include "../tensor/kernels.hpp"
#include "detail/raw_ops.hpp"
#include "layer.hpp"

namespace fxp::nn {
FXP_BEGIN_ISA_NAMESPACE

/// How initialize() draws the weights of a layer with `fan_in` inputs per output.
enum class init_scheme : std::uint8_t {
  /// PyTorch's default for Conv2d and Linear (kaiming_uniform_ with a = sqrt(5)):
  /// weights and biases uniform on [-1/sqrt(fan_in), 1/sqrt(fan_in)].
  pytorch_default,
  /// He et al., "Delving Deep into Rectifiers" (arXiv:1502.01852), uniform form: weights
  /// uniform on [-sqrt(6/fan_in), sqrt(6/fan_in)], biases zero.
  he_uniform,
};

/// The step of the random key that initialisation uses (no training step has it).
inline constexpr std::uint32_t init_step = 0xFFFFFFFFu;

/// A layer y = product(x, weights) + bias[channel]: the training modes, parameter
/// conversions and precision handling shared by dense and conv2d. The derived class gives
/// the product and its two backward products, for float and for qtensors.
class affine_layer : public layer {
 public:
  /// Draws the parameters: element i of the weights is word i of the key
  /// (seed, tensor id 16 * (index + 1) + slot::weights, step init_step), mapped to
  /// (word + 0.5) / 2^32 in (0, 1) and then onto the scheme's interval; the biases use
  /// slot::biases. Only Philox, so the values are the same on every platform.
  void initialize(std::uint64_t seed, init_scheme scheme = init_scheme::pytorch_default) {
    const double fan = static_cast<double>(fan_in());
    const double bound = scheme == init_scheme::he_uniform ? std::sqrt(6.0 / fan) : 1.0 / std::sqrt(fan);
    const double bias_bound = scheme == init_scheme::he_uniform ? 0.0 : 1.0 / std::sqrt(fan);
    fill_uniform(params_[0].value, make_key(seed, index(), slot::weights, init_step), bound);
    fill_uniform(params_[1].value, make_key(seed, index(), slot::biases, init_step), bias_bound);
  }

  [[nodiscard]] parameter& weights() noexcept { return params_[0]; }
  [[nodiscard]] parameter& biases() noexcept { return params_[1]; }
  [[nodiscard]] const parameter& weights() const noexcept { return params_[0]; }
  [[nodiscard]] const parameter& biases() const noexcept { return params_[1]; }

  /// Inputs per output (the reduction length of the product).
  [[nodiscard]] virtual std::size_t fan_in() const noexcept = 0;

  [[nodiscard]] value forward(const value& x, const context& ctx) override {
    check_input(x.shape());
    parameter& w = params_[0];
    parameter& b = params_[1];
    const rounding_mode rnd = precision_.rounding;
    if (!is_fixed(ctx.mode)) {
      if (x.is_fixed) throw std::invalid_argument("fxp::nn: " + name() + ": a fixed input in a float mode");
      tensor<float> y;
      if (ctx.mode == training_mode::qat) {
        qat_weights_ = detail::fake(w.value, precision_[role::weights], rnd, key(ctx, slot::weights),
                                    saturations_[role::weights]);
        const tensor<float> bq = detail::fake(b.value, precision_[role::biases], rnd,
                                              key(ctx, slot::biases), saturations_[role::biases]);
        y = product(x.f, qat_weights_);
        detail::add_channel_bias(y, bq);
        y = detail::fake(std::move(y), precision_[role::activations], rnd, key(ctx, slot::activations),
                         saturations_[role::activations]);
      } else {
        y = product(x.f, w.value);
        detail::add_channel_bias(y, b.value);
      }
      return value(std::move(y));
    }
    if (!x.is_fixed) throw std::invalid_argument("fxp::nn: " + name() + ": a float input in a fixed mode");
    const qtensor bias = detail::bias_within(b.qvalue, x.q.format().frac + w.qvalue.format().frac, rnd);
    qtensor y = product(x.q, w.qvalue, need(role::activations), rnd, key(ctx, slot::activations), &bias);
    saturations_[role::activations] += y.saturations();
    return value(std::move(y));
  }

  [[nodiscard]] value backward(const value& x, const value&, const value& dy, const context& ctx,
                               bool need_input_error) override {
    parameter& w = params_[0];
    parameter& b = params_[1];
    const rounding_mode rnd = precision_.rounding;
    if (!is_fixed(ctx.mode)) {
      const bool qat = ctx.mode == training_mode::qat;
      if (trainable) {
        w.grad = backward_weights(x.f, dy.f, w.value.shape());
        b.grad = detail::channel_sums(dy.f);
        if (qat) {
          w.grad = detail::fake(std::move(w.grad), precision_[role::grads], rnd,
                                key(ctx, slot::weight_grads), saturations_[role::grads]);
          b.grad = detail::fake(std::move(b.grad), precision_[role::grads], rnd,
                                key(ctx, slot::bias_grads), saturations_[role::grads]);
        }
      }
      if (!need_input_error) return value();
      tensor<float> dx = backward_data(qat ? qat_weights_ : w.value, dy.f, x.shape());
      if (qat) {
        dx = detail::fake(std::move(dx), precision_[role::errors], rnd, key(ctx, slot::errors),
                          saturations_[role::errors]);
      }
      return value(std::move(dx));
    }
    if (trainable) {
      const dynamic_format g = need(role::grads);
      w.qgrad = backward_weights(x.q, dy.q, w.qvalue.shape(), g, rnd, key(ctx, slot::weight_grads));
      saturations_[role::grads] += w.qgrad.saturations();
      b.qgrad = detail::round_into(b.qvalue.shape(), detail::channel_sums(dy.q), dy.q.format().frac, g,
                                   rnd, key(ctx, slot::bias_grads), saturations_[role::grads]);
    }
    if (!need_input_error) return value();
    const dynamic_format e = precision_[role::errors].value_or(dy.q.format());
    qtensor dx = backward_data(w.qvalue, dy.q, x.shape(), e, rnd, key(ctx, slot::errors));
    saturations_[role::errors] += dx.saturations();
    return value(std::move(dx));
  }

  void check_conversion(training_mode to) const override {
    if (!is_fixed(to)) return;
    (void)format_of(role::weights);
    (void)format_of(role::biases);
    if (to == training_mode::fixed_master) (void)need(role::master);
  }

  void convert_parameters(training_mode from, training_mode to) override {
    if (is_fixed(from) == is_fixed(to) && (from == training_mode::fixed_master) == (to == training_mode::fixed_master)) {
      return;
    }
    for (parameter& p : params_) {
      const bool is_w = p.kind == role::weights;
      if (!is_fixed(to)) {  // back to float: the master (or forward) values, exactly
        p.value = dequantize(is_w && from == training_mode::fixed_master ? p.qmaster : p.qvalue);
        p.qvalue = qtensor();
        p.qmaster = qtensor();
        p.qgrad = qtensor();
        continue;
      }
      const dynamic_format f = format_of(p.kind);
      if (is_w && to == training_mode::fixed_master) {
        const dynamic_format m = need(role::master);
        p.qmaster = is_fixed(from) ? requantize(p.qvalue, m, rounding_mode::nearest)
                                   : quantize(p.value, m, rounding_mode::nearest);
        p.qvalue = requantize(p.qmaster, f, rounding_mode::nearest);
      } else if (is_fixed(from)) {  // fixed_master -> fixed: the forward weights from the master
        if (is_w) p.qvalue = requantize(p.qmaster, f, rounding_mode::nearest);
        p.qmaster = qtensor();
      } else {
        p.qvalue = quantize(p.value, f, rounding_mode::nearest);
      }
      if (!is_fixed(from)) p.value = tensor<float>();
    }
  }

 protected:
  affine_layer(std::string name, fxp::shape weights, std::size_t out) : layer(std::move(name)) {
    params_.push_back(parameter{this->name() + ".weights", role::weights, tensor<float>(weights),
                                {}, {}, {}, {}});
    params_.push_back(parameter{this->name() + ".biases", role::biases, tensor<float>(fxp::shape{out}),
                                {}, {}, {}, {}});
  }

  virtual void check_input(const fxp::shape& x) const = 0;
  [[nodiscard]] virtual tensor<float> product(const tensor<float>& x, const tensor<float>& w) const = 0;
  [[nodiscard]] virtual tensor<float> backward_data(const tensor<float>& w, const tensor<float>& dy,
                                                    const fxp::shape& x) const = 0;
  [[nodiscard]] virtual tensor<float> backward_weights(const tensor<float>& x, const tensor<float>& dy,
                                                       const fxp::shape& w) const = 0;
  [[nodiscard]] virtual qtensor product(const qtensor& x, const qtensor& w, dynamic_format out,
                                        rounding_mode rnd, const random_key& k,
                                        const qtensor* bias) const = 0;
  [[nodiscard]] virtual qtensor backward_data(const qtensor& w, const qtensor& dy, const fxp::shape& x,
                                              dynamic_format out, rounding_mode rnd,
                                              const random_key& k) const = 0;
  [[nodiscard]] virtual qtensor backward_weights(const qtensor& x, const qtensor& dy,
                                                 const fxp::shape& w, dynamic_format out,
                                                 rounding_mode rnd, const random_key& k) const = 0;

  /// The stored format of weights (role weights) or biases (role biases; the activations
  /// format when no biases format is set).
  [[nodiscard]] dynamic_format format_of(role kind) const {
    if (kind == role::weights) return need(role::weights);
    if (precision_[role::biases]) return *precision_[role::biases];
    return need(role::activations);
  }

  void requantize_parameters(const layer_precision& old) override {
    (void)old;
    for (parameter& p : params_) {
      if (p.qvalue.size() == 0 && p.qmaster.size() == 0) continue;
      const dynamic_format f = format_of(p.kind);
      if (p.qmaster.size() != 0) {
        const dynamic_format m = need(role::master);
        if (!(p.qmaster.format() == m)) p.qmaster = requantize(p.qmaster, m, rounding_mode::nearest);
        p.qvalue = requantize(p.qmaster, f, rounding_mode::nearest);
      } else if (!(p.qvalue.format() == f)) {
        p.qvalue = requantize(p.qvalue, f, rounding_mode::nearest);
      }
    }
  }

 private:
  static void fill_uniform(tensor<float>& t, const random_key& k, double bound) {
    for (std::size_t i = 0; i < t.size(); ++i) {
      const double u = (static_cast<double>(k.word(i)) + 0.5) * 0x1p-32;  // in (0, 1)
      t[i] = static_cast<float>(bound * (2.0 * u - 1.0));
    }
  }

  tensor<float> qat_weights_;  // QAT: the fake-quantized weights the forward pass used
};

/// A fully connected layer: input (N, in), weights (out, in), biases (out), output (N, out),
/// y = x w^T + b.
class dense final : public affine_layer {
 public:
  dense(std::string name, std::size_t in, std::size_t out)
      : affine_layer(std::move(name), fxp::shape{out, in}, out), in_(in), out_(out) {}

  [[nodiscard]] std::string_view kind() const noexcept override { return "dense"; }
  [[nodiscard]] std::size_t fan_in() const noexcept override { return in_; }
  [[nodiscard]] fxp::shape output_shape(const fxp::shape& x) const override {
    check_input(x);
    return fxp::shape{x[0], out_};
  }

 protected:
  void check_input(const fxp::shape& x) const override {
    if (x.rank() != 2 || x[1] != in_) {
      throw std::invalid_argument("fxp::nn::dense " + name() + ": expects input (N, " +
                                  std::to_string(in_) + "), got " + to_string(x) +
                                  " (add a flatten layer before it)");
    }
  }
  tensor<float> product(const tensor<float>& x, const tensor<float>& w) const override {
    return matmul<float>(x, w, transpose::no, transpose::yes);
  }
  tensor<float> backward_data(const tensor<float>& w, const tensor<float>& dy, const fxp::shape&) const override {
    return matmul<float>(dy, w);
  }
  tensor<float> backward_weights(const tensor<float>& x, const tensor<float>& dy, const fxp::shape&) const override {
    return matmul<float>(dy, x, transpose::yes, transpose::no);
  }
  qtensor product(const qtensor& x, const qtensor& w, dynamic_format out, rounding_mode rnd,
                  const random_key& k, const qtensor* bias) const override {
    return matmul(x, w, transpose::no, transpose::yes, out, rnd, k, bias);
  }
  qtensor backward_data(const qtensor& w, const qtensor& dy, const fxp::shape&, dynamic_format out,
                        rounding_mode rnd, const random_key& k) const override {
    return matmul(dy, w, transpose::no, transpose::no, out, rnd, k);
  }
  qtensor backward_weights(const qtensor& x, const qtensor& dy, const fxp::shape&, dynamic_format out,
                           rounding_mode rnd, const random_key& k) const override {
    return matmul(dy, x, transpose::yes, transpose::no, out, rnd, k);
  }

 private:
  std::size_t in_;
  std::size_t out_;
};

/// A 2-D convolution: input (N, C, H, W), weights (O, C, KH, KW), biases (O), output
/// (N, O, OH, OW), with stride and zero padding (fxp::conv2d_params).
class conv2d final : public affine_layer {
 public:
  conv2d(std::string name, std::size_t in_channels, std::size_t out_channels, std::size_t kernel,
         conv2d_params params = {})
      : affine_layer(std::move(name), fxp::shape{out_channels, in_channels, kernel, kernel}, out_channels),
        in_(in_channels), kernel_(kernel), params_conv_(params) {}

  [[nodiscard]] std::string_view kind() const noexcept override { return "conv2d"; }
  [[nodiscard]] std::size_t fan_in() const noexcept override { return in_ * kernel_ * kernel_; }
  [[nodiscard]] const conv2d_params& conv_params() const noexcept { return params_conv_; }
  [[nodiscard]] fxp::shape output_shape(const fxp::shape& x) const override {
    const conv2d_shape s = fxp::detail::conv_shape("fxp::nn::conv2d", x, weights().value.size()
                                                                              ? weights().value.shape()
                                                                              : weights().qvalue.shape(),
                                                   params_conv_);
    return fxp::shape{s.batch, s.out_channels, s.out_height(), s.out_width()};
  }

 protected:
  void check_input(const fxp::shape& x) const override { (void)output_shape(x); }
  tensor<float> product(const tensor<float>& x, const tensor<float>& w) const override {
    return fxp::conv2d<float>(x, w, params_conv_);
  }
  tensor<float> backward_data(const tensor<float>& w, const tensor<float>& dy,
                              const fxp::shape& x) const override {
    return fxp::conv2d_backward_data<float>(w, dy, x, params_conv_);
  }
  tensor<float> backward_weights(const tensor<float>& x, const tensor<float>& dy,
                                 const fxp::shape& w) const override {
    return fxp::conv2d_backward_weights<float>(x, dy, w, params_conv_);
  }
  qtensor product(const qtensor& x, const qtensor& w, dynamic_format out, rounding_mode rnd,
                  const random_key& k, const qtensor* bias) const override {
    return fxp::conv2d(x, w, params_conv_, out, rnd, k, bias);
  }
  qtensor backward_data(const qtensor& w, const qtensor& dy, const fxp::shape& x, dynamic_format out,
                        rounding_mode rnd, const random_key& k) const override {
    return fxp::conv2d_backward_data(w, dy, x, params_conv_, out, rnd, k);
  }
  qtensor backward_weights(const qtensor& x, const qtensor& dy, const fxp::shape& w,
                           dynamic_format out, rounding_mode rnd, const random_key& k) const override {
    return fxp::conv2d_backward_weights(x, dy, w, params_conv_, out, rnd, k);
  }

 private:
  std::size_t in_;
  std::size_t kernel_;
  conv2d_params params_conv_;
};

FXP_END_ISA_NAMESPACE
}  // namespace fxp::nn
