// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// From a calibrated model to per-layer fixed-point formats: the allocation problem of
/// Lin, Talathi & Annapureddy, "Fixed Point Quantization of Deep Convolutional Networks"
/// (arXiv:1511.06393, secs. 3-4), built from a model's statistics, solved by allocate /
/// allocate_within, and turned into an nn::precision_plan that sets the run-time formats of
/// a trained model (model.apply(plan)) without recompiling.
///
/// What is estimated, and how:
///  - one term per layer with weights: cost = its weight count (the model-size objective
///    counts weight bits only), distribution = the density that fits the calibrated
///    weights best (statistics::best_fit, by log-likelihood), sigma = their standard
///    deviation; kappa and offset = the least-squares line through the design table's
///    sqnr_db(distribution, b) over the allowed range [min_bits, max_bits] (make_term);
///  - optionally one activation term per weighted layer (its output): cost 0 (storage not
///    counted), fixed at the plan's activation width, with the density and sigma of the
///    calibrated activations; its SQNR is that of the optimal quantizer at that width, an
///    estimate (optimistic for the max-range formats the plan actually gives activations);
///  - the output SQNR is predicted by the paper's noise model: every term's noise reaches
///    the output with the SQNR it has at its tensor, 1/g_out = sum_i 1/g_i. This assumes
///    each layer passes relative noise through unchanged; the pipeline example measures how
///    far that holds per layer.
///
/// Formats (the rule, the same for allocated and equal plans):
///  - weights: the optimal-step format of the chosen bits, frac = -ceil(log2(sigma *
///    optimal_step(dist, bits))) (optimal_format);
///  - biases: max-range formats of bias_bits (0: float), with the weights' headroom 0;
///  - activations: max-range formats of activation_bits (0: float) with
///    activation_headroom bits above the calibrated max, unsigned where the calibration
///    saw no negative value (as range_plan does);
///  - input: unsigned max-range format of input_bits (0: float).

#include <algorithm>  // std::clamp
#include <array>      // the solver's fixed-size problems
#include <concepts>   // label types
#include <cstddef>    // std::size_t
#include <span>       // labels, logits
#include <stdexcept>  // std::invalid_argument
#include <string>     // layer names, plan fields
#include <vector>     // per-layer terms and results

#include "../nn/model.hpp"
#include "../nn/precision.hpp"
#include "../nn/state.hpp"
#include "../simd/detail/isa_namespace.hpp"
#include "allocate.hpp"
#include "calibration.hpp"
#include "format.hpp"
#include "model.hpp"

namespace fxp::quant {
FXP_BEGIN_ISA_NAMESPACE

/// How a plan is built from statistics: the weights' allowed bit range, and the widths and
/// rounding of the roles that are not allocated.
struct plan_rule {
  int min_bits = 2;             ///< fewest weight bits a layer may get (>= 2: signed formats)
  int max_bits = 8;             ///< most weight bits a layer may get (<= 16)
  int bias_bits = 16;           ///< max-range bias formats of this width; 0: float biases
  int activation_bits = 16;     ///< max-range activation formats; 0: float activations
  int activation_headroom = 1;  ///< bits above the calibrated max |activation|
  int input_bits = 12;          ///< unsigned max-range input format; 0: float input
  bool activation_terms = false;  ///< add cost-0 activation terms at activation_bits
  rounding_mode rounding = rounding_mode::nearest;  ///< rounding of every narrowing
};

/// One term of a model's allocation problem, with the layer and role it stands for.
struct layer_term {
  std::string layer;                  ///< the layer's name
  nn::role kind = nn::role::weights;  ///< weights or activations
  std::size_t count = 0;              ///< how many values the tensor has (weights: per model)
  quant::term term{};                 ///< the solver's term
};

/// The terms of `stats` (from calibrate) under `rule`: one weight term per layer with
/// weights, in layer order, then (rule.activation_terms) one activation term per such layer.
/// \throws std::invalid_argument for a bad bit range or a layer whose weights are constant
[[nodiscard]] inline std::vector<layer_term> make_layer_terms(const model_statistics& stats,
                                                              const plan_rule& rule = {}) {
  if (rule.min_bits < 2 || rule.max_bits > max_design_bits || rule.min_bits > rule.max_bits) {
    throw std::invalid_argument("fxp::quant::make_layer_terms: need 2 <= min_bits <= max_bits <= 16, got " +
                                std::to_string(rule.min_bits) + ".." + std::to_string(rule.max_bits));
  }
  std::vector<layer_term> out;
  for (const layer_statistics& s : stats.layers) {
    if (s.weights.count == 0) continue;
    if (!(s.weights.stddev > 0)) {
      throw std::invalid_argument("fxp::quant::make_layer_terms: the weights of " + s.layer +
                                  " are constant (standard deviation 0)");
    }
    out.push_back({s.layer, nn::role::weights, s.weights.count,
                   make_term(static_cast<double>(s.weights.count), s.weights.best_fit,
                             s.weights.stddev, rule.min_bits, rule.max_bits)});
  }
  if (rule.activation_terms && rule.activation_bits > 0) {
    const int b = std::min(rule.activation_bits, max_design_bits);
    const std::size_t weighted = out.size();
    for (std::size_t i = 0; i < weighted; ++i) {
      for (const layer_statistics& s : stats.layers) {
        if (s.layer != out[i].layer || !(s.activations.stddev > 0)) continue;
        out.push_back({s.layer, nn::role::activations, s.activations.count,
                       make_term(0.0, s.activations.best_fit, s.activations.stddev, b, b)});
      }
    }
  }
  return out;
}

/// The bit-width of one term in a run-time allocation.
struct layer_bits {
  std::string layer;                  ///< the layer's name
  nn::role kind = nn::role::weights;  ///< weights or activations
  term_plan plan{};                   ///< bits, int/frac bits, continuous bits, SQNR
};

/// An allocation of a run-time number of terms (a model's layers).
struct layer_allocation {
  std::vector<layer_bits> layers;  ///< one per term, in the terms' order
  double total_cost = 0.0;         ///< sum cost_i * bits_i: weight bits of the model
  double predicted_sqnr_db = 0.0;  ///< the noise model's output SQNR

  /// The weight bits of layer `name` (0 when it has no weight term).
  [[nodiscard]] int weight_bits(std::string_view name) const noexcept {
    for (const layer_bits& l : layers)
      if (l.layer == name && l.kind == nn::role::weights) return l.plan.bits;
    return 0;
  }
};

/// The most terms the run-time entry points take (the solver's problems have a size fixed at
/// compile time; a model's terms are padded to 8 or to this many).
inline constexpr std::size_t max_layer_terms = 16;

FXP_END_ISA_NAMESPACE
namespace detail {
FXP_BEGIN_ISA_NAMESPACE

/// A padding term: cost 0, fixed at 16 bits, with a noise (10^-100) far below any real
/// term's, so it changes neither the optimum nor the predicted SQNR. Problems are padded
/// to 8 or 16 terms: two instantiations of the solver instead of sixteen (GCC 12 at -O3
/// also warns -Warray-bounds, wrongly, inside the solver's instantiations for 1 or 2 terms).
inline constexpr term padding_term{0.0, 1.0, 1000.0, max_design_bits, max_design_bits, 1.0,
                                   distribution::uniform};

template <std::size_t N, class Solve>
[[nodiscard]] layer_allocation solve_sized(const std::vector<layer_term>& terms, Solve& solve) {
  std::array<term, N> a{};
  a.fill(padding_term);
  for (std::size_t i = 0; i < terms.size(); ++i) a[i] = terms[i].term;
  const allocation<N> r = solve(a);
  layer_allocation out;
  for (std::size_t i = 0; i < terms.size(); ++i) out.layers.push_back({terms[i].layer, terms[i].kind, r[i]});
  out.total_cost = r.total_cost;
  out.predicted_sqnr_db = r.predicted_sqnr_db;
  return out;
}

template <class Solve>
[[nodiscard]] layer_allocation solve_any(const std::vector<layer_term>& terms, Solve& solve) {
  if (terms.empty() || terms.size() > max_layer_terms) {
    throw std::invalid_argument("fxp::quant: an allocation needs 1 to 16 terms, got " +
                                std::to_string(terms.size()));
  }
  return terms.size() <= 8 ? solve_sized<8>(terms, solve) : solve_sized<max_layer_terms>(terms, solve);
}

FXP_END_ISA_NAMESPACE
}  // namespace detail
FXP_BEGIN_ISA_NAMESPACE

/// allocate() on a model's terms: the smallest weight size whose predicted output SQNR
/// reaches `target_sqnr_db`. \throws std::domain_error when unreachable within max_bits
[[nodiscard]] inline layer_allocation allocate_layers(const std::vector<layer_term>& terms,
                                                      double target_sqnr_db) {
  auto solve = [&](const auto& a) { return allocate(a, target_sqnr_db); };
  return detail::solve_any(terms, solve);
}

/// allocate_within() on a model's terms: the best predicted SQNR within `size_budget` weight
/// bits. \throws std::domain_error when the budget is below every term at min_bits
[[nodiscard]] inline layer_allocation allocate_layers_within(const std::vector<layer_term>& terms,
                                                             double size_budget) {
  auto solve = [&](const auto& a) { return allocate_within(a, size_budget); };
  return detail::solve_any(terms, solve);
}

/// Every weight term at `bits` (activation terms at their fixed width), with the same
/// formats and predicted SQNR the solver would report for it: the equal-bit-width baseline.
/// \throws std::invalid_argument when `bits` is outside some weight term's range
[[nodiscard]] inline layer_allocation equal_allocation(const std::vector<layer_term>& terms, int bits) {
  layer_allocation out;
  double noise = 0.0;
  for (const layer_term& t : terms) {
    const int b = t.kind == nn::role::weights ? bits : t.term.min_bits;
    if (b < t.term.min_bits || b > t.term.max_bits) {
      throw std::invalid_argument("fxp::quant::equal_allocation: " + std::to_string(bits) +
                                  " bits is outside the range of " + t.layer);
    }
    const q_format f = optimal_format(b, t.term.sigma, t.term.dist);
    const double sqnr = term_sqnr_db(t.term, b);
    out.layers.push_back({t.layer, t.kind, {b, f.int_bits, f.frac_bits, static_cast<double>(b), sqnr}});
    out.total_cost += t.term.cost * b;
    noise += db_to_ratio(-sqnr);
  }
  out.predicted_sqnr_db = ratio_to_db(1.0 / noise);
  return out;
}

/// The weight format of an allocated term: bits and the optimal-step fractional bits.
[[nodiscard]] inline dynamic_format weight_format(const term_plan& p) {
  return {p.bits, std::clamp(p.frac_bits, -dynamic_format::max_frac, dynamic_format::max_frac), true};
}

/// The precision plan of `alloc` for the model `stats` describes: per layer the allocated
/// weight format, and biases, activations and input by `rule` (see the file comment). Layers
/// without weights get activation formats only. model.apply(plan) sets them at run time.
[[nodiscard]] inline nn::precision_plan make_precision_plan(const model_statistics& stats,
                                                            const layer_allocation& alloc,
                                                            const plan_rule& rule = {}) {
  nn::precision_plan plan;
  const std::string rounding = "rounding=" + std::string(fxp::to_string(rule.rounding));
  if (rule.input_bits > 0) {
    plan.set("input", "acts=" + detail::range_format(rule.input_bits, stats.input, 0, true).to_string() +
                          " " + rounding);
  }
  for (const layer_statistics& s : stats.layers) {
    std::string fields;
    if (rule.activation_bits > 0 && s.activations.count > 0) {
      fields += "acts=" +
                detail::range_format(rule.activation_bits, s.activations, rule.activation_headroom, true)
                    .to_string() + " ";
    }
    if (s.weights.count > 0) {
      bool found = false;
      for (const layer_bits& l : alloc.layers) {
        if (l.layer != s.layer || l.kind != nn::role::weights) continue;
        fields += "weights=" + weight_format(l.plan).to_string() + " ";
        found = true;
      }
      if (!found) {
        throw std::invalid_argument("fxp::quant::make_precision_plan: the allocation has no weight term for " +
                                    s.layer);
      }
      if (rule.bias_bits > 0 && s.biases.count > 0) {
        fields += "biases=" + detail::range_format(rule.bias_bits, s.biases, 0).to_string() + " ";
      }
    }
    plan.set(s.layer, fields + rounding);
  }
  return plan;
}

/// The equal-bit-width plan: every layer's weights at `bits` with the same format rule.
[[nodiscard]] inline nn::precision_plan equal_plan(const model_statistics& stats, int bits,
                                                   const plan_rule& rule = {}) {
  return make_precision_plan(stats, equal_allocation(make_layer_terms(stats, rule), bits), rule);
}

// ---- evaluating plans on a trained model ----

/// The logits of `model` (in its current mode, eval mode) on the first `count` of `images`
/// (all when count is 0), flattened sample by sample, and the accuracy against `labels` over
/// all of `images`.
struct scored_logits {
  std::vector<float> logits;  ///< the first `count` samples' outputs
  double accuracy = 0.0;      ///< over every image
};

/// Runs `model` over `images` in batches of `batch` (eval mode) and scores it.
template <std::integral Label>
[[nodiscard]] scored_logits score_model(nn::sequential& model, const tensor<float>& images,
                                        std::span<const Label> labels, std::size_t count = 0,
                                        std::size_t batch = 256) {
  const std::size_t n = images.shape()[0];
  if (labels.size() != n) throw std::invalid_argument("fxp::quant::score_model: labels and images differ in count");
  if (count == 0 || count > n) count = n;
  const bool was = model.is_training();
  model.eval();
  scored_logits out;
  std::size_t right = 0;
  for (std::size_t first = 0; first < n; first += batch) {
    const std::size_t last = std::min(first + batch, n);
    const tensor<float> y = model.forward(tensor<float>(images.slice(first, last))).to_float();
    const std::size_t classes = y.shape()[1];
    for (std::size_t i = 0; i < last - first; ++i) {
      std::size_t best = 0;
      for (std::size_t j = 0; j < classes; ++j) {
        if (y(i, j) > y(i, best)) best = j;
        if (first + i < count) out.logits.push_back(y(i, j));
      }
      if (best == static_cast<std::size_t>(labels[first + i])) ++right;
    }
  }
  model.train(was);
  out.accuracy = n ? static_cast<double>(right) / static_cast<double>(n) : 0.0;
  return out;
}

/// The sensitivity of the output to one layer's weight quantization: the layer alone at
/// `bits` (optimal-step format, everything else float), the output SQNR measured against
/// the float logits, beside the tensor's own measured SQNR and the noise model's prediction
/// (which says the two are equal).
struct layer_sensitivity {
  std::string layer;
  int bits = 0;
  double predicted_db = 0.0;      ///< the term's line at `bits`
  double weight_db = 0.0;         ///< measured SQNR of the quantized weights themselves
  double output_db = 0.0;         ///< measured output SQNR with only this layer quantized
};

/// layer_sensitivity for every weight term and every bits in [min_bits, max_bits]: the model
/// is reloaded from `float_state` for each (and left so, in float). `reference` are the
/// float logits of the first `count` images (score_model).
template <std::integral Label>
[[nodiscard]] std::vector<layer_sensitivity> measure_sensitivity(
    nn::sequential& model, const nn::training_state& float_state, const std::vector<layer_term>& terms,
    const tensor<float>& images, std::span<const Label> labels, const std::vector<float>& reference,
    std::size_t count, int min_bits, int max_bits) {
  std::vector<layer_sensitivity> out;
  const std::size_t n = std::min(count, images.shape()[0]);
  const tensor<float> subset(images.slice(0, n));
  for (const layer_term& t : terms) {
    if (t.kind != nn::role::weights) continue;
    for (int b = std::max(min_bits, t.term.min_bits); b <= std::min(max_bits, t.term.max_bits); ++b) {
      model.load_state(float_state);
      const q_format f = optimal_format(b, t.term.sigma, t.term.dist);
      std::vector<double> w;
      for (const nn::parameter& p : model.at(t.layer).parameters())
        if (p.kind == nn::role::weights) w.insert(w.end(), p.value.begin(), p.value.end());
      nn::precision_plan plan;
      plan.set(t.layer, "weights=" + dynamic_format{b, f.frac_bits, true}.to_string());
      model.apply(plan);
      model.set_mode(nn::training_mode::qat);
      const scored_logits s = score_model(model, subset, labels.first(n), n);
      out.push_back({t.layer, b, term_sqnr_db(t.term, b), measured_sqnr_db(w, f),
                     measured_sqnr_db(std::span<const float>(reference).first(s.logits.size()), s.logits)});
    }
  }
  model.load_state(float_state);
  return out;
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp::quant
