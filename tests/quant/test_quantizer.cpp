// SPDX-License-Identifier: MIT
// The quantizer design: optimal steps and SQNRs against the optimal-step table of arXiv:1511.06393 and against an
// independent minimisation written here (per-cell integrals with the C library's erfc and
// exp, a dense scan instead of golden-section search), the closed-form MSE against numeric
// integration, the SQNR lines, the Q-format rule, and the constexpr elementary functions.
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <fxp/core/core.hpp>
#include <fxp/quant/quant.hpp>
#include <type_traits>

using namespace fxp::quant;
using D = distribution;

namespace {

// The table of arXiv:1511.06393: step per unit variance (uniform: data on [-1, 1]) and SQNR in dB.
struct paper_row {
  double uniform, gaussian, laplacian, sqnr_u, sqnr_g, sqnr_l;
};
constexpr std::array<paper_row, 8> paper = {{
    {1.0, 1.596, 1.414, 6.02, 4.40, 3.01},
    {0.5, 0.996, 1.087, 12.04, 9.25, 7.07},
    {0.25, 0.586, 0.731, 18.06, 14.27, 11.44},
    {0.125, 0.335, 0.461, 24.08, 19.38, 15.96},
    {0.0625, 0.188, 0.280, 30.10, 24.57, 20.60},
    {0.03125, 0.104, 0.166, 36.12, 29.83, 25.36},
    {0.015625, 0.0569, 0.0961, 42.14, 35.17, 30.23},
    {0.0078125, 0.0308, 0.0548, 48.16, 40.57, 35.21},
}};

// Whether x agrees with the table's value to 3 significant digits: within half a unit of
// the table value's third significant digit.
bool agrees_to_3_digits(double x, double table) {
  const double unit = std::pow(10.0, std::floor(std::log10(std::fabs(table))) - 2);
  return std::fabs(x - table) <= 0.5 * unit * (1 + 1e-9);
}

// ---- An independent reference: the MSE as a sum over all cells. A bounded cell's
// integral of u^2 p(c + u) over u in [-step/2, step/2] is taken by composite 5-point
// Gauss-Legendre quadrature (smooth integrand, no cancellation however small the cell); the
// unbounded last cell from its antiderivative with the C library's erfc and exp.
const double pi = std::acos(-1.0);

double density(D d, double x) {
  switch (d) {
    case D::gaussian:
      return std::exp(-x * x / 2) / std::sqrt(2 * pi);
    case D::laplacian:
      return std::exp(-std::sqrt(2.0) * std::fabs(x)) / std::sqrt(2.0);
    case D::uniform:
      return std::fabs(x) <= std::sqrt(3.0) ? 1 / (2 * std::sqrt(3.0)) : 0.0;
  }
  return 0;
}

long double bounded_cell(D d, double a, double b, double c) {
  constexpr double node[5] = {-0.9061798459386640, -0.5384693101056831, 0.0, 0.5384693101056831,
                              0.9061798459386640};
  constexpr double weight[5] = {0.2369268850561891, 0.4786286704993665, 0.5688888888888889,
                                0.4786286704993665, 0.2369268850561891};
  if (d == D::uniform) {  // piecewise polynomial: exact
    const double s = std::sqrt(3.0);
    const double hi = std::min(b, s);
    if (hi <= a) return 0.0L;
    return ((hi - c) * (hi - c) * (hi - c) - (a - c) * (a - c) * (a - c)) / 3 / (2 * s);
  }
  const int pieces = std::max(1, static_cast<int>(std::ceil((b - a) / 0.02)));
  const double h = (b - a) / pieces;
  long double sum = 0;
  for (int p = 0; p < pieces; ++p) {
    const double mid = a + (p + 0.5) * h;
    for (int i = 0; i < 5; ++i) {
      const double x = mid + 0.5 * h * node[i];
      sum += 0.5L * h * weight[i] * (x - c) * (x - c) * density(d, x);
    }
  }
  return sum;
}

// int_a^inf (x - c)^2 p(x) dx.
double last_cell(D d, double a, double c) {
  if (d == D::gaussian) {
    const double phi = std::exp(-a * a / 2) / std::sqrt(2 * pi);
    return (1 + c * c) * 0.5 * std::erfc(a / std::sqrt(2.0)) + (a - 2 * c) * phi;
  }
  if (d ==
      D::laplacian) {  // d/dx of -e^{-l x} [ (x-c)^2/l + 2(x-c)/l^2 + 2/l^3 ] = (x-c)^2 e^{-l x}
    const double l = std::sqrt(2.0);
    const double u = a - c;
    return l / 2 * std::exp(-l * a) * (u * u / l + 2 * u / (l * l) + 2 / (l * l * l));
  }
  return static_cast<double>(bounded_cell(d, a, INFINITY, c));
}

double reference_mse(D d, int bits, double step) {
  const long long cells = 1LL << (bits - 1);
  long double sum = 0;
  for (long long k = 1; k < cells; ++k) {
    sum += bounded_cell(d, static_cast<double>(k - 1) * step, static_cast<double>(k) * step,
                        (static_cast<double>(k) - 0.5) * step);
  }
  sum += last_cell(d, static_cast<double>(cells - 1) * step,
                   (static_cast<double>(cells) - 0.5) * step);
  return static_cast<double>(2 * sum);
}

// Dense scan of the range A = 2^(bits-1) step in [0.25, 40], then golden refinement of the
// best scan interval.
double compute_reference_step(D d, int bits) {
  const double cells = std::ldexp(1.0, bits - 1);
  auto f = [&](double log_a) { return reference_mse(d, bits, std::exp(log_a) / cells); };
  const int n = 80;
  const double lo = std::log(0.25), hi = std::log(40.0);
  int best = 0;
  double best_f = INFINITY;
  for (int i = 0; i <= n; ++i) {
    const double v = f(lo + (hi - lo) * i / n);
    if (v < best_f) {
      best_f = v;
      best = i;
    }
  }
  double a = lo + (hi - lo) * std::max(best - 1, 0) / n;
  double b = lo + (hi - lo) * std::min(best + 1, n) / n;
  const double r = (std::sqrt(5.0) - 1) / 2;
  for (int i = 0; i < 60; ++i) {
    const double x1 = b - r * (b - a), x2 = a + r * (b - a);
    if (f(x1) <= f(x2))
      b = x2;
    else
      a = x1;
  }
  return std::exp((a + b) / 2) / cells;
}

// Memoised: the 16-bit rows sum 32768 cells per evaluation.
double reference_step(D d, int bits) {
  static std::array<std::array<double, 17>, 3> memo{};
  double& v = memo[static_cast<std::size_t>(d)][static_cast<std::size_t>(bits)];
  if (v == 0) v = compute_reference_step(d, bits);
  return v;
}

// The mid-rise quantizer itself, and its MSE by composite Simpson integration per cell.
double quantize_midrise(double x, int bits, double step) {
  const double cells = std::ldexp(1.0, bits - 1);
  double k = std::floor(std::fabs(x) / step) + 1;  // cell index 1, 2, ...
  k = std::min(k, cells);
  return std::copysign((k - 0.5) * step, x);
}
double simpson_mse(D d, int bits, double step) {
  const double end = d == D::uniform ? std::sqrt(3.0) : 45.0;
  const double cells = std::ldexp(1.0, bits - 1);
  double sum = 0;
  auto g = [&](double x) {
    const double e = x - quantize_midrise(x, bits, step);
    return e * e * density(d, x);
  };
  // integrate cell by cell (the integrand is smooth inside each), the last cell to `end`
  for (double k = 1; k <= cells; ++k) {
    const double a = (k - 1) * step;
    if (a >= end) break;
    const double b = k == cells ? end : std::min(k * step, end);
    const int m = 2 * std::max(32, static_cast<int>((b - a) * 1000));
    const double h = (b - a) / m;
    // the upper threshold itself belongs to the next cell: evaluate just below it
    double s = g(a) + g(std::nextafter(b, a));
    for (int i = 1; i < m; ++i) s += (i % 2 ? 4 : 2) * g(a + i * h);
    sum += s * h / 3;
  }
  return 2 * sum;
}

}  // namespace

TEST_CASE("optimal steps and SQNRs match the table of arXiv:1511.06393 to 3 significant digits", "[quant][design]") {
  for (int b = 1; b <= 8; ++b) {
    const paper_row& row = paper[static_cast<std::size_t>(b - 1)];
    INFO("bits " << b);
    // Uniform: per unit sigma; the table is for data on [-1, 1], sigma = 1/sqrt(3).
    CHECK(agrees_to_3_digits(optimal_step(D::uniform, b) / std::sqrt(3.0), row.uniform));
    CHECK(agrees_to_3_digits(optimal_step(D::gaussian, b), row.gaussian));
    CHECK(agrees_to_3_digits(optimal_step(D::laplacian, b), row.laplacian));
    // The table's SQNRs have two decimals: agree to within their rounding.
    CHECK(std::fabs(sqnr_db(D::uniform, b) - row.sqnr_u) <= 0.005 + 1e-9);
    CHECK(std::fabs(sqnr_db(D::gaussian, b) - row.sqnr_g) <= 0.005 + 1e-9);
    CHECK(std::fabs(sqnr_db(D::laplacian, b) - row.sqnr_l) <= 0.005 + 1e-9);
  }
}

TEST_CASE("the uniform quantizer of uniform data has step 2 sqrt(3) / 2^b and 6.02 dB/bit",
          "[quant][design]") {
  for (int b = 1; b <= max_design_bits; ++b) {
    CHECK(optimal_step(D::uniform, b) ==
          Approx(2 * std::sqrt(3.0) / std::ldexp(1.0, b)).epsilon(1e-8));
    CHECK(sqnr_db(D::uniform, b) == Approx(20 * std::log10(2.0) * b).epsilon(1e-9));
  }
}

TEST_CASE("optimal steps equal an independent minimisation for 1..16 bits", "[quant][design]") {
  for (D d : all_distributions) {
    for (int b = 1; b <= max_design_bits; ++b) {
      INFO(to_string(d) << " bits " << b);
      const double step = reference_step(d, b);
      CHECK(optimal_step(d, b) == Approx(step).epsilon(2e-6));
      CHECK(sqnr_db(d, b) == Approx(-10 * std::log10(reference_mse(d, b, step))).margin(1e-6));
    }
  }
}

TEST_CASE("the closed-form MSE equals numeric integration at any step", "[quant][design]") {
  for (D d : all_distributions) {
    for (int b : {1, 2, 3, 5, 6, 7, 9}) {
      for (double scale : {0.6, 1.0, 1.7}) {
        const double step = optimal_step(d, b) * scale;
        INFO(to_string(d) << " bits " << b << " step " << step);
        const double reference = simpson_mse(d, b, step);
        CHECK(quantizer_mse(d, b, step) == Approx(reference).epsilon(2e-7));
        CHECK(reference_mse(d, b, step) == Approx(reference).epsilon(2e-7));
      }
    }
  }
}

TEST_CASE("design tables are constant expressions", "[quant][design][constexpr]") {
  static_assert(optimal_step(D::gaussian, 4) > 0.3351 && optimal_step(D::gaussian, 4) < 0.3353);
  static_assert(optimal_step(D::laplacian, 1) > 1.41421 && optimal_step(D::laplacian, 1) < 1.41422);
  static_assert(sqnr_db(D::gaussian, 1) > 4.396 && sqnr_db(D::gaussian, 1) < 4.397);  // 1 - 2/pi
  static_assert(sqnr_db(D::laplacian, 1) > 3.0102 && sqnr_db(D::laplacian, 1) < 3.0104);  // 1/2
  constexpr double s16 = optimal_step(D::laplacian, 16);
  static_assert(s16 > 0 && s16 < 1e-3);
  CHECK_THROWS_AS(optimal_step(D::gaussian, 0), std::domain_error);
  CHECK_THROWS_AS(sqnr_db(D::gaussian, 17), std::domain_error);
}

TEST_CASE("SQNR per bit grows toward 6.02 dB", "[quant][model]") {
  // Gaussian: from 4.9 to 5.4 dB/bit over 1..8 bits; Laplacian: 4.1 to 5.0.
  CHECK(sqnr_db(D::gaussian, 2) - sqnr_db(D::gaussian, 1) == Approx(4.9).margin(0.05));
  CHECK(sqnr_db(D::gaussian, 8) - sqnr_db(D::gaussian, 7) == Approx(5.4).margin(0.05));
  CHECK(sqnr_db(D::laplacian, 2) - sqnr_db(D::laplacian, 1) == Approx(4.1).margin(0.05));
  CHECK(sqnr_db(D::laplacian, 8) - sqnr_db(D::laplacian, 7) == Approx(5.0).margin(0.05));
  for (D d : {D::gaussian, D::laplacian}) {
    for (int b = 2; b < max_design_bits; ++b) {
      const double now = sqnr_db(d, b + 1) - sqnr_db(d, b);
      const double before = sqnr_db(d, b) - sqnr_db(d, b - 1);
      CHECK(now > before);
      CHECK(now < 20 * std::log10(2.0));
    }
  }
}

TEST_CASE("SQNR lines are the least-squares fits of the design SQNRs", "[quant][model]") {
  for (D d : all_distributions) {
    for (auto [lo, hi] : {std::pair{1, 16}, std::pair{2, 8}, std::pair{4, 12}, std::pair{8, 16}}) {
      // Normal equations of the line through (b, SQNR(b)) with SQNRs from the reference.
      double n = 0, sb = 0, ss = 0, sbb = 0, sbs = 0;
      for (int b = lo; b <= hi; ++b) {
        const double s = -10 * std::log10(reference_mse(d, b, reference_step(d, b)));
        n += 1;
        sb += b;
        ss += s;
        sbb += b * b;
        sbs += b * s;
      }
      const double kappa = (n * sbs - sb * ss) / (n * sbb - sb * sb);
      const double offset = (ss - kappa * sb) / n;
      const sqnr_line line = fit_sqnr_line(d, lo, hi);
      INFO(to_string(d) << " " << lo << ".." << hi);
      CHECK(line.kappa_db == Approx(kappa).margin(1e-6));
      CHECK(line.offset_db == Approx(offset).margin(1e-5));
    }
  }
  constexpr sqnr_line u = fit_sqnr_line(D::uniform);
  static_assert(u.kappa_db > 6.0205 && u.kappa_db < 6.0207 && u.offset_db > -1e-6 &&
                u.offset_db < 1e-6);
  constexpr sqnr_line g = fit_sqnr_line(D::gaussian, 4, 12);
  static_assert(g.kappa_db > 5.3 && g.kappa_db < 5.5);
  // One bit-width: the local slope through its point.
  constexpr sqnr_line one = fit_sqnr_line(D::laplacian, 6, 6);
  CHECK(one.at(6) == Approx(sqnr_db(D::laplacian, 6)).margin(1e-12));
  CHECK(one.at(7) == Approx(sqnr_db(D::laplacian, 7)).margin(1e-12));
  CHECK_THROWS_AS(fit_sqnr_line(D::gaussian, 5, 4), std::domain_error);
}

TEST_CASE("the Q-format rule n = -ceil(log2(sigma step)) on known inputs", "[quant][format]") {
  // Uniform data on [-1, 1]: the step 2/2^b is a power of two: b - 1 fractional bits.
  for (int b = 2; b <= 16; ++b) {
    const q_format f = optimal_format(b, 1 / std::sqrt(3.0), D::uniform);
    // sigma * step may land a hair above 2^(1-b) in floating point; it must not be 2 below.
    CHECK((f.frac_bits == b - 1 || f.frac_bits == b - 2));
    CHECK(f.int_bits == b - f.frac_bits);
  }
  // N(0,1), 8 bits: step 0.03076 -> log2 = -5.02 -> 5 fractional bits, 3 integer bits.
  constexpr q_format g8 = optimal_format(8, 1.0, D::gaussian);
  static_assert(g8.bits == 8 && g8.frac_bits == 5 && g8.int_bits == 3);
  // Laplacian, sigma 0.1, 4 bits: step 0.0461 -> log2 = -4.44 -> 4 and 0.
  constexpr q_format l4 = optimal_format(4, 0.1, D::laplacian);
  static_assert(l4.frac_bits == 4 && l4.int_bits == 0);
  // Small weights: sigma 0.01, Gaussian, 8 bits: step 3.08e-4 -> log2 = -11.67 -> 11, -3.
  constexpr q_format w = optimal_format(8, 0.01, D::gaussian);
  static_assert(w.frac_bits == 11 && w.int_bits == -3);
  static_assert(std::is_same_v<fxp::fixed<w.int_bits, w.frac_bits>, fxp::fixed<-3, 11>>);
  // A product exactly on a power of two: sigma * step = 2^-6 gives 6 fractional bits.
  const double sigma = std::ldexp(1.0, -6) / optimal_step(D::gaussian, 8);
  const double s = sigma * optimal_step(D::gaussian, 8);
  CHECK(optimal_format(8, sigma, D::gaussian).frac_bits ==
        -static_cast<int>(std::ceil(std::log2(s))));
  CHECK_THROWS_AS(optimal_format(8, 0.0, D::gaussian), std::domain_error);
}

TEST_CASE("q_format::quantize is fxp::fixed's nearest-and-saturate", "[quant][format]") {
  constexpr q_format f{8, 3, 5};
  using T = fxp::fixed<3, 5>;
  for (double x = -5.0; x <= 5.0; x += 1.0 / 256) {
    INFO(x);
    CHECK(f.quantize(x) == T(x).to_double());
  }
  for (double x : {-4.0, -4.015625, -4.0156249, 3.96875, 3.984375, 1e9, -1e9, 0.0078125}) {
    INFO(x);
    CHECK(f.quantize(x) == T(x).to_double());
  }
  constexpr q_format g{12, -2, 14};
  using U = fxp::fixed<-2, 14>;
  for (double x = -0.15; x <= 0.15; x += 1.0 / 70000) CHECK(g.quantize(x) == U(x).to_double());
  static_assert(f.step() == 1.0 / 32 && f.max_value() == 4.0 - 1.0 / 32 && f.min_value() == -4.0);
}

TEST_CASE("constexpr elementary functions agree with the C library", "[quant][math]") {
  namespace m = fxp::quant::detail;
  for (double x = -700; x < 700; x += 0.731) CHECK(m::exp(x) == Approx(std::exp(x)).epsilon(4e-15));
  for (double x = -0.5; x < 0.5; x += 0.0137)
    CHECK(m::expm1(x) == Approx(std::expm1(x)).epsilon(4e-15));
  for (double x = 1e-300; x < 1e300; x *= 7.3) {
    CHECK(m::log(x) == Approx(std::log(x)).epsilon(1e-15).margin(1e-15));
    CHECK(m::sqrt(x) == Approx(std::sqrt(x)).epsilon(1e-15));
  }
  for (double x = -6; x < 26; x += 0.0173) CHECK(m::erfc(x) == Approx(std::erfc(x)).epsilon(2e-11));
  for (int k = -1074; k <= 1023; ++k) CHECK(m::pow2(k) == std::ldexp(1.0, k));
  for (double s : {1.0, 0.75, 0.5, 0.3, 3.0, 4.0, 1e-5, 1e300, std::ldexp(1.0, -1070)}) {
    CHECK(m::ceil_log2(s) == static_cast<int>(std::ceil(std::log2(s))));
  }
  static_assert(m::ceil_log2(0.25) == -2 && m::ceil_log2(0.2500001) == -1);
  static_assert(m::exp(1.0) > 2.718281828459045 - 1e-15 && m::exp(1.0) < 2.718281828459045 + 1e-15);
}
