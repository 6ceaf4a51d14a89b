// SPDX-License-Identifier: MIT
// A small CNN learns a synthetic four-class problem in every training mode (the loss starts
// at ln 4 = 1.386); optimizers and schedules; state save / resume bit for bit.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <variant>

#include "state_compare.hpp"
#include "synthetic.hpp"

namespace nn = fxp::nn;

namespace {

const char* plan16 =
    "input acts=u8.7\n"
    "*     weights=s16.14 biases=s16.12 acts=s16.10 errors=s16.14 grads=s16.12\n";

const char* plan8_master =
    "input acts=u8.7\n"
    "*     weights=s8.6 master=s16.14 biases=s16.12 acts=s8.4 errors=s16.14 grads=s16.12\n";

nn::sequential fixed_model(const char* plan, fxp::rounding_mode r, nn::training_mode mode, std::uint64_t seed = 5) {
  nn::sequential m = fxp_test::small_cnn(seed);
  m.apply(nn::precision_plan::parse(plan));
  nn::layer_precision all;
  all.rounding = r;
  for (std::size_t i = 0; i < m.size(); ++i) {
    nn::layer_precision p = m[i].precision();
    p.rounding = r;
    m[i].set_precision(p, m.mode());
  }
  m.set_mode(mode);
  return m;
}

}  // namespace

TEST_CASE("learning-rate schedules") {
  const auto c = nn::lr_schedule::cosine(0.1, 100, 0.001).with_warmup(10);
  CHECK(c.at(0) == Approx(0.01));
  CHECK(c.at(9) == Approx(0.1));
  CHECK(c.at(10) == Approx(0.1));
  CHECK(c.at(60) == Approx(0.001 + 0.099 * 0.5));
  CHECK(c.at(110) == Approx(0.001));
  CHECK(c.at(500) == Approx(0.001));
  const auto s = nn::lr_schedule::step_decay(0.1, 30, 0.5);
  CHECK(s.at(29) == Approx(0.1));
  CHECK(s.at(30) == Approx(0.05));
  CHECK(s.at(95) == Approx(0.0125));
}

TEST_CASE("float SGD: one step by hand") {
  // w' = w - lr (v), v = mu v + g + wd w, starting from v = 0 (PyTorch's SGD).
  nn::sequential m;
  auto& d = m.add<nn::dense>("fc", 2, 1);
  d.weights().value[0] = 0.5f;
  d.weights().value[1] = -1.0f;
  d.biases().value[0] = 0.25f;
  d.weights().grad = fxp::tensor<float>(fxp::shape{1, 2});
  d.weights().grad[0] = 0.1f;
  d.weights().grad[1] = 0.2f;
  d.biases().grad = fxp::tensor<float>(fxp::shape{1}, 1.0f);
  nn::sgd opt(nn::lr_schedule::constant(0.5), 0.9, 0.01);
  opt.step(m, 0);
  CHECK(d.weights().value[0] == Approx(0.5 - 0.5 * (0.1 + 0.005)));
  CHECK(d.biases().value[0] == Approx(0.25 - 0.5 * (1.0 + 0.0025)));
  opt.step(m, 1);  // same gradient: v = 0.9 v + g + wd w'
  const double w1 = 0.5 - 0.5 * 0.105;
  CHECK(d.weights().value[0] == Approx(w1 - 0.5 * (0.9 * 0.105 + 0.1 + 0.01 * w1)));
}

TEST_CASE("float training: SGD with momentum and Adam") {
  SECTION("SGD") {
    nn::sequential m = fxp_test::small_cnn(1);
    nn::sgd opt(nn::lr_schedule::cosine(0.05, 200).with_warmup(10), 0.9, 5e-4);
    CHECK(fxp_test::train_synthetic(m, opt, 200) < 0.1);
  }
  SECTION("Adam") {
    nn::sequential m = fxp_test::small_cnn(2);
    nn::adam opt(nn::lr_schedule::constant(0.003));
    CHECK(fxp_test::train_synthetic(m, opt, 200) < 0.1);
  }
}

TEST_CASE("QAT: 8-bit weights and activations in the forward pass") {
  nn::sequential m = fxp_test::small_cnn(3);
  m.apply(nn::precision_plan::parse("input acts=u8.7\n* weights=s8.6 acts=s8.4 rounding=nearest\n"));
  m.set_mode(nn::training_mode::qat);
  nn::sgd opt(nn::lr_schedule::constant(0.05), 0.9);
  CHECK(fxp_test::train_synthetic(m, opt, 200) < 0.1);
  // The forward pass really was quantized: conv1's output lies on the s8.4 grid.
  const fxp::tensor<float>& y = m.last_output(0).f;
  for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(std::ldexp(y[i], 4) == std::floor(std::ldexp(y[i], 4)));
}

TEST_CASE("fixed point, 16 bits, nearest and stochastic") {
  for (auto r : {fxp::rounding_mode::nearest, fxp::rounding_mode::stochastic}) {
    INFO("rounding " << fxp::to_string(r));
    nn::sequential m = fixed_model(plan16, r, nn::training_mode::fixed);
    nn::sgd opt(nn::lr_schedule::constant(0.05), 0.9);
    CHECK(fxp_test::train_synthetic(m, opt, 200) < 0.1);
    REQUIRE(m.parameters()[0]->qvalue.format().to_string() == "s16.14");
    REQUIRE(m.last_output(0).is_fixed);
  }
}

TEST_CASE("fixed point with wide master weights: 8-bit forward weights from 16-bit masters") {
  nn::sequential m = fixed_model(plan8_master, fxp::rounding_mode::stochastic, nn::training_mode::fixed_master);
  nn::sgd opt(nn::lr_schedule::constant(0.05), 0.9);
  CHECK(fxp_test::train_synthetic(m, opt, 200) < 0.1);
  const nn::parameter& w = *m.parameters()[0];
  CHECK(w.qvalue.format().to_string() == "s8.6");
  CHECK(w.qmaster.format().to_string() == "s16.14");
  // The forward weights are the masters rounded to s8.6: within one step of 2^-6.
  for (std::size_t i = 0; i < w.qvalue.size(); ++i) REQUIRE(std::abs(w.qvalue.value(i) - w.qmaster.value(i)) < 0x1p-6);
  // Activations of s8.4 saturate somewhere; the counts are per layer and role.
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < m.size(); ++i) total += m[i].saturations().total();
  CHECK(m[0].saturations()[nn::role::activations] <= total);
}

TEST_CASE("fixed point with Adam") {
  nn::sequential m = fixed_model(plan16, fxp::rounding_mode::stochastic, nn::training_mode::fixed);
  nn::adam opt(nn::lr_schedule::constant(0.003));
  CHECK(fxp_test::train_synthetic(m, opt, 200) < 0.1);
}

TEST_CASE("frozen layers keep their parameters") {
  nn::sequential m = fxp_test::small_cnn(4);
  m[0].trainable = false;
  const fxp::tensor<float> before = m.parameters()[0]->value;
  nn::sgd opt(nn::lr_schedule::constant(0.05), 0.9);
  (void)fxp_test::train_synthetic(m, opt, 20, 1);
  for (std::size_t i = 0; i < before.size(); ++i) REQUIRE(m.parameters()[0]->value[i] == before[i]);
  CHECK(m.parameters()[4]->value[0] != fxp_test::small_cnn(4).parameters()[4]->value[0]);
}

namespace {

void run(nn::trainer& t, std::size_t first_step, std::size_t steps) {
  const auto data = fxp_test::make_synthetic(256, 7);
  for (std::size_t s = first_step; s < first_step + steps; ++s) {
    const std::size_t first = (s * 16) % 256;
    (void)t.step(fxp::tensor<float>(data.images.slice(first, first + 16)), std::span<const int>(data.labels.data() + first, 16));
  }
}

}  // namespace

TEST_CASE("resume from state() equals an uninterrupted run, bit for bit") {
  for (auto mode : {nn::training_mode::floating, nn::training_mode::fixed, nn::training_mode::fixed_master}) {
    INFO("mode " << nn::to_string(mode));
    const char* plan = mode == nn::training_mode::fixed_master ? plan8_master : plan16;
    nn::sequential a = mode == nn::training_mode::floating ? fxp_test::small_cnn(5)
                                                          : fixed_model(plan, fxp::rounding_mode::stochastic, mode);
    nn::sgd oa(nn::lr_schedule::constant(0.05), 0.9);
    nn::trainer ta(a, oa);
    run(ta, 0, 6);
    const nn::training_state mid = ta.state();
    CHECK(mid.find_counter("trainer.step") != nullptr);
    CHECK(*mid.find_counter("trainer.step") == 6);
    run(ta, 6, 6);
    // A fresh model of another seed, restored from the middle.
    nn::sequential b = fxp_test::small_cnn(77);
    nn::adam unused(nn::lr_schedule::constant(0.1));
    (void)unused;
    nn::sgd ob(nn::lr_schedule::constant(0.05), 0.9);
    nn::trainer tb(b, ob);
    tb.load_state(mid);
    CHECK(b.mode() == mode);
    run(tb, 6, 6);
    CHECK(fxp_test::same_state(ta.state(), tb.state()));
    // A mismatched state is refused and changes nothing.
    nn::training_state bad = mid;
    bad.tensors[0].value = fxp::tensor<float>(fxp::shape{3});
    const nn::training_state before = tb.state();
    CHECK_THROWS_AS(tb.load_state(bad), std::invalid_argument);
    CHECK(fxp_test::same_state(before, tb.state()));
    nn::training_state no_step = mid;
    no_step.counters.erase(no_step.counters.end() - 1);  // trainer.step
    CHECK_THROWS_WITH(tb.load_state(no_step), Catch::Contains("trainer.step"));
    CHECK(fxp_test::same_state(before, tb.state()));
    // An Adam trainer refuses an SGD state before touching its model.
    nn::sequential c = fxp_test::small_cnn(78);
    nn::adam oc(nn::lr_schedule::constant(0.01));
    nn::trainer tc(c, oc);
    const nn::training_state fresh = tc.state();
    CHECK_THROWS_WITH(tc.load_state(mid), Catch::Contains("adam.t"));
    CHECK(fxp_test::same_state(fresh, tc.state()));
  }
}

TEST_CASE("Adam: the first step moves each weight by lr against its gradient's sign") {
  // m = (1 - b1) g, v = (1 - b2) g^2, so m / (1 - b1) / sqrt(v / (1 - b2)) = sign(g).
  nn::sequential m;
  auto& d = m.add<nn::dense>("fc", 3, 1);
  d.weights().grad = fxp::tensor<float>(fxp::shape{1, 3});
  d.weights().grad[0] = 0.3f;
  d.weights().grad[1] = -2.0f;
  d.weights().grad[2] = 1e-3f;
  d.biases().grad = fxp::tensor<float>(fxp::shape{1}, -0.5f);
  const float w0 = d.weights().value[0];
  nn::adam opt(nn::lr_schedule::constant(0.01));
  opt.step(m, 0);
  CHECK(d.weights().value[0] == Approx(w0 - 0.01).margin(1e-6));
  CHECK(d.weights().value[1] == Approx(0.01).margin(1e-6));
  CHECK(d.weights().value[2] == Approx(-0.01).margin(1e-4));
  CHECK(d.biases().value[0] == Approx(0.01).margin(1e-6));
  nn::training_state s;
  opt.append_state(s);
  CHECK(*s.find_counter("adam.t") == 1);
  CHECK(s.find_tensor("adam.fc.weights.m") != nullptr);
  CHECK(s.find_tensor("adam.fc.weights.v") != nullptr);
}

TEST_CASE("fixed-point SGD: one step against exact integer arithmetic") {
  __extension__ using wide = __int128;
  // s16.10 gradients keep every intermediate within 62 bits (the step's int64 path);
  // s32.4 ones make g' = g * 2^32 + wd w need up to 64 (its int128 path).
  for (const auto& [grads, grad_frac] : {std::pair{"s16.10", 10}, std::pair{"s32.4", 4}})
  for (auto r : {fxp::rounding_mode::nearest, fxp::rounding_mode::truncate}) {
    nn::sequential m;
    auto& d = m.add<nn::dense>("fc", 4, 1);
    m.set_input_precision([] {
      nn::layer_precision p;
      p.apply_fields("acts=u8.7");
      return p;
    }());
    nn::layer_precision p;
    p.apply_fields(std::string("weights=s16.12 biases=s16.12 acts=s16.8 grads=") + grads +
                   " state=s16.11 updates=s16.16");
    p.rounding = r;
    d.set_precision(p, m.mode());
    m.set_mode(nn::training_mode::fixed);
    // With 32-bit gradients, one at the format's top: g' = g 2^32 + wd w then leaves int64.
    const std::int64_t g_raw[4] = {37, -1000, 5, grad_frac == 4 ? 2147483647 : 0};
    const std::int64_t w_raw[4] = {1234, -4000, 77, 32767};
    d.weights().qgrad = fxp::qtensor(fxp::shape{1, 4}, fxp::dynamic_format::parse(grads));
    d.biases().qgrad = fxp::qtensor(fxp::shape{1}, fxp::dynamic_format::parse(grads));
    for (std::size_t i = 0; i < 4; ++i) {
      d.weights().qgrad.set_raw(i, g_raw[i]);
      d.weights().qvalue.set_raw(i, w_raw[i]);
    }
    const double lr = 0.1, mu = 0.9, wd = 0.01;
    nn::sgd opt(nn::lr_schedule::constant(lr), mu, wd);
    opt.step(m, 0);
    // By hand, in integers: hyperparameters to 2^-24 (nearest), g' = g + wd w at frac
    // max(10, 12 + 24) = 36, v = mu * 0 + g' rounded into s16.11, u = lr v rounded into
    // s16.16, w - u rounded into s16.12.
    const auto q24 = [](double x) { return static_cast<wide>(std::llround(std::ldexp(x, 24))); };
    const auto rnd = [&](wide v, int shift) {
      const wide fl = v >> shift;
      const wide rem = v - (fl << shift);
      return r == fxp::rounding_mode::nearest && rem >= (wide{1} << (shift - 1)) ? fl + 1 : fl;
    };
    const auto clamp16 = [](wide v) { return std::min<wide>(std::max<wide>(v, -32768), 32767); };
    wide v[4], w[4];
    for (std::size_t i = 0; i < 4; ++i) {
      const wide gp = (wide{g_raw[i]} << (36 - grad_frac)) + q24(wd) * w_raw[i];  // frac 36
      v[i] = clamp16(rnd(gp, 36 - 11));                              // frac 11 (v was 0)
      const wide u = clamp16(rnd(q24(lr) * v[i], 24 + 11 - 16));     // frac 16
      w[i] = clamp16(rnd((wide{w_raw[i]} << 4) - u, 4));             // frac 12
      INFO("element " << i << " rounding " << fxp::to_string(r) << " gradients " << grads);
      CHECK(d.weights().qvalue.raw(i) == static_cast<std::int64_t>(w[i]));
    }
    // A second step with the same gradient uses the stored velocity: mu v (frac 35) + g'.
    opt.step(m, 1);
    for (std::size_t i = 0; i < 4; ++i) {
      const wide gp = (wide{g_raw[i]} << (36 - grad_frac)) + q24(wd) * w[i];
      const wide v2 = clamp16(rnd(((q24(mu) * v[i]) << 1) + gp, 36 - 11));
      const wide u = clamp16(rnd(q24(lr) * v2, 24 + 11 - 16));
      const wide w2 = clamp16(rnd((w[i] << 4) - u, 4));
      INFO("step 2, element " << i << " rounding " << fxp::to_string(r));
      CHECK(d.weights().qvalue.raw(i) == static_cast<std::int64_t>(w2));
    }
  }
}

TEST_CASE("the optimizers' 64-bit rounding equals the 128-bit one within its bounds") {
  // round_shift64 (and round_right_shift64 for shifts 0..62) serves the fixed-point SGD step when the formats bound every value below
  // 2^62 and every shift to 62: it must give round_shift's bits there, for every mode.
  __extension__ using wide = __int128;
  std::mt19937_64 rng(64);
  for (const auto mode : {fxp::rounding_mode::truncate, fxp::rounding_mode::toward_zero,
                          fxp::rounding_mode::nearest, fxp::rounding_mode::nearest_even,
                          fxp::rounding_mode::stochastic}) {
    for (int shift = -8; shift <= 62; ++shift) {
      for (int k = 0; k < 400; ++k) {
        // Magnitudes of every size up to the bound (smaller below a left shift), with
        // exact ties and exact multiples among them.
        const int top = shift < 0 ? 61 + shift : 61;
        const int bits = static_cast<int>(rng() % static_cast<std::uint64_t>(top + 1));
        std::int64_t v = static_cast<std::int64_t>(rng() >> (64 - std::max(bits, 1)));
        if (shift > 0 && k % 7 == 0) v = (v >> shift << shift) + (k % 14 == 0 ? std::int64_t{1} << (shift - 1) : 0);
        if (rng() & 1) v = -v;
        const auto word = static_cast<std::uint32_t>(rng());
        INFO("v " << v << " shift " << shift << " mode " << fxp::to_string(mode));
        const wide expected = nn::detail::round_shift(wide{v}, shift, mode, word);
        REQUIRE(static_cast<wide>(nn::detail::round_shift64(v, shift, mode, word)) == expected);
        // The branch-free form of the SGD step's right shifts (0 to 62).
        if (shift >= 0) REQUIRE(static_cast<wide>(nn::detail::round_right_shift64(v, shift, mode, word)) == expected);
      }
    }
  }
}

TEST_CASE("hooks for the schedules of arXiv:1607.02241: every layer's error, observers") {
  nn::sequential m = fxp_test::small_cnn(8);
  const auto data = fxp_test::make_synthetic(16, 3);
  const std::span<const int> labels(data.labels);
  // An observer sees every layer's input and output (calibration).
  std::vector<std::size_t> seen(m.size(), 0);
  for (std::size_t i = 0; i < m.size(); ++i) {
    m[i].watch = [&seen, i](const nn::layer& l, nn::hook_point p, const nn::value& in, const nn::value& out) {
      if (p == nn::hook_point::forward) {
        seen[i] += 1;
        CHECK(out.shape() == l.output_shape(in.shape()));
      }
    };
  }
  // Float errors at the current weights, down to the first layer although it is frozen.
  m[0].trainable = false;
  m.keep_all_errors(true);
  auto r = nn::softmax_cross_entropy(m.forward(data.images).to_float(), labels);
  m.backward(r.grad);
  std::vector<fxp::tensor<float>> float_errors;
  for (std::size_t i = 0; i < m.size(); ++i) {
    REQUIRE(m.last_error(i).shape() == m.last_output(i).shape());
    float_errors.push_back(m.last_error(i).to_float());
  }
  // The same weights with 2-bit activations (QAT): the errors the quantized forward pass
  // back-propagates differ from the float ones (the gradient mismatch).
  m.apply(nn::precision_plan::parse("* acts=s3.1\n"));
  m.set_mode(nn::training_mode::qat);
  r = nn::softmax_cross_entropy(m.forward(data.images).to_float(), labels);
  m.backward(r.grad);
  double diff = 0.0;
  for (std::size_t k = 0; k < float_errors[0].size(); ++k)
    diff += std::abs(static_cast<double>(m.last_error(0).f[k]) - static_cast<double>(float_errors[0][k]));
  CHECK(diff > 0.0);
  for (std::size_t i = 0; i < m.size(); ++i) CHECK(seen[i] == 2);
  // Without keep_all_errors the frozen first layer gets no error.
  m.keep_all_errors(false);
  m.backward(r.grad);
  CHECK(m.last_error(0).shape().size() == 0);
}
