// SPDX-License-Identifier: MIT
// Throughput of the reference CNN, fxp::nn::reference_cnn (conv 5x5 1->16 pad 2, relu, maxpool 2;
// conv 5x5 16->32, relu, maxpool 2; dense 800->128, relu; dense 128->10; softmax
// cross-entropy) on 2 threads, beside tiny-dnn in the same run:
//
//   nn/train/b32/<variant>    one SGD step (lr 0.02, momentum 0.9, weight decay 5e-4) on a
//                             batch of 32: forward, loss, backward, update
//   nn/infer/b32/<variant>    the forward pass of a batch of 32 in eval mode
//   nn/infer/b256/<variant>   the same on a batch of 256
//
//   fxp_float                 fxp::nn in training_mode::floating
//   fxp_fixed16_stochastic    training_mode::fixed: 16-bit weights, activations, errors and
//                             gradients, stochastic rounding (the plan of the README's
//                             fixed-point row)
//   fxp_fixed8_master         training_mode::fixed_master: 8-bit weights and activations in
//                             the forward pass from 16-bit master weights, 16-bit errors
//                             and gradients, stochastic rounding
//   fxp_fixed16 / fxp_fixed8  inference of the same formats, rounded to nearest (what a
//                             deployed model does; stochastic inference is the _stochastic row)
//   tiny_dnn                  the same network in tiny-dnn (when installed): its `momentum`
//                             optimizer, softmax + cross_entropy_multiclass, AVX kernels when
//                             the build targets AVX, OpenMP with 2 threads when available
//
// `bench_nn --fxp_layers` prints instead the milliseconds of each layer's forward and
// backward pass per training step, and of the loss and the optimizer, for each fxp mode.
//
// Every row reports "img/s" (images per second of wall time); the ratios within one run are
// what matter. Images are the first Fashion-MNIST items when the data set is installed
// (/usr/share/datasets/fashion-mnist), random pixels of the same shape otherwise.

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fxp/io/io.hpp>
#include <fxp/nn/nn.hpp>
#include <fxp/core/thread_pool.hpp>

#if defined(FXP_HAVE_TINY_DNN)
// tiny-dnn's optional kernels are chosen by its own macros: its AVX backend when the
// compiler targets AVX (it is the fastest engine it has for these layers).
#if defined(__AVX__) && !defined(CNN_USE_AVX)
#define CNN_USE_AVX
#endif
#include <tiny_dnn/config.h>
#if defined(FXP_TINY_DNN_NO_GEMMLOWP)
#undef CNN_USE_GEMMLOWP  // its quantized layers need gemmlowp's headers; unused here
#endif
#include <tiny_dnn/tiny_dnn.h>
#if defined(CNN_USE_OMP)
#include <omp.h>
#endif
#endif

namespace {

namespace nn = fxp::nn;

constexpr std::size_t bench_threads = 2;
constexpr std::size_t train_batch = 32;
constexpr std::size_t big_batch = 256;
constexpr std::size_t train_batches = 8;  // distinct batches cycled through by the training rows
constexpr std::uint64_t model_seed = 1;

// ---- data ----

struct bench_data {
  std::vector<fxp::tensor<float>> train;            // train_batches batches of 32
  std::vector<std::vector<std::uint8_t>> labels;    // their labels
  fxp::tensor<float> test32{fxp::shape{train_batch, 1, 28, 28}};
  fxp::tensor<float> test256{fxp::shape{big_batch, 1, 28, 28}};
  bool real = false;
};

const bench_data& data() {
  static const bench_data d = [] {
    bench_data out;
    std::unique_ptr<fxp::io::fashion_mnist> fm;
    try {
      fxp::io::fashion_mnist_options opt;
      opt.max_train = train_batch * train_batches;
      opt.max_test = big_batch;
      fm = std::make_unique<fxp::io::fashion_mnist>(fxp::io::load_fashion_mnist(fxp::io::fashion_mnist_default_dir, opt));
      out.real = true;
    } catch (const std::exception&) {
      out.real = false;
    }
    std::mt19937 gen(20261201);
    std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
    std::uniform_int_distribution<int> label(0, 9);
    auto fill = [&](fxp::tensor<float>& t, const fxp::tensor<float>* from, std::size_t first) {
      for (std::size_t i = 0; i < t.size(); ++i) t[i] = from != nullptr ? (*from)[first * 784 + i] : pixel(gen);
    };
    for (std::size_t b = 0; b < train_batches; ++b) {
      fxp::tensor<float> x(fxp::shape{train_batch, 1, 28, 28});
      fill(x, fm ? &fm->train.images() : nullptr, b * train_batch);
      std::vector<std::uint8_t> y(train_batch);
      for (std::size_t i = 0; i < train_batch; ++i) {
        y[i] = fm ? fm->train.labels()[b * train_batch + i] : static_cast<std::uint8_t>(label(gen));
      }
      out.train.push_back(std::move(x));
      out.labels.push_back(std::move(y));
    }
    fill(out.test32, fm ? &fm->test.images() : nullptr, 0);
    fill(out.test256, fm ? &fm->test.images() : nullptr, 0);
    return out;
  }();
  return d;
}

// ---- fxp ----

enum class fxp_variant { floating, fixed16, fixed8_master };

// The precision plans of the README's fixed-point rows (input pixels in u8.7: [0, 2)).
constexpr const char* plan16 =
    "input acts=u8.7\n"
    "*     weights=s16.14 biases=s16.12 acts=s16.10 errors=s16.14 grads=s16.12\n";
constexpr const char* plan8_master =
    "input acts=u8.7\n"
    "*     weights=s8.6 master=s16.14 biases=s16.12 acts=s8.4 errors=s16.14 grads=s16.12\n";

nn::sequential make_model(fxp_variant v, fxp::rounding_mode r) {
  nn::sequential m = nn::reference_cnn(model_seed);
  if (v == fxp_variant::floating) return m;
  m.apply(nn::precision_plan::parse(v == fxp_variant::fixed16 ? plan16 : plan8_master));
  nn::layer_precision in = m.input_precision();
  in.rounding = r;
  m.set_input_precision(in);
  for (std::size_t i = 0; i < m.size(); ++i) {
    nn::layer_precision p = m[i].precision();
    p.rounding = r;
    m[i].set_precision(p, m.mode());
  }
  m.set_mode(v == fxp_variant::fixed16 ? nn::training_mode::fixed : nn::training_mode::fixed_master);
  return m;
}

void set_rate(benchmark::State& state, std::size_t images_per_iteration) {
  state.counters["img/s"] = benchmark::Counter(static_cast<double>(images_per_iteration),
                                               benchmark::Counter::kIsIterationInvariantRate);
}

void fxp_train(benchmark::State& state, fxp_variant v) {
  fxp::set_num_threads(bench_threads);
  const bench_data& d = data();
  nn::sequential m = make_model(v, fxp::rounding_mode::stochastic);
  nn::sgd opt(nn::lr_schedule::constant(0.02), 0.9, 5e-4);
  nn::trainer t(m, opt);
  for (std::size_t b = 0; b < 2; ++b) {  // warm-up: buffers, optimizer state
    (void)t.step(d.train[b], std::span<const std::uint8_t>(d.labels[b]));
  }
  std::size_t b = 0;
  double loss = 0.0;
  for (auto _ : state) {
    loss = t.step(d.train[b], std::span<const std::uint8_t>(d.labels[b])).loss;
    benchmark::DoNotOptimize(loss);
    b = (b + 1) % train_batches;
  }
  set_rate(state, train_batch);
  state.counters["loss"] = loss;
  state.SetLabel(d.real ? "Fashion-MNIST" : "synthetic");
}

void fxp_infer(benchmark::State& state, fxp_variant v, fxp::rounding_mode r, const fxp::tensor<float>* x) {
  fxp::set_num_threads(bench_threads);
  nn::sequential m = make_model(v, r);
  m.eval();
  (void)m.forward(*x);
  for (auto _ : state) {
    const nn::value& y = m.forward(*x);
    benchmark::DoNotOptimize(&y);
  }
  set_rate(state, x->shape()[0]);
}

// ---- per-layer breakdown (bench_nn --fxp_layers) ----

// Milliseconds per training step (or per inference pass) of each layer's forward and
// backward, the input quantization, the loss and the optimizer, on the pool's threads: the
// same calls sequential::forward / backward and trainer::step make, one by one.
void layer_breakdown(fxp_variant v, const char* title, std::size_t steps) {
  using clock = std::chrono::steady_clock;
  const bench_data& d = data();
  nn::sequential m = make_model(v, fxp::rounding_mode::stochastic);
  nn::sgd opt(nn::lr_schedule::constant(0.02), 0.9, 5e-4);
  const std::size_t n = m.size();
  std::vector<double> fwd(n, 0.0), bwd(n, 0.0), infer(n, 0.0);
  double t_input = 0.0, t_loss = 0.0, t_opt = 0.0, t_total = 0.0;
  auto ms = [](clock::duration x) { return std::chrono::duration<double, std::milli>(x).count(); };
  const bool fixed = v != fxp_variant::floating;
  auto input_of = [&](const fxp::tensor<float>& x, std::uint64_t step) {
    if (!fixed) return nn::value(x);
    const nn::layer_precision& ip = m.input_precision();
    return nn::value(fxp::quantize(x, *ip[nn::role::activations], ip.rounding,
                                   nn::model_key(m.seed(), nn::slot::activations, step)));
  };
  const std::size_t warm = 3;
  for (std::size_t s = 0; s < warm + steps; ++s) {
    const bool timed = s >= warm;
    const std::size_t b = s % train_batches;
    m.train();
    const nn::context ctx = m.make_context(s);
    const auto t0 = clock::now();
    std::vector<nn::value> out(n + 1);
    out[0] = input_of(d.train[b], s);
    const auto t1 = clock::now();
    if (timed) t_input += ms(t1 - t0);
    for (std::size_t i = 0; i < n; ++i) {
      const auto a = clock::now();
      out[i + 1] = m[i].forward(out[i], ctx);
      if (timed) fwd[i] += ms(clock::now() - a);
    }
    const auto t2 = clock::now();
    const nn::loss_result r = nn::softmax_cross_entropy(out[n].to_float(), std::span<const std::uint8_t>(d.labels[b]));
    nn::value dy(r.grad);
    if (fixed) {
      const nn::layer_precision& lp = m[n - 1].precision();
      dy = nn::value(fxp::quantize(r.grad, *lp[nn::role::errors], lp.rounding,
                                   nn::model_key(m.seed(), nn::slot::errors, s)));
    }
    const auto t3 = clock::now();
    if (timed) t_loss += ms(t3 - t2);
    for (std::size_t i = n; i-- > 0;) {
      const auto a = clock::now();
      nn::value dx = m[i].backward(out[i], out[i + 1], dy, ctx, i > 0);
      if (timed) bwd[i] += ms(clock::now() - a);
      dy = std::move(dx);
    }
    const auto t4 = clock::now();
    opt.step(m, s);
    const auto t5 = clock::now();
    if (timed) {
      t_opt += ms(t5 - t4);
      t_total += ms(t5 - t0);
    }
  }
  // Inference passes on the batch of 32, rounded as the model trains (stochastic).
  m.eval();
  double t_infer = 0.0;
  for (std::size_t s = 0; s < warm + steps; ++s) {
    const nn::context ctx = m.make_context(0);
    const auto t0 = clock::now();
    nn::value x = input_of(d.test32, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const auto a = clock::now();
      x = m[i].forward(x, ctx);
      if (s >= warm) infer[i] += ms(clock::now() - a);
    }
    if (s >= warm) t_infer += ms(clock::now() - t0);
  }
  const double k = static_cast<double>(steps);
  std::printf("\n%s: ms per step of 32 (training) and per forward pass of 32 (inference), %zu steps\n",
              title, steps);
  std::printf("  %-10s %10s %10s %10s\n", "layer", "forward", "backward", "inference");
  std::printf("  %-10s %10.3f %10s %10s\n", "input", t_input / k, "", "");
  for (std::size_t i = 0; i < n; ++i) {
    std::printf("  %-10s %10.3f %10.3f %10.3f\n", m[i].name().c_str(), fwd[i] / k, bwd[i] / k, infer[i] / k);
  }
  std::printf("  %-10s %10.3f\n  %-10s %10.3f\n", "loss", t_loss / k, "optimizer", t_opt / k);
  std::printf("  %-10s %10.3f  (%.0f img/s)   inference %.3f ms (%.0f img/s)\n", "total", t_total / k,
              32.0 * k / t_total * 1000.0, t_infer / k, 32.0 * k / t_infer * 1000.0);
}

int run_layer_breakdown() {
  fxp::set_num_threads(bench_threads);
  layer_breakdown(fxp_variant::floating, "fxp_float", 30);
  layer_breakdown(fxp_variant::fixed16, "fxp_fixed16_stochastic", 30);
  layer_breakdown(fxp_variant::fixed8_master, "fxp_fixed8_master", 30);
  return 0;
}

// ---- tiny-dnn ----

#if defined(FXP_HAVE_TINY_DNN)

struct tiny_net {
  tiny_dnn::network<tiny_dnn::sequential> net;
  tiny_net() {
    using tiny_dnn::padding;
    using relu = tiny_dnn::activation::relu;
    using identity = tiny_dnn::activation::identity;
    using softmax = tiny_dnn::activation::softmax;
    net << tiny_dnn::convolutional_layer<relu>(28, 28, 5, 1, 16, padding::same)
        << tiny_dnn::max_pooling_layer<identity>(28, 28, 16, 2)
        << tiny_dnn::convolutional_layer<relu>(14, 14, 5, 16, 32, padding::valid)
        << tiny_dnn::max_pooling_layer<identity>(10, 10, 32, 2)
        << tiny_dnn::fully_connected_layer<relu>(800, 128)
        << tiny_dnn::fully_connected_layer<softmax>(128, 10);
  }
};

std::vector<tiny_dnn::vec_t> to_tiny(const fxp::tensor<float>& x) {
  const std::size_t n = x.shape()[0];
  const std::size_t item = x.size() / n;
  std::vector<tiny_dnn::vec_t> out(n, tiny_dnn::vec_t(item));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < item; ++j) out[i][j] = x[i * item + j];
  return out;
}

void set_tiny_threads() {
#if defined(CNN_USE_OMP)
  omp_set_num_threads(static_cast<int>(bench_threads));
#endif
}

void tiny_train(benchmark::State& state) {
  set_tiny_threads();
  const bench_data& d = data();
  // All training batches in one fit() call per iteration: tiny-dnn's fit resets the
  // optimizer's state at its start, so one call per step would drop the momentum.
  std::vector<tiny_dnn::vec_t> images;
  std::vector<tiny_dnn::label_t> labels;
  for (std::size_t b = 0; b < train_batches; ++b) {
    for (auto& v : to_tiny(d.train[b])) images.push_back(std::move(v));
    for (const std::uint8_t l : d.labels[b]) labels.push_back(static_cast<tiny_dnn::label_t>(l));
  }
  tiny_net t;
  tiny_dnn::momentum opt;
  opt.alpha = tiny_dnn::float_t(0.02);
  opt.mu = tiny_dnn::float_t(0.9);
  opt.lambda = tiny_dnn::float_t(5e-4);
  (void)t.net.train<tiny_dnn::cross_entropy_multiclass>(opt, images, labels, train_batch, 1);
  for (auto _ : state) {
    const bool ok = t.net.train<tiny_dnn::cross_entropy_multiclass>(opt, images, labels, train_batch, 1);
    benchmark::DoNotOptimize(ok);
  }
  set_rate(state, images.size());
  state.SetLabel(d.real ? "Fashion-MNIST" : "synthetic");
}

void tiny_infer(benchmark::State& state, const fxp::tensor<float>* x) {
  set_tiny_threads();
  // One tensor_t per sample: predict(std::vector<vec_t>) would be one sample of many inputs.
  std::vector<tiny_dnn::tensor_t> in;
  for (auto& v : to_tiny(*x)) in.push_back(tiny_dnn::tensor_t{std::move(v)});
  tiny_net t;
  t.net.set_netphase(tiny_dnn::net_phase::test);
  (void)t.net.predict(in);
  for (auto _ : state) {
    std::vector<tiny_dnn::tensor_t> y = t.net.predict(in);
    benchmark::DoNotOptimize(y.data());
  }
  set_rate(state, in.size());
}

#endif

void register_all() {
  const bench_data& d = data();
  const auto stochastic = fxp::rounding_mode::stochastic;
  const auto nearest = fxp::rounding_mode::nearest;
  auto reg = [](const std::string& name, auto fn) {
    benchmark::RegisterBenchmark(name.c_str(), fn)->UseRealTime()->Unit(benchmark::kMillisecond);
  };
  reg("nn/train/b32/fxp_float", [](benchmark::State& s) { fxp_train(s, fxp_variant::floating); });
  reg("nn/train/b32/fxp_fixed16_stochastic", [](benchmark::State& s) { fxp_train(s, fxp_variant::fixed16); });
  reg("nn/train/b32/fxp_fixed8_master", [](benchmark::State& s) { fxp_train(s, fxp_variant::fixed8_master); });
#if defined(FXP_HAVE_TINY_DNN)
  reg("nn/train/b32/tiny_dnn", [](benchmark::State& s) { tiny_train(s); });
#endif
  for (const fxp::tensor<float>* x : {&d.test32, &d.test256}) {
    const std::string b = "nn/infer/b" + std::to_string(x->shape()[0]) + "/";
    reg(b + "fxp_float", [=](benchmark::State& s) { fxp_infer(s, fxp_variant::floating, nearest, x); });
    reg(b + "fxp_fixed16", [=](benchmark::State& s) { fxp_infer(s, fxp_variant::fixed16, nearest, x); });
    reg(b + "fxp_fixed16_stochastic",
        [=](benchmark::State& s) { fxp_infer(s, fxp_variant::fixed16, stochastic, x); });
    reg(b + "fxp_fixed8", [=](benchmark::State& s) { fxp_infer(s, fxp_variant::fixed8_master, nearest, x); });
    reg(b + "fxp_fixed8_stochastic",
        [=](benchmark::State& s) { fxp_infer(s, fxp_variant::fixed8_master, stochastic, x); });
#if defined(FXP_HAVE_TINY_DNN)
    reg(b + "tiny_dnn", [=](benchmark::State& s) { tiny_infer(s, x); });
#endif
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--fxp_layers") == 0) return run_layer_breakdown();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_all();
  benchmark::AddCustomContext("threads", std::to_string(bench_threads));
  benchmark::AddCustomContext("data", data().real ? "Fashion-MNIST" : "synthetic");
#if defined(FXP_HAVE_TINY_DNN)
#if defined(CNN_USE_OMP)
  benchmark::AddCustomContext("tiny_dnn", "OpenMP, 2 threads");
#else
  benchmark::AddCustomContext("tiny_dnn", "std::async, hardware_concurrency threads");
#endif
#endif
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
