// SPDX-License-Identifier: MIT
// Analytic gradients of every layer and of the loss against central finite differences.
//
// The tensor kernels compute in float only, so the check runs on float layers with the
// loss L = sum_j r_j y_j (r random) accumulated in double. Dense and convolution are
// linear in each input and weight, so the central difference (L(x + h) - L(x - h)) / 2h
// has no truncation error; what remains is float rounding of y: each y_j is a sum of at
// most K = 100 products of values below 2 in magnitude, off by at most ~K * 2^-24 * 2
// ~ 1.2e-5, so the difference quotient errs by at most sum_j |r_j| * 2.4e-5 / (2h) ~
// 1e-3 * (number of outputs / 1000) with h = 0.05. Relu and max pooling are checked on inputs
// at least 4h away from their kinks (and from ties), where they are linear too. The loss
// is smooth: with h = 1e-3 its truncation error h^2 / 6 * |f'''| stays below 1e-6.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "nn_test_util.hpp"

namespace nn = fxp::nn;
using fxp::shape;
using fxp::tensor;

namespace {

double dot(const tensor<float>& y, const tensor<float>& r) {
  double s = 0.0;
  for (std::size_t i = 0; i < y.size(); ++i) s += static_cast<double>(y[i]) * static_cast<double>(r[i]);
  return s;
}

/// Compares the analytic gradient `ana` of L(t) = loss() with respect to t with the central
/// difference, element by element.
void check_gradient(tensor<float>& t, const tensor<float>& ana, const std::function<double()>& loss,
                    float h, double tol, const char* what) {
  REQUIRE(ana.shape() == t.shape());
  double worst = 0.0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const float keep = t[i];
    t[i] = keep + h;
    const double up = loss();
    t[i] = keep - h;
    const double down = loss();
    t[i] = keep;
    const double num = (up - down) / (2.0 * static_cast<double>(h));
    const double err = std::abs(num - static_cast<double>(ana[i])) / std::max(1.0, std::abs(num));
    worst = std::max(worst, err);
  }
  INFO(what << ": worst relative error " << worst);
  CHECK(worst < tol);
}

/// Checks dL/dx and dL/dparameters of `l` at x, with L = sum r * forward(x).
void check_layer(nn::layer& l, tensor<float> x, std::uint64_t seed, float h = 0.05f, double tol = 2e-3) {
  const auto ctx = fxp_test::float_context();
  nn::value y = l.forward(nn::value(x), ctx);
  const tensor<float> r = fxp_test::uniform(y.shape(), seed);
  nn::value dx = l.backward(nn::value(x), y, nn::value(r), ctx, true);
  REQUIRE(dx.shape() == x.shape());
  auto loss = [&] { return dot(l.forward(nn::value(x), ctx).f, r); };
  check_gradient(x, dx.f, loss, h, tol, "input");
  for (auto& p : l.parameters()) {
    const tensor<float> g = p.grad;
    check_gradient(p.value, g, loss, h, tol, p.name.c_str());
  }
}

/// Values whose magnitude is at least `gap` and whose pairwise distances in each group are
/// at least `gap` (a shuffled ladder), so relu and max pooling are smooth within +-h.
tensor<float> ladder(const shape& s, std::uint64_t seed, float gap) {
  tensor<float> t(s);
  std::vector<float> v(t.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    const float k = static_cast<float>(i) - static_cast<float>(v.size()) / 2.0f;
    v[i] = (k >= 0 ? k + 0.5f : k - 0.5f) * gap;
  }
  std::mt19937_64 gen(seed);
  std::shuffle(v.begin(), v.end(), gen);
  for (std::size_t i = 0; i < v.size(); ++i) t[i] = v[i];
  return t;
}

}  // namespace

TEST_CASE("dense: gradients of input, weights and biases") {
  nn::sequential m;
  auto& d = m.add<nn::dense>("fc", 7, 5);
  m.initialize(3);
  check_layer(d, fxp_test::uniform(shape{4, 7}, 11), 12);
}

TEST_CASE("conv2d: gradients with stride and padding") {
  SECTION("stride 1, pad 2") {
    nn::sequential m;
    auto& c = m.add<nn::conv2d>("conv", 2, 3, 3, fxp::conv2d_params::square(1, 2));
    m.initialize(5);
    check_layer(c, fxp_test::uniform(shape{2, 2, 5, 5}, 21), 22);
  }
  SECTION("stride 2, pad 1, 5x5 kernel") {
    nn::sequential m;
    auto& c = m.add<nn::conv2d>("conv", 3, 2, 5, fxp::conv2d_params::square(2, 1));
    m.initialize(6);
    check_layer(c, fxp_test::uniform(shape{2, 3, 7, 8}, 23), 24);
  }
}

TEST_CASE("relu: gradient away from zero") {
  nn::relu r("relu");
  check_layer(r, ladder(shape{2, 3, 4, 4}, 31, 0.2f), 32);
}

TEST_CASE("max_pool2d: gradient without ties") {
  SECTION("2x2, stride 2") {
    nn::max_pool2d p("pool", 2);
    check_layer(p, ladder(shape{2, 2, 6, 6}, 41, 0.2f), 42);
  }
  SECTION("3x3, stride 2 (overlapping windows)") {
    nn::max_pool2d p("pool", 3, 2);
    check_layer(p, ladder(shape{1, 2, 7, 7}, 43, 0.2f), 44);
  }
}

TEST_CASE("avg_pool2d: gradient") {
  SECTION("2x2, stride 2") {
    nn::avg_pool2d p("pool", 2);
    check_layer(p, fxp_test::uniform(shape{2, 3, 6, 4}, 51), 52);
  }
  SECTION("3x3, stride 1") {
    nn::avg_pool2d p("pool", 3, 1);
    check_layer(p, fxp_test::uniform(shape{1, 2, 5, 6}, 53), 54);
  }
}

TEST_CASE("flatten: gradient is the reshaped error") {
  nn::flatten f("flatten");
  check_layer(f, fxp_test::uniform(shape{3, 2, 2, 3}, 61), 62);
}

TEST_CASE("softmax cross-entropy: gradient and value") {
  tensor<float> logits = fxp_test::uniform(shape{4, 6}, 71, -3.0f, 3.0f);
  const std::vector<int> labels = {0, 5, 2, 2};
  const nn::loss_result r = nn::softmax_cross_entropy(logits, std::span<const int>(labels));
  auto loss = [&] { return nn::softmax_cross_entropy(logits, std::span<const int>(labels)).loss; };
  check_gradient(logits, r.grad, loss, 1e-3f, 1e-3, "logits");
  // The value itself, from the definition: mean of log(sum exp) - logit[label].
  double expect = 0.0;
  for (std::size_t i = 0; i < 4; ++i) {
    double s = 0.0;
    for (std::size_t j = 0; j < 6; ++j) s += std::exp(static_cast<double>(logits(i, j)));
    expect += std::log(s) - static_cast<double>(logits(i, static_cast<std::size_t>(labels[i])));
  }
  CHECK(r.loss == Approx(expect / 4.0).epsilon(1e-12));
  const std::vector<int> bad = {0, 6, 1, 1};
  CHECK_THROWS_AS(nn::softmax_cross_entropy(logits, std::span<const int>(bad)), std::invalid_argument);
}

TEST_CASE("reference CNN: whole-model gradient of a few weights") {
  nn::sequential net = nn::reference_cnn(9);
  REQUIRE(net.size() == 10);
  const auto counts = net.parameter_counts();
  CHECK(counts[0].second == 16 * 25 + 16);
  CHECK(counts[3].second == 32 * 16 * 25 + 32);
  CHECK(counts[7].second == 800 * 128 + 128);
  CHECK(counts[9].second == 128 * 10 + 10);
  CHECK(net.parameters()[0]->name == "conv1.weights");
  const tensor<float> x = fxp_test::uniform(shape{2, 1, 28, 28}, 81, 0.0f, 1.0f);
  const std::vector<int> labels = {3, 7};
  auto loss = [&] {
    return nn::softmax_cross_entropy(net.forward(x).to_float(), std::span<const int>(labels)).loss;
  };
  const auto r = nn::softmax_cross_entropy(net.forward(x).to_float(), std::span<const int>(labels));
  net.backward(r.grad);
  // A handful of weights of every parametrised layer (relu kinks make a full check flaky
  // at float precision; a few elements with h = 1e-2 stay on one side of every kink).
  for (auto* p : net.parameters()) {
    const tensor<float> g = p->grad;
    for (std::size_t i = 0; i < p->value.size(); i += p->value.size() / 5 + 1) {
      const float keep = p->value[i];
      p->value[i] = keep + 1e-2f;
      const double up = loss();
      p->value[i] = keep - 1e-2f;
      const double down = loss();
      p->value[i] = keep;
      const double num = (up - down) / 2e-2;
      INFO(p->name << "[" << i << "]: numeric " << num << ", analytic " << g[i]);
      CHECK(std::abs(num - static_cast<double>(g[i])) < 2e-3 + 2e-2 * std::abs(num));
    }
  }
}
