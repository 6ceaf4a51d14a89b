// SPDX-License-Identifier: MIT
// A tour of fxp's scalar core: formats and their limits, exact arithmetic with growing
// result types, and what each rounding policy does to the error of quantized data.
//
//   tour [--samples N] [--seed S] [--csv PATH]
//
// Every number printed is reproducible: the data and the random bits of stochastic rounding
// come from fxp::philox, keyed by the seed.

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fxp/core/core.hpp>

namespace {

using fxp::fixed;
using fxp::ufixed;

// ---------------------------------------------------------------------------------------
// Iterating over types: every section runs one piece of code over a list of formats or
// policies, so no policy gets a hand-written variant.

template <class... Ts>
struct type_list {};

/// Calls f(std::type_identity<T>{}) for each T of the list, in order.
template <class... Ts, class F>
void for_each_type(type_list<Ts...>, F&& f) {
  (f(std::type_identity<Ts>{}), ...);
}

using all_policies =
    type_list<fxp::truncate, fxp::toward_zero, fxp::nearest, fxp::nearest_even, fxp::stochastic>;

/// "fixed<1,7>": the format alone; T::name() also spells out the policies.
template <class T>
std::string format_name() {
  return std::string(T::is_signed ? "fixed<" : "ufixed<") + std::to_string(T::integer_bits) +
         "," + std::to_string(T::fraction_bits) + ">";
}

/// "int8_t": the raw integer the format is stored in.
template <class T>
std::string storage_name() {
  using raw = typename T::raw_type;
  return std::string(std::is_signed_v<raw> ? "int" : "uint") + std::to_string(sizeof(raw) * 8) +
         "_t";
}

/// One unit in the last place of T, as a double (exact: a power of two).
template <class T>
constexpr double ulp_of = std::numeric_limits<T>::epsilon().to_double();

void print_heading(const char* title) { std::printf("\n== %s ==\n\n", title); }

// ---------------------------------------------------------------------------------------
// 1. Formats

void show_formats() {
  print_heading("1. Formats: range, resolution, storage (std::numeric_limits, T::name())");
  std::printf("  %-30s %-8s %10s %23s %19s\n", "T::name()", "storage", "lowest", "max",
              "ulp = epsilon()");
  // fixed<-2,10>: a negative integer-bit count, for weights that all lie within +-1/8.
  using formats = type_list<fixed<1, 7>, fixed<2, 6>, fixed<1, 15>, fixed<4, 12>, fixed<8, 8>,
                            fixed<16, 16>, ufixed<0, 8>, fixed<-2, 10>>;
  for_each_type(formats{}, [](auto format) {
    using T = typename decltype(format)::type;
    using limits = std::numeric_limits<T>;
    std::printf("  %-30s %-8s %10s %23s %19s\n", T::name().c_str(), storage_name<T>().c_str(),
                fxp::to_string(limits::lowest()).c_str(), fxp::to_string(limits::max()).c_str(),
                fxp::to_string(limits::epsilon()).c_str());
  });
}

// ---------------------------------------------------------------------------------------
// 2. Exact arithmetic; rounding and overflow happen only when narrowing

template <class T>
void print_value(const char* expression, const T& x) {
  std::printf("  %-26s = %-14s %s\n", expression, fxp::to_string(x).c_str(),
              format_name<T>().c_str());
}

void show_arithmetic() {
  print_heading("2. Exact arithmetic: results grow, nothing is rounded until you narrow");
  const fixed<1, 7> a(0.71875);  // raw 92
  const fixed<4, 4> b(1.3125);   // raw 21
  // The result formats are part of the API (fxp::result_t); these lines fail to compile if
  // they ever change.
  static_assert(std::is_same_v<decltype(a + b), fixed<5, 7>>);
  static_assert(std::is_same_v<decltype(a * b), fixed<5, 11>>);
  static_assert(std::is_same_v<decltype(-a), fixed<2, 7>>);
  static_assert(std::is_same_v<fxp::result_t<fxp::op::mul, fixed<1, 7>, fixed<1, 7>>,
                               fixed<2, 14>>);
  print_value("a", a);
  print_value("b", b);
  print_value("a + b", a + b);
  print_value("a - b", a - b);
  print_value("a * b", a * b);
  print_value("-a", -a);
  print_value("divide<fixed<1,15>>(a, b)", fxp::divide<fixed<1, 15>>(a, b));

  // a * b = 120.75 ulps of fixed<1,7>: each policy keeps 120 or 121. Only stochastic
  // rounding keeps the exact value on average (round up with probability 0.75).
  using target = fixed<1, 7>;
  const auto product = a * b;
  constexpr int draws = 10000;
  std::printf("\n  a * b narrowed back into %s (fxp::fixed_cast<%s, Policy>):\n",
              format_name<target>().c_str(), format_name<target>().c_str());
  std::printf("    %-13s %12s %24s\n", "policy", "one result",
              ("mean of " + std::to_string(draws) + " results").c_str());
  for_each_type(all_policies{}, [&](auto policy) {
    using Round = typename decltype(policy)::type;
    double sum = 0;
    for (int i = 0; i < draws; ++i) {
      sum += fxp::fixed_cast<target, Round>(product).to_double();  // default generator
    }
    std::printf("    %-13s %12s %24.6f\n", Round::name,
                fxp::to_string(fxp::fixed_cast<target, Round>(product)).c_str(), sum / draws);
  });
  std::printf("    %-13s %12s %24s\n", "(exact)", "", fxp::to_string(product).c_str());

  // a + b = 2.03125 does not fit fixed<1,7> at all: the overflow policy decides.
  std::printf("\n  a + b narrowed into fixed<1,7,nearest,Overflow>:\n");
  for_each_type(type_list<fxp::saturate, fxp::wrap, fxp::checked>{}, [&](auto overflow) {
    using Overflow = typename decltype(overflow)::type;
    using narrow = fixed<1, 7, fxp::nearest, Overflow>;
    std::string shown;
    try {
      shown = fxp::to_string(narrow(a + b));
    } catch (const fxp::overflow_error& e) {
      shown = std::string("throws fxp::overflow_error: ") + e.what();
    }
    std::printf("    %-9s %s\n", Overflow::name, shown.c_str());
  });
}

// ---------------------------------------------------------------------------------------
// 3. Quantization error of every policy

/// Error statistics of quantized samples. Bias, RMS and max |error| cover the in-range
/// samples (the rounding, or "granular", error the policies differ in); SQNR covers all
/// samples, so it also pays for saturation (the "overload" error).
class error_stats {
 public:
  void add(double x, double quantized, double ulp, bool in_range) {
    const double e = quantized - x;
    signal_ += x * x;
    noise_ += e * e;
    ++samples_;
    if (!in_range) return;
    ++in_range_;
    const double e_ulp = e / ulp;
    sum_ulp_ += e_ulp;
    sum_sq_ulp_ += e_ulp * e_ulp;
    max_abs_ulp_ = std::max(max_abs_ulp_, std::abs(e_ulp));
  }

  [[nodiscard]] double bias_ulp() const { return sum_ulp_ / count(in_range_); }
  [[nodiscard]] double rms_ulp() const { return std::sqrt(sum_sq_ulp_ / count(in_range_)); }
  [[nodiscard]] double max_abs_ulp() const { return max_abs_ulp_; }
  [[nodiscard]] double sqnr_db() const { return 10.0 * std::log10(signal_ / noise_); }
  [[nodiscard]] std::size_t saturated() const { return samples_ - in_range_; }

 private:
  static double count(std::size_t n) { return static_cast<double>(n); }

  std::size_t samples_ = 0;
  std::size_t in_range_ = 0;
  double sum_ulp_ = 0;
  double sum_sq_ulp_ = 0;
  double max_abs_ulp_ = 0;
  double signal_ = 0;
  double noise_ = 0;
};

/// Quantizes every sample into T with policy Round and measures the error.
template <class T, class Round>
error_stats quantization_error(const std::vector<double>& samples, fxp::philox gen) {
  using limits = std::numeric_limits<T>;
  const double lowest = limits::lowest().to_double();
  const double highest = limits::max().to_double();
  error_stats stats;
  for (const double x : samples) {
    const double q = fxp::fixed_cast<T, Round>(x, gen).to_double();
    stats.add(x, q, ulp_of<T>, lowest <= x && x <= highest);
  }
  return stats;
}

/// The samples as they look after one more fractional bit than T's: half of them fall
/// exactly halfway between two values of T, as when a sum or product of T values is
/// requantized by one bit. This is where nearest and nearest_even differ.
template <class T>
std::vector<double> on_half_ulp_grid(const std::vector<double>& samples) {
  using finer = fixed<T::integer_bits, T::fraction_bits + 1>;
  std::vector<double> snapped;
  snapped.reserve(samples.size());
  for (const double x : samples) snapped.push_back(finer(x).to_double());
  return snapped;
}

struct data_set {
  const char* name;
  const char* description;
  std::vector<double> samples;
  bool half_ulp_grid;  // snap to each format's half-ulp grid before quantizing
};

/// One line of the error table (and of the CSV file).
struct table_row {
  std::string data;
  std::string format;
  std::string policy;
  std::size_t samples;
  error_stats stats;
};

template <class Distribution>
std::vector<double> draw(Distribution distribution, std::size_t n, fxp::philox& gen) {
  std::vector<double> v(n);
  for (auto& x : v) x = distribution(gen);
  return v;
}

std::vector<table_row> show_quantization_error(std::size_t n, std::uint64_t seed) {
  print_heading("3. Quantization error of each rounding policy (errors in ulps of the format)");
  std::printf(
      "  Bias, RMS and max|e| are over the in-range samples; SQNR = 10 log10(sum x^2 / sum e^2)\n"
      "  over all %zu samples, saturated ones included. Uniform-error theory: RMS 1/sqrt(12)\n"
      "  = 0.289 for nearest, 1/sqrt(6) = 0.408 for stochastic, 1/sqrt(3) = 0.577 for the\n"
      "  directed policies; truncate is biased by -0.5 (toward_zero too, on positive data).\n",
      n);

  fxp::philox data_gen(seed, 0);  // stream 0: data; stream 1: stochastic rounding
  auto gaussian = draw(std::normal_distribution<double>(0.0, 0.25), n, data_gen);
  std::vector<data_set> data_sets;
  data_sets.push_back({"gaussian", "N(0, 0.25^2): fixed<1,7> spans +-4 sigma", gaussian, false});
  data_sets.push_back({"uniform+", "U[0, 0.75): positive like activations after ReLU, so "
                       "toward_zero = truncate",
                       draw(std::uniform_real_distribution<double>(0.0, 0.75), n, data_gen),
                       false});
  data_sets.push_back({"ties",
                       "the gaussian data on a grid one bit finer than the format: half the\n"
                       "  samples are exact ties, as when a product or sum is requantized by one\n"
                       "  bit. Every policy then errs by 0 or 1/2 ulp; only the direction (bias)\n"
                       "  differs, and nearest's ties-up shows as +1/4 ulp",
                       std::move(gaussian), true});

  using formats = type_list<fixed<1, 7>, fixed<2, 6>, fixed<4, 12>, fixed<1, 3>>;
  std::vector<table_row> rows;
  for (const auto& data : data_sets) {
    std::printf("\n  %s: %s\n", data.name, data.description);
    std::printf("  %-12s %-13s %9s %9s %9s %9s %9s\n", "format", "policy", "bias", "RMS", "max|e|",
                "SQNR dB", "saturated");
    for_each_type(formats{}, [&](auto format) {
      using T = typename decltype(format)::type;
      const auto samples = data.half_ulp_grid ? on_half_ulp_grid<T>(data.samples) : data.samples;
      bool first = true;
      for_each_type(all_policies{}, [&](auto policy) {
        using Round = typename decltype(policy)::type;
        const auto stats = quantization_error<T, Round>(samples, fxp::philox(seed, 1));
        std::printf("  %-12s %-13s %+9.4f %9.4f %9.4f %9.2f %9zu\n",
                    first ? format_name<T>().c_str() : "", Round::name, stats.bias_ulp(),
                    stats.rms_ulp(), stats.max_abs_ulp(), stats.sqnr_db(), stats.saturated());
        first = false;
        rows.push_back({data.name, format_name<T>(), Round::name, samples.size(), stats});
      });
    });
  }
  return rows;
}

/// Writes the error table as CSV. The text is built first, so a failure to open the file
/// leaves nothing half-written.
void write_csv(const std::string& path, const std::vector<table_row>& rows) {
  std::ostringstream csv;
  csv.precision(10);
  csv << "data,format,policy,samples,bias_ulp,rms_ulp,max_abs_ulp,sqnr_db,saturated\n";
  for (const auto& r : rows) {
    csv << r.data << ",\"" << r.format << "\"," << r.policy << ',' << r.samples << ','
        << r.stats.bias_ulp() << ',' << r.stats.rms_ulp() << ',' << r.stats.max_abs_ulp() << ','
        << r.stats.sqnr_db() << ',' << r.stats.saturated() << '\n';
  }
  std::ofstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot open '" + path + "' for writing");
  file << csv.str();
  file.close();
  if (!file) throw std::runtime_error("could not write '" + path + "'");
}

// ---------------------------------------------------------------------------------------
// 4. Accumulating increments smaller than an ulp

/// Adds `steps` copies of `increment` to a fixed<8,8> accumulator, rounding each sum back
/// into the accumulator with every policy, and prints the accumulator (in ulps) at
/// powers of ten. This is the failure of round-to-nearest that Gupta et al., "Deep Learning
/// with Limited Numerical Precision" (arXiv:1502.02551), fix with stochastic rounding: an
/// update below half an ulp is rounded away every time, however many there are.
void show_accumulation(std::uint64_t seed) {
  using accumulator = fixed<8, 8>;
  using increment_type = fixed<1, 15>;
  constexpr int checkpoints[] = {10, 100, 1000, 10000};
  constexpr double acc_ulp = ulp_of<accumulator>;

  print_heading("4. Accumulating 10000 increments smaller than an ulp (Gupta et al. 2015)");
  std::printf("  acc = fixed_cast<%s, Policy>(acc + step), step a %s; acc shown in ulps\n",
              format_name<accumulator>().c_str(), format_name<increment_type>().c_str());

  for (const double step_ulps : {0.3, 0.7}) {
    const increment_type step(step_ulps * acc_ulp);
    std::printf("\n  step = %s = %.6f ulp\n", fxp::to_string(step).c_str(),
                step.to_double() / acc_ulp);
    std::printf("    %-13s", "after");
    for (const int c : checkpoints) std::printf(" %10d", c);
    std::printf("\n    %-13s", "exact");
    for (const int c : checkpoints) std::printf(" %10.2f", c * step.to_double() / acc_ulp);
    std::printf("\n");

    for_each_type(all_policies{}, [&](auto policy) {
      using Round = typename decltype(policy)::type;
      fxp::philox gen(seed, 2);
      accumulator acc;  // zero
      int done = 0;
      std::printf("    %-13s", Round::name);
      for (const int c : checkpoints) {
        for (; done < c; ++done) acc = fxp::fixed_cast<accumulator, Round>(acc + step, gen);
        std::printf(" %10d", int{acc.raw()});  // raw = value in ulps
      }
      std::printf("\n");
    });
  }
  std::printf(
      "\n  Nearest rounds every 0.3 ulp step away and every 0.7 ulp step up to a whole ulp;\n"
      "  stochastic rounding is exact on average, its error a random walk of about\n"
      "  sqrt(n p (1 - p)) ulps (~46 after 10000 steps of either size).\n");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"A tour of fxp's formats, exact arithmetic and rounding policies"};
  std::size_t samples = 100000;
  std::uint64_t seed = 1;
  std::string csv_path;
  app.add_option("--samples", samples, "samples per data set in the error table")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}))
      ->capture_default_str();
  app.add_option("--seed", seed, "seed of the data and of stochastic rounding")
      ->capture_default_str();
  app.add_option("--csv", csv_path, "also write the error table to this CSV file");
  CLI11_PARSE(app, argc, argv);

  try {
    std::printf("fxp tour (seed %llu, %zu samples)\n", static_cast<unsigned long long>(seed),
                samples);
    fxp::seed(seed);  // the default generator, used where no generator is passed
    show_formats();
    show_arithmetic();
    const auto rows = show_quantization_error(samples, seed);
    show_accumulation(seed);
    if (!csv_path.empty()) {
      write_csv(csv_path, rows);
      std::printf("\nwrote %s\n", csv_path.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tour: %s\n", e.what());
    return 1;
  }
  return 0;
}
