// SPDX-License-Identifier: MIT
// The reference CNN trains a few hundred steps on a slice of the real Fashion-MNIST
// (/usr/share/datasets/fashion-mnist, Debian dataset-fashion-mnist) and must classify the
// first 1000 test images well above chance (10%).

#include <catch2/catch.hpp>

#include <fxp/io/io.hpp>

#include "nn_test_util.hpp"

namespace nn = fxp::nn;

namespace {

double train_and_test(nn::sequential& net, std::size_t steps) {
  fxp::io::fashion_mnist_options opt;
  opt.max_train = steps * 32;
  opt.max_test = 1000;
  const fxp::io::fashion_mnist data = fxp::io::load_fashion_mnist(fxp::io::fashion_mnist_default_dir, opt);
  nn::sgd sgd(nn::lr_schedule::cosine(0.02, steps).with_warmup(20), 0.9, 5e-4);
  nn::trainer t(net, sgd);
  const fxp::io::batch_plan plan(data.train.size(), 32, fxp::io::last_batch::drop);
  const fxp::io::epoch_batches epoch(plan, 11, 0);
  double last_loss = 0.0;
  for (std::size_t b = 0; b < epoch.size(); ++b) {
    const fxp::io::batch batch = fxp::io::gather(data.train.view(), epoch[b]);
    last_loss = t.step(batch.images, std::span<const std::uint8_t>(batch.labels)).loss;
  }
  INFO("last training loss " << last_loss);
  CHECK(last_loss < 1.0);
  return nn::accuracy(net, data.test.images(), std::span<const std::uint8_t>(data.test.labels()));
}

}  // namespace

TEST_CASE("Fashion-MNIST slice: float, 300 steps of 32") {
  nn::sequential net = nn::reference_cnn(1);
  const double acc = train_and_test(net, 300);
  INFO("test accuracy on 1000 images: " << acc);
  CHECK(acc > 0.70);
}

TEST_CASE("Fashion-MNIST slice: fixed point, 16 bits, stochastic rounding, 300 steps of 32") {
  nn::sequential net = nn::reference_cnn(1);
  net.apply(nn::precision_plan::parse(
      "input acts=u8.7\n"
      "*     weights=s16.14 biases=s16.12 acts=s16.10 errors=s16.14 grads=s16.12 rounding=stochastic\n"));
  net.set_mode(nn::training_mode::fixed);
  const double acc = train_and_test(net, 300);
  INFO("test accuracy on 1000 images: " << acc);
  CHECK(acc > 0.70);
}
