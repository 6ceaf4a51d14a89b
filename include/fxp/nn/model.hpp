// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// fxp::nn::sequential: layers in a row, forward and backward in any training mode,
/// parameters by name, per-layer precision from a plan, the state for checkpoints; and
/// fxp::nn::reference_cnn, the small CNN the examples, tests and benchmarks train.

#include <cstddef>      // std::size_t
#include <cstdint>      // seeds, steps
#include <memory>       // layers owned by unique_ptr
#include <stdexcept>    // std::invalid_argument
#include <string>       // names
#include <string_view>  // names
#include <utility>      // std::move, std::pair
#include <variant>      // state tensors
#include <vector>       // layers, activations

#include "../simd/detail/isa_namespace.hpp"
#include "detail/clipped_error.hpp"
#include "affine.hpp"
#include "flatten.hpp"
#include "layer.hpp"
#include "pooling.hpp"
#include "precision.hpp"
#include "relu.hpp"
#include "state.hpp"

namespace fxp::nn {
FXP_BEGIN_ISA_NAMESPACE

/// Layers applied in order. The model owns each layer's last output and the error at it
/// (dL/doutput), so backward needs no copies and diagnostics can read them.
class sequential {
 public:
  sequential() = default;

  /// Appends a layer constructed from `args` and returns it. Names must be unique and not
  /// "*" or "input".
  template <class L, class... Args>
  L& add(Args&&... args) {
    auto p = std::make_unique<L>(std::forward<Args>(args)...);
    L& ref = *p;
    add(std::move(p));
    return ref;
  }
  layer& add(std::unique_ptr<layer> l) {
    if (l->name() == "*" || l->name() == "input" || find(l->name()) != nullptr) {
      throw std::invalid_argument("fxp::nn::sequential: layer name '" + l->name() + "' is taken or reserved");
    }
    if (is_fixed(mode_)) l->convert_parameters(training_mode::floating, mode_);
    l->set_index(layers_.size());
    layers_.push_back(std::move(l));
    outputs_.emplace_back();
    errors_.emplace_back();
    return *layers_.back();
  }

  [[nodiscard]] std::size_t size() const noexcept { return layers_.size(); }
  [[nodiscard]] layer& operator[](std::size_t i) noexcept { return *layers_[i]; }
  [[nodiscard]] const layer& operator[](std::size_t i) const noexcept { return *layers_[i]; }
  /// The layer named `name`, or null.
  [[nodiscard]] layer* find(std::string_view name) noexcept {
    for (auto& l : layers_)
      if (l->name() == name) return l.get();
    return nullptr;
  }
  /// The layer named `name`; std::invalid_argument when there is none.
  [[nodiscard]] layer& at(std::string_view name) {
    layer* l = find(name);
    if (l == nullptr) throw std::invalid_argument("fxp::nn::sequential: no layer named '" + std::string(name) + "'");
    return *l;
  }

  /// Draws every layer's parameters from `seed` (see affine_layer::initialize) and makes
  /// `seed` the seed of the model's random keys. Resets to training_mode::floating first.
  void initialize(std::uint64_t seed, init_scheme scheme = init_scheme::pytorch_default) {
    set_mode(training_mode::floating);
    seed_ = seed;
    for (auto& l : layers_)
      if (auto* a = dynamic_cast<affine_layer*>(l.get())) a->initialize(seed, scheme);
  }
  [[nodiscard]] std::uint64_t seed() const noexcept { return seed_; }
  void set_seed(std::uint64_t s) noexcept { seed_ = s; }

  // ---- modes and precision ----

  [[nodiscard]] training_mode mode() const noexcept { return mode_; }
  /// Switches the training mode, converting the parameters: float -> fixed quantizes them
  /// (round to nearest) into each layer's weights / biases formats (and master formats for
  /// fixed_master), fixed -> float dequantizes them exactly. The formats must be set first;
  /// a missing one throws std::invalid_argument before any layer changes.
  void set_mode(training_mode m) {
    if (m == mode_) return;
    if (is_fixed(m) && !input_precision_[role::activations]) {
      throw std::invalid_argument("fxp::nn::sequential: a fixed-point mode needs the input's format "
                                  "(plan line 'input acts=u8.7' or set_input_format)");
    }
    for (const auto& l : layers_) l->check_conversion(m);  // all or nothing
    for (auto& l : layers_) l->convert_parameters(mode_, m);
    mode_ = m;
  }

  /// The precision of the input (its `acts` format and rounding quantize float input in the
  /// fixed modes; in QAT the input is fake-quantized by it when set).
  [[nodiscard]] const layer_precision& input_precision() const noexcept { return input_precision_; }
  void set_input_precision(const layer_precision& p) noexcept { input_precision_ = p; }

  /// Sets each layer's precision to what `plan` gives it on top of its current precision
  /// (layers the plan does not name keep theirs, apart from "*" lines), requantizing fixed
  /// parameters. Unknown layer names are an error (nothing changes then).
  void apply(const precision_plan& plan) {
    for (const auto& line : plan.lines()) {
      if (line.layer != "*" && line.layer != "input" && find(line.layer) == nullptr) {
        throw std::invalid_argument("fxp::nn::sequential::apply: line " + std::to_string(line.line_number) +
                                    ": no layer named '" + line.layer + "'");
      }
    }
    input_precision_ = plan.precision_of("input", input_precision_);
    for (auto& l : layers_) l->set_precision(plan.precision_of(l->name(), l->precision()), mode_);
  }
  /// The current precision of every layer as a plan (one line per layer, "input" first).
  [[nodiscard]] precision_plan plan() const {
    precision_plan p;
    p.set("input", input_precision_.to_string());
    for (const auto& l : layers_) p.set(l->name(), l->precision().to_string());
    return p;
  }

  // ---- train / eval ----

  void train(bool on = true) noexcept { training_ = on; }
  void eval() noexcept { training_ = false; }
  [[nodiscard]] bool is_training() const noexcept { return training_; }

  /// The context of a pass at `step`.
  [[nodiscard]] context make_context(std::uint64_t step) const noexcept {
    return context{mode_, training_, seed_, step};
  }

  /// Runs the layers on `x` (N, C, H, W) or (N, features); returns the last output. The
  /// input is quantized into the input format in the fixed modes (and fake-quantized in QAT
  /// when one is set). Step `step` keys the stochastic roundings.
  const value& forward(const tensor<float>& x, std::uint64_t step = 0) {
    if (layers_.empty()) throw std::invalid_argument("fxp::nn::sequential::forward: no layers");
    const context ctx = make_context(step);
    const rounding_mode rnd = input_precision_.rounding;
    if (is_fixed(mode_)) {
      input_ = value(quantize(x, *input_precision_[role::activations], rnd, model_key(seed_, slot::activations, step)));
      input_saturations_ += input_.q.saturations();
    } else if (mode_ == training_mode::qat && input_precision_[role::activations]) {
      input_ = value(detail::fake(x, input_precision_[role::activations], rnd,
                                  model_key(seed_, slot::activations, step), input_saturations_));
    } else {
      input_ = value(x);
    }
    const value* in = &input_;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      outputs_[i] = layers_[i]->forward(*in, ctx);
      if (layers_[i]->watch) layers_[i]->watch(*layers_[i], hook_point::forward, *in, outputs_[i]);
      in = &outputs_[i];
    }
    return outputs_.back();
  }

  /// Back-propagates dL/d(last output) `grad` through the layers of the last forward pass:
  /// sets the gradients of the trainable layers and each layer's last_error. In the fixed
  /// modes `grad` is quantized into the last layer's `errors` format (its rounding; key
  /// slot errors of the model); in QAT it is fake-quantized by that format when set.
  void backward(const tensor<float>& grad, std::uint64_t step = 0) {
    const context ctx = make_context(step);
    layer& last = *layers_.back();
    const rounding_mode rnd = last.precision().rounding;
    const auto& ef = last.precision()[role::errors];
    value dy;
    if (is_fixed(mode_)) {
      if (!ef) {
        throw std::invalid_argument("fxp::nn::sequential::backward: the last layer (" + last.name() +
                                    ") needs an 'errors' format in a fixed-point mode");
      }
      dy = value(quantize(grad, *ef, rnd, model_key(seed_, slot::errors, step)));
      last.saturations()[role::errors] += dy.q.saturations();
    } else if (mode_ == training_mode::qat) {
      dy = value(detail::fake(grad, ef, rnd, model_key(seed_, slot::errors, step), last.saturations()[role::errors]));
    } else {
      dy = value(grad);
    }
    // The first layer that needs its input's error is the lowest trainable one.
    std::size_t lowest = layers_.size();
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      if (layers_[i]->trainable && layers_[i]->parameter_count() != 0) {
        lowest = i;
        break;
      }
    }
    for (std::size_t i = layers_.size(); i-- > 0;) {
      const value& x = i == 0 ? input_ : outputs_[i - 1];
      const bool need = i > lowest || (keep_all_errors_ && i > 0);
      // A saturated output passed no change on: its error is zero (clipped_error.hpp).
      if (mode_ != training_mode::floating) {
        (void)detail::clip_error(dy, outputs_[i], layers_[i]->precision()[role::activations]);
      }
      value dx = layers_[i]->backward(x, outputs_[i], dy, ctx, need);
      if (layers_[i]->watch) layers_[i]->watch(*layers_[i], hook_point::backward, dy, dx);
      errors_[i] = std::move(dy);
      if (!need) {
        for (std::size_t j = 0; j < i; ++j) errors_[j] = value();
        break;
      }
      dy = std::move(dx);
    }
  }

  /// Back-propagate errors down to the first layer even when no layer below needs them
  /// (for the gradient-mismatch diagnostic: every layer's last_error is then set).
  void keep_all_errors(bool on) noexcept { keep_all_errors_ = on; }

  /// Layer i's output of the last forward pass.
  [[nodiscard]] const value& last_output(std::size_t i) const noexcept { return outputs_[i]; }
  /// dL/d(layer i's output) of the last backward pass (empty when it did not get there).
  [[nodiscard]] const value& last_error(std::size_t i) const noexcept { return errors_[i]; }
  /// The (quantized) input of the last forward pass.
  [[nodiscard]] const value& last_input() const noexcept { return input_; }

  /// The class with the largest output for each sample of `x`, in eval mode, in batches of
  /// `batch` samples.
  [[nodiscard]] std::vector<std::size_t> predict(const tensor<float>& x, std::size_t batch = 256) {
    const bool was = training_;
    training_ = false;
    std::vector<std::size_t> out;
    out.reserve(x.shape()[0]);
    for (std::size_t first = 0; first < x.shape()[0]; first += batch) {
      const std::size_t last = std::min(first + batch, x.shape()[0]);
      const tensor<float> logits = forward(tensor<float>(x.slice(first, last))).to_float();
      const std::size_t c = logits.shape()[1];
      for (std::size_t i = 0; i < last - first; ++i) {
        std::size_t best = 0;
        for (std::size_t j = 1; j < c; ++j)
          if (logits(i, j) > logits(i, best)) best = j;
        out.push_back(best);
      }
    }
    training_ = was;
    return out;
  }

  // ---- parameters and saturations ----

  /// Every parameter of every layer, in layer order.
  [[nodiscard]] std::vector<parameter*> parameters() {
    std::vector<parameter*> out;
    for (auto& l : layers_)
      for (auto& p : l->parameters()) out.push_back(&p);
    return out;
  }
  /// (layer name, number of trainable scalars) per layer.
  [[nodiscard]] std::vector<std::pair<std::string, std::size_t>> parameter_counts() const {
    std::vector<std::pair<std::string, std::size_t>> out;
    for (const auto& l : layers_) out.emplace_back(l->name(), l->parameter_count());
    return out;
  }
  /// (layer name, saturation counts per role) of every layer, since the last reset.
  [[nodiscard]] std::vector<std::pair<std::string, saturation_counts>> saturations() const {
    std::vector<std::pair<std::string, saturation_counts>> out;
    for (const auto& l : layers_) out.emplace_back(l->name(), l->saturations());
    return out;
  }
  /// Saturations when quantizing the input.
  [[nodiscard]] std::uint64_t input_saturations() const noexcept { return input_saturations_; }
  void reset_saturations() noexcept {
    input_saturations_ = 0;
    for (auto& l : layers_) l->reset_saturations();
  }

  // ---- state ----

  /// Appends the parameters (float values, or the fixed forward values and masters), the
  /// mode, the precision plan and the seed to `s`.
  void append_state(training_state& s) const {
    for (const auto& l : layers_) {
      for (const auto& p : l->parameters()) {
        if (is_fixed(mode_)) {
          s.tensors.push_back({p.name, p.qvalue});
          if (p.qmaster.size() != 0) s.tensors.push_back({p.name + ".master", p.qmaster});
        } else {
          s.tensors.push_back({p.name, p.value});
        }
      }
    }
    s.counters.emplace_back("model.seed", seed_);
    s.strings.emplace_back("model.mode", std::string(to_string(mode_)));
    s.strings.emplace_back("model.precision", plan().to_string());
  }

  /// Restores what append_state wrote: mode, precision, seed and every parameter. Every
  /// entry is checked (present, float or fixed as the mode says, same shape) before
  /// anything changes; std::invalid_argument names the first bad entry.
  void load_state(const training_state& s) {
    const std::string* mode_text = s.find_string("model.mode");
    const std::string* plan_text = s.find_string("model.precision");
    const std::uint64_t* seed = s.find_counter("model.seed");
    if (!mode_text || !plan_text || !seed) {
      throw std::invalid_argument("fxp::nn::sequential::load_state: model.mode, model.precision or model.seed missing");
    }
    const training_mode m = parse_training_mode(*mode_text);
    const precision_plan p = precision_plan::parse(*plan_text, "model.precision");
    for (const auto& line : p.lines()) {
      if (line.layer != "input" && find(line.layer) == nullptr) {
        throw std::invalid_argument("fxp::nn::sequential::load_state: no layer named '" + line.layer + "'");
      }
    }
    struct pending {
      parameter* target;
      const named_tensor* value;
      const named_tensor* master;
    };
    std::vector<pending> todo;
    for (auto& l : layers_) {
      for (auto& prm : l->parameters()) {
        const named_tensor* v = s.find_tensor(prm.name);
        const named_tensor* ms = s.find_tensor(prm.name + ".master");
        const fxp::shape want = prm.value.size() ? prm.value.shape() : prm.qvalue.shape();
        auto bad = [&](const std::string& what) {
          return std::invalid_argument("fxp::nn::sequential::load_state: " + prm.name + ": " + what);
        };
        if (!v) throw bad("missing");
        if (std::holds_alternative<qtensor>(v->value) != is_fixed(m)) throw bad("float/fixed does not match mode " + *mode_text);
        const fxp::shape got = is_fixed(m) ? std::get<qtensor>(v->value).shape() : std::get<tensor<float>>(v->value).shape();
        if (!(got == want)) throw bad("shape " + to_string(got) + ", expected " + to_string(want));
        if (m == training_mode::fixed_master && prm.kind == role::weights &&
            (!ms || !std::holds_alternative<qtensor>(ms->value) || !(std::get<qtensor>(ms->value).shape() == want))) {
          throw bad("the master copy is missing or has the wrong shape");
        }
        todo.push_back({&prm, v, ms});
      }
    }
    // Checked: commit.
    mode_ = m;
    seed_ = *seed;
    input_precision_ = p.precision_of("input", layer_precision{});
    for (auto& l : layers_) l->set_precision(p.precision_of(l->name(), layer_precision{}), training_mode::floating);
    for (const pending& t : todo) {
      if (is_fixed(m)) {
        t.target->value = tensor<float>();
        t.target->qvalue = std::get<qtensor>(t.value->value);
        t.target->qmaster = (m == training_mode::fixed_master && t.target->kind == role::weights)
                                ? std::get<qtensor>(t.master->value) : qtensor();
      } else {
        t.target->value = std::get<tensor<float>>(t.value->value);
        t.target->qvalue = qtensor();
        t.target->qmaster = qtensor();
      }
    }
  }

 private:
  std::vector<std::unique_ptr<layer>> layers_;
  std::vector<value> outputs_;
  std::vector<value> errors_;
  value input_;
  layer_precision input_precision_;
  training_mode mode_ = training_mode::floating;
  bool training_ = true;
  bool keep_all_errors_ = false;
  std::uint64_t seed_ = 0;
  std::uint64_t input_saturations_ = 0;
};

/// The reference CNN for 1 x 28 x 28 inputs, initialised from `seed`:
/// conv1 (5x5, 1 -> 16, pad 2), relu1, pool1 (max 2); conv2 (5x5, 16 -> 32), relu2, pool2
/// (max 2); flatten; fc1 (800 -> 128), relu3; fc2 (128 -> 10).
[[nodiscard]] inline sequential reference_cnn(std::uint64_t seed,
                                              init_scheme scheme = init_scheme::pytorch_default) {
  sequential net;
  sequential* m = &net;
  m->add<conv2d>("conv1", 1, 16, 5, conv2d_params::square(1, 2));
  m->add<relu>("relu1");
  m->add<max_pool2d>("pool1", 2);
  m->add<conv2d>("conv2", 16, 32, 5);
  m->add<relu>("relu2");
  m->add<max_pool2d>("pool2", 2);
  m->add<flatten>("flatten");
  m->add<dense>("fc1", 800, 128);
  m->add<relu>("relu3");
  m->add<dense>("fc2", 128, 10);
  m->initialize(seed, scheme);
  return net;
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp::nn
