// SPDX-License-Identifier: MIT
// Statistics of synthetic data from fixed seeds, the batch accumulator, and the two
// comparison formats (max-range, measured-SQNR search) on crafted data.
#include <catch2/catch.hpp>
#include <cmath>
#include <fxp/quant/quant.hpp>
#include <fxp/tensor/container.hpp>
#include <random>
#include <vector>

using namespace fxp::quant;
using D = distribution;

namespace {

std::vector<double> sample(D d, std::size_t n, double mean, double sigma, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<double> v(n);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  std::exponential_distribution<double> expo(std::sqrt(2.0));  // Laplacian scale 1/sqrt(2)
  std::bernoulli_distribution sign(0.5);
  for (double& x : v) {
    double z = 0;
    switch (d) {
      case D::gaussian:
        z = normal(gen);
        break;
      case D::uniform:
        z = std::sqrt(3.0) * unit(gen);
        break;
      case D::laplacian:
        z = sign(gen) ? expo(gen) : -expo(gen);
        break;
    }
    x = mean + sigma * z;
  }
  return v;
}

}  // namespace

TEST_CASE("statistics of Gaussian, Laplacian and uniform samples", "[quant][statistics]") {
  const std::size_t n = 50000;
  const double mean = 0.25, sigma = 2.0;
  for (D d : all_distributions) {
    INFO(to_string(d));
    const auto v = sample(d, n, mean, sigma, 20261201 + static_cast<std::uint64_t>(d));
    const statistics s = compute_statistics(v);
    CHECK(s.count == n);
    // Bounds of 5 standard errors: the mean's is sigma/sqrt(n); the standard deviation's
    // is sigma sqrt((kurtosis - 1) / (4 n)), kurtosis 1.8 / 3 / 6.
    const double kurtosis = d == D::uniform ? 1.8 : (d == D::gaussian ? 3.0 : 6.0);
    CHECK(std::fabs(s.mean - mean) < 5 * sigma / std::sqrt(double(n)));
    CHECK(std::fabs(s.stddev - sigma) < 5 * sigma * std::sqrt((kurtosis - 1) / (4.0 * n)));
    CHECK(s.best_fit == d);
    // The winner's margin over the runner-up is far above the sampling noise of the
    // log-likelihood difference (of order 1/sqrt(n) nats).
    for (D other : all_distributions) {
      if (other != d) CHECK(s.log_likelihood_of(d) - s.log_likelihood_of(other) > 0.02);
    }
    // max |x - mean| over n draws, with the probability of leaving each bound:
    // uniform just below sqrt(3) sigma (P(max < (1 - 1e-3) sqrt 3) = (1 - 1e-3)^n ~ 0);
    // Gaussian in (3.9, 5.5) sigma (P(max < 3.9) = (1 - 9.6e-5)^n = 0.008,
    // P(max > 5.5) < 3.8e-8 n = 0.002); Laplacian, P(|x| > t sigma) = e^{-sqrt(2) t}, in
    // (6, 11) sigma (P(max < 6) = e^{-10}, P(max > 11) < 0.009).
    const double spread = std::max(s.max - mean, mean - s.min) / sigma;
    if (d == D::uniform) CHECK((spread > std::sqrt(3.0) * (1 - 1e-3) && spread <= std::sqrt(3.0)));
    if (d == D::gaussian) CHECK((spread > 3.9 && spread < 5.5));
    if (d == D::laplacian) CHECK((spread > 6.0 && spread < 11.0));
    CHECK(s.max_abs == std::max(std::fabs(s.min), std::fabs(s.max)));
    // The Laplacian scale: E|x - mean| = sigma/sqrt(2) (Laplacian), sigma sqrt(2/pi)
    // (Gaussian), sigma sqrt(3)/2 (uniform); 5 standard errors, each below sigma/sqrt(n).
    const double expected_mad = sigma * (d == D::laplacian  ? 1 / std::sqrt(2.0)
                                         : d == D::gaussian ? std::sqrt(2 / std::acos(-1.0))
                                                            : std::sqrt(3.0) / 2);
    CHECK(std::fabs(s.mean_abs_deviation - expected_mad) < 5 * sigma / std::sqrt(double(n)));
  }
}

TEST_CASE("the accumulator over batches equals one pass over everything", "[quant][statistics]") {
  const auto v = sample(D::laplacian, 30000, -1.5, 0.3, 7);
  statistics_accumulator acc;
  std::size_t at = 0;
  for (std::size_t size : {1000u, 1u, 7000u, 12000u, 9999u}) {
    acc.add(std::vector<double>(v.begin() + static_cast<std::ptrdiff_t>(at),
                                v.begin() + static_cast<std::ptrdiff_t>(at + size)));
    at += size;
  }
  acc.add(std::vector<double>(v.begin() + static_cast<std::ptrdiff_t>(at), v.end()));
  acc.add(std::vector<double>{});  // empty batches change nothing
  const statistics whole = compute_statistics(v);
  const statistics batched = acc.result();
  // Reference moments written out here, two passes in long double.
  long double sum = 0, sq = 0;
  for (double x : v) sum += x;
  const long double mean = sum / v.size();
  for (double x : v) sq += (x - mean) * (x - mean);
  const double sd = static_cast<double>(std::sqrt(sq / v.size()));
  CHECK(batched.count == v.size());
  CHECK(batched.mean == Approx(static_cast<double>(mean)).epsilon(1e-12));
  CHECK(batched.stddev == Approx(sd).epsilon(1e-12));
  CHECK(whole.stddev == Approx(sd).epsilon(1e-12));
  CHECK(batched.min == *std::min_element(v.begin(), v.end()));
  CHECK(batched.max == *std::max_element(v.begin(), v.end()));
  // The batched deviation is about the first batch's mean: close, not equal.
  CHECK(batched.mean_abs_deviation == Approx(whole.mean_abs_deviation).epsilon(1e-3));
  CHECK(batched.best_fit == D::laplacian);
  CHECK(whole.best_fit == D::laplacian);
}

TEST_CASE("statistics accept tensors, floats and braced lists", "[quant][statistics]") {
  fxp::tensor<float> t(fxp::shape{2, 3});
  const float values[] = {1.f, -2.f, 3.f, 0.5f, -0.5f, 4.f};
  std::copy(std::begin(values), std::end(values), t.begin());
  const statistics s = compute_statistics(t);
  CHECK(s.count == 6);
  CHECK(s.mean == Approx(1.0));
  CHECK(s.max_abs == 4.0);
  CHECK(s.min == -2.0);
  statistics_accumulator acc;
  acc.add({1.0, -2.0, 3.0});
  acc.add(std::vector<float>{0.5f, -0.5f, 4.0f});
  CHECK(acc.result().stddev == Approx(s.stddev).epsilon(1e-12));
  CHECK_THROWS_AS(acc.add({1.0, std::nan("")}), std::domain_error);
  CHECK(compute_statistics(std::vector<double>{}).count == 0);
  CHECK(compute_statistics(std::vector<double>{2.0, 2.0}).best_fit == D::gaussian);  // no spread
}

TEST_CASE("max-range format: the most fractional bits with nothing saturating", "[quant][format]") {
  // 8 bits, F = 7: the raw range is [-128, 127] and x rounds to nearest (ties up), so a
  // value saturates only from 127.5 / 128 = 0.99609375 up and below -128.5 / 128.
  CHECK(max_range_format(8, -0.9, 0.7) == q_format{8, 1, 7});
  CHECK(max_range_format(8, 0.0, 0.996) == q_format{8, 1, 7});
  CHECK(max_range_format(8, 0.0, 0.99609375) == q_format{8, 2, 6});
  CHECK(max_range_format(8, -1.0, 0.0) == q_format{8, 1, 7});
  CHECK(max_range_format(8, -1.0039, 0.0) == q_format{8, 1, 7});
  CHECK(max_range_format(8, -1.0040, 0.0) == q_format{8, 2, 6});
  CHECK(max_range_format(4, -100.0, 3.0) == q_format{4, 8, -4});  // step 16: -112 .. 112
  CHECK(max_range_format(16, -0.001, 0.001) == q_format{16, -8, 24});
  CHECK(max_range_format(8, 0.0, 0.0) == q_format{8, 1, 7});
  // On data: nothing saturates, and one more fractional bit would saturate something.
  const auto v = sample(D::gaussian, 5000, 0.0, 0.37, 99);
  const q_format f = max_range_format(8, compute_statistics(v));
  const q_format tighter{8, f.int_bits - 1, f.frac_bits + 1};
  bool any_saturates = false;
  for (double x : v) {
    CHECK((f.quantize(x) > f.min_value() - 1 && std::fabs(f.quantize(x) - x) <= f.step() / 2));
    any_saturates = any_saturates || std::fabs(tighter.quantize(x) - x) > tighter.step() / 2;
  }
  CHECK(any_saturates);
}

TEST_CASE("measured-SQNR search picks the format with the highest measured SQNR",
          "[quant][format]") {
  // 10^5 values on [-1, 1] and one outlier at 3: the max-range format (F = 5, since
  // 3 * 32 = 96 < 127.5) pays granular noise 10^5 (1/32)^2 / 12 = 8.1 for the outlier; at
  // F = 6 the outlier clips to 127/64 (error 1.04) and the granular noise is 2.0, a gain of
  // 10 log10(8.1 / 3.1) = 4.2 dB; at F = 7 the clipping error of 4 outweighs it.
  std::vector<double> v(100000);
  std::mt19937_64 gen(3);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  for (double& x : v) x = unit(gen);
  v.push_back(3.0);
  const measured_format best = best_measured_format(v, 8);
  const q_format widest = max_range_format(8, -1.0, 3.0);
  CHECK(widest.frac_bits == 5);
  // Reference: every fractional length from -8 to 40, quantized here with the test's own
  // round-half-up and clamp.
  int best_frac = 0;
  double best_sqnr = -INFINITY;
  for (int frac = -8; frac <= 40; ++frac) {
    double signal = 0, noise = 0;
    for (double x : v) {
      const double raw = std::clamp(std::floor(std::ldexp(x, frac) + 0.5), -128.0, 127.0);
      const double q = std::ldexp(raw, -frac);
      signal += x * x;
      noise += (x - q) * (x - q);
    }
    const double sqnr = 10 * std::log10(signal / noise);
    if (sqnr > best_sqnr) {
      best_sqnr = sqnr;
      best_frac = frac;
    }
  }
  CHECK(best.format.frac_bits == best_frac);
  CHECK(best.format.int_bits == 8 - best_frac);
  CHECK(best.sqnr_db == Approx(best_sqnr).epsilon(1e-12));
  CHECK(best_frac == 6);
  CHECK(best.sqnr_db - measured_sqnr_db(v, widest) == Approx(4.2).margin(0.2));
  // On Gaussian data without outliers the optimal-step format is as good as the search.
  const auto g = sample(D::gaussian, 20000, 0.0, 1.0, 5);
  const measured_format mg = best_measured_format(g, 8);
  const q_format og = optimal_format(8, compute_statistics(g).stddev, D::gaussian);
  CHECK(measured_sqnr_db(g, og) > mg.sqnr_db - 0.5);
}

TEST_CASE("measured SQNR of two ranges", "[quant][model]") {
  const std::vector<double> ref{1.0, -2.0, 3.0};
  const std::vector<float> approx{1.0f, -2.0f, 2.5f};
  CHECK(measured_sqnr_db(ref, approx) == Approx(10 * std::log10(14.0 / 0.25)));
  CHECK(measured_sqnr_db(ref, ref) == INFINITY);
  CHECK_THROWS_AS(measured_sqnr_db(ref, std::vector<double>{1.0}), std::domain_error);
  CHECK_THROWS_AS(measured_sqnr_db(std::vector<double>{1.0}, ref), std::domain_error);
  // Quantizing with a format: the noise is the format's rounding.
  const q_format f{4, 1, 3};
  CHECK(measured_sqnr_db(ref, f) ==
        Approx(measured_sqnr_db(
            ref, std::vector<double>{f.quantize(1.0), f.quantize(-2.0), f.quantize(3.0)})));
}
