// SPDX-License-Identifier: MIT
// Formats that follow the data: a role that saturates more often than the threshold gains
// one bit of range and nothing else changes; and the error through a saturated output is
// zero (the clipped straight-through estimator), in QAT and in fixed point.
#include <fxp/nn/nn.hpp>
#include <fxp/quant/adapt.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

namespace nn = fxp::nn;

namespace {

/// A dense 16 -> 4 network on inputs in [0, 1) with the given output format.
nn::sequential small_model(const char* fc_fields, nn::training_mode mode) {
  nn::sequential m;
  m.add<nn::dense>("fc", 16, 4);
  m.initialize(5);
  // Weights of 1/2 make every output about 4: far beyond a format that ends at 1.
  for (nn::parameter* p : m.parameters()) {
    for (auto& v : p->value) v = p->kind == nn::role::weights ? 0.5f : 0.0f;
  }
  m.apply(nn::precision_plan::parse(std::string("input acts=u8.8\nfc ") + fc_fields));
  m.set_mode(mode);
  return m;
}

fxp::tensor<float> inputs() {
  std::mt19937_64 gen(3);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  fxp::tensor<float> x(fxp::shape{8, 16});
  for (auto& v : x) v = u(gen);
  return x;
}

}  // namespace

TEST_CASE("a role that saturates gains one bit of range, the others keep theirs", "[adapt]") {
  nn::sequential m = small_model(
      "weights=s8.6 biases=s16.12 acts=s8.6 errors=s16.12 grads=s16.12 updates=s16.14 "
      "rounding=nearest", nn::training_mode::fixed);
  const fxp::tensor<float> x = inputs();
  (void)m.forward(x);
  REQUIRE(m.saturations()[0].second[nn::role::activations] > 0);
  const auto changes = fxp::quant::widen_saturated_formats(m, 1);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].layer == "fc");
  CHECK(changes[0].role == nn::role::activations);
  CHECK(changes[0].from == fxp::dynamic_format{8, 6, true});
  CHECK(changes[0].to == fxp::dynamic_format{8, 5, true});
  CHECK(changes[0].overflow_rate > 0.5);  // about every output sits near 4 > 127/64
  CHECK(m[0].precision()[nn::role::activations] == fxp::dynamic_format{8, 5, true});
  CHECK(m[0].precision()[nn::role::weights] == fxp::dynamic_format{8, 6, true});
  CHECK(m.saturations()[0].second.total() == 0);  // counts start again
  // Below the threshold nothing changes.
  (void)m.forward(x);
  const auto none = fxp::quant::widen_saturated_formats(m, 1, 1.0);
  CHECK(none.empty());
  CHECK(m[0].precision()[nn::role::activations] == fxp::dynamic_format{8, 5, true});
  // Float modes are left alone.
  nn::sequential f = small_model("acts=s8.6 rounding=nearest", nn::training_mode::qat);
  (void)f.forward(x);
  CHECK(fxp::quant::widen_saturated_formats(f, 1).empty());
}

TEST_CASE("the error through a saturated output is zero", "[adapt][ste]") {
  const fxp::tensor<float> x = inputs();
  for (const auto mode : {nn::training_mode::qat, nn::training_mode::fixed}) {
    INFO(nn::to_string(mode));
    // acts=s8.6 ends at 127/64: outputs near 4 saturate; s8.3 (to 15.875) holds them.
    for (const char* acts : {"acts=s8.6", "acts=s8.3"}) {
      INFO(acts);
      nn::sequential m = small_model(
          (std::string(acts) + " weights=s8.6 biases=s16.12 errors=s16.12 grads=s16.12 "
                               "updates=s16.14 rounding=nearest").c_str(), mode);
      (void)m.forward(x);
      m.backward(fxp::tensor<float>(fxp::shape{8, 4}, 1.0f / 32));
      // With every output saturated no error reaches the weights: their gradient is zero.
      const nn::parameter& w = m[0].parameters()[0];
      const fxp::tensor<float> g = w.value.size() ? w.grad : fxp::dequantize(w.qgrad);
      double sum = 0;
      for (float v : g) sum += v;
      if (std::string(acts) == "acts=s8.6") {
        CHECK(sum == 0.0);
      } else {
        CHECK(sum > 0.0);
      }
    }
  }
}
