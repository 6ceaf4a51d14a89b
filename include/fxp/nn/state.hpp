// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// fxp::nn::training_state: every parameter, optimizer buffer, counter and setting of a
/// training run as named tensors (float or qtensor), counters and strings, for checkpoints.

#include <cstdint>  // counters
#include <string>   // names
#include <utility>  // std::pair
#include <variant>  // float or fixed tensors
#include <vector>   // the entries

#include "../simd/detail/isa_namespace.hpp"
#include "../tensor/dynamic.hpp"

namespace fxp::nn {
FXP_BEGIN_ISA_NAMESPACE

/// A tensor of the training state: float, or raw values in a run-time format.
struct named_tensor {
  std::string name;
  std::variant<tensor<float>, qtensor> value;
};

/// The state of a training run. Names: parameters as "conv1.weights" (the fixed_master
/// master copy as "conv1.weights.master"); optimizer buffers as "<optimizer>.<parameter>.<buffer>"
/// (e.g. "sgd.conv1.weights.velocity", "adam.fc1.biases.m"); counters "trainer.step",
/// "model.seed", "adam.t"; strings "model.mode" and "model.precision" (the plan text).
struct training_state {
  std::vector<named_tensor> tensors;
  std::vector<std::pair<std::string, std::uint64_t>> counters;
  std::vector<std::pair<std::string, std::string>> strings;

  [[nodiscard]] const named_tensor* find_tensor(const std::string& name) const noexcept {
    for (const auto& t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  }
  [[nodiscard]] const std::uint64_t* find_counter(const std::string& name) const noexcept {
    for (const auto& c : counters)
      if (c.first == name) return &c.second;
    return nullptr;
  }
  [[nodiscard]] const std::string* find_string(const std::string& name) const noexcept {
    for (const auto& s : strings)
      if (s.first == name) return &s.second;
    return nullptr;
  }
};

FXP_END_ISA_NAMESPACE
}  // namespace fxp::nn
