// SPDX-License-Identifier: MIT
// Stochastic rounding in the kernels: the same key gives the same bits, another step, tensor
// or seed other bits; converting an array in pieces (with first_index the offset of each
// piece, as threads will) gives the bits of converting it whole; and the results are unbiased
// on average, within a binomial bound at a fixed seed; without a key, a call draws one from
// the default generator.
#include "support.hpp"

#include "../keyless_calls.hpp"

namespace {

using namespace fxp_test;
using T = fxp::fixed<4, 12>;

std::vector<float> fractional_inputs(std::size_t n) {
  std::mt19937 rng(77);
  std::uniform_real_distribution<float> u(-7.9f, 7.9f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

template <class U>
std::vector<long long> raws(const std::vector<U>& values) {
  std::vector<long long> raw(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) raw[i] = values[i].raw();
  return raw;
}

std::vector<long long> quantized(const std::vector<float>& in, fxp::optional_key key = {}) {
  std::vector<T> out(in.size());
  fxp::quantize<T, fxp::stochastic>(in.data(), out.data(), in.size(), key);
  return raws(out);
}

std::size_t differences(const std::vector<long long>& a, const std::vector<long long>& b) {
  std::size_t d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d += a[i] != b[i];
  return d;
}

}  // namespace

TEST_CASE("stochastic kernels: same key, same bits; another key, other bits", "[simd][stochastic]") {
  const auto in = fractional_inputs(5000);
  const fxp::random_key key{2026, 3, 10};
  const auto a = quantized(in, key);
  CHECK(differences(a, quantized(in, key)) == 0);
  // Inputs have ~8 random fraction bits below T's last bit, so about half the roundings are
  // random coin flips: another key changes roughly a quarter of the results or more.
  const fxp::random_key other_step{2026, 3, 11};
  const fxp::random_key other_tensor{2026, 4, 10};
  const fxp::random_key other_seed{2027, 3, 10};
  for (const auto& other : {other_step, other_tensor, other_seed}) {
    CHECK(differences(a, quantized(in, other)) > in.size() / 8);
  }
}

TEST_CASE("stochastic kernels: any split into pieces gives the bits of the whole",
          "[simd][stochastic]") {
  const auto in = fractional_inputs(3001);
  const fxp::random_key key{5, 6, 7};
  std::vector<T> whole(in.size());
  fxp::quantize<T, fxp::stochastic>(in.data(), whole.data(), in.size(), key);
  std::vector<fxp::fixed<1, 7>> whole8(in.size());
  std::vector<fxp::fixed<1, 7>> pieces8(in.size());
  std::vector<fxp::fixed<4, 12>> src(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) src[i] = whole[i];
  fxp::requantize<fxp::fixed<1, 7>, fxp::stochastic>(src.data(), whole8.data(), src.size(), key);

  std::mt19937 rng(3);
  for (int trial = 0; trial < 30; ++trial) {
    // Random cut points, so pieces start at any index modulo 4 and modulo the chunk.
    std::vector<std::size_t> cuts = {0, in.size()};
    for (int c = 0; c < trial % 7 + 1; ++c) cuts.push_back(rng() % in.size());
    std::sort(cuts.begin(), cuts.end());
    std::vector<T> pieces(in.size());
    for (std::size_t c = 0; c + 1 < cuts.size(); ++c) {
      const std::size_t begin = cuts[c];
      const std::size_t count = cuts[c + 1] - begin;
      fxp::quantize<T, fxp::stochastic>(in.data() + begin, pieces.data() + begin, count, key, begin);
      fxp::requantize<fxp::fixed<1, 7>, fxp::stochastic>(src.data() + begin, pieces8.data() + begin,
                                                          count, key, begin);
    }
    for (std::size_t i = 0; i < in.size(); ++i) {
      INFO("trial " << trial << " element " << i);
      REQUIRE(pieces[i].raw() == whole[i].raw());
      REQUIRE(pieces8[i].raw() == whole8[i].raw());
    }
  }
}

TEST_CASE("stochastic kernels are unbiased", "[simd][stochastic]") {
  // x = k + p ulps: the rounded value is k + 1 with probability p. Over n elements the number
  // rounded up is Binomial(n, p); allow 5 standard deviations (deterministic at this seed).
  const std::size_t n = 200000;
  const double ulp = 0x1p-12;
  const double fractions[] = {0.5, 0.3, 0.9990234375, 0x1p-10, 0.75};
  for (const double p : fractions) {
    for (const double k : {3.0, -2.0, 0.0}) {
      const auto x = static_cast<float>((k + p) * ulp);
      std::vector<float> in(n, x);
      std::vector<T> out(n);
      fxp::quantize<T, fxp::stochastic>(in.data(), out.data(), n, {123, 1, 2}, 17);
      double up = 0;
      for (const auto& y : out) {
        REQUIRE((y.raw() == k || y.raw() == k + 1));
        up += y.raw() == k + 1;
      }
      const double sigma = std::sqrt(n * p * (1 - p));
      INFO("x = " << k << " + " << p << " ulps");
      CHECK(std::abs(up - n * p) <= 5 * sigma + 1);
    }
  }
  // requantize too: fixed<4,12> -> fixed<1,7> discards 5 bits; raw r rounds up with
  // probability (r mod 32) / 32.
  for (const int r : {1, 13, 16, 31, -7}) {
    std::vector<fxp::fixed<4, 12>> in(n, fxp::fixed<4, 12>::from_raw(static_cast<std::int16_t>(r)));
    std::vector<fxp::fixed<1, 7>> out(n);
    fxp::requantize<fxp::fixed<1, 7>, fxp::stochastic>(in.data(), out.data(), n, {9, 9, 9});
    const double p = static_cast<double>(((r % 32) + 32) % 32) / 32.0;
    const int floor_raw = static_cast<int>(std::floor(r / 32.0));
    double up = 0;
    for (const auto& y : out) up += y.raw() == floor_raw + 1;
    CHECK(std::abs(up - n * p) <= 5 * std::sqrt(n * p * (1 - p)) + 1);
  }
}

TEST_CASE("fxp::draw_key takes seed, tensor id and step from the next four words",
          "[simd][stochastic][keyless]") {
  fxp::philox words(4242);
  const std::uint64_t low = words();
  const std::uint64_t high = words();
  const std::uint32_t tensor_id = words();
  const std::uint32_t step = words();
  fxp::seed(4242);
  const fxp::random_key key = fxp::draw_key();
  CHECK(key.seed == (low | high << 32));
  CHECK(key.tensor_id == tensor_id);
  CHECK(key.step == step);
  CHECK(fxp::default_generator() == words);
}

TEST_CASE("stochastic kernels without a key draw one per call from the default generator",
          "[simd][stochastic][keyless]") {
  const auto in = fractional_inputs(3001);
  std::vector<T> src(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) src[i] = T(in[i]);
  using r = fxp::fixed<1, 7>;
  const auto requantized = [&](auto&&... key) {
    std::vector<r> out(src.size());
    fxp::requantize<r, fxp::stochastic>(src.data(), out.data(), src.size(), key...);
    return raws(out);
  };
  SECTION("quantize") {
    fxp_test::check_keyless_draws([&] { return quantized(in); },
                                  [&](const fxp::random_key& key) { return quantized(in, key); });
  }
  SECTION("requantize") {
    fxp_test::check_keyless_draws([&] { return requantized(); },
                                  [&](const fxp::random_key& key) { return requantized(key); });
  }
  SECTION("quantize_on, the form that names the architecture") {
    const auto on = [&](auto&&... key) {
      std::vector<T> out(in.size());
      fxp::simd::quantize_on<fxp::simd::default_arch, T, fxp::stochastic>(in.data(), out.data(),
                                                                           in.size(), key...);
      return raws(out);
    };
    fxp_test::check_keyless_draws([&] { return on(); },
                                  [&](const fxp::random_key& key) { return on(key); });
  }
  SECTION("deterministic policies draw nothing") {
    std::vector<T> out(in.size());
    std::vector<r> out8(in.size());
    fxp_test::check_draws_nothing([&] {
      fxp::quantize<T, fxp::nearest>(in.data(), out.data(), in.size());
      fxp::quantize<T>(in.data(), out.data(), in.size());
      fxp::requantize<r, fxp::truncate>(src.data(), out8.data(), src.size());
      fxp::simd::requantize_on<fxp::simd::default_arch, r, fxp::nearest_even>(
          src.data(), out8.data(), src.size());
    });
  }
}
