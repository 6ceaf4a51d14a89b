// SPDX-License-Identifier: MIT
// Run-time formats against the compile-time kernels of the same formats, in one run: what a
// layer whose precision is set at run time pays for it.
//
//   dynamic/<kernel>/<shape>/<policy>/compile   the compile-time kernel (fxp::matmul<C>,
//                                              fxp::conv2d<Y>, fxp::quantize<T>)
//   dynamic/<kernel>/<shape>/<policy>/runtime   the same formats as fxp::dynamic_format
//                                              values (fxp::qtensor kernels)
//
// Shapes are the reference CNN's at batch 32 (fxp::nn::reference_cnn): dense 800 -> 128 on
// 8-bit weights and activations, conv 5x5 16 -> 32 on 14 x 14 images, the first layer's
// quantized input. GOP/s counts a multiply and an add per product; the ratio
// runtime / compile within one run is what the benchmark is for. 2 threads.

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <random>

#include <fxp/core/core.hpp>
#include <fxp/tensor/dynamic.hpp>
#include <fxp/tensor/tensor.hpp>

namespace {

using fxp::dynamic_format;
using fxp::fixed;
using fxp::rounding_mode;
using fxp::shape;
using fxp::tensor;
using fxp::transpose;
using fxp::ufixed;

constexpr std::uint64_t data_seed = 20261201;

template <class T>
tensor<T> random_raw(const shape& s, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  tensor<T> t(s);
  std::uniform_int_distribution<long long> raw(static_cast<long long>(T::raw_min),
                                               static_cast<long long>(T::raw_max));
  for (auto& x : t) x = T::from_raw(static_cast<typename T::raw_type>(raw(gen)));
  return t;
}

template <class T>
fxp::qtensor to_q(const tensor<T>& t) {
  fxp::qtensor q(t.shape(), dynamic_format::of<T>());
  for (std::size_t i = 0; i < t.size(); ++i) q.set_raw(i, static_cast<std::int64_t>(t[i].raw()));
  return q;
}

template <class Round>
constexpr rounding_mode mode_of() {
  return std::is_same_v<Round, fxp::stochastic> ? rounding_mode::stochastic
                                                 : rounding_mode::nearest;
}

// Dense 800 -> 128 at batch 32: ufixed<4,4> activations x fixed<1,7> weights (stored
// out x in, so op(B) is transposed) -> fixed<4,4>.
using act8 = ufixed<4, 4>;
using weight8 = fixed<1, 7>;
using out8 = ufixed<4, 4>;
constexpr std::size_t batch = 32;

template <class Round, bool Runtime>
void dense(benchmark::State& state) {
  fxp::set_num_threads(2);
  const auto x = random_raw<act8>(shape{batch, 800}, data_seed);
  const auto w = random_raw<weight8>(shape{128, 800}, data_seed + 1);
  const fxp::random_key key{1, 2, 3};
  if constexpr (Runtime) {
    const fxp::qtensor qx = to_q(x);
    const fxp::qtensor qw = to_q(w);
    for (auto _ : state) {
      auto y = fxp::matmul(qx, qw, transpose::no, transpose::yes, dynamic_format::of<out8>(),
                           mode_of<Round>(), key);
      benchmark::DoNotOptimize(y);
    }
  } else {
    for (auto _ : state) {
      auto y = fxp::matmul<out8, Round>(x, w, transpose::no, transpose::yes, key);
      benchmark::DoNotOptimize(y);
    }
  }
  state.counters["GOP/s"] = benchmark::Counter(2.0 * batch * 800 * 128, benchmark::Counter::kIsIterationInvariantRate);
}

// conv 5x5 16 -> 32 on 14 x 14 at batch 32.
template <class Round, bool Runtime>
void conv(benchmark::State& state) {
  fxp::set_num_threads(2);
  const auto x = random_raw<act8>(shape{batch, 16, 14, 14}, data_seed);
  const auto w = random_raw<weight8>(shape{32, 16, 5, 5}, data_seed + 1);
  const fxp::random_key key{1, 2, 3};
  const fxp::conv2d_params p{};
  if constexpr (Runtime) {
    const fxp::qtensor qx = to_q(x);
    const fxp::qtensor qw = to_q(w);
    for (auto _ : state) {
      auto y = fxp::conv2d(qx, qw, p, dynamic_format::of<out8>(), mode_of<Round>(), key);
      benchmark::DoNotOptimize(y);
    }
  } else {
    for (auto _ : state) {
      auto y = fxp::conv2d<out8, Round>(x, w, p, key);
      benchmark::DoNotOptimize(y);
    }
  }
  state.counters["GOP/s"] = benchmark::Counter(2.0 * batch * 32 * 100 * 400, benchmark::Counter::kIsIterationInvariantRate);
}

// The network's input: 32 images of 28 x 28 floats into fixed<1,7>.
template <class Round, bool Runtime>
void quantize(benchmark::State& state) {
  fxp::set_num_threads(2);
  std::mt19937_64 gen(data_seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  tensor<float> x(shape{batch, 1, 28, 28});
  for (auto& v : x) v = u(gen);
  const fxp::random_key key{1, 2, 3};
  for (auto _ : state) {
    if constexpr (Runtime) {
      auto y = fxp::quantize(x, dynamic_format::of<weight8>(), mode_of<Round>(), key);
      benchmark::DoNotOptimize(y);
    } else {
      auto y = fxp::quantize<weight8, Round>(x, key);
      benchmark::DoNotOptimize(y);
    }
  }
  state.counters["Melem/s"] = benchmark::Counter(static_cast<double>(x.size()) * 1e-6, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK(dense<fxp::nearest, false>)->Name("dynamic/matmul/32x800x128/nearest/compile")->UseRealTime();
BENCHMARK(dense<fxp::nearest, true>)->Name("dynamic/matmul/32x800x128/nearest/runtime")->UseRealTime();
BENCHMARK(dense<fxp::stochastic, false>)->Name("dynamic/matmul/32x800x128/stochastic/compile")->UseRealTime();
BENCHMARK(dense<fxp::stochastic, true>)->Name("dynamic/matmul/32x800x128/stochastic/runtime")->UseRealTime();
BENCHMARK(conv<fxp::nearest, false>)->Name("dynamic/conv2d/32x16x14x14-5x5x32/nearest/compile")->UseRealTime();
BENCHMARK(conv<fxp::nearest, true>)->Name("dynamic/conv2d/32x16x14x14-5x5x32/nearest/runtime")->UseRealTime();
BENCHMARK(conv<fxp::stochastic, false>)->Name("dynamic/conv2d/32x16x14x14-5x5x32/stochastic/compile")->UseRealTime();
BENCHMARK(conv<fxp::stochastic, true>)->Name("dynamic/conv2d/32x16x14x14-5x5x32/stochastic/runtime")->UseRealTime();
BENCHMARK(quantize<fxp::nearest, false>)->Name("dynamic/quantize/32x784/nearest/compile")->UseRealTime();
BENCHMARK(quantize<fxp::nearest, true>)->Name("dynamic/quantize/32x784/nearest/runtime")->UseRealTime();
BENCHMARK(quantize<fxp::stochastic, false>)->Name("dynamic/quantize/32x784/stochastic/compile")->UseRealTime();
BENCHMARK(quantize<fxp::stochastic, true>)->Name("dynamic/quantize/32x784/stochastic/runtime")->UseRealTime();

BENCHMARK_MAIN();
