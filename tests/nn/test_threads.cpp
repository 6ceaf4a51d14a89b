// SPDX-License-Identifier: MIT
// One thread vs two, bit for bit: a few steps of fixed-point training with stochastic
// rounding of the reference CNN at batch 32 (large enough that the GEMM, the convolutions
// and the element-wise kernels all split their work), and of float training.

#include <catch2/catch.hpp>

#include "nn_test_util.hpp"
#include "state_compare.hpp"

namespace nn = fxp::nn;

namespace {

nn::training_state train(std::size_t threads, nn::training_mode mode, int steps = 3) {
  fxp::set_num_threads(threads);
  nn::sequential net = nn::reference_cnn(2024);
  net.apply(nn::precision_plan::parse(
      "input acts=u8.7\n"
      "*     weights=s8.6 master=s16.14 biases=s16.12 acts=s16.8 errors=s16.14 grads=s16.12 "
      "rounding=stochastic\n"));
  net.set_mode(mode);
  nn::sgd opt(nn::lr_schedule::constant(0.02), 0.9, 5e-4);
  nn::trainer t(net, opt);
  const fxp::tensor<float> x = fxp_test::uniform(fxp::shape{32, 1, 28, 28}, 5, 0.0f, 1.0f);
  std::vector<int> labels(32);
  for (std::size_t i = 0; i < 32; ++i) labels[i] = static_cast<int>(i % 10);
  for (int s = 0; s < steps; ++s) (void)t.step(x, labels);
  nn::training_state st = t.state();
  // The saturation counts are part of what must not depend on the thread count.
  for (std::size_t i = 0; i < net.size(); ++i)
    st.counters.emplace_back(net[i].name() + ".saturations", net[i].saturations().total());
  return st;
}

}  // namespace

TEST_CASE("fixed-point stochastic training: one thread and two give the same bits") {
  for (auto mode : {nn::training_mode::fixed, nn::training_mode::fixed_master}) {
    INFO("mode " << nn::to_string(mode));
    const nn::training_state one = train(1, mode);
    const nn::training_state two = train(2, mode);
    fxp::set_num_threads(2);
    CHECK(fxp_test::same_state(one, two));
    // The comparison is not vacuous: one step fewer gives other bits.
    CHECK_FALSE(fxp_test::same_state(two, train(2, mode, 2)));
  }
}

TEST_CASE("float training: one thread and two give the same bits") {
  const nn::training_state one = train(1, nn::training_mode::floating);
  const nn::training_state two = train(2, nn::training_mode::floating);
  CHECK(fxp_test::same_state(one, two));
}
