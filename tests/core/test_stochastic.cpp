// SPDX-License-Identifier: MIT
// Stochastic rounding: exactly unbiased when every random word is enumerated, round-up
// frequencies within binomial bounds at fixed seeds, reproducible from (seed, stream,
// counter), one word per conversion, independent streams.
#include <fxp/core/core.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace {

__extension__ using i128 = __int128;

/// Yields the words a test lists, so every random outcome can be enumerated.
struct scripted_words {
  using result_type = std::uint32_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return 0xFFFFFFFFu; }
  std::uint32_t word = 0;
  int drawn = 0;
  result_type operator()() {
    ++drawn;
    return word;
  }
};

// Whether a word decides the k-bit fraction f: only its top k bits matter, since the
// policy compares it with f * 2^(32-k); enumerating j * 2^(32-k) + any low bits covers
// every outcome. Low bits all-zero and all-one must agree.
template <class Source, class Target>
void check_exact_mean(int k, i128 raw) {
  const Source x = Source::from_raw(static_cast<typename Source::raw_type>(raw));
  for (const std::uint32_t low : {0u, (k == 32 ? 0u : (0xFFFFFFFFu >> k))}) {
    i128 sum = 0;
    scripted_words gen;
    for (std::uint64_t j = 0; j < (std::uint64_t{1} << k); ++j) {
      gen.word = static_cast<std::uint32_t>((j << (32 - k)) | low);
      sum += fxp::fixed_cast<Target, fxp::stochastic>(x, gen).raw();
    }
    // The mean over all 2^k outcomes, in target ulps, is exactly raw / 2^k.
    INFO(Source::name() << " -> " << Target::name() << " raw " << static_cast<long long>(raw));
    REQUIRE(sum == raw);
  }
}

}  // namespace

TEST_CASE("enumerating every random outcome gives exactly the true value on average",
          "[stochastic]") {
  // Every value of the source, k = 1..8 discarded bits; the targets are wide enough that
  // rounding up never saturates (that would bias the mean, as it should).
  auto all_values = [&]<int K>() {
    using source = fxp::fixed<4, 4 + K>;
    using target = fxp::fixed<5, 4>;
    for (i128 raw = source::raw_min; raw <= source::raw_max; ++raw) {
      check_exact_mean<source, target>(K, raw);
    }
    using usource = fxp::ufixed<3, 3 + K>;
    using utarget = fxp::ufixed<4, 3>;
    for (i128 raw = usource::raw_min; raw <= usource::raw_max; ++raw) {
      check_exact_mean<usource, utarget>(K, raw);
    }
  };
  all_values.template operator()<1>();
  all_values.template operator()<2>();
  all_values.template operator()<3>();
  all_values.template operator()<5>();
  all_values.template operator()<8>();

  // k = 16 and 20: a spread of values, every outcome each.
  std::mt19937_64 gen(3);
  for (int i = 0; i < 24; ++i) {
    const auto raw16 = static_cast<std::int32_t>(gen() % (1u << 23)) - (1 << 22);
    check_exact_mean<fxp::fixed<8, 16>, fxp::fixed<9, 0>>(16, raw16);
    const auto raw20 = static_cast<std::int32_t>(gen() % (1u << 27)) - (1 << 26);
    check_exact_mean<fxp::fixed<8, 20>, fxp::fixed<9, 0>>(20, raw20);
  }
}

TEST_CASE("float inputs: the mean over all outcomes is the value to 2^-32 ulp", "[stochastic]") {
  // A double with a 12-bit fraction below fixed<8,4>'s last bit: exact mean over 2^12.
  std::mt19937_64 gen(8);
  for (int i = 0; i < 64; ++i) {
    const auto raw = static_cast<std::int64_t>(gen() % (1u << 18)) - (1 << 17);
    const double x = std::ldexp(static_cast<double>(raw), -16);  // 16 - 4 = 12 bits below
    i128 sum = 0;
    scripted_words words;
    for (std::uint32_t j = 0; j < (1u << 12); ++j) {
      words.word = j << 20;
      sum += fxp::fixed_cast<fxp::fixed<8, 4>, fxp::stochastic>(x, words).raw();
    }
    REQUIRE(sum == raw);
  }
}

TEST_CASE("round-up frequency matches the discarded fraction (binomial bound)",
          "[stochastic]") {
  // For each of 200 random values, draw n = 20000 roundings from fxp::philox (fixed seed)
  // and count round-ups. The count is Binomial(n, p) with p the discarded fraction; a
  // correct generator leaves 6 standard deviations with probability < 2e-9 per value,
  // < 4e-7 for the whole test, and the seed is fixed, so the outcome is deterministic.
  fxp::philox gen(2026, 1);
  std::mt19937_64 values(17);
  constexpr int n = 20000;
  double total_error = 0;
  for (int v = 0; v < 200; ++v) {
    const auto raw = static_cast<std::int32_t>(values() % (1u << 24)) - (1 << 23);  // fixed<8,16>
    const auto x = fxp::fixed<8, 16>::from_raw(raw);
    const i128 floor_q = static_cast<i128>(raw >> 8);  // target fixed<8,8>: drop 8 bits
    const double p = static_cast<double>(raw & 0xFF) / 256.0;
    int ups = 0;
    for (int i = 0; i < n; ++i) {
      const auto r = fxp::fixed_cast<fxp::fixed<8, 8>, fxp::stochastic>(x, gen).raw();
      REQUIRE((r == floor_q || r == floor_q + 1));
      ups += r == floor_q + 1 ? 1 : 0;
    }
    const double sigma = std::sqrt(n * p * (1 - p));
    INFO("p = " << p << " ups = " << ups);
    CHECK(std::fabs(ups - n * p) <= 6 * sigma + 1e-9);
    total_error += ups - n * p;
  }
  // The bias summed over every value is within 6 sigma of the sum (<= sqrt(200 n / 4)).
  CHECK(std::fabs(total_error) <= 6 * std::sqrt(200.0 * n / 4));
}

TEST_CASE("same seed, stream and counter give the same roundings", "[stochastic]") {
  std::mt19937_64 values(4);
  std::vector<double> xs(5000);
  for (auto& x : xs) x = std::ldexp(static_cast<double>(values() % 100000) - 50000.0, -12);

  auto run = [&](fxp::philox gen) {
    std::vector<std::int16_t> out;
    for (double x : xs) out.push_back(fxp::fixed_cast<fxp::fixed<8, 8>, fxp::stochastic>(x, gen).raw());
    return out;
  };
  const auto a = run(fxp::philox(7, 3, 100));
  CHECK(a == run(fxp::philox(7, 3, 100)));
  CHECK(a != run(fxp::philox(7, 4, 100)));  // another stream
  CHECK(a != run(fxp::philox(8, 3, 100)));  // another seed
  // Resuming at the position where a run stopped continues it exactly.
  fxp::philox first(7, 3, 100);
  std::vector<std::int16_t> half;
  for (std::size_t i = 0; i < xs.size() / 2; ++i)
    half.push_back(fxp::fixed_cast<fxp::fixed<8, 8>, fxp::stochastic>(xs[i], first).raw());
  fxp::philox resumed(7, 3);
  resumed.set_position(first.position());
  for (std::size_t i = xs.size() / 2; i < xs.size(); ++i)
    half.push_back(fxp::fixed_cast<fxp::fixed<8, 8>, fxp::stochastic>(xs[i], resumed).raw());
  CHECK(half == a);

  // The per-thread default generator: fxp::seed makes construction reproducible.
  auto run_default = [&] {
    std::vector<std::int16_t> out;
    for (double x : xs) out.push_back(fxp::fixed<8, 8, fxp::stochastic>(x).raw());
    return out;
  };
  fxp::seed(42);
  const auto d = run_default();
  fxp::seed(42);
  CHECK(d == run_default());
  fxp::seed(43);
  CHECK(d != run_default());
  // The default generator is fxp::philox(seed, 0, 0), the same as an explicit one.
  CHECK(d == run(fxp::philox(42, 0, 0)));
}

TEST_CASE("a conversion that can discard bits draws exactly one word", "[stochastic]") {
  scripted_words gen;
  (void)fxp::fixed_cast<fxp::fixed<4, 4>, fxp::stochastic>(fxp::fixed<4, 8>::from_raw(3), gen);
  CHECK(gen.drawn == 1);
  (void)fxp::fixed_cast<fxp::fixed<4, 4>, fxp::stochastic>(fxp::fixed<4, 8>::from_raw(16), gen);
  CHECK(gen.drawn == 2);  // exact value, but the format could have discarded bits
  (void)fxp::fixed_cast<fxp::fixed<4, 4>, fxp::stochastic>(2.0, gen);
  CHECK(gen.drawn == 3);  // every float conversion draws
  (void)fxp::fixed_cast<fxp::fixed<8, 8>, fxp::stochastic>(fxp::fixed<4, 4>(1.5), gen);
  CHECK(gen.drawn == 3);  // widening never rounds, never draws
  (void)fxp::fixed_cast<fxp::fixed<4, 4>, fxp::nearest>(0.3, gen);
  CHECK(gen.drawn == 3);  // deterministic policies ignore the generator
  (void)fxp::divide<fxp::fixed<4, 4>, fxp::stochastic>(fxp::fixed<4, 4>(1), fxp::fixed<4, 4>(3), gen);
  CHECK(gen.drawn == 4);
}

TEST_CASE("roundings from different streams are uncorrelated", "[stochastic]") {
  // p = 1/2 roundings of the same values from streams 0 and 1 of one seed: the Pearson
  // correlation of the two round-up indicator sequences is N(0, 1/n) for independent
  // streams; 6/sqrt(n) is exceeded with probability < 2e-9.
  fxp::philox s0(5, 0);
  fxp::philox s1(5, 1);
  constexpr int n = 200000;
  const auto half = fxp::fixed<4, 8>::from_raw(8);  // 0.5 ulp of fixed<4,4> above 0
  double sum0 = 0, sum1 = 0, sum01 = 0;
  for (int i = 0; i < n; ++i) {
    const double a = fxp::fixed_cast<fxp::fixed<4, 4>, fxp::stochastic>(half, s0).raw();
    const double b = fxp::fixed_cast<fxp::fixed<4, 4>, fxp::stochastic>(half, s1).raw();
    sum0 += a;
    sum1 += b;
    sum01 += a * b;
  }
  const double m0 = sum0 / n, m1 = sum1 / n;
  const double cov = sum01 / n - m0 * m1;
  const double r = cov / std::sqrt(m0 * (1 - m0) * m1 * (1 - m1));
  CHECK(std::fabs(r) < 6 / std::sqrt(static_cast<double>(n)));
  CHECK(std::fabs(m0 - 0.5) < 6 * 0.5 / std::sqrt(static_cast<double>(n)));
}
