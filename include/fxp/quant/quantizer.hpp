// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// The MSE-optimal uniform quantizer of Lin, Talathi & Annapureddy, "Fixed Point
/// Quantization of Deep Convolutional Networks" (arXiv:1511.06393), sec. 3: for an input
/// density and a bit-width, the step that minimises the mean squared error (granular noise
/// plus overload noise) of a symmetric mid-rise quantizer, the SQNR it reaches, and the
/// fixed-point format (integer and fractional bits) it implies for a tensor of given sigma.
///
/// Everything here is constexpr. The steps are found by a golden-section search over
/// closed forms of the MSE (no tabulated constants), evaluated once per (distribution, bits)
/// in a variable template, so each compile-time minimisation has the compiler's whole
/// constexpr budget to itself and later calls are table look-ups.

#include <array>      // the per-distribution tables
#include <cstddef>    // std::size_t for the table index sequence
#include <stdexcept>  // std::domain_error for bits or sigma out of range
#include <utility>    // std::index_sequence to build the tables

#include "detail/math.hpp"
#include "distribution.hpp"

namespace fxp::quant {

/// The largest bit-width optimal_step and sqnr_db are defined for.
inline constexpr int max_design_bits = 16;

namespace detail {

[[noreturn]] inline void throw_domain_error(const char* what) { throw std::domain_error(what); }

// Gaussian: the cells [(k-1) D, k D] of one side, k < N, plus the overload cell
// [(N-1) D, inf), each integral of (x - c)^2 phi(x) in closed form:
//   int_a^b (x - c)^2 phi = (1 + c^2)(Q(a) - Q(b)) + (a - 2c) phi(a) - (b - 2c) phi(b),
// with Q the upper tail. Exact, but one erfc per cell, so it is used for N <= 16 only.
[[nodiscard]] constexpr double gaussian_mse_cells(long long cells, double step) noexcept {
  double sum = 0.0;
  double q_prev = 0.5;
  double phi_prev = inv_sqrt_2pi;
  for (long long k = 1; k < cells; ++k) {
    const double a = static_cast<double>(k - 1) * step;
    const double b = static_cast<double>(k) * step;
    const double c = (static_cast<double>(k) - 0.5) * step;
    const double q_b = normal_tail(b);
    const double phi_b = normal_pdf(b);
    sum += (1.0 + c * c) * (q_prev - q_b) + (a - 2.0 * c) * phi_prev - (b - 2.0 * c) * phi_b;
    q_prev = q_b;
    phi_prev = phi_b;
  }
  const double a = static_cast<double>(cells - 1) * step;
  const double c = (static_cast<double>(cells) - 0.5) * step;
  sum += (1.0 + c * c) * q_prev + (a - 2.0 * c) * phi_prev;
  return 2.0 * sum;
}

// Gaussian, many cells: the granular noise of the N cells per side is D^2/12 P(|x| < A)
// plus an Euler-Maclaurin correction at the edge A = N D (the correction at 0 vanishes by
// symmetry, and the interior is exact up to terms of order exp(-2 pi^2 / D^2)):
//   granular = D^2/12 (1 - 2 Q(A)) + 2 phi'(A) D^4 / 360,   phi'(A) = -A phi(A);
// the overload noise beyond A is the closed form of the last cell with c = A - D/2.
// Against the exact cell sum its relative error is below 1e-8 from 6 bits on.
[[nodiscard]] constexpr double gaussian_mse_asymptotic(long long cells, double step) noexcept {
  const double edge = static_cast<double>(cells) * step;
  const double c = edge - 0.5 * step;
  const double q = normal_tail(edge);
  const double phi = normal_pdf(edge);
  const double d2 = step * step;
  const double granular = d2 / 12.0 * (1.0 - 2.0 * q) - 2.0 * edge * phi * d2 * d2 / 360.0;
  const double overload = 2.0 * ((1.0 + c * c) * q + (edge - 2.0 * c) * phi);
  return granular + overload;
}

// Laplacian of unit variance, p(x) = (l/2) e^{-l|x|}, l = sqrt(2). Cell k of one side is
// the first cell scaled by e^{-l (k-1) D}, so the cells sum as a geometric series:
//   mse = C (1 - r^{N-1}) / (1 - r) + r^{N-1} (1/l^2 + (1/l - D/2)^2),  r = e^{-l D},
//   C = int_0^D (u - D/2)^2 l e^{-l u} du,  l^2 C = (1 - r)(t^2/4 + t + 2) - 2 t,  t = l D.
// l^2 C cancels to t^3/12 for small t, so there it is summed as its own series
//   sum_{m >= 3} (-1)^{m+1} (m^2 - 5 m + 8) t^m / (4 m!).
[[nodiscard]] constexpr double laplacian_mse(long long cells, double step) noexcept {
  constexpr double l = sqrt2;
  const double t = l * step;
  const double one_minus_r = -expm1(-t);
  double l2c = 0.0;
  if (t >= 0.5) {
    l2c = one_minus_r * (0.25 * t * t + t + 2.0) - 2.0 * t;
  } else {
    double power_over_factorial = t * t * t / 6.0;  // t^m / m! at m = 3
    for (int m = 3; m < 30; ++m) {
      const double coefficient = (m * m - 5 * m + 8) / 4.0;
      l2c += ((m % 2 == 1) ? coefficient : -coefficient) * power_over_factorial;
      power_over_factorial *= t / (m + 1);
    }
  }
  const double inner = static_cast<double>(cells - 1) * t;
  const double geometric = (cells == 1) ? 0.0 : -expm1(-inner) / one_minus_r;
  const double tail_weight = exp(-inner);
  const double centre_gap = 1.0 / l - 0.5 * step;
  return l2c / (l * l) * geometric + tail_weight * (1.0 / (l * l) + centre_gap * centre_gap);
}

// Uniform of unit variance on [-a, a], a = sqrt(3): m = min(N - 1, floor(a / D)) whole cells
// of noise D^2/12 each, then one cell [m D, a] with its level at (m + 1/2) D (a partial cell,
// or the overload cell when the support reaches past the last threshold).
[[nodiscard]] constexpr double uniform_mse(long long cells, double step) noexcept {
  constexpr double a = sqrt3;
  const double ratio = a / step;
  const long long whole =
      ratio >= static_cast<double>(cells - 1) ? cells - 1 : static_cast<long long>(ratio);
  const double m = static_cast<double>(whole);
  const double gap = a - (m + 0.5) * step;
  const double half = 0.5 * step;
  const double last = (gap * gap * gap + half * half * half) / 3.0;
  return (m * step * step * step / 12.0 + last) / a;
}

}  // namespace detail

/// The mean squared error of the symmetric mid-rise uniform quantizer with 2^bits levels
/// (levels at +-(k - 1/2) step, k = 1 .. 2^(bits-1), the outermost cells unbounded) for the
/// zero-mean, unit-variance density `d`: granular plus overload noise, in closed form.
/// For data of standard deviation sigma and step sigma * step the error is sigma^2 times this.
/// \param bits 1 <= bits <= 31
/// \param step the quantizer step per unit standard deviation, > 0
[[nodiscard]] constexpr double quantizer_mse(distribution d, int bits, double step) {
  if (bits < 1 || bits > 31)
    detail::throw_domain_error("fxp::quant::quantizer_mse: bits must be between 1 and 31");
  if (!(step > 0))
    detail::throw_domain_error("fxp::quant::quantizer_mse: the step must be positive");
  const long long cells = 1LL << (bits - 1);
  switch (d) {
    case distribution::uniform:
      return detail::uniform_mse(cells, step);
    case distribution::laplacian:
      return detail::laplacian_mse(cells, step);
    case distribution::gaussian:
      break;
  }
  return cells <= 16 ? detail::gaussian_mse_cells(cells, step)
                     : detail::gaussian_mse_asymptotic(cells, step);
}

/// The SQNR in dB, 10 log10(sigma^2 / mse), of that quantizer at any step per unit sigma:
/// use it for a format whose step is not the optimal one (a power-of-two step, say).
[[nodiscard]] constexpr double quantizer_sqnr_db(distribution d, int bits, double step) {
  return -10.0 * detail::log10(quantizer_mse(d, bits, step));
}

/// One row of the design table: the MSE-optimal step per unit sigma and its error.
struct quantizer_design {
  /// The optimal step per unit standard deviation.
  double step;
  /// The mean squared error at that step (unit variance).
  double mse;
  /// 10 log10(1 / mse).
  double sqnr_db;
};

namespace detail {

// Golden-section search over the log of the quantizer's range A = 2^(bits-1) step, from
// A = 0.25 sigma (heavy overload) to 40 sigma (far beyond the optimum of every density up
// to 16 bits: Laplacian, 16 bits, has its optimum near 14 sigma). The MSE is unimodal in A
// for these log-concave densities; tests/quant check the result against a dense scan.
[[nodiscard]] constexpr quantizer_design design_quantizer(distribution d, int bits) {
  const double cells = static_cast<double>(1LL << (bits - 1));
  auto mse_at = [&](double log_edge) { return quantizer_mse(d, bits, exp(log_edge) / cells); };
  constexpr double inv_phi = 0.61803398874989484820;
  double lo = log(0.25);
  double hi = log(40.0);
  double x1 = hi - inv_phi * (hi - lo);
  double x2 = lo + inv_phi * (hi - lo);
  double f1 = mse_at(x1);
  double f2 = mse_at(x2);
  for (int i = 0; i < 54; ++i) {  // the bracket shrinks to 5 * 0.618^54 < 1e-10 in log A
    if (f1 <= f2) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - inv_phi * (hi - lo);
      f1 = mse_at(x1);
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + inv_phi * (hi - lo);
      f2 = mse_at(x2);
    }
  }
  const double best = f1 <= f2 ? x1 : x2;
  const double step = exp(best) / cells;
  const double mse = quantizer_mse(d, bits, step);
  return {step, mse, -10.0 * log10(mse)};
}

// One variable per (distribution, bits): each minimisation is its own constant evaluation,
// well inside the default limits (clang's -fconstexpr-steps counts per evaluation).
template <distribution D, int Bits>
inline constexpr quantizer_design design_v = design_quantizer(D, Bits);

template <distribution D, std::size_t... I>
constexpr std::array<quantizer_design, sizeof...(I)> make_design_table(
    std::index_sequence<I...>) noexcept {
  return {design_v<D, static_cast<int>(I) + 1>...};
}

template <distribution D>
inline constexpr std::array<quantizer_design, max_design_bits> design_table_v =
    make_design_table<D>(std::make_index_sequence<max_design_bits>{});

[[nodiscard]] constexpr const quantizer_design& design_row(distribution d, int bits) {
  if (bits < 1 || bits > max_design_bits) {
    throw_domain_error("fxp::quant: the design bit-width must be between 1 and 16");
  }
  const auto row = static_cast<std::size_t>(bits - 1);
  switch (d) {
    case distribution::uniform:
      return design_table_v<distribution::uniform>[row];
    case distribution::laplacian:
      return design_table_v<distribution::laplacian>[row];
    case distribution::gaussian:
      break;
  }
  return design_table_v<distribution::gaussian>[row];
}

}  // namespace detail

/// The MSE-optimal step of a symmetric mid-rise uniform quantizer with 2^bits levels for
/// the density `d`, per unit standard deviation (arXiv:1511.06393, sec. 3; the classic
/// Max / Paez-Glisson uniform-quantizer tables for bits <= 4).
///
/// "Per unit standard deviation" holds for all three densities alike: for data of standard
/// deviation sigma the step is sigma * optimal_step(d, bits). For the uniform density that
/// is 2 sqrt(3) / 2^bits (the support [-sqrt(3), sqrt(3)] cut into 2^bits cells), so data on
/// [-1, 1] (sigma = 1/sqrt(3)) get the step 2 / 2^bits of the uniform column of the optimal-step table of arXiv:1511.06393.
/// \param bits 1 <= bits <= 16
[[nodiscard]] constexpr double optimal_step(distribution d, int bits) {
  return detail::design_row(d, bits).step;
}

/// The SQNR in dB, 10 log10(sigma^2 / mse), of the quantizer at optimal_step(d, bits).
/// It does not depend on sigma. \param bits 1 <= bits <= 16
[[nodiscard]] constexpr double sqnr_db(distribution d, int bits) {
  return detail::design_row(d, bits).sqnr_db;
}

}  // namespace fxp::quant
