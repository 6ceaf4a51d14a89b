// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// The SQNR model of Lin, Talathi & Annapureddy, "Fixed Point Quantization of Deep
/// Convolutional Networks" (arXiv:1511.06393), sec. 4: per quantized tensor a line
/// SQNR_dB ~= kappa * bits + offset fitted to the optimal quantizer's SQNR, and the
/// combination of independent quantization noises through a network,
/// 1/g_out = sum_i 1/g_i (g linear SQNR), plus the measured SQNR to check it against.

#include <cmath>             // std::log10 for measured SQNR
#include <initializer_list>  // combine_sqnr_db({...})
#include <iterator>          // std::ranges::begin / end on the two measured ranges
#include <limits>            // +inf SQNR of an exact result
#include <ranges>            // range access
#include <stdexcept>         // std::domain_error for mismatched lengths

#include "concepts.hpp"
#include "detail/math.hpp"
#include "distribution.hpp"
#include "quantizer.hpp"

namespace fxp::quant {

/// SQNR_dB ~= kappa_db * bits + offset_db.
struct sqnr_line {
  /// dB per bit (6.02 for uniform data; less for peaked densities at few bits).
  double kappa_db;
  /// dB at zero bits of the line.
  double offset_db;
  /// The line at `bits`.
  [[nodiscard]] constexpr double at(double bits) const noexcept {
    return kappa_db * bits + offset_db;
  }
};

/// The least-squares line through sqnr_db(d, b) for b = min_bits .. max_bits (the bit range
/// in use: kappa grows with b toward 6.02 dB for every density, so the fit depends on it).
/// A single bit-width gives the local slope sqnr_db(d, b+1) - sqnr_db(d, b) (or the one
/// below at 16 bits) through its point. Computed from the constexpr design tables.
/// \param min_bits, max_bits 1 <= min_bits <= max_bits <= 16
[[nodiscard]] constexpr sqnr_line fit_sqnr_line(distribution d, int min_bits = 1,
                                                int max_bits = max_design_bits) {
  if (min_bits < 1 || max_bits > max_design_bits || min_bits > max_bits) {
    detail::throw_domain_error("fxp::quant::fit_sqnr_line: need 1 <= min_bits <= max_bits <= 16");
  }
  if (min_bits == max_bits) {
    const int b = min_bits;
    const int other = b < max_design_bits ? b + 1 : b - 1;
    const double kappa = (sqnr_db(d, other) - sqnr_db(d, b)) / (other - b);
    return {kappa, sqnr_db(d, b) - kappa * b};
  }
  const double n = max_bits - min_bits + 1;
  double mean_b = 0.0;
  double mean_s = 0.0;
  for (int b = min_bits; b <= max_bits; ++b) {
    mean_b += b / n;
    mean_s += sqnr_db(d, b) / n;
  }
  double sbb = 0.0;
  double sbs = 0.0;
  for (int b = min_bits; b <= max_bits; ++b) {
    sbb += (b - mean_b) * (b - mean_b);
    sbs += (b - mean_b) * (sqnr_db(d, b) - mean_s);
  }
  const double kappa = sbs / sbb;
  return {kappa, mean_s - kappa * mean_b};
}

/// The linear SQNR g = 10^(db / 10).
[[nodiscard]] constexpr double db_to_ratio(double db) noexcept { return detail::pow10(db / 10.0); }

/// 10 log10(g).
[[nodiscard]] constexpr double ratio_to_db(double ratio) noexcept {
  return 10.0 * detail::log10(ratio);
}

/// The SQNR of independent noises added to one signal (arXiv:1511.06393, eqs. 10-12):
/// 1/g_out = sum_i 1/g_i, the g_i linear, returned in dB. Its argument is the per-term
/// SQNRs in dB, so combine_sqnr_db({40, 40}) is 36.99.
template <real_range R>
[[nodiscard]] constexpr double combine_sqnr_db(const R& sqnrs_db) {
  double inverse = 0.0;
  for (auto&& s : sqnrs_db) inverse += detail::pow10(-static_cast<double>(s) / 10.0);
  return -10.0 * detail::log10(inverse);
}

/// combine_sqnr_db on a braced list.
[[nodiscard]] constexpr double combine_sqnr_db(std::initializer_list<double> sqnrs_db) {
  double inverse = 0.0;
  for (double s : sqnrs_db) inverse += detail::pow10(-s / 10.0);
  return -10.0 * detail::log10(inverse);
}

/// The measured SQNR in dB of `approximation` against `reference` (same length):
/// 10 log10(sum r^2 / sum (r - a)^2). Use it on a tensor and its quantized copy, or on a
/// fixed-point network's outputs against the float network's. +inf when they are equal.
template <real_range R, real_range A>
[[nodiscard]] double measured_sqnr_db(const R& reference, const A& approximation) {
  double signal = 0.0;
  double noise = 0.0;
  auto a = std::ranges::begin(approximation);
  const auto a_end = std::ranges::end(approximation);
  for (auto&& v : reference) {
    if (a == a_end) {
      throw std::domain_error(
          "fxp::quant::measured_sqnr_db: the approximation is shorter than the reference");
    }
    const auto r = static_cast<double>(v);
    const double e = r - static_cast<double>(*a);
    signal += r * r;
    noise += e * e;
    ++a;
  }
  if (a != a_end) {
    throw std::domain_error(
        "fxp::quant::measured_sqnr_db: the approximation is longer than the reference");
  }
  if (noise == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

}  // namespace fxp::quant
