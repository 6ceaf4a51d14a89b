// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// Fixed-point formats for a tensor: the Q-format of the optimal quantizer of Lin, Talathi &
/// Annapureddy, "Fixed Point Quantization of Deep Convolutional Networks" (arXiv:1511.06393,
/// sec. 3), and for comparison the max-range format (nothing clips on the calibration set)
/// and the format that maximises the SQNR measured on the data.

#include <cmath>    // std::floor at run time
#include <cstddef>  // std::size_t

#include "concepts.hpp"
#include "detail/math.hpp"
#include "distribution.hpp"
#include "quantizer.hpp"
#include "statistics.hpp"

namespace fxp::quant {

/// A signed fixed-point format with `bits` bits of which `int_bits` (the sign included) are
/// integer bits and `frac_bits` fractional: the values k 2^-frac_bits for integers k in
/// [-2^(bits-1), 2^(bits-1) - 1], i.e. fxp::fixed<int_bits, frac_bits>. Either part may be
/// negative (a weight format whose values stay below 1/4 has int_bits < 0).
struct q_format {
  /// The word width, int_bits + frac_bits.
  int bits = 8;
  /// Integer bits, the sign bit included.
  int int_bits = 1;
  /// Fractional bits; the step is 2^-frac_bits.
  int frac_bits = 7;

  /// The step 2^-frac_bits.
  [[nodiscard]] constexpr double step() const noexcept { return detail::pow2(-frac_bits); }
  /// The largest value, (2^(bits-1) - 1) step.
  [[nodiscard]] constexpr double max_value() const noexcept {
    return (detail::pow2(bits - 1) - 1.0) * step();
  }
  /// The smallest value, -2^(bits-1) step.
  [[nodiscard]] constexpr double min_value() const noexcept {
    return -detail::pow2(bits - 1) * step();
  }

  /// x rounded to the nearest value of the format (ties toward +inf, as fxp::nearest) and
  /// saturated (as fxp::saturate): the result of fxp::fixed<int_bits, frac_bits>(x), in
  /// double arithmetic, for any width. NaN stays NaN.
  [[nodiscard]] constexpr double quantize(double x) const noexcept {
    if (x != x) return x;
    const double top = detail::pow2(bits - 1);
    const double scaled = x * detail::pow2(frac_bits);  // exact unless it overflows
    if (scaled >= top - 0.5) return max_value();
    if (scaled < -top - 0.5) return min_value();
    // |scaled| < 2^63 here, so the integer part converts exactly; the comparison of the
    // exact fraction with 1/2 avoids the double rounding of floor(scaled + 0.5).
    auto whole = static_cast<long long>(scaled);
    if (static_cast<double>(whole) > scaled) --whole;
    const double fraction = scaled - static_cast<double>(whole);
    if (fraction >= 0.5) ++whole;
    return static_cast<double>(whole) * step();
  }

  friend constexpr bool operator==(const q_format&, const q_format&) noexcept = default;
};

/// The format of the optimal quantizer for `bits`-bit data of standard deviation `sigma`
/// modelled by `d` (arXiv:1511.06393, sec. 3): the step sigma * optimal_step(d, bits) is
/// rounded up to a power of two, frac_bits = -ceil(log2(sigma * optimal_step(d, bits))),
/// int_bits = bits - frac_bits. The power of two is computed exactly (no floating log2).
/// \param bits 1 <= bits <= 16 \param sigma > 0 and finite
[[nodiscard]] constexpr q_format optimal_format(int bits, double sigma, distribution d) {
  if (!(sigma > 0) || sigma > 1e300) {
    detail::throw_domain_error("fxp::quant::optimal_format: sigma must be positive and finite");
  }
  const int frac = -detail::ceil_log2(sigma * optimal_step(d, bits));
  return {bits, bits - frac, frac};
}

/// The format with the most fractional bits such that no value in [min, max] saturates
/// when rounded to nearest: the classic "integer part covers max |x|" choice, for comparison
/// with optimal_format. All-zero data get int_bits = 1.
/// \param bits 1 <= bits <= 62
[[nodiscard]] constexpr q_format max_range_format(int bits, double min, double max) {
  if (bits < 1 || bits > 62) {
    detail::throw_domain_error("fxp::quant::max_range_format: bits must be between 1 and 62");
  }
  if (min != min || max != max || min > max) {
    detail::throw_domain_error("fxp::quant::max_range_format: min and max must be ordered numbers");
  }
  const double largest = detail::abs(min) > detail::abs(max) ? detail::abs(min) : detail::abs(max);
  if (largest == 0) return {bits, 1, bits - 1};
  if (largest > 1e300) {
    detail::throw_domain_error("fxp::quant::max_range_format: the range must be finite");
  }
  const double top = detail::pow2(bits - 1);
  // Start where 2^(frac) * largest is near 2^(bits) and walk down to the first format that
  // holds both ends: max 2^F < 2^(b-1) - 1/2 and min 2^F >= -2^(b-1) - 1/2.
  int frac = bits - detail::ceil_log2(largest) + 1;
  while (!(max * detail::pow2(frac) < top - 0.5 && min * detail::pow2(frac) >= -top - 0.5)) {
    --frac;
  }
  return {bits, bits - frac, frac};
}

/// The max-range format for the values summarised by `s`.
[[nodiscard]] constexpr q_format max_range_format(int bits, const statistics& s) {
  return max_range_format(bits, s.min, s.max);
}

/// A format and the SQNR measured with it.
struct measured_format {
  /// The format.
  q_format format;
  /// 10 log10(sum x^2 / sum (x - q(x))^2) on the data (+inf when every value is exact).
  double sqnr_db;
};

/// The SQNR in dB of quantizing `values` with `f` (round to nearest, saturate), measured
/// against the values themselves: 10 log10(sum x^2 / sum (x - f.quantize(x))^2).
template <real_range R>
[[nodiscard]] double measured_sqnr_db(const R& values, const q_format& f) {
  double signal = 0.0;
  double noise = 0.0;
  for (auto&& v : values) {
    const auto x = static_cast<double>(v);
    const double e = x - f.quantize(x);
    signal += x * x;
    noise += e * e;
  }
  return 10.0 * std::log10(signal / noise);
}

/// The `bits`-bit format whose measured SQNR on `values` is the highest (the search used by
/// empirical converters, for comparison with the model-based optimal_format). The candidates
/// run from the max-range format (no clipping; fewer fractional bits only add rounding
/// noise) to 24 more fractional bits; ties go to the wider range.
template <real_forward_range R>
[[nodiscard]] measured_format best_measured_format(const R& values, int bits) {
  double lo = 0.0;
  double hi = 0.0;
  for (auto&& v : values) {
    const auto x = static_cast<double>(v);
    lo = x < lo ? x : lo;
    hi = x > hi ? x : hi;
  }
  const q_format widest = max_range_format(bits, lo, hi);
  measured_format best{widest, measured_sqnr_db(values, widest)};
  for (int extra = 1; extra <= 24; ++extra) {
    const q_format f{bits, widest.int_bits - extra, widest.frac_bits + extra};
    const double sqnr = measured_sqnr_db(values, f);
    if (sqnr > best.sqnr_db) best = {f, sqnr};
  }
  return best;
}

}  // namespace fxp::quant
