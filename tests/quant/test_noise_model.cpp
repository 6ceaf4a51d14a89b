// SPDX-License-Identifier: MIT
// The noise model 1/g_out = sum_i 1/g_i on a random linear network: a chain of random
// Gaussian matrices applied to Gaussian inputs, each weight matrix and each activation
// quantized (in double arithmetic) with its designed format, the output compared with the
// float network's.
//
// Margin: 0.3 dB. The model is exact in expectation for this network (every noise is
// independent of the signal it rides on and passes through the same random linear maps, so
// each term's share of the output noise is its own 1/g), and what is left is sampling: each
// term's noise power is averaged over >= 16384 values, a relative error of about
// sqrt(2 / 16384) = 1% (0.05 dB), and the seven terms' errors partly cancel. A wrong model
// misses by more: dropping any one of the seven terms moves the prediction by >= 0.4 dB
// here, adding SQNRs in dB instead of noise powers by tens of dB, and ignoring that the
// format's step is a power of two (not the optimal step) by up to 6 dB per term.
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <fxp/quant/quant.hpp>
#include <random>
#include <vector>

using namespace fxp::quant;
using D = distribution;

namespace {

constexpr std::size_t width = 128;    // every layer is width x width
constexpr std::size_t samples = 400;  // input vectors
constexpr std::size_t layers = 3;

using matrix = std::vector<double>;  // row-major

// out (width x samples) = w (width x width) * in (width x samples)
matrix multiply(const matrix& w, const matrix& in) {
  matrix out(width * samples, 0.0);
  for (std::size_t i = 0; i < width; ++i) {
    for (std::size_t k = 0; k < width; ++k) {
      const double wik = w[i * width + k];
      for (std::size_t s = 0; s < samples; ++s) out[i * samples + s] += wik * in[k * samples + s];
    }
  }
  return out;
}

matrix quantized(const matrix& m, const q_format& f) {
  matrix q(m.size());
  for (std::size_t i = 0; i < m.size(); ++i) q[i] = f.quantize(m[i]);
  return q;
}

double stddev(const matrix& m) { return compute_statistics(m).stddev; }

// The predicted SQNR of one tensor under its format: the Gaussian quantizer's SQNR at the
// format's actual step per unit sigma.
double predicted_db(const q_format& f, double sigma) {
  return quantizer_sqnr_db(D::gaussian, f.bits, f.step() / sigma);
}

struct network {
  std::array<matrix, layers> weights;
  matrix input;
  // float activations a_0 .. a_L
  std::array<matrix, layers + 1> activations;
};

network random_network(std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  network net;
  net.input.resize(width * samples);
  for (double& x : net.input) x = normal(gen);
  for (std::size_t l = 0; l < layers; ++l) {
    // Different scales per layer, so the formats differ (some with negative int_bits).
    const double scale = (l == 1 ? 3.0 : 0.7) / std::sqrt(double(width));
    net.weights[l].resize(width * width);
    for (double& w : net.weights[l]) w = scale * normal(gen);
  }
  net.activations[0] = net.input;
  for (std::size_t l = 0; l < layers; ++l) {
    net.activations[l + 1] = multiply(net.weights[l], net.activations[l]);
  }
  return net;
}

// Runs the quantized network with activation formats act[0..L] and weight formats w[0..L-1];
// returns the measured output SQNR and the predicted one.
struct outcome {
  double measured_db;
  double predicted_db;
  std::vector<double> term_db;  // per-term predictions, a_0, w_1, a_1, ...
};

outcome run(const network& net, const std::array<q_format, layers + 1>& act,
            const std::array<q_format, layers>& w) {
  outcome o{};
  matrix a = quantized(net.input, act[0]);
  o.term_db.push_back(predicted_db(act[0], stddev(net.activations[0])));
  for (std::size_t l = 0; l < layers; ++l) {
    const matrix wq = quantized(net.weights[l], w[l]);
    o.term_db.push_back(predicted_db(w[l], stddev(net.weights[l])));
    a = quantized(multiply(wq, a), act[l + 1]);
    o.term_db.push_back(predicted_db(act[l + 1], stddev(net.activations[l + 1])));
  }
  o.measured_db = measured_sqnr_db(net.activations[layers], a);
  o.predicted_db = combine_sqnr_db(o.term_db);
  return o;
}

}  // namespace

TEST_CASE("each quantized tensor's SQNR is the design's", "[quant][noise]") {
  // 2^20 Gaussian values per case. The granular noise is then measured to 0.3%; the
  // overload noise comes from the few hundred values beyond the range (Poisson error
  // about 5%) and is at most a fifth of the total: margin 0.1 dB. (A 16384-value weight
  // matrix has only a handful of values out there, which is why this check does not use
  // the network's own weights.)
  std::mt19937_64 gen(11);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> v(std::size_t{1} << 20);
  for (double sigma : {0.062, 0.27, 3.0}) {
    for (double& x : v) x = sigma * normal(gen);
    const double measured_sigma = stddev(v);
    for (int bits : {4, 6, 8, 10}) {
      const q_format f = optimal_format(bits, measured_sigma, D::gaussian);
      INFO("sigma " << sigma << " bits " << bits);
      CHECK(measured_sqnr_db(v, f) == Approx(predicted_db(f, measured_sigma)).margin(0.1));
    }
  }
}

TEST_CASE("predicted and measured output SQNR of a random linear network agree", "[quant][noise]") {
  const network net = random_network(20261201);
  auto act_format = [&](std::size_t l, int bits) {
    return optimal_format(bits, stddev(net.activations[l]), D::gaussian);
  };
  auto w_format = [&](std::size_t l, int bits) {
    return optimal_format(bits, stddev(net.weights[l]), D::gaussian);
  };
  // Mixed widths: 8/6/8/7/6/8/8 for a_0, w_1, a_1, w_2, a_2, w_3, a_3.
  const std::array<q_format, layers + 1> act{act_format(0, 8), act_format(1, 8), act_format(2, 6),
                                             act_format(3, 8)};
  const std::array<q_format, layers> w{w_format(0, 6), w_format(1, 7), w_format(2, 8)};
  const outcome o = run(net, act, w);
  INFO("measured " << o.measured_db << " dB, predicted " << o.predicted_db << " dB");
  CHECK(o.measured_db == Approx(o.predicted_db).margin(0.3));
  // The terms are comparable, so the combination matters: every term is within 10 dB of
  // the output and leaving out the weakest one would miss by more than the margin.
  double weakest = 1e9;
  for (double t : o.term_db) weakest = std::min(weakest, t);
  std::vector<double> without_weakest;
  bool dropped = false;
  for (double t : o.term_db) {
    if (!dropped && t == weakest) {
      dropped = true;
      continue;
    }
    without_weakest.push_back(t);
  }
  CHECK(std::fabs(combine_sqnr_db(without_weakest) - o.measured_db) > 0.4);
  CHECK(o.predicted_db < weakest);
}

TEST_CASE("a plan from allocate delivers its predicted SQNR on the network", "[quant][noise]") {
  const network net = random_network(5);
  // Terms a_0, w_1, a_1, w_2, a_2, w_3, a_3; weights cost their count, activations 0 but
  // bounded to 8 bits (as a fixed activation width would be).
  std::array<term, 2 * layers + 1> terms{};
  for (std::size_t l = 0; l <= layers; ++l) {
    terms[2 * l] = make_term(0, D::gaussian, stddev(net.activations[l]), 2, 8);
    if (l < layers) {
      terms[2 * l + 1] = make_term(double(width * width) * static_cast<double>(l + 1), D::gaussian,
                                   stddev(net.weights[l]), 2, 16);
    }
  }
  const auto plan = allocate(terms, 30.0);
  std::array<q_format, layers + 1> act{};
  std::array<q_format, layers> w{};
  for (std::size_t l = 0; l <= layers; ++l) {
    act[l] = {plan[2 * l].bits, plan[2 * l].int_bits, plan[2 * l].frac_bits};
    if (l < layers)
      w[l] = {plan[2 * l + 1].bits, plan[2 * l + 1].int_bits, plan[2 * l + 1].frac_bits};
  }
  const outcome o = run(net, act, w);
  INFO("measured " << o.measured_db << " dB, predicted with the formats' steps " << o.predicted_db
                   << " dB, plan " << plan.predicted_sqnr_db << " dB");
  CHECK(o.measured_db == Approx(o.predicted_db).margin(0.3));
  // The plan's line model assumes the optimal step; the power-of-two step of the format
  // can only lose SQNR against it (up to 6 dB per term), never gain beyond the fit error.
  CHECK(o.predicted_db <= plan.predicted_sqnr_db + 0.5);
  // Bigger layers got no more bits than smaller ones.
  CHECK(plan[5].bits <= plan[3].bits);
  CHECK(plan[3].bits <= plan[1].bits);
}
