// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// Statistics of a tensor or a calibration set for the quantizer design of Lin, Talathi &
/// Annapureddy, "Fixed Point Quantization of Deep Convolutional Networks" (arXiv:1511.06393):
/// the standard deviation that scales the optimal step, max |x| for the max-range format,
/// and which of the three model densities fits the values best.
///
/// Best fit: each density is fitted by maximum likelihood with its location at the mean
/// (Gaussian: sigma; Laplacian: scale b = mean |x - mean|; uniform: half-width = the largest
/// |x - mean|), and the one with the highest mean log-likelihood per value wins:
///   Gaussian  -1/2 ln(2 pi e sigma^2),  Laplacian  -ln(2 e b),  uniform  -ln(2 h).
/// The three families have the same number of free parameters, so comparing likelihoods is
/// comparing AIC/BIC. For unit variance the expected values separate by 0.05 to 0.18 nats per
/// sample (e.g. Gaussian data: -1.419 Gaussian vs -1.467 Laplacian vs about -2 uniform), so a
/// few thousand values classify reliably.

#include <array>             // the three log-likelihoods
#include <cmath>             // std::sqrt, std::log: run-time statistics
#include <cstddef>           // std::size_t counts
#include <initializer_list>  // add({...})
#include <limits>            // infinities for empty data
#include <ranges>            // iterating batches
#include <stdexcept>         // std::domain_error for NaN input

#include "concepts.hpp"
#include "distribution.hpp"

namespace fxp::quant {

/// Summary statistics of a set of values (population moments: divided by the count).
struct statistics {
  /// How many values were seen.
  std::size_t count = 0;
  /// The mean.
  double mean = 0.0;
  /// The standard deviation about the mean (the maximum-likelihood, divide-by-n one).
  double stddev = 0.0;
  /// The smallest value.
  double min = 0.0;
  /// The largest value.
  double max = 0.0;
  /// max |x|.
  double max_abs = 0.0;
  /// mean |x - location|, the Laplacian scale; the location is the mean of the first batch
  /// (exactly the mean when the values came in one batch).
  double mean_abs_deviation = 0.0;
  /// Mean log-likelihood per value of each fitted density, indexed by the distribution enum.
  std::array<double, 3> log_likelihood{};
  /// The density with the highest log-likelihood (gaussian when fewer than two distinct
  /// values leave the fit undefined).
  distribution best_fit = distribution::gaussian;

  /// The mean log-likelihood per value of the fitted density `d`.
  [[nodiscard]] double log_likelihood_of(distribution d) const noexcept {
    return log_likelihood[static_cast<std::size_t>(d)];
  }
};

/// Collects statistics over many batches, e.g. one layer's activations over a calibration
/// set, or its weights and biases, so that a network can feed each tensor batch by batch.
/// Mean and variance are merged exactly across batches (Chan, Golub & LeVeque's pairwise
/// update); min, max and max |x| trivially. The mean absolute deviation needs the location
/// before the values, so it is taken about the first batch's mean: for symmetric data the
/// resulting scale differs from the one about the final mean only in second order of the
/// difference of the two means (the derivative of E|x - c| vanishes at the median).
class statistics_accumulator {
 public:
  /// Adds one batch of values. Throws std::domain_error on NaN or infinite values (their
  /// statistics are meaningless and would poison every later batch).
  template <real_forward_range R>
  void add(const R& batch) {
    add_batch(batch);
  }

  /// Adds a batch given as a braced list.
  void add(std::initializer_list<double> batch) { add_batch(batch); }

  /// How many values were added.
  [[nodiscard]] std::size_t count() const noexcept { return count_; }

  /// The statistics of everything added so far (all zero, best_fit gaussian, when empty).
  [[nodiscard]] statistics result() const;

 private:
  template <class R>
  void add_batch(const R& batch) {
    std::size_t n = 0;
    double sum = 0.0;
    for (auto&& v : batch) {
      sum += checked(static_cast<double>(v));
      ++n;
    }
    if (n == 0) return;
    const double batch_mean = sum / static_cast<double>(n);
    if (count_ == 0) location_ = batch_mean;
    double m2 = 0.0;
    for (auto&& v : batch) {
      const auto x = static_cast<double>(v);
      const double d = x - batch_mean;
      m2 += d * d;
      abs_deviation_sum_ += std::fabs(x - location_);
      min_ = x < min_ ? x : min_;
      max_ = x > max_ ? x : max_;
    }
    // Chan et al.'s merge of (count, mean, M2) with the batch's.
    const double total = static_cast<double>(count_ + n);
    const double delta = batch_mean - mean_;
    mean_ += delta * static_cast<double>(n) / total;
    m2_ += m2 + delta * delta * static_cast<double>(count_) * static_cast<double>(n) / total;
    count_ += n;
  }

  static double checked(double x) {
    if (!std::isfinite(x)) {
      throw std::domain_error("fxp::quant::statistics_accumulator: a value is NaN or infinite");
    }
    return x;
  }

  std::size_t count_ = 0;
  double mean_ = 0.0;
  double m2_ = 0.0;
  double location_ = 0.0;
  double abs_deviation_sum_ = 0.0;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
};

inline statistics statistics_accumulator::result() const {
  statistics s;
  s.count = count_;
  if (count_ == 0) return s;
  const auto n = static_cast<double>(count_);
  s.mean = mean_;
  s.stddev = std::sqrt(m2_ / n);
  s.min = min_;
  s.max = max_;
  s.max_abs = std::fmax(std::fabs(min_), std::fabs(max_));
  s.mean_abs_deviation = abs_deviation_sum_ / n;
  constexpr double pi = 3.14159265358979323846;
  const double half_width = std::fmax(max_ - mean_, mean_ - min_);
  // A density of zero spread is degenerate (infinite likelihood): reported, never chosen.
  auto ll = [](double spread, double value) {
    return spread > 0 ? value : std::numeric_limits<double>::infinity();
  };
  s.log_likelihood[static_cast<std::size_t>(distribution::uniform)] =
      ll(half_width, -std::log(2.0 * half_width));
  s.log_likelihood[static_cast<std::size_t>(distribution::gaussian)] =
      ll(s.stddev, -0.5 * std::log(2.0 * pi * std::exp(1.0) * s.stddev * s.stddev));
  s.log_likelihood[static_cast<std::size_t>(distribution::laplacian)] =
      ll(s.mean_abs_deviation, -std::log(2.0 * std::exp(1.0) * s.mean_abs_deviation));
  if (s.stddev > 0 && s.mean_abs_deviation > 0) {
    for (distribution d : all_distributions) {
      if (s.log_likelihood_of(d) > s.log_likelihood_of(s.best_fit)) s.best_fit = d;
    }
  }
  return s;
}

/// The statistics of one range of values (a tensor, a vector of floats, ...), exactly: a
/// single batch, so the mean absolute deviation is about the mean itself.
template <real_forward_range R>
[[nodiscard]] statistics compute_statistics(const R& values) {
  statistics_accumulator acc;
  acc.add(values);
  return acc.result();
}

}  // namespace fxp::quant
