// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// The base of every layer: what flows between layers (fxp::nn::value), parameters,
/// training modes, the random-key scheme of stochastic rounding and saturation counts.

#include <array>        // saturation counts per role
#include <cstddef>      // std::size_t
#include <cstdint>      // tensor ids, counters
#include <functional>   // the observer hook
#include <stdexcept>    // std::invalid_argument
#include <string>       // names
#include <string_view>  // kinds
#include <utility>      // std::move
#include <vector>       // parameters

#include "../simd/detail/isa_namespace.hpp"
#include "../tensor/dynamic.hpp"
#include "../tensor/kernels.hpp"
#include "precision.hpp"

namespace fxp::nn {
FXP_BEGIN_ISA_NAMESPACE

/// How a model computes.
enum class training_mode : std::uint8_t {
  floating,      ///< float everything
  qat,           ///< float master weights; forward through fake_quantize with the layer
                 ///< formats; straight-through backward (float errors and gradients, each
                 ///< fake-quantized when its role has a format)
  fixed,         ///< weights, activations, errors, gradients, optimizer state in qtensors;
                 ///< every product an exact integer sum rounded once (fxp kernels)
  fixed_master,  ///< as fixed, but the optimizer updates wide fixed-point master weights
                 ///< (role master) and the forward weights are requantized from them
};

/// "float", "qat", "fixed", "fixed-master".
[[nodiscard]] inline std::string_view to_string(training_mode m) noexcept {
  switch (m) {
    case training_mode::floating: return "float";
    case training_mode::qat: return "qat";
    case training_mode::fixed: return "fixed";
    case training_mode::fixed_master: return "fixed-master";
  }
  return "?";
}

/// The mode named `s` (see to_string(training_mode)); std::invalid_argument otherwise.
[[nodiscard]] inline training_mode parse_training_mode(std::string_view s) {
  for (auto m : {training_mode::floating, training_mode::qat, training_mode::fixed,
                 training_mode::fixed_master}) {
    if (to_string(m) == s) return m;
  }
  throw std::invalid_argument("fxp::nn: unknown training mode '" + std::string(s) +
                              "' (float, qat, fixed, fixed-master)");
}

/// Whether values between layers are qtensors in mode `m`.
[[nodiscard]] constexpr bool is_fixed(training_mode m) noexcept {
  return m == training_mode::fixed || m == training_mode::fixed_master;
}

/// What flows between layers: a float tensor, or (fixed-point modes) a qtensor.
struct value {
  tensor<float> f;
  qtensor q;
  bool is_fixed = false;

  value() = default;
  explicit value(tensor<float> t) : f(std::move(t)) {}
  explicit value(qtensor t) : q(std::move(t)), is_fixed(true) {}

  [[nodiscard]] const fxp::shape& shape() const noexcept { return is_fixed ? q.shape() : f.shape(); }
  /// The values as floats (dequantized when fixed).
  [[nodiscard]] tensor<float> to_float() const { return is_fixed ? dequantize(q) : f; }
};

/// The slot of a tensor in the random-key scheme: tensor id = 16 * (layer index + 1) + slot
/// (layer index 0 is the first layer; id 16 * 0 + slot is the model's own: slot
/// `activations` quantizes the input, slot `errors` the loss's error). The step of the key
/// is the training step, so every stochastic rounding of a run draws distinct words.
enum class slot : std::uint32_t {
  weights = 0,         ///< forward weights (QAT fake-quantize; fixed_master requantize)
  biases = 1,          ///< forward biases
  activations = 2,     ///< the layer's output
  errors = 3,          ///< the error sent to the input
  weight_grads = 4,    ///< dL/dw
  bias_grads = 5,      ///< dL/db
  weight_updates = 6,  ///< the optimizer's step for the weights
  bias_updates = 7,
  weight_state = 8,    ///< SGD velocity / Adam first moment of the weights
  bias_state = 9,
  weight_state2 = 10,  ///< Adam second moment
  bias_state2 = 11,
  weight_store = 12,   ///< the updated stored weights (the master in fixed_master)
  bias_store = 13,
};

/// The random key of tensor `s` of layer `layer_index` at `step` under `seed`.
[[nodiscard]] constexpr random_key make_key(std::uint64_t seed, std::size_t layer_index, slot s,
                                            std::uint64_t step) noexcept {
  return random_key{seed, static_cast<std::uint32_t>(16 * (layer_index + 1) +
                                                      static_cast<std::uint32_t>(s)),
                    static_cast<std::uint32_t>(step)};
}
/// The key of the model's own tensors (input quantization, the loss's error).
[[nodiscard]] constexpr random_key model_key(std::uint64_t seed, slot s, std::uint64_t step) noexcept {
  return random_key{seed, static_cast<std::uint32_t>(s), static_cast<std::uint32_t>(step)};
}

/// What a layer computes in: the mode, train or eval, and the key material.
struct context {
  training_mode mode = training_mode::floating;
  bool training = false;
  std::uint64_t seed = 0;
  std::uint64_t step = 0;
};

/// A trainable tensor of a layer. In the float modes `value` is the (master) value; in the
/// fixed modes `qvalue` is what the forward pass uses (the `weights`/`biases` format), and
/// in fixed_master mode `qmaster` (the `master` format) is what the optimizer updates.
struct parameter {
  std::string name;              ///< "conv1.weights"
  role kind = role::weights;     ///< role::weights or role::biases
  tensor<float> value;           ///< float modes: the value
  tensor<float> grad;            ///< float modes: dL/dvalue of the last backward pass
  qtensor qvalue;                ///< fixed modes: the value in the forward format
  qtensor qgrad;                 ///< fixed modes: dL/dvalue in the grads format
  qtensor qmaster;               ///< fixed_master mode: the master value
  [[nodiscard]] std::size_t count() const noexcept { return value.size() ? value.size() : qvalue.size(); }
};

/// Per-role saturation counts of a layer: how many elements were clamped into the role's
/// format since the counts were last reset (activations: forward outputs; errors: errors
/// sent back; grads: gradients; weights/biases: forward weights (QAT, fixed_master)
/// and weight/bias updates applied; updates, state, state2, master likewise).
struct saturation_counts {
  std::array<std::uint64_t, role_count> counts{};
  [[nodiscard]] std::uint64_t& operator[](role r) noexcept { return counts[static_cast<std::size_t>(r)]; }
  [[nodiscard]] std::uint64_t operator[](role r) const noexcept {
    return counts[static_cast<std::size_t>(r)];
  }
  [[nodiscard]] std::uint64_t total() const noexcept {
    std::uint64_t t = 0;
    for (auto c : counts) t += c;
    return t;
  }
};

/// Where an observer is called: after the forward pass (the layer's output is
/// `last_output`) or after the backward pass (the error at its output is `last_error`).
enum class hook_point : std::uint8_t { forward, backward };

class layer;

/// A calibration / diagnostic hook: called with the layer, the point, its input and its
/// output (forward) or the error at its output and the error it sends back (backward).
using observer = std::function<void(const layer&, hook_point, const value&, const value&)>;

/// One layer of a sequential model. Forward and backward work on whole batches (one virtual
/// call per layer per pass); the model owns the activations and hands each layer its input
/// and output again in the backward pass, so layers keep no copies of them.
class layer {
 public:
  explicit layer(std::string name) : name_(std::move(name)) {}
  layer(const layer&) = delete;
  layer& operator=(const layer&) = delete;
  virtual ~layer() = default;

  /// "conv2d", "dense", "relu", "max_pool2d", "avg_pool2d", "flatten".
  [[nodiscard]] virtual std::string_view kind() const noexcept = 0;
  /// The shape of the output for an input of shape `input`.
  [[nodiscard]] virtual fxp::shape output_shape(const fxp::shape& input) const = 0;
  /// The output for input `x`.
  [[nodiscard]] virtual value forward(const value& x, const context& ctx) = 0;
  /// Accumulates nothing: sets the parameters' gradients (when trainable) from the input x,
  /// the output y and dL/dy, and returns dL/dx (an empty value when !need_input_error).
  [[nodiscard]] virtual value backward(const value& x, const value& y, const value& dy,
                                       const context& ctx, bool need_input_error) = 0;
  /// Converts the parameters into the representation of mode `m` (and back to float):
  /// quantizes float values into the weights/biases (and master) formats, or dequantizes.
  virtual void convert_parameters(training_mode from, training_mode to) { (void)from, (void)to; }
  /// Throws what convert_parameters(..., to) would (a missing format) without changing
  /// anything, so a model can check every layer before converting any.
  virtual void check_conversion(training_mode to) const { (void)to; }

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] std::vector<parameter>& parameters() noexcept { return params_; }
  [[nodiscard]] const std::vector<parameter>& parameters() const noexcept { return params_; }
  /// The number of trainable scalars.
  [[nodiscard]] std::size_t parameter_count() const noexcept {
    std::size_t n = 0;
    for (const auto& p : params_) n += p.count();
    return n;
  }

  /// The layer's formats. Change them at any time (also on a trained model); fixed-point
  /// parameters are requantized by set_precision.
  [[nodiscard]] const layer_precision& precision() const noexcept { return precision_; }
  /// Sets the formats; in a fixed mode (`mode`), requantizes the stored parameters into the
  /// new weights/biases (and master) formats with the new rounding (nearest for stochastic,
  /// so the change is deterministic).
  void set_precision(const layer_precision& p, training_mode mode) {
    const layer_precision old = precision_;
    precision_ = p;
    if (is_fixed(mode)) requantize_parameters(old);
  }

  /// Frozen layers (false) still pass errors back but compute no gradients, and the
  /// optimizer leaves them alone.
  bool trainable = true;

  /// Called after each forward and backward pass of this layer when set.
  observer watch;

  /// The index of the layer in its model (part of its random keys).
  [[nodiscard]] std::size_t index() const noexcept { return index_; }
  void set_index(std::size_t i) noexcept { index_ = i; }

  /// Elements clamped per role since reset_saturations().
  [[nodiscard]] const saturation_counts& saturations() const noexcept { return saturations_; }
  [[nodiscard]] saturation_counts& saturations() noexcept { return saturations_; }
  void reset_saturations() noexcept { saturations_ = {}; }

 protected:
  /// The key of this layer's tensor `s` in context `ctx`.
  [[nodiscard]] random_key key(const context& ctx, slot s) const noexcept {
    return make_key(ctx.seed, index_, s, ctx.step);
  }
  /// The format of `r`, or an error naming the layer when a fixed mode needs it.
  [[nodiscard]] dynamic_format need(role r) const {
    const auto& f = precision_[r];
    if (!f) {
      throw std::invalid_argument("fxp::nn: layer " + name_ + " (" + std::string(kind()) +
                                  ") needs a '" + std::string(to_string(r)) +
                                  "' format in a fixed-point mode");
    }
    return *f;
  }
  virtual void requantize_parameters(const layer_precision& old) { (void)old; }

  std::vector<parameter> params_;
  layer_precision precision_;
  saturation_counts saturations_;

 private:
  std::string name_;
  std::size_t index_ = 0;
};

FXP_END_ISA_NAMESPACE
}  // namespace fxp::nn
