// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// fxp::nn::trainer: one training step (forward, loss, backward, update) with the step
/// counter that keys every stochastic rounding, and the whole training state.

#include <concepts>  // std::integral labels
#include <cstddef>   // std::size_t
#include <cstdint>   // the step counter
#include <span>      // labels
#include <stdexcept> // std::invalid_argument
#include <vector>    // labels

#include "../simd/detail/isa_namespace.hpp"
#include "loss.hpp"
#include "model.hpp"
#include "optimizer.hpp"
#include "state.hpp"

namespace fxp::nn {
FXP_BEGIN_ISA_NAMESPACE

/// What one step measured.
struct step_result {
  double loss = 0.0;        ///< the batch's mean cross-entropy (before the update)
  std::size_t correct = 0;  ///< samples classified right (before the update)
  std::size_t count = 0;    ///< samples in the batch
};

/// Trains a model with an optimizer. The step counter is the training position: step t
/// keys every stochastic rounding of the step (random_key step t), so two runs from the same
/// state give the same bits whatever the thread count, and state()/load_state() resume one.
class trainer {
 public:
  trainer(sequential& model, optimizer& opt) : model_(&model), opt_(&opt) {}

  /// One step on a batch: forward in training mode, softmax cross-entropy against `labels`,
  /// backward, optimizer update.
  template <std::integral Label>
  step_result step(const tensor<float>& images, std::span<const Label> labels) {
    model_->train();
    const tensor<float> logits = model_->forward(images, step_).to_float();
    loss_result r = softmax_cross_entropy(logits, labels);
    model_->backward(r.grad, step_);
    opt_->step(*model_, step_);
    ++step_;
    return {r.loss, r.correct, labels.size()};
  }
  template <std::integral Label>
  step_result step(const tensor<float>& images, const std::vector<Label>& labels) {
    return step(images, std::span<const Label>(labels));
  }

  /// Steps taken so far (the next step's index).
  [[nodiscard]] std::uint64_t step_count() const noexcept { return step_; }

  /// The model's and the optimizer's state and the step counter ("trainer.step").
  [[nodiscard]] training_state state() const {
    training_state s;
    model_->append_state(s);
    opt_->append_state(s);
    s.counters.emplace_back("trainer.step", step_);
    return s;
  }
  /// Restores state(). Everything is checked before anything changes: on an error
  /// (std::invalid_argument naming the entry) model, optimizer and step are untouched.
  void load_state(const training_state& s) {
    const std::uint64_t* t = s.find_counter("trainer.step");
    if (!t) throw std::invalid_argument("fxp::nn::trainer::load_state: counter trainer.step missing");
    opt_->check_state(s);
    model_->load_state(s);
    opt_->load_state(s);
    step_ = *t;
  }

  [[nodiscard]] sequential& model() noexcept { return *model_; }
  [[nodiscard]] optimizer& optim() noexcept { return *opt_; }

 private:
  sequential* model_;
  optimizer* opt_;
  std::uint64_t step_ = 0;
};

/// The fraction of `images` (N, ...) that `model` classifies as `labels`, in eval mode.
template <std::integral Label>
[[nodiscard]] double accuracy(sequential& model, const tensor<float>& images, std::span<const Label> labels,
                              std::size_t batch = 256) {
  const std::vector<std::size_t> pred = model.predict(images, batch);
  std::size_t right = 0;
  for (std::size_t i = 0; i < pred.size(); ++i)
    if (pred[i] == static_cast<std::size_t>(labels[i])) ++right;
  return pred.empty() ? 0.0 : static_cast<double>(right) / static_cast<double>(pred.size());
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp::nn
