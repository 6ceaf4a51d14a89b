// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// Calibration of a model: the statistics of every layer's weights, biases, activations,
/// back-propagated errors and gradients over a few batches of data, run in float, and the
/// max-range precision plan they give for chosen bit-widths (the plan a fixed-point run
/// starts from, and the statistics the bit-width solver of Lin, Talathi & Annapureddy,
/// "Fixed Point Quantization of Deep Convolutional Networks" (arXiv:1511.06393), reads).

#include <algorithm>  // std::min
#include <cmath>      // std::ceil, std::log2
#include <cstddef>    // std::size_t
#include <cstdint>    // labels
#include <span>       // labels
#include <stdexcept>  // std::invalid_argument
#include <string>     // layer names, plan fields
#include <vector>     // per-layer results

#include "../nn/loss.hpp"
#include "../nn/model.hpp"
#include "../nn/precision.hpp"
#include "../simd/detail/isa_namespace.hpp"
#include "format.hpp"
#include "statistics.hpp"

namespace fxp::quant {
FXP_BEGIN_ISA_NAMESPACE

/// The statistics of one layer's tensors. A layer without parameters has empty weights,
/// biases and grads (count 0).
struct layer_statistics {
  std::string layer;
  statistics weights;      ///< the weights' values
  statistics biases;       ///< the biases' values
  statistics activations;  ///< the layer's outputs over the calibration batches
  statistics errors;       ///< the errors the layer sends back (dL/d input), or, for the
                           ///< last layer, the loss's error too
  statistics grads;        ///< the weight and bias gradients of each batch
};

/// The statistics of a model's input and of every layer.
struct model_statistics {
  statistics input;
  std::vector<layer_statistics> layers;
};

/// Runs `model` in float (its parameters as they are; the model must be in the floating or
/// qat mode, and is left in the state it had) on up to `batches` batches of `batch` images,
/// forward and backward against `labels` (softmax cross-entropy), and collects statistics.
/// No parameter changes: the gradients are computed, not applied.
/// \throws std::invalid_argument in a fixed-point mode or for mismatched images and labels
[[nodiscard]] inline model_statistics calibrate(nn::sequential& model, const tensor<float>& images,
                                                std::span<const std::uint8_t> labels,
                                                std::size_t batch = 256, std::size_t batches = 4) {
  if (nn::is_fixed(model.mode())) {
    throw std::invalid_argument("fxp::quant::calibrate: the model must be in a float mode "
                                "(floating or qat), not " + std::string(nn::to_string(model.mode())));
  }
  if (images.rank() == 0 || images.shape()[0] != labels.size()) {
    throw std::invalid_argument("fxp::quant::calibrate: " + std::to_string(labels.size()) +
                                " labels for images of shape " + to_string(images.shape()));
  }
  const std::size_t layers = model.size();
  statistics_accumulator input;
  std::vector<statistics_accumulator> acts(layers), errors(layers), grads(layers);
  const bool was_training = model.is_training();
  model.train();
  model.keep_all_errors(true);
  const std::size_t n = images.shape()[0];
  for (std::size_t b = 0; b < batches && b * batch < n; ++b) {
    const std::size_t first = b * batch;
    const std::size_t last = std::min(n, first + batch);
    const tensor<float> x(images.slice(first, last));
    input.add(x);
    const tensor<float> logits = model.forward(x).to_float();
    const nn::loss_result loss = nn::softmax_cross_entropy(logits, labels.subspan(first, last - first));
    model.backward(loss.grad);
    errors[layers - 1].add(loss.grad);
    for (std::size_t i = 0; i < layers; ++i) {
      acts[i].add(model.last_output(i).to_float());
      if (i > 0) errors[i].add(model.last_error(i - 1).to_float());
      for (const nn::parameter& p : model[i].parameters()) grads[i].add(p.grad);
    }
  }
  model.keep_all_errors(false);
  model.train(was_training);
  model_statistics out;
  out.input = input.result();
  for (std::size_t i = 0; i < layers; ++i) {
    layer_statistics s;
    s.layer = model[i].name();
    statistics_accumulator w, bias;
    for (const nn::parameter& p : model[i].parameters()) {
      (p.kind == nn::role::weights ? w : bias).add(p.value);
    }
    s.weights = w.result();
    s.biases = bias.result();
    s.activations = acts[i].result();
    s.errors = errors[i].result();
    s.grads = grads[i].result();
    out.layers.push_back(std::move(s));
  }
  return out;
}

/// The bit-widths of a max-range plan, per role (0: leave the role float), and the policy.
struct plan_bits {
  int weights = 16;
  int biases = 16;       ///< 0: as many as the products' fractional bits allow, 32 bits
  int activations = 16;
  int errors = 16;
  int grads = 16;
  int updates = 16;
  int state = 16;        ///< optimizer state (SGD velocity, Adam's first moment)
  int master = 0;        ///< wide master weights (training_mode::fixed_master); 0: none
  int input = 8;         ///< the input images (unsigned)
  rounding_mode rounding = rounding_mode::nearest;
  /// Bits of headroom above the calibrated max |x| of the freshly initialised network, for
  /// values that grow in training: each halves the precision and doubles the range; -1
  /// picks by width (default_headroom). Errors and gradients scale with 1 / batch size:
  /// calibrate with the training batch size.
  int weight_headroom = -1;
  int activation_headroom = -1;
  int error_headroom = -1;
  double learning_rate = 0.02;  ///< sizes the updates' format (lr * gradient)
  double momentum = 0.9;        ///< sizes the velocity's format (gradient / (1 - momentum))
};

/// The headroom a role gets by default: measured on the reference CNN, weights,
/// activations and errors of a network trained from scratch outgrow their initial range by
/// more than 8x within a few hundred steps (16-bit formats with 3 bits of headroom saturate
/// by the million and diverge; 6 bits track float training); narrow formats cannot spare
/// as many bits.
[[nodiscard]] constexpr int default_headroom(int bits, bool is_error) noexcept {
  if (bits >= 12) return is_error ? 6 : 5;
  return is_error ? 3 : 1;
}

FXP_END_ISA_NAMESPACE
namespace detail {
FXP_BEGIN_ISA_NAMESPACE

/// The max-range format of `bits` bits for data in [min, max] scaled by 2^headroom:
/// unsigned when min >= 0 and `allow_unsigned`, up to 15 bits (a product's operands live in
/// int16 lanes, so a 16-bit activation keeps its sign bit).
[[nodiscard]] inline dynamic_format range_format(int bits, const statistics& s, int headroom,
                                                 bool allow_unsigned = false) {
  const double scale = std::ldexp(1.0, headroom);
  const bool is_unsigned = allow_unsigned && s.min >= 0 && bits <= 15;
  // An unsigned b-bit format spans the positive range of a signed (b + 1)-bit one.
  const q_format q = max_range_format(is_unsigned ? bits + 1 : bits, s.min * scale, s.max * scale);
  const int frac = std::clamp(q.frac_bits, -dynamic_format::max_frac, dynamic_format::max_frac);
  return {bits, frac, !is_unsigned};
}

FXP_END_ISA_NAMESPACE
}  // namespace detail
FXP_BEGIN_ISA_NAMESPACE

/// The precision plan of max-range formats (nothing the calibration saw saturates, with the
/// stated headroom) for the bit-widths `bits`: one line per layer, "input" first. Updates
/// take the gradients' format shifted by log2(1 / learning_rate), the optimizer state by
/// log2(1 / (1 - momentum)) the other way; master weights their own max-range format.
[[nodiscard]] inline nn::precision_plan range_plan(const model_statistics& stats, const plan_bits& bits) {
  nn::precision_plan plan;
  const std::string rounding = " rounding=" + std::string(fxp::to_string(bits.rounding));
  plan.set("input", "acts=" + detail::range_format(bits.input, stats.input, 0, true).to_string() +
                        rounding);
  const int lr_shift = static_cast<int>(std::floor(std::log2(1.0 / bits.learning_rate)));
  const auto room = [](int chosen, int b, bool is_error) {
    return chosen >= 0 ? chosen : default_headroom(b, is_error);
  };
  const int w_room = room(bits.weight_headroom, bits.weights, false);
  const int a_room = room(bits.activation_headroom, bits.activations, false);
  const int e_room = room(bits.error_headroom, bits.errors, true);
  const int g_room = room(bits.error_headroom, bits.grads, true);
  const int state_shift = static_cast<int>(std::ceil(std::log2(1.0 / (1.0 - bits.momentum))));
  for (const layer_statistics& s : stats.layers) {
    std::string fields;
    // A role of 0 bits stays float: its format is never derived (nor checked).
    const auto add = [&](const char* role, int b, const auto& format) {
      if (b > 0) fields += std::string(role) + "=" + dynamic_format(format()).to_string() + " ";
    };
    add("acts", bits.activations,
        [&] { return detail::range_format(bits.activations, s.activations, a_room, true); });
    add("errors", bits.errors, [&] { return detail::range_format(bits.errors, s.errors, e_room); });
    if (s.weights.count > 0) {
      add("weights", bits.weights,
          [&] { return detail::range_format(bits.weights, s.weights, w_room); });
      add("biases", bits.biases, [&] { return detail::range_format(bits.biases, s.biases, w_room); });
      const auto grads = [&] { return detail::range_format(bits.grads, s.grads, g_room); };
      add("grads", bits.grads, grads);
      add("updates", bits.updates, [&] {
        return dynamic_format{bits.updates, std::min(grads().frac + lr_shift, dynamic_format::max_frac), true};
      });
      add("state", bits.state, [&] {
        return dynamic_format{bits.state, std::max(grads().frac - state_shift, -dynamic_format::max_frac), true};
      });
      // The master copy gets its own range: narrow forward weights are requantized from it
      // every step, and it must hold where training takes the weights.
      add("master", bits.master, [&] {
        return detail::range_format(bits.master, s.weights,
                                    room(bits.weight_headroom, bits.master, false));
      });
    }
    plan.set(s.layer, fields + rounding.substr(1));
  }
  return plan;
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp::quant
