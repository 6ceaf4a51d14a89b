// SPDX-License-Identifier: MIT
// Training checkpoints: a run resumed from a checkpoint equals the uninterrupted run bit
// for bit (fixed point, stochastic rounding, SGD with momentum); a corrupt, foreign or
// mismatched file is an exception naming it, and the trainer in memory is untouched.
#include <fxp/io/training_checkpoint.hpp>
#include <fxp/nn/nn.hpp>

#include <catch2/catch.hpp>

#include "support.hpp"

#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace {

using fxp::qtensor;
using fxp::tensor;
namespace nn = fxp::nn;

/// Synthetic 28 x 28 images whose class is the brightest quadrant-ish stripe: something to
/// learn, cheaply.
struct synthetic {
  tensor<float> images{fxp::shape{8, 1, 28, 28}};
  std::vector<std::uint8_t> labels = std::vector<std::uint8_t>(8);
  explicit synthetic(std::uint64_t seed) {
    std::mt19937_64 gen(seed);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    for (std::size_t i = 0; i < 8; ++i) {
      labels[i] = static_cast<std::uint8_t>(i % 10);
      for (std::size_t p = 0; p < 784; ++p) {
        images[i * 784 + p] = u(gen) * (p / 79 == labels[i] ? 1.0f : 0.3f);
      }
    }
  }
};

const char* const plan_text =
    "input acts=u8.7 rounding=stochastic\n"
    "* weights=s16.13 biases=s16.13 acts=s16.10 errors=s16.18 grads=s16.16 updates=s16.20 "
    "state=s16.16 rounding=stochastic\n";

/// A fixed-point reference CNN with its optimizer and trainer.
struct run {
  nn::sequential model = nn::reference_cnn(7);
  nn::sgd opt{nn::lr_schedule::cosine(0.05, 12), 0.9, 5e-4};
  nn::trainer trainer{model, opt};
  run() {
    model.apply(nn::precision_plan::parse(plan_text));
    model.set_mode(nn::training_mode::fixed);
  }
  void steps(int n, const synthetic& data) {
    for (int i = 0; i < n; ++i) (void)trainer.step(data.images, data.labels);
  }
};

/// Every tensor, counter and string of two states, compared exactly.
void require_equal(const nn::training_state& a, const nn::training_state& b) {
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (const auto& t : a.tensors) {
    INFO("tensor " << t.name);
    const nn::named_tensor* u = b.find_tensor(t.name);
    REQUIRE(u != nullptr);
    REQUIRE(t.value.index() == u->value.index());
    if (const auto* q = std::get_if<qtensor>(&t.value)) {
      const auto& r = std::get<qtensor>(u->value);
      REQUIRE(q->format() == r.format());
      REQUIRE(q->shape() == r.shape());
      std::size_t differing = 0;
      for (std::size_t i = 0; i < q->size(); ++i) differing += q->raw(i) != r.raw(i);
      REQUIRE(differing == 0);
    } else {
      const auto& f = std::get<tensor<float>>(t.value);
      const auto& g = std::get<tensor<float>>(u->value);
      REQUIRE(f.shape() == g.shape());
      for (std::size_t i = 0; i < f.size(); ++i) REQUIRE(f[i] == g[i]);
    }
  }
  REQUIRE(a.counters == b.counters);
  REQUIRE(a.strings == b.strings);
}

}  // namespace

TEST_CASE("a resumed fixed-point stochastic run equals the uninterrupted one bit for bit",
          "[checkpoint][training]") {
  const synthetic data(1);
  const fxp_test::temp_dir dir;
  const auto file = dir / "run.fxpc";

  run whole;
  whole.steps(6, data);

  run first;
  first.steps(3, data);
  fxp::io::save_training(file, first.trainer);

  run resumed;  // a fresh process would start like this
  fxp::io::restore_training(file, resumed.trainer);
  REQUIRE(resumed.trainer.step_count() == 3);
  require_equal(resumed.trainer.state(), first.trainer.state());
  resumed.steps(3, data);
  require_equal(resumed.trainer.state(), whole.trainer.state());

  // And the run moved: the resumed state is not the state it resumed from.
  const nn::training_state end = resumed.trainer.state();
  const nn::training_state start = first.trainer.state();
  const auto* w = end.find_tensor("conv1.weights");
  const auto* w0 = start.find_tensor("conv1.weights");
  REQUIRE(w != nullptr);
  REQUIRE(w0 != nullptr);
  std::size_t moved = 0;
  const auto& q = std::get<qtensor>(w->value);
  for (std::size_t i = 0; i < q.size(); ++i) moved += q.raw(i) != std::get<qtensor>(w0->value).raw(i);
  CHECK(moved > 0);
}

TEST_CASE("bad training checkpoints are rejected and leave the trainer untouched",
          "[checkpoint][errors]") {
  const synthetic data(2);
  const fxp_test::temp_dir dir;
  const auto file = dir / "run.fxpc";
  run saved;
  saved.steps(2, data);
  fxp::io::save_training(file, saved.trainer);

  run target;
  target.steps(1, data);
  const nn::training_state before = target.trainer.state();

  SECTION("a flipped byte") {
    std::vector<unsigned char> bytes = fxp_test::read_bytes(file);
    bytes[bytes.size() / 2] = static_cast<unsigned char>(bytes[bytes.size() / 2] ^ 0x10u);
    fxp_test::write_bytes(file, bytes);
    CHECK_THROWS_AS(fxp::io::restore_training(file, target.trainer), fxp::io::format_error);
  }
  SECTION("a truncated file") {
    std::vector<unsigned char> bytes = fxp_test::read_bytes(file);
    REQUIRE(bytes.size() > 100);
    bytes.erase(bytes.end() - 100, bytes.end());
    fxp_test::write_bytes(file, bytes);
    CHECK_THROWS_AS(fxp::io::restore_training(file, target.trainer), fxp::io::format_error);
  }
  SECTION("an archive that is not a training state") {
    fxp::io::archive a;
    a.put_text("note", "hello");
    a.save(file);
    CHECK_THROWS_WITH(fxp::io::restore_training(file, target.trainer),
                      Catch::Contains("not a training checkpoint") &&
                          Catch::Contains(file.string()));
  }
  SECTION("another model's state") {
    nn::sequential small;
    small.add<nn::flatten>("flatten");
    small.add<nn::dense>("fc1", 784, 10);
    small.initialize(3);
    nn::sgd opt{nn::lr_schedule::constant(0.1), 0.9};
    nn::trainer other(small, opt);
    (void)other.step(data.images, data.labels);
    fxp::io::save_training(file, other);
    CHECK_THROWS_WITH(fxp::io::restore_training(file, target.trainer),
                      Catch::Contains("does not match this model"));
  }
  SECTION("the same model in another precision mode") {
    run floating;
    floating.model.set_mode(nn::training_mode::floating);
    floating.steps(1, data);
    fxp::io::save_training(file, floating.trainer);
    CHECK_THROWS_WITH(fxp::io::restore_training(file, target.trainer),
                      Catch::Contains("conv1.weights"));
  }
  require_equal(target.trainer.state(), before);
}
