// SPDX-License-Identifier: MIT
// Quantizing floats into fixed point under each rounding policy: fxp's SIMD kernel beside the
// scalar core, a memcpy of the same input bytes (the bandwidth ceiling) and the stochastic
// quantizer one writes by hand with std::mt19937, in one run:
//
//   memcpy/<n>                             copies the n input floats (4n bytes) to another
//                                          buffer: reading the input and writing as much
//   quantize/<format>/<policy>/simd/<n>    fxp::quantize on the build's best instruction set
//   quantize/<format>/<policy>/avx2/<n>    the same kernel on AVX2 (the reference machine
//                                          class: AVX2 + FMA, no AVX-512), when the build's
//                                          best is wider
//   quantize/<format>/<policy>/cast/<n>    the same conversion as a tensor expression,
//                                          fxp::assign(out, fxp::cast<T, Round>(in)), on
//                                          one thread
//   quantize/<format>/<policy>/scalar/<n>  a loop over fxp::fixed_cast (stochastic: with an
//                                          fxp::philox generator; the same bits as the kernel)
//   quantize/<format>/mt19937/<n>          by hand: scale, floor, round up when a uniform
//                                          float from std::mt19937 is below the fraction,
//                                          clamp, convert (not bit-compatible with fxp)
//
// for fixed<1,7> and fixed<4,12>, n = 1M (4 MB of input, in L2/L3) and 16M (64 MB, memory).
// Every benchmark reports items/s (floats converted) and bytes/s of input (4 bytes per
// item), so the ratios to memcpy are the ratios of bytes/s. Targets (issue 3): SIMD
// stochastic >= 0.5x SIMD nearest; SIMD nearest >= 0.5x memcpy at 16M; SIMD stochastic >=
// 10x the mt19937 loop.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <fxp/core/core.hpp>
#include <fxp/simd/quantize.hpp>
#include <fxp/tensor/cast.hpp>

namespace {

constexpr std::uint64_t data_seed = 20261128;
constexpr fxp::random_key key{data_seed, 1, 2};
constexpr std::size_t sizes[] = {std::size_t{1} << 20, std::size_t{1} << 24};

/// The instruction set of the reference machine class, when the build enables a wider one.
using avx2_arch = xsimd::fma3<xsimd::avx2>;
constexpr bool run_avx2 = fxp::simd::simd_arch<avx2_arch> &&
                          !std::is_same_v<fxp::simd::default_arch, avx2_arch>;

template <class T>
std::string format_name() {
  return std::string(T::is_signed ? "fixed<" : "ufixed<") + std::to_string(T::integer_bits) + "," +
         std::to_string(T::fraction_bits) + ">";
}

std::string size_name(std::size_t n) { return std::to_string(n >> 20) + "M"; }

/// n floats uniform over 1.25x T's range (one in five saturates), the same in every run;
/// one array per (range, size), shared by the benchmarks.
template <class T>
const std::vector<float>& inputs(std::size_t n) {
  static std::map<std::size_t, std::unique_ptr<std::vector<float>>> cache;
  auto& slot = cache[n];
  if (!slot) {
    const auto scale = 1.25f * static_cast<float>(std::numeric_limits<T>::max());
    fxp::philox gen(data_seed, 7);
    std::uniform_real_distribution<float> uniform(-scale, scale);
    slot = std::make_unique<std::vector<float>>(n);
    for (auto& x : *slot) x = uniform(gen);
  }
  return *slot;
}

void count(benchmark::State& state, std::size_t n) {
  const auto items = state.iterations() * static_cast<std::int64_t>(n);
  state.SetItemsProcessed(items);
  state.SetBytesProcessed(items * static_cast<std::int64_t>(sizeof(float)));
}

/// Times f() once per iteration; the output escapes and memory is clobbered after each pass,
/// so no pass can be folded away.
template <class Out, class F>
void time_pass(benchmark::State& state, std::vector<Out>& out, std::size_t n, F f) {
  benchmark::DoNotOptimize(out.data());
  for ([[maybe_unused]] auto _ : state) {
    f();
    benchmark::ClobberMemory();
  }
  count(state, n);
}

void register_memcpy(std::size_t n) {
  benchmark::RegisterBenchmark(("memcpy/" + size_name(n)).c_str(), [n](benchmark::State& state) {
    const auto& in = inputs<fxp::fixed<1, 7>>(n);
    std::vector<float> out(n);
    time_pass(state, out, n, [&] { std::memcpy(out.data(), in.data(), n * sizeof(float)); });
  });
}

template <class T, class Round>
void register_policy(std::size_t n) {
  const std::string prefix = "quantize/" + format_name<T>() + "/" + Round::name + "/";
  benchmark::RegisterBenchmark((prefix + "simd/" + size_name(n)).c_str(), [n](benchmark::State& state) {
    const auto& in = inputs<T>(n);
    std::vector<T> out(n);
    time_pass(state, out, n, [&] { fxp::quantize<T, Round>(in.data(), out.data(), n, key); });
  });
  if constexpr (run_avx2) {
    benchmark::RegisterBenchmark((prefix + "avx2/" + size_name(n)).c_str(), [n](benchmark::State& state) {
      const auto& in = inputs<T>(n);
      std::vector<T> out(n);
      time_pass(state, out, n, [&] {
        fxp::simd::quantize_on<avx2_arch, T, Round>(in.data(), out.data(), n, key);
      });
    });
  }
  benchmark::RegisterBenchmark((prefix + "cast/" + size_name(n)).c_str(), [n](benchmark::State& state) {
    const auto& values = inputs<T>(n);
    fxp::tensor<float> in(fxp::shape{n});
    std::copy(values.begin(), values.end(), in.begin());
    fxp::tensor<T> out(fxp::shape{n});
    benchmark::DoNotOptimize(out.data());
    for ([[maybe_unused]] auto _ : state) {
      fxp::assign(out.view(), fxp::cast<T, Round>(in, key));
      benchmark::ClobberMemory();
    }
    count(state, n);
  });
  benchmark::RegisterBenchmark((prefix + "scalar/" + size_name(n)).c_str(), [n](benchmark::State& state) {
    const auto& in = inputs<T>(n);
    std::vector<T> out(n);
    time_pass(state, out, n, [&] {
      fxp::philox gen(key.seed, key.stream());  // element i draws word i, as in the kernel
      for (std::size_t i = 0; i < n; ++i) out[i] = fxp::fixed_cast<T, Round>(in[i], gen);
    });
  });
}

/// The stochastic quantizer written by hand on float, with the standard library's generator.
template <class T>
void register_mt19937(std::size_t n) {
  using raw_type = typename T::raw_type;
  benchmark::RegisterBenchmark(
      ("quantize/" + format_name<T>() + "/mt19937/" + size_name(n)).c_str(),
      [n](benchmark::State& state) {
        const auto& in = inputs<T>(n);
        std::vector<raw_type> out(n);
        std::mt19937 gen(data_seed);
        std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
        constexpr auto scale = static_cast<float>(std::int64_t{1} << T::fraction_bits);
        constexpr auto lo = static_cast<float>(T::raw_min);
        constexpr auto hi = static_cast<float>(T::raw_max);
        time_pass(state, out, n, [&] {
          for (std::size_t i = 0; i < n; ++i) {
            const float v = in[i] * scale;
            const float down = std::floor(v);
            const float rounded = down + (uniform(gen) < v - down ? 1.0f : 0.0f);
            out[i] = static_cast<raw_type>(std::clamp(rounded, lo, hi));
          }
        });
      });
}

template <class T>
void register_format(std::size_t n) {
  register_policy<T, fxp::truncate>(n);
  register_policy<T, fxp::nearest>(n);
  register_policy<T, fxp::nearest_even>(n);
  register_policy<T, fxp::stochastic>(n);
  register_mt19937<T>(n);
}

}  // namespace

int main(int argc, char** argv) {
  fxp::set_num_threads(1);  // the cast rows, as the kernels, on one thread
  for (const std::size_t n : sizes) {
    register_memcpy(n);
    register_format<fxp::fixed<1, 7>>(n);
    register_format<fxp::fixed<4, 12>>(n);
  }
  benchmark::AddCustomContext("simd_arch", fxp::simd::default_arch::name());
  // The path of the "simd" rows: the flags' own, or chosen at run time (FXP_ISA picks one).
  benchmark::AddCustomContext("isa", std::string(fxp::simd::isa_name(fxp::simd::active_isa())) +
                                         (fxp::simd::dispatches ? " (chosen at run time)" : ""));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
