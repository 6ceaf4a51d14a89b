// SPDX-License-Identifier: MIT
// Micro-benchmarks of fxp's scalar core, each beside the same loop written on float, so the
// numbers that matter are the ratios within one run, not the absolute times.
//
//   quantize/<format>/<policy>          float -> fixed through fxp::fixed_cast<format, policy>
//   quantize/<format>/stochastic        ... with an explicit fxp::philox generator
//   quantize/<format>/stochastic_default ... with the per-thread default generator
//   quantize/<format>/float_nearbyint   peer: scale, std::nearbyint, clamp, convert; it
//                                        yields the raw values of nearest_even (checked)
//   add/<format>, mul/<format>          exact + and * over arrays (growing result types)
//   mul_narrow/<format>/<policy>        a product rounded back into the operands' format
//   add/float, mul/float                peer: float + and * over arrays of the same size
//
// Every benchmark reports items/s, one item being one array element.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fxp/core/core.hpp>

namespace {

constexpr std::size_t array_size = 4096;  // 4096 x (4 + 4 + 8) bytes stays in L1/L2
constexpr std::uint64_t data_seed = 20261128;

/// Calls f(std::type_identity<T>{}) for each T, in order.
template <class... Ts, class F>
void for_each_type(F&& f) {
  (f(std::type_identity<Ts>{}), ...);
}

/// Every rounding policy of the library.
template <class F>
void for_each_policy(F&& f) {
  for_each_type<fxp::truncate, fxp::toward_zero, fxp::nearest, fxp::nearest_even,
                fxp::stochastic>(std::forward<F>(f));
}

/// "fixed<1,7>": the format without its policies, which are in the benchmark name anyway.
template <class T>
std::string format_name() {
  if constexpr (std::is_floating_point_v<T>) {
    return "float";
  } else {
    return std::string(T::is_signed ? "fixed<" : "ufixed<") + std::to_string(T::integer_bits) +
           "," + std::to_string(T::fraction_bits) + ">";
  }
}

/// `count` uniform floats in [-1, 1) from a fixed seed: the same data in every run.
std::vector<float> unit_floats(std::uint64_t stream) {
  fxp::philox gen(data_seed, stream);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> v(array_size);
  for (auto& x : v) x = uniform(gen);
  return v;
}

/// Times one pass of out[i] = element(i) over the whole array per iteration.
///
/// The pointers escape (DoNotOptimize) before the loop, and ClobberMemory after each pass
/// tells the compiler that any escaped memory may have been read or changed, so the stores
/// must happen every pass and the inputs must be read again: no pass can be folded away
/// or hoisted out of the timing loop, while the loop itself stays free to vectorize.
template <class Out, class Element>
void time_elementwise(benchmark::State& state, std::vector<Out>& out, Element element) {
  benchmark::DoNotOptimize(out.data());
  for ([[maybe_unused]] auto _ : state) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = element(i);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(out.size()));
}

/// Inputs for quantizing into T: uniform over 1.25x T's range, so that one value in five
/// saturates and the overflow path is timed too.
template <class T>
std::vector<float> quantize_inputs(const std::vector<float>& unit) {
  const auto scale = 1.25f * static_cast<float>(std::numeric_limits<T>::max());
  std::vector<float> v(unit.size());
  std::transform(unit.begin(), unit.end(), v.begin(), [=](float u) { return u * scale; });
  return v;
}

template <class T>
void register_quantize(const std::vector<float>& unit) {
  using raw_type = typename T::raw_type;
  const std::string prefix = "quantize/" + format_name<T>() + "/";
  const auto inputs = quantize_inputs<T>(unit);

  for_each_policy([&](auto policy) {
    using Round = typename decltype(policy)::type;
    benchmark::RegisterBenchmark(
        (prefix + Round::name).c_str(), [inputs](benchmark::State& state) {
          std::vector<T> out(inputs.size());
          fxp::philox gen(data_seed, 1);  // deterministic policies never draw from it
          benchmark::DoNotOptimize(inputs.data());
          time_elementwise(state, out,
                           [&](std::size_t i) { return fxp::fixed_cast<T, Round>(inputs[i], gen); });
        });
  });

  // The cost of reaching the per-thread default generator instead of a local one.
  benchmark::RegisterBenchmark(
      (prefix + "stochastic_default").c_str(), [inputs](benchmark::State& state) {
        std::vector<T> out(inputs.size());
        fxp::seed(data_seed);
        benchmark::DoNotOptimize(inputs.data());
        time_elementwise(state, out, [&](std::size_t i) {
          return fxp::fixed_cast<T, fxp::stochastic>(inputs[i]);
        });
      });

  // The peer: the quantizer one writes on float (as float frameworks do), which rounds
  // ties to even under the default FP environment and clamps to the raw range.
  benchmark::RegisterBenchmark(
      (prefix + "float_nearbyint").c_str(), [inputs](benchmark::State& state) {
        constexpr auto scale = static_cast<float>(std::int64_t{1} << T::fraction_bits);
        constexpr auto lo = static_cast<float>(T::raw_min);
        constexpr auto hi = static_cast<float>(T::raw_max);
        std::vector<raw_type> out(inputs.size());
        benchmark::DoNotOptimize(inputs.data());
        time_elementwise(state, out, [&](std::size_t i) {
          return static_cast<raw_type>(std::clamp(std::nearbyint(inputs[i] * scale), lo, hi));
        });
        // Outside the timing: the peer must compute exactly what fxp's nearest_even does,
        // or the comparison would be meaningless.
        for (std::size_t i = 0; i < inputs.size(); ++i) {
          if (out[i] != fxp::fixed_cast<T, fxp::nearest_even>(inputs[i]).raw()) {
            state.SkipWithError("float peer disagrees with fxp::nearest_even");
            break;
          }
        }
      });
}

/// Operands for binary operations: T values spread over T's whole range (its positive
/// half when T is unsigned, rather than saturating half the values to zero).
template <class T>
std::vector<T> operands(const std::vector<float>& unit) {
  const double scale = static_cast<double>(std::numeric_limits<T>::max());
  std::vector<T> v(unit.size());
  std::transform(unit.begin(), unit.end(), v.begin(), [=](float u) {
    return T(static_cast<double>(T::is_signed ? u : std::abs(u)) * scale);
  });
  return v;
}

/// `<op>/<A>` when both operands have one format, `<op>/<A>,<B>` when they are mixed.
template <class A, class B>
std::string operands_name() {
  if constexpr (std::is_same_v<A, B>) return format_name<A>();
  else return format_name<A>() + "," + format_name<B>();
}

/// Times out[i] = op(a[i], b[i]); the output element type is whatever op returns (for fxp
/// the exact, wider result format).
template <class A, class B, class Op>
void register_binary(const char* op_name, Op op, const std::vector<float>& unit_a,
                     const std::vector<float>& unit_b) {
  std::vector<A> a;
  std::vector<B> b;
  if constexpr (std::is_floating_point_v<A>) {
    a = unit_a;
    b = unit_b;
  } else {
    a = operands<A>(unit_a);
    b = operands<B>(unit_b);
  }
  benchmark::RegisterBenchmark(
      (std::string(op_name) + "/" + operands_name<A, B>()).c_str(),
      [a, b, op](benchmark::State& state) {
        std::vector<std::invoke_result_t<Op, A, B>> out(a.size());
        benchmark::DoNotOptimize(a.data());
        benchmark::DoNotOptimize(b.data());
        time_elementwise(state, out, [&](std::size_t i) { return op(a[i], b[i]); });
      });
}

/// The multiply of a fixed-point DSP or NN kernel: the exact product rounded back into T.
template <class T>
void register_mul_narrow(const std::vector<float>& unit_a, const std::vector<float>& unit_b) {
  const auto a = operands<T>(unit_a);
  const auto b = operands<T>(unit_b);
  for_each_policy([&](auto policy) {
    using Round = typename decltype(policy)::type;
    benchmark::RegisterBenchmark(
        ("mul_narrow/" + format_name<T>() + "/" + Round::name).c_str(),
        [a, b](benchmark::State& state) {
          std::vector<T> out(a.size());
          fxp::philox gen(data_seed, 2);
          benchmark::DoNotOptimize(a.data());
          benchmark::DoNotOptimize(b.data());
          time_elementwise(state, out, [&](std::size_t i) {
            return fxp::fixed_cast<T, Round>(a[i] * b[i], gen);
          });
        });
  });
}

void register_all() {
  const auto unit_a = unit_floats(0);
  const auto unit_b = unit_floats(1);

  register_quantize<fxp::fixed<1, 7>>(unit_a);
  register_quantize<fxp::fixed<4, 12>>(unit_a);

  // Each group: fxp formats first, then float over arrays of the same length.
  const auto register_op = [&](const char* name, auto op) {
    register_binary<fxp::fixed<8, 8>, fxp::fixed<8, 8>>(name, op, unit_a, unit_b);
    register_binary<fxp::fixed<16, 16>, fxp::fixed<16, 16>>(name, op, unit_a, unit_b);
    register_binary<fxp::fixed<1, 15>, fxp::fixed<1, 15>>(name, op, unit_a, unit_b);
    register_binary<fxp::fixed<8, 8>, fxp::fixed<1, 15>>(name, op, unit_a, unit_b);
    register_binary<fxp::fixed<1, 7>, fxp::ufixed<0, 8>>(name, op, unit_a, unit_b);
    register_binary<float, float>(name, op, unit_a, unit_b);
  };
  register_op("add", std::plus<>{});
  register_op("mul", std::multiplies<>{});

  register_mul_narrow<fxp::fixed<1, 15>>(unit_a, unit_b);
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
