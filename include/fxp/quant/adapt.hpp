// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// Formats that follow the data during fixed-point training: every so many steps, a role
/// of a layer whose values saturated more often than a threshold gets one more integer bit
/// (one fractional bit fewer), the dynamic fixed point of Courbariaux, Bengio & David,
/// "Training deep neural networks with low precision multiplications" (arXiv:1412.7024).
/// Weights, activations and errors of a network trained from scratch outgrow the ranges a
/// calibration of the initial network gives; without this a static format must reserve
/// that growth up front, bits that 8-bit formats do not have.
///
/// The decision depends only on the saturation counts and the formats, both part of the
/// training state, so a run stays bit-reproducible for any thread count and across a resume
/// (the new formats are in the checkpoint's precision plan).

#include <cstddef>  // std::size_t
#include <cstdint>  // counts
#include <string>   // plan fields
#include <vector>   // changes

#include "../nn/model.hpp"
#include "../nn/precision.hpp"
#include "../simd/detail/isa_namespace.hpp"

namespace fxp::quant {
FXP_BEGIN_ISA_NAMESPACE

/// One format made one bit wider in range.
struct format_change {
  std::string layer;
  nn::role role;
  dynamic_format from;
  dynamic_format to;
  double overflow_rate;  ///< saturations per value of the role over the observed steps
};

FXP_END_ISA_NAMESPACE
namespace detail {
FXP_BEGIN_ISA_NAMESPACE

/// How many values of role r layer i produces in one training step of `model`'s last pass.
[[nodiscard]] inline std::size_t values_per_step(const nn::sequential& model, std::size_t i, nn::role r) {
  std::size_t weights = 0, biases = 0;
  for (const nn::parameter& p : model[i].parameters()) {
    (p.kind == nn::role::weights ? weights : biases) += p.count();
  }
  switch (r) {
    case nn::role::activations: return model.last_output(i).shape().size();
    case nn::role::errors: {
      std::size_t n = i > 0 ? model.last_error(i - 1).shape().size() : 0;
      if (i + 1 == model.size()) n += model.last_output(i).shape().size();  // the loss's error
      return n;
    }
    case nn::role::weights:
    case nn::role::master: return weights;
    case nn::role::biases: return biases;
    default: return weights + biases;  // grads, updates, state, state2
  }
}

FXP_END_ISA_NAMESPACE
}  // namespace detail
FXP_BEGIN_ISA_NAMESPACE

/// Widens by one bit of range every fixed-point role of every layer whose saturations since
/// the model's counts were last reset exceed `max_rate` per value over `steps` training
/// steps, applies the new formats (fixed parameters are requantized), resets the counts,
/// and returns what changed. Call it every few hundred steps of a fixed-point run.
inline std::vector<format_change> widen_saturated_formats(nn::sequential& model, std::uint64_t steps,
                                                          double max_rate = 1e-4) {
  std::vector<format_change> changes;
  if (steps == 0 || !nn::is_fixed(model.mode())) return changes;
  nn::precision_plan plan;
  const auto counts = model.saturations();
  for (std::size_t i = 0; i < model.size(); ++i) {
    const nn::layer_precision& p = model[i].precision();
    std::string fields;
    for (std::size_t k = 0; k < nn::role_count; ++k) {
      const auto r = static_cast<nn::role>(k);
      const auto& f = p[r];
      const std::size_t values = detail::values_per_step(model, i, r);
      if (!f || values == 0 || f->frac <= -dynamic_format::max_frac) continue;
      const double rate = static_cast<double>(counts[i].second[r]) /
                          (static_cast<double>(values) * static_cast<double>(steps));
      if (rate <= max_rate) continue;
      dynamic_format wider = *f;
      --wider.frac;
      fields += std::string(nn::to_string(r)) + "=" + wider.to_string() + " ";
      changes.push_back({model[i].name(), r, *f, wider, rate});
    }
    if (!fields.empty()) plan.set(model[i].name(), fields);
  }
  if (!changes.empty()) model.apply(plan);
  model.reset_saturations();
  return changes;
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp::quant
