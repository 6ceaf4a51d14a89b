// SPDX-License-Identifier: MIT
// GEMM throughput of fxp beside its peers, in one run on the same threads:
//
//   gemm/<shape>/<variant>   C = op(A) op(B), M x N x K and the transposes (n = as stored,
//                            t = transposed), 2 threads each:
//     fxp_fixed8             fxp::gemm, fixed<1,7> x fixed<1,7> -> fixed<8,8> (nearest,
//                            saturate), the build's best kernels
//     fxp_fixed8_<isa>       the same on one instruction set's kernels (avx2 is the
//                            reference machine class: AVX2 + FMA, no VNNI, no AVX-512)
//     fxp_fixed8_stochastic  the same rounded stochastically
//     fxp_fixed16[_<isa>]    fixed<1,15> x fixed<1,15> -> fixed<4,12>
//     fxp_float              fxp::gemm on float
//     openblas_sgemm         cblas_sgemm (when OpenBLAS is installed)
//     gemmlowp_u8            gemmlowp uint8 x uint8 -> int32, no output stage (when installed)
//   peak/<instruction>       a tight loop of independent multiply-adds on 1 and 2 threads:
//                            what bounds any kernel of that instruction
//
// Every benchmark reports GOP/s = 2 M N K / s (a multiply and an add per product) as a
// counter; ratios within one run are what matter.

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include <fxp/core/core.hpp>
#include <fxp/simd/gemm.hpp>
#include <fxp/simd/isa.hpp>
#include <fxp/core/thread_pool.hpp>

#if defined(FXP_HAVE_OPENBLAS)
#include <cblas.h>
#endif
#if defined(FXP_HAVE_GEMMLOWP)
#include <public/gemmlowp.h>
#endif
#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace {

namespace d = fxp::simd::detail;
using fxp::transpose;

constexpr std::size_t bench_threads = 2;
constexpr std::uint64_t data_seed = 20261128;

struct gemm_shape {
  std::size_t m, n, k;
  transpose ta, tb;
  const char* what;
};

// Square products, then the reference CNN at batch 32 (conv 5x5 1->16 pad 2 on 28x28,
// conv 5x5 16->32 on 14x14, dense 800->128): forward, then the backward forms.
const gemm_shape shapes[] = {
    {256, 256, 256, transpose::no, transpose::no, "square"},
    {1024, 1024, 1024, transpose::no, transpose::no, "square"},
    {16, 25088, 25, transpose::no, transpose::no, "conv1 forward"},
    {32, 3200, 400, transpose::no, transpose::no, "conv2 forward"},
    {32, 128, 800, transpose::no, transpose::yes, "dense1 forward"},
    {16, 25, 25088, transpose::no, transpose::yes, "conv1 weight gradient"},
    {25, 25088, 16, transpose::yes, transpose::no, "conv1 input gradient"},
    {32, 400, 3200, transpose::no, transpose::yes, "conv2 weight gradient"},
    {400, 3200, 32, transpose::yes, transpose::no, "conv2 input gradient"},
    {128, 800, 32, transpose::yes, transpose::no, "dense1 weight gradient"},
    {32, 800, 128, transpose::no, transpose::no, "dense1 input gradient"},
};

std::string shape_name(const gemm_shape& s) {
  return std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k) + "/" +
         (s.ta == transpose::no ? "n" : "t") + (s.tb == transpose::no ? "n" : "t");
}

/// Leading dimensions of the operands as stored.
std::size_t lda_of(const gemm_shape& s) { return s.ta == transpose::no ? s.k : s.m; }
std::size_t ldb_of(const gemm_shape& s) { return s.tb == transpose::no ? s.n : s.k; }

void set_gop_counter(benchmark::State& state, const gemm_shape& s) {
  state.counters["GOP/s"] = benchmark::Counter(
      2.0 * double(s.m) * double(s.n) * double(s.k) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

template <class T>
std::vector<T> random_fixed(std::size_t count, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> d(T::raw_min, T::raw_max);
  std::vector<T> v(count);
  for (auto& x : v) x = T::from_raw(static_cast<typename T::raw_type>(d(rng)));
  return v;
}

std::vector<float> random_float(std::size_t count, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(count);
  for (auto& x : v) x = d(rng);
  return v;
}

/// The kernels fxp::gemm runs (fxp::simd::active_isa()), as a kernel tag.
struct active_path {};

/// fxp's fixed-point GEMM of operand format In into Out on the kernels of Isa (fxp::gemm
/// itself for active_path).
template <class Isa, class In, class Out, class Round = fxp::nearest>
void bench_fixed(benchmark::State& state, const gemm_shape& s) {
  std::mt19937_64 rng(data_seed);
  const auto a = random_fixed<In>(s.m * s.k, rng);
  const auto b = random_fixed<In>(s.k * s.n, rng);
  std::vector<Out> c(s.m * s.n);
  const fxp::random_key key{1, 2, 3};
  for (auto _ : state) {
    if constexpr (std::is_same_v<Isa, active_path>) {
      fxp::gemm<Out, Round>(s.ta, s.tb, s.m, s.n, s.k, a.data(), lda_of(s), b.data(), ldb_of(s),
                            c.data(), s.n, key, 0);
    } else {
      d::gemm_fixed<Isa, Out, Round, fxp::gemm_default_max_k>(
          s.ta, s.tb, s.m, s.n, s.k, a.data(), lda_of(s), b.data(), ldb_of(s), c.data(), s.n,
          key, 0);
    }
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_gop_counter(state, s);
}

void bench_fxp_float(benchmark::State& state, const gemm_shape& s) {
  std::mt19937_64 rng(data_seed);
  const auto a = random_float(s.m * s.k, rng);
  const auto b = random_float(s.k * s.n, rng);
  std::vector<float> c(s.m * s.n);
  for (auto _ : state) {
    fxp::gemm(s.ta, s.tb, s.m, s.n, s.k, a.data(), lda_of(s), b.data(), ldb_of(s), c.data(),
              s.n);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_gop_counter(state, s);
}

#if defined(FXP_HAVE_OPENBLAS)
void bench_openblas(benchmark::State& state, const gemm_shape& s) {
  std::mt19937_64 rng(data_seed);
  const auto a = random_float(s.m * s.k, rng);
  const auto b = random_float(s.k * s.n, rng);
  std::vector<float> c(s.m * s.n);
  const auto op = [](transpose t) { return t == transpose::no ? CblasNoTrans : CblasTrans; };
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, op(s.ta), op(s.tb), int(s.m), int(s.n), int(s.k), 1.0f, a.data(),
                int(lda_of(s)), b.data(), int(ldb_of(s)), 0.0f, c.data(), int(s.n));
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_gop_counter(state, s);
}
#endif

#if defined(FXP_HAVE_GEMMLOWP)
/// gemmlowp's 8-bit GEMM with its default (L8R8) bit depths and offsets -128, results in
/// int32 with no output stage: the least work gemmlowp can be asked for.
template <gemmlowp::MapOrder LhsOrder, gemmlowp::MapOrder RhsOrder>
void gemmlowp_run(gemmlowp::GemmContext& context, const gemm_shape& s, const std::uint8_t* a,
                  const std::uint8_t* b, std::int32_t* c) {
  const gemmlowp::MatrixMap<const std::uint8_t, LhsOrder> lhs(a, int(s.m), int(s.k),
                                                              int(lda_of(s)));
  const gemmlowp::MatrixMap<const std::uint8_t, RhsOrder> rhs(b, int(s.k), int(s.n),
                                                              int(ldb_of(s)));
  gemmlowp::MatrixMap<std::int32_t, gemmlowp::MapOrder::RowMajor> result(c, int(s.m), int(s.n),
                                                                         int(s.n));
  const std::tuple<> no_output_stage;
  gemmlowp::GemmWithOutputPipeline<std::uint8_t, std::int32_t,
                                   gemmlowp::DefaultL8R8BitDepthParams>(
      &context, lhs, rhs, &result, -128, -128, no_output_stage);
}

void bench_gemmlowp(benchmark::State& state, const gemm_shape& s) {
  std::mt19937_64 rng(data_seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<std::uint8_t> a(s.m * s.k);
  std::vector<std::uint8_t> b(s.k * s.n);
  for (auto& x : a) x = static_cast<std::uint8_t>(byte(rng));
  for (auto& x : b) x = static_cast<std::uint8_t>(byte(rng));
  std::vector<std::int32_t> c(s.m * s.n);
  gemmlowp::GemmContext context;
  context.set_max_num_threads(int(bench_threads));
  using gemmlowp::MapOrder;
  // Stored row-major; a transposed operand is the same memory read column-major.
  for (auto _ : state) {
    if (s.ta == transpose::no && s.tb == transpose::no) {
      gemmlowp_run<MapOrder::RowMajor, MapOrder::RowMajor>(context, s, a.data(), b.data(), c.data());
    } else if (s.ta == transpose::no) {
      gemmlowp_run<MapOrder::RowMajor, MapOrder::ColMajor>(context, s, a.data(), b.data(), c.data());
    } else if (s.tb == transpose::no) {
      gemmlowp_run<MapOrder::ColMajor, MapOrder::RowMajor>(context, s, a.data(), b.data(), c.data());
    } else {
      gemmlowp_run<MapOrder::ColMajor, MapOrder::ColMajor>(context, s, a.data(), b.data(), c.data());
    }
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_gop_counter(state, s);
}
#endif

// ---------------------------------------------------------------------------------------
// Peaks: 12 independent accumulators, so latency never limits; the loop runs the same
// multiply-add on every thread of the pool.

#if defined(__AVX2__) && defined(__FMA__) && defined(__GNUC__)
#define FXP_BENCH_REP12(OP) OP(4) OP(5) OP(6) OP(7) OP(8) OP(9) OP(10) OP(11) OP(12) OP(13) OP(14) OP(15)
#define FXP_BENCH_CLOBBERS \
  "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"
#define FXP_BENCH_MADD(i) "vpmaddwd %%ymm0, %%ymm1, %%ymm3\n\tvpaddd %%ymm3, %%ymm" #i ", %%ymm" #i "\n\t"
#define FXP_BENCH_FMA(i) "vfmadd231ps %%ymm0, %%ymm1, %%ymm" #i "\n\t"
#if defined(__AVXVNNI__)
#define FXP_BENCH_DP256(i) "%{vex%} vpdpwssd %%ymm0, %%ymm1, %%ymm" #i "\n\t"
#elif defined(__AVX512VNNI__) && defined(__AVX512VL__)
#define FXP_BENCH_DP256(i) "vpdpwssd %%ymm0, %%ymm1, %%ymm" #i "\n\t"
#endif
#if defined(__AVX512F__) && defined(__AVX512VNNI__)
#define FXP_BENCH_DP512(i) "vpdpwssd %%zmm0, %%zmm1, %%zmm" #i "\n\t"
#define FXP_BENCH_FMA512(i) "vfmadd231ps %%zmm0, %%zmm1, %%zmm" #i "\n\t"
#endif

constexpr std::size_t peak_loops = 1 << 20;

/// Runs `loop` (peak_loops iterations of 12 instructions doing `ops` operations each) on
/// `threads` threads of the pool and reports GOP/s.
template <class Loop>
void bench_peak(benchmark::State& state, std::size_t threads, double ops_per_instruction,
                Loop loop) {
  for (auto _ : state) fxp::detail::parallel_for(threads, [&](std::size_t) { loop(); });
  state.counters["GOP/s"] =
      benchmark::Counter(double(threads) * double(peak_loops) * 12 * ops_per_instruction / 1e9,
                         benchmark::Counter::kIsIterationInvariantRate);
}

void register_peaks() {
  struct peak {
    const char* name;
    double ops;  // per instruction: 2 per multiply-add lane
    void (*loop)();
  };
  std::vector<peak> peaks = {
      {"vpmaddwd+vpaddd_ymm", 32,
       [] {
         for (std::size_t i = 0; i < peak_loops; ++i) asm volatile(FXP_BENCH_REP12(FXP_BENCH_MADD) ::: FXP_BENCH_CLOBBERS);
       }},
      {"vfmadd231ps_ymm", 16,
       [] {
         for (std::size_t i = 0; i < peak_loops; ++i) asm volatile(FXP_BENCH_REP12(FXP_BENCH_FMA) ::: FXP_BENCH_CLOBBERS);
       }},
#if defined(FXP_BENCH_DP256)
      {"vpdpwssd_ymm", 32,
       [] {
         for (std::size_t i = 0; i < peak_loops; ++i) asm volatile(FXP_BENCH_REP12(FXP_BENCH_DP256) ::: FXP_BENCH_CLOBBERS);
       }},
#endif
#if defined(FXP_BENCH_DP512)
      {"vpdpwssd_zmm", 64,
       [] {
         for (std::size_t i = 0; i < peak_loops; ++i) asm volatile(FXP_BENCH_REP12(FXP_BENCH_DP512) ::: FXP_BENCH_CLOBBERS);
       }},
      {"vfmadd231ps_zmm", 32,
       [] {
         for (std::size_t i = 0; i < peak_loops; ++i) asm volatile(FXP_BENCH_REP12(FXP_BENCH_FMA512) ::: FXP_BENCH_CLOBBERS);
       }},
#endif
  };
  for (const peak& p : peaks) {
    for (const std::size_t threads : {std::size_t{1}, bench_threads}) {
      benchmark::RegisterBenchmark(
          (std::string("peak/") + p.name + "/threads:" + std::to_string(threads)).c_str(),
          [p, threads](benchmark::State& state) { bench_peak(state, threads, p.ops, p.loop); })
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
}
#else
void register_peaks() {}
#endif

template <class F>
void add(const std::string& name, const gemm_shape& s, F f) {
  benchmark::RegisterBenchmark(("gemm/" + shape_name(s) + "/" + name).c_str(),
                               [s, f](benchmark::State& state) { f(state, s); })
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
}

void register_gemms() {
  using s8 = fxp::fixed<1, 7>;
  using s16 = fxp::fixed<1, 15>;
  using out8 = fxp::fixed<8, 8>;
  using out16 = fxp::fixed<4, 12>;
  // The kernel tag fxp::gemm runs (on AVX-VNNI builds avx2_vnni, which active_isa() calls avx2).
  const std::string active_tag =
      d::on_active_isa([]<class Tag>(Tag) { return std::string(Tag::name); });
  for (const gemm_shape& s : shapes) {
#if defined(FXP_HAVE_OPENBLAS)
    add("openblas_sgemm", s, bench_openblas);
#endif
#if defined(FXP_HAVE_GEMMLOWP)
    add("gemmlowp_u8", s, bench_gemmlowp);
#endif
    // fxp::gemm as a user calls it (the path active_isa() names), then each other path
    // this build has and this processor runs, called directly.
    add("fxp_float", s, bench_fxp_float);
    add("fxp_fixed8", s, bench_fixed<active_path, s8, out8>);
    add("fxp_fixed16", s, bench_fixed<active_path, s16, out16>);
    add("fxp_fixed8_stochastic", s, bench_fixed<active_path, s8, out8, fxp::stochastic>);
    const auto add_path = [&]<class Isa>(Isa) {
      if constexpr (d::isa_available<Isa>) {
        if (d::isa_runs<Isa>() && active_tag != Isa::name) {
          add(std::string("fxp_fixed8_") + Isa::name, s, bench_fixed<Isa, s8, out8>);
          add(std::string("fxp_fixed16_") + Isa::name, s, bench_fixed<Isa, s16, out16>);
        }
      }
    };
    add_path(d::portable_isa{});
    add_path(d::avx2_isa{});
    add_path(d::avx2_vnni_isa{});
    add_path(d::avx512_isa{});
  }
}

}  // namespace

int main(int argc, char** argv) {
  fxp::set_num_threads(bench_threads);
#if defined(FXP_HAVE_OPENBLAS)
  openblas_set_num_threads(int(bench_threads));
#endif
  benchmark::AddCustomContext("fxp_threads", std::to_string(fxp::num_threads()));
  benchmark::AddCustomContext(
      "fxp_kernels", std::string(fxp::simd::isa_name(fxp::simd::active_isa())) +
                         (fxp::simd::dispatches ? " (chosen at run time)" : " (the build's flags)"));
#if defined(FXP_HAVE_OPENBLAS)
  benchmark::AddCustomContext("openblas", openblas_get_config());
#endif
  register_gemms();
  register_peaks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
