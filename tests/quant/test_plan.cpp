// SPDX-License-Identifier: MIT
// Precision plans from a calibrated model (fxp/quant/plan.hpp): the allocation terms of the
// reference CNN, plans that set exactly the allocated formats, equal plans, and a smoke run
// of the pipeline's core (train briefly, calibrate, allocate, score in QAT) on a slice of
// Fashion-MNIST.

#include <fxp/io/batches.hpp>
#include <fxp/io/fashion_mnist.hpp>
#include <fxp/nn/nn.hpp>
#include <fxp/quant/calibration.hpp>
#include <fxp/quant/plan.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

namespace {

namespace nn = fxp::nn;
namespace quant = fxp::quant;

/// Deterministic pseudo-images in [0, 1) and labels 0..9.
struct synthetic {
  fxp::tensor<float> images{fxp::shape{64, 1, 28, 28}};
  std::vector<std::uint8_t> labels = std::vector<std::uint8_t>(64);
  synthetic() {
    std::uint32_t x = 12345;
    for (float& v : images) {
      x = x * 1664525u + 1013904223u;
      v = static_cast<float>(x >> 8) / 16777216.0f;
    }
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::uint8_t>(i % 10);
  }
};

/// The population standard deviation of a layer's weights, computed here.
double weight_stddev(const nn::layer& l) {
  double sum = 0, sum2 = 0, n = 0;
  for (const nn::parameter& p : l.parameters()) {
    if (p.kind != nn::role::weights) continue;
    for (float v : p.value) {
      sum += v;
      sum2 += static_cast<double>(v) * v;
      n += 1;
    }
  }
  const double mean = sum / n;
  return std::sqrt(sum2 / n - mean * mean);
}

}  // namespace

TEST_CASE("terms of the reference CNN: costs are weight counts, sigma the weights' stddev", "[plan]") {
  nn::sequential model = nn::reference_cnn(3);
  const synthetic data;
  const quant::model_statistics stats = quant::calibrate(model, data.images, data.labels, 32, 2);
  quant::plan_rule rule;
  rule.min_bits = 2;
  rule.max_bits = 10;
  const std::vector<quant::layer_term> terms = quant::make_layer_terms(stats, rule);
  REQUIRE(terms.size() == 4);
  const char* names[] = {"conv1", "conv2", "fc1", "fc2"};
  const double counts[] = {16 * 25, 32 * 16 * 25, 800 * 128, 128 * 10};
  for (std::size_t i = 0; i < 4; ++i) {
    CAPTURE(names[i]);
    CHECK(terms[i].layer == names[i]);
    CHECK(terms[i].kind == nn::role::weights);
    CHECK(terms[i].term.cost == counts[i]);
    CHECK(terms[i].term.sigma == Approx(weight_stddev(model.at(names[i]))).epsilon(1e-6));
    CHECK(terms[i].term.dist == stats.layers[model.at(names[i]).index()].weights.best_fit);
    const quant::sqnr_line line = quant::fit_sqnr_line(terms[i].term.dist, 2, 10);
    CHECK(terms[i].term.kappa_db == line.kappa_db);
    CHECK(terms[i].term.offset_db == line.offset_db);
    CHECK(terms[i].term.min_bits == 2);
    CHECK(terms[i].term.max_bits == 10);
  }

  rule.activation_terms = true;
  rule.activation_bits = 8;
  const std::vector<quant::layer_term> with_acts = quant::make_layer_terms(stats, rule);
  REQUIRE(with_acts.size() == 8);
  for (std::size_t i = 4; i < 8; ++i) {
    CHECK(with_acts[i].kind == nn::role::activations);
    CHECK(with_acts[i].term.cost == 0);
    CHECK(with_acts[i].term.min_bits == 8);
    CHECK(with_acts[i].term.max_bits == 8);
  }
  // Activation terms cost nothing and only add noise: the same target needs at least as
  // many weight bits.
  const double target = quant::equal_allocation(with_acts, 6).predicted_sqnr_db;
  CHECK(quant::allocate_layers(with_acts, target).total_cost >= quant::allocate_layers(terms, target).total_cost);

  rule.min_bits = 1;
  CHECK_THROWS_AS(quant::make_layer_terms(stats, rule), std::invalid_argument);
}

TEST_CASE("a plan from an allocation sets exactly the allocated formats", "[plan]") {
  nn::sequential model = nn::reference_cnn(4);
  const synthetic data;
  const quant::model_statistics stats = quant::calibrate(model, data.images, data.labels, 32, 2);
  quant::plan_rule rule;
  rule.max_bits = 10;
  rule.activation_bits = 12;
  rule.bias_bits = 16;
  const auto terms = quant::make_layer_terms(stats, rule);
  const quant::layer_allocation alloc = quant::allocate_layers(terms, 25.0);
  CHECK(alloc.predicted_sqnr_db >= 25.0 - 1e-9);
  const nn::precision_plan plan = quant::make_precision_plan(stats, alloc, rule);
  model.apply(plan);
  for (const auto& l : alloc.layers) {
    CAPTURE(l.layer, l.plan.bits);
    const nn::layer_precision& p = model.at(l.layer).precision();
    REQUIRE(p[nn::role::weights].has_value());
    const quant::layer_term* t = nullptr;
    for (const auto& term : terms)
      if (term.layer == l.layer) t = &term;
    REQUIRE(t != nullptr);
    const quant::q_format f = quant::optimal_format(l.plan.bits, t->term.sigma, t->term.dist);
    CHECK(*p[nn::role::weights] == fxp::dynamic_format{l.plan.bits, f.frac_bits, true});
    CHECK(p[nn::role::biases].has_value());
    CHECK(p[nn::role::biases]->bits == 16);
    CHECK(p.is_float(nn::role::errors));
    CHECK(p.is_float(nn::role::grads));
  }
  // Layers without weights get activation formats only.
  for (const char* name : {"relu1", "pool1", "flatten", "relu3"}) {
    const nn::layer_precision& p = model.at(name).precision();
    CHECK(p.is_float(nn::role::weights));
    REQUIRE(p[nn::role::activations].has_value());
    CHECK(p[nn::role::activations]->bits == 12);
  }
  CHECK(model.input_precision()[nn::role::activations].has_value());
  // The model's plan() reads back the same weight formats.
  const nn::precision_plan back = model.plan();
  for (const auto& l : alloc.layers) {
    CHECK(back.precision_of(l.layer)[nn::role::weights] == model.at(l.layer).precision()[nn::role::weights]);
  }
  // Applied to a model in QAT and switched to fixed point, the formats are the parameters'.
  model.set_mode(nn::training_mode::fixed);
  for (const auto& l : alloc.layers) {
    for (const nn::parameter& p : model.at(l.layer).parameters())
      if (p.kind == nn::role::weights) CHECK(p.qvalue.format().bits == l.plan.bits);
  }
}

TEST_CASE("range plans: roles of 0 bits stay float, master weights only when asked", "[plan][range]") {
  nn::sequential model = nn::reference_cnn(6);
  const synthetic data;
  const quant::model_statistics stats = quant::calibrate(model, data.images, data.labels, 32, 2);
  quant::plan_bits bits;
  bits.weights = 8;
  bits.biases = 16;
  bits.activations = 8;
  bits.errors = bits.grads = bits.updates = bits.state = 16;
  SECTION("no master copy: plain fixed point") {
    bits.master = 0;
    const nn::precision_plan plan = quant::range_plan(stats, bits);
    for (const char* name : {"conv1", "fc2"}) {
      const nn::layer_precision p = plan.precision_of(name);
      CAPTURE(name);
      CHECK(p.is_float(nn::role::master));
      REQUIRE(p[nn::role::weights].has_value());
      CHECK(p[nn::role::weights]->bits == 8);
      REQUIRE(p[nn::role::grads].has_value());
      CHECK(p[nn::role::grads]->bits == 16);
    }
  }
  SECTION("16-bit masters behind 8-bit weights") {
    bits.master = 16;
    const nn::precision_plan plan = quant::range_plan(stats, bits);
    const nn::layer_precision p = plan.precision_of("fc1");
    REQUIRE(p[nn::role::master].has_value());
    CHECK(p[nn::role::master]->bits == 16);
    // At least the 8-bit weights' range (with its own headroom), and finer steps.
    const fxp::dynamic_format m = *p[nn::role::master];
    const fxp::dynamic_format w = *p[nn::role::weights];
    CHECK(m.bits - m.frac >= w.bits - w.frac);
    CHECK(m.frac > w.frac);
  }
  SECTION("float errors and gradients: their formats are never derived") {
    bits.master = 0;
    bits.errors = bits.grads = bits.updates = bits.state = 0;
    const nn::precision_plan plan = quant::range_plan(stats, bits);
    const nn::layer_precision p = plan.precision_of("conv2");
    CHECK(p.is_float(nn::role::errors));
    CHECK(p.is_float(nn::role::grads));
    CHECK(p.is_float(nn::role::updates));
    CHECK(p[nn::role::weights].has_value());
  }
}

TEST_CASE("equal plans and the allocations beside them", "[plan]") {
  nn::sequential model = nn::reference_cnn(5);
  const synthetic data;
  const quant::model_statistics stats = quant::calibrate(model, data.images, data.labels, 32, 2);
  quant::plan_rule rule;
  rule.max_bits = 10;
  const auto terms = quant::make_layer_terms(stats, rule);
  double weights = 0;
  for (const auto& t : terms) weights += t.term.cost;
  double previous = -1e9;
  for (int b = 2; b <= 8; ++b) {
    CAPTURE(b);
    const quant::layer_allocation eq = quant::equal_allocation(terms, b);
    CHECK(eq.total_cost == b * weights);
    std::vector<double> sqnrs;
    for (const auto& l : eq.layers) {
      CHECK(l.plan.bits == b);
      sqnrs.push_back(l.plan.sqnr_db);
    }
    CHECK(eq.predicted_sqnr_db == Approx(quant::combine_sqnr_db(sqnrs)).epsilon(1e-12));
    CHECK(eq.predicted_sqnr_db > previous);
    previous = eq.predicted_sqnr_db;
    // The solver at the equal plan's predicted SQNR is never larger (the equal plan is
    // feasible), and within the equal plan's size it predicts at least as much.
    const quant::layer_allocation opt = quant::allocate_layers(terms, eq.predicted_sqnr_db);
    CHECK(opt.total_cost <= eq.total_cost);
    CHECK(opt.predicted_sqnr_db >= eq.predicted_sqnr_db - 1e-9);
    const quant::layer_allocation dual = quant::allocate_layers_within(terms, eq.total_cost);
    CHECK(dual.total_cost <= eq.total_cost);
    CHECK(dual.predicted_sqnr_db >= eq.predicted_sqnr_db - 1e-9);
    // The equal plan gives every layer b bits.
    const nn::precision_plan plan = quant::equal_plan(stats, b, rule);
    nn::sequential m = nn::reference_cnn(5);
    m.apply(plan);
    for (const auto& t : terms) CHECK(m.at(t.layer).precision()[nn::role::weights]->bits == b);
  }
  // One term alone (padded inside) is solved as the single-term problem.
  const std::vector<quant::layer_term> one(terms.begin(), terms.begin() + 1);
  const quant::layer_allocation single = quant::allocate_layers(one, 20.0);
  REQUIRE(single.layers.size() == 1);
  int least = 2;
  while (quant::term_sqnr_db(one[0].term, least) < 20.0) ++least;
  CHECK(single.layers[0].plan.bits == least);
  CHECK(single.predicted_sqnr_db == Approx(quant::term_sqnr_db(one[0].term, least)).epsilon(1e-9));
  CHECK_THROWS_AS(quant::equal_allocation(terms, 11), std::invalid_argument);
}

TEST_CASE("the pipeline's core on a slice of Fashion-MNIST", "[plan][data]") {
  fxp::set_num_threads(2);
  fxp::io::fashion_mnist_options o;
  o.max_train = 1024;
  o.max_test = 500;
  const fxp::io::fashion_mnist data = fxp::io::load_fashion_mnist(fxp::io::fashion_mnist_default_dir, o);
  nn::sequential model = nn::reference_cnn(1);
  nn::sgd opt(nn::lr_schedule::constant(0.02), 0.9, 0.0);
  nn::trainer trainer(model, opt);
  const fxp::io::batch_plan batches(data.train.size(), 32, fxp::io::last_batch::drop);
  fxp::io::batch b;
  for (std::uint32_t epoch = 0; epoch < 2; ++epoch) {
    const fxp::io::epoch_batches order(batches, 1, epoch);
    for (std::size_t i = 0; i < batches.batch_count(); ++i) {
      fxp::io::gather(data.train.view(), order[i], b);
      (void)trainer.step(b.images, b.labels);
    }
  }
  const auto& test = data.test;
  const quant::scored_logits reference = quant::score_model(model, test.images(), std::span(test.labels()));
  CHECK(reference.accuracy > 0.4);  // two passes over 1024 images: well above chance (0.1)
  const quant::model_statistics stats = quant::calibrate(
      model, fxp::tensor<float>(data.train.images().slice(0, 256)), std::span(data.train.labels()).first(256), 128, 2);
  nn::training_state float_state;
  model.append_state(float_state);
  quant::plan_rule rule;
  rule.max_bits = 10;
  const auto terms = quant::make_layer_terms(stats, rule);

  std::vector<double> measured;
  for (int bits : {2, 8}) {
    const quant::layer_allocation eq = quant::equal_allocation(terms, bits);
    const quant::layer_allocation opt_alloc = quant::allocate_layers(terms, eq.predicted_sqnr_db);
    CHECK(opt_alloc.total_cost <= eq.total_cost);
    model.load_state(float_state);
    model.apply(quant::make_precision_plan(stats, eq, rule));
    model.set_mode(nn::training_mode::qat);
    const quant::scored_logits s = quant::score_model(model, test.images(), std::span(test.labels()));
    measured.push_back(quant::measured_sqnr_db(reference.logits, s.logits));
    if (bits == 8) CHECK(std::abs(s.accuracy - reference.accuracy) < 0.03);
  }
  // Six more weight bits on every layer: a much cleaner output (the model predicts ~30 dB).
  CHECK(measured[1] > measured[0] + 15);
  // Back in float the reference comes back exactly.
  model.load_state(float_state);
  const quant::scored_logits again = quant::score_model(model, test.images(), std::span(test.labels()));
  CHECK(again.logits == reference.logits);

  const auto sens = quant::measure_sensitivity(model, float_state, terms, test.images(), std::span(test.labels()),
                                               reference.logits, 100, 4, 5);
  REQUIRE(sens.size() == 8);
  for (const auto& s : sens) {
    CAPTURE(s.layer, s.bits);
    CHECK(std::isfinite(s.output_db));
    CHECK(s.weight_db > 5);
  }
}
