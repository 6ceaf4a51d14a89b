// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// fxp::nn::softmax_cross_entropy: the mean cross-entropy of softmax(logits) and its
/// gradient, in double from float logits (dequantized ones in the fixed-point modes).

#include <cmath>        // std::exp, std::log
#include <concepts>     // std::integral labels
#include <cstddef>      // std::size_t
#include <span>         // labels
#include <stdexcept>    // std::invalid_argument
#include <string>       // messages

#include "../simd/detail/isa_namespace.hpp"
#include "../tensor/container.hpp"

namespace fxp::nn {
FXP_BEGIN_ISA_NAMESPACE

/// The loss of a batch, how many samples the logits classify right, and dL/dlogits.
struct loss_result {
  double loss = 0.0;          ///< mean over the batch of -log softmax(logits)[label]
  std::size_t correct = 0;    ///< samples whose largest logit (the first, on ties) is the label
  tensor<float> grad;         ///< (softmax(logits) - onehot(label)) / N, shape (N, classes)
};

/// Softmax cross-entropy of logits (N, classes) against labels (N values in [0, classes)),
/// computed in double with the row maximum subtracted first.
/// \throws std::invalid_argument when the shapes disagree or a label is out of range
template <std::integral Label>
[[nodiscard]] loss_result softmax_cross_entropy(const tensor<float>& logits, std::span<const Label> labels) {
  if (logits.rank() != 2 || logits.shape()[0] != labels.size()) {
    throw std::invalid_argument("fxp::nn::softmax_cross_entropy: logits of shape " + to_string(logits.shape()) +
                                " for " + std::to_string(labels.size()) + " labels");
  }
  const std::size_t n = logits.shape()[0];
  const std::size_t c = logits.shape()[1];
  loss_result r;
  r.grad = tensor<float>(logits.shape());
  double total = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto label = static_cast<std::size_t>(labels[i]);
    if (labels[i] < 0 || label >= c) {
      throw std::invalid_argument("fxp::nn::softmax_cross_entropy: label " + std::to_string(labels[i]) +
                                  " of sample " + std::to_string(i) + " is not below " + std::to_string(c));
    }
    const float* row = logits.data() + i * c;
    std::size_t best = 0;
    for (std::size_t j = 1; j < c; ++j)
      if (row[j] > row[best]) best = j;
    if (best == label) ++r.correct;
    const double top = row[best];
    double sum = 0.0;
    for (std::size_t j = 0; j < c; ++j) sum += std::exp(static_cast<double>(row[j]) - top);
    const double log_sum = std::log(sum);
    total += log_sum - (static_cast<double>(row[label]) - top);
    float* g = r.grad.data() + i * c;
    for (std::size_t j = 0; j < c; ++j) {
      const double p = std::exp(static_cast<double>(row[j]) - top - log_sum);
      g[j] = static_cast<float>((p - (j == label ? 1.0 : 0.0)) / static_cast<double>(n));
    }
  }
  r.loss = n == 0 ? 0.0 : total / static_cast<double>(n);
  return r;
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp::nn
