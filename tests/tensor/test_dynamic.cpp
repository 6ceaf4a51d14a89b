// SPDX-License-Identifier: MIT
// The run-time format kernels give the bits of the compile-time kernels for the same
// formats, for a spread of formats (8, 16 and 32-bit storage, signed and unsigned, negative
// integer or fractional bits) and every rounding policy; they count saturations as an
// independent wider conversion says they should; their bias joins the exact sum; without
// a key, stochastic rounding draws one from the default generator.
#include <fxp/core/core.hpp>
#include <fxp/tensor/dynamic.hpp>
#include <fxp/tensor/tensor.hpp>

#include <catch2/catch.hpp>

#include "../keyless_calls.hpp"
#include "random_tensor.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

using fxp::dynamic_format;
using fxp::fixed;
using fxp::qtensor;
using fxp::random_key;
using fxp::rounding_mode;
using fxp::shape;
using fxp::tensor;
using fxp::transpose;
using fxp::ufixed;
using fxp_test::random_tensor;

namespace {

__extension__ using i128 = __int128;

template <class Round>
constexpr rounding_mode mode_of() {
  if constexpr (std::is_same_v<Round, fxp::truncate>) return rounding_mode::truncate;
  if constexpr (std::is_same_v<Round, fxp::toward_zero>) return rounding_mode::toward_zero;
  if constexpr (std::is_same_v<Round, fxp::nearest>) return rounding_mode::nearest;
  if constexpr (std::is_same_v<Round, fxp::nearest_even>) return rounding_mode::nearest_even;
  return rounding_mode::stochastic;
}

/// The qtensor holding t's raw values in t's format.
template <class T>
qtensor to_q(const tensor<T>& t) {
  qtensor q(t.shape(), dynamic_format::of<T>());
  for (std::size_t i = 0; i < t.size(); ++i) q.set_raw(i, static_cast<std::int64_t>(t[i].raw()));
  return q;
}

template <class T>
void require_same_raw(const qtensor& q, const tensor<T>& t) {
  REQUIRE(q.shape() == t.shape());
  REQUIRE(q.format() == dynamic_format::of<T>());
  std::size_t differing = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    differing += q.raw(i) != static_cast<std::int64_t>(t[i].raw());
  }
  REQUIRE(differing == 0);
}

/// Floats that exercise every rounding decision: ties, values just off ties, huge values
/// (saturation), subnormals (first half only: the kernel's fast form takes chunks without
/// them), infinities, signed zeros, and plain random data.
tensor<float> tricky_floats(std::size_t n, std::uint64_t seed, int frac) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<float> u(-3.0f, 3.0f);
  std::uniform_int_distribution<int> raw(-300, 300);
  tensor<float> x(shape{n});
  const float ulp = std::ldexp(1.0f, -frac);
  for (std::size_t i = 0; i < n; ++i) {
    switch (i % 8) {
      case 0: x[i] = static_cast<float>(raw(gen)) * ulp * 0.5f; break;  // ties and exact
      case 1: x[i] = std::nextafter(static_cast<float>(raw(gen)) * ulp * 0.5f, 0.0f); break;
      case 2: x[i] = u(gen) * 1e6f; break;
      case 3:
        x[i] = i < n / 2 ? std::numeric_limits<float>::denorm_min() * static_cast<float>(raw(gen))
                         : static_cast<float>(raw(gen)) * ulp * 0.25f;
        break;
      default: x[i] = u(gen) * static_cast<float>(1 << (i % 5)); break;
    }
  }
  x[0] = std::numeric_limits<float>::infinity();
  x[1] = -std::numeric_limits<float>::infinity();
  x[2] = -0.0f;
  x[3] = 0.0f;
  return x;
}

/// How many elements of x a conversion into T clamps: those whose rounded value in the
/// 64-bit format of T's fractional bits leaves T's range.
template <class T, class Round>
std::uint64_t expected_saturations(const tensor<float>& x, const random_key& key) {
  using wide = fixed<64 - T::fraction_bits, T::fraction_bits>;
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    fxp::philox gen = key.generator_at(i);
    const auto w = fxp::fixed_cast<wide, Round>(x[i], gen);
    n += w.raw() > static_cast<std::int64_t>(T::raw_max) ||
         w.raw() < static_cast<std::int64_t>(T::raw_min);
  }
  return n;
}

using policies = std::tuple<fxp::truncate, fxp::toward_zero, fxp::nearest, fxp::nearest_even,
                            fxp::stochastic>;

template <class F>
void for_each_policy(F f) {
  std::apply([&](auto... r) { (f(r), ...); }, policies{});
}

}  // namespace

TEST_CASE("dynamic_format spells, parses and bounds formats", "[dynamic]") {
  const dynamic_format s{16, 8, true};
  CHECK(s.to_string() == "s16.8");
  CHECK(dynamic_format::parse("u8.-2") == dynamic_format{8, -2, false});
  CHECK(dynamic_format::parse(s.to_string()) == s);
  CHECK(dynamic_format::of<fixed<1, 7>>() == dynamic_format{8, 7, true});
  CHECK(dynamic_format::of<ufixed<4, 4>>() == dynamic_format{8, 4, false});
  CHECK(s.raw_min() == -32768);
  CHECK(s.raw_max() == 32767);
  CHECK(dynamic_format{8, 4, false}.raw_max() == 255);
  CHECK(dynamic_format{8, 4, false}.raw_min() == 0);
  CHECK(dynamic_format{12, 4, true}.storage_bits() == 16);
  CHECK(dynamic_format{6, -3, true}.step() == 8.0);
  CHECK(dynamic_format{6, 3, true}.step() == 0.125);
  CHECK_THROWS_AS(dynamic_format::parse("x16.8"), std::invalid_argument);
  CHECK_THROWS_AS(dynamic_format::parse("s16"), std::invalid_argument);
  CHECK_THROWS_AS(dynamic_format::parse("s16.8z"), std::invalid_argument);
  CHECK_THROWS_AS(dynamic_format::parse("s33.8"), std::invalid_argument);
  CHECK_THROWS_AS(dynamic_format::parse("u32.8"), std::invalid_argument);
  CHECK_THROWS_AS(dynamic_format::parse("s1.0"), std::invalid_argument);
  CHECK_THROWS_AS(dynamic_format::parse("s8.65"), std::invalid_argument);
  CHECK_THROWS_AS(qtensor(shape{2}, dynamic_format{40, 0, true}), std::invalid_argument);
  for (auto m : {rounding_mode::truncate, rounding_mode::toward_zero, rounding_mode::nearest,
                 rounding_mode::nearest_even, rounding_mode::stochastic}) {
    CHECK(fxp::parse_rounding_mode(fxp::to_string(m)) == m);
  }
  CHECK_THROWS_WITH(fxp::parse_rounding_mode("round"), Catch::Contains("nearest_even"));
}

namespace {

/// round_shifted<Round>(v, S) against the core's narrowing of the integer v into units of
/// 2^S (the format fixed<64 + S, -S>), for random v near every kind of discarded fraction.
template <int S>
void check_shift() {
  std::mt19937_64 gen(S);
  for (int trial = 0; trial < 4000; ++trial) {
    std::int64_t v = static_cast<std::int64_t>(gen());
    if (trial % 3 == 0) v >>= (trial % 64);  // small magnitudes too
    if constexpr (S < 63) {
      if (trial % 5 == 0) {  // exact ties and their neighbours
        constexpr std::uint64_t low = (std::uint64_t{1} << S) - 1;
        v = static_cast<std::int64_t>((static_cast<std::uint64_t>(v) & ~low) |
                                      (std::uint64_t{1} << (S - 1))) +
            (trial % 3) - 1;
      }
    }
    const auto exact = fixed<64, 0>::from_raw(v);
    for_each_policy([&]<class Round>(Round) {
      // Word 0 rounds up on any nonzero top 32 bits of the fraction: the telling case.
      const std::uint32_t word = trial % 4 == 0 ? 0u : static_cast<std::uint32_t>(gen());
      fxp::simd::detail::single_word one{word};
      const auto expected = fxp::fixed_cast<fixed<64 + S, -S>, Round>(exact, one);
      INFO("v = " << v << ", shift " << S << ", " << Round::name);
      REQUIRE(static_cast<std::int64_t>(fxp::detail::round_shifted<Round>(v, S, word)) ==
              static_cast<std::int64_t>(expected.raw()));
    });
  }
}

}  // namespace

TEST_CASE("a moved-from qtensor is empty in its format", "[dynamic]") {
  fxp::qtensor a(fxp::shape{3, 4}, fxp::dynamic_format{8, 4, true});
  a.set_raw(5, -7);
  a.set_saturations(2);
  fxp::qtensor b = std::move(a);
  CHECK(b.size() == 12);
  CHECK(b.raw(5) == -7);
  CHECK(b.saturations() == 2);
  CHECK(a.size() == 0);  // NOLINT(bugprone-use-after-move): the state after a move is the test
  CHECK(a.saturations() == 0);
  CHECK(a.format() == fxp::dynamic_format{8, 4, true});
  fxp::qtensor c(fxp::shape{2}, fxp::dynamic_format{16, 8, true});
  c = std::move(b);
  CHECK(c.shape() == fxp::shape{3, 4});
  CHECK(c.format() == fxp::dynamic_format{8, 4, true});
  CHECK(b.size() == 0);  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("round_shifted rounds by the policies' rules for every shift", "[dynamic][shift]") {
  check_shift<1>();
  check_shift<2>();
  check_shift<31>();
  check_shift<32>();
  check_shift<33>();
  check_shift<40>();
  check_shift<62>();
  check_shift<63>();
  check_shift<64>();
  check_shift<70>();
  check_shift<95>();
  check_shift<96>();
  check_shift<97>();
  check_shift<130>();
  // Left shifts are exact.
  CHECK(static_cast<std::int64_t>(fxp::detail::round_shifted<fxp::nearest>(-3, -5, 0)) == -96);
}

TEMPLATE_TEST_CASE("run-time quantize, requantize and dequantize give the compile-time bits",
                   "[dynamic][convert]", (fixed<1, 7>), (fixed<3, 5>), (fixed<-2, 10>),
                   (ufixed<4, 4>), (ufixed<0, 8>), (fixed<4, 12>), (fixed<10, -2>),
                   (ufixed<9, 3>), (fixed<20, 12>), (fixed<2, 30>)) {
  using T = TestType;
  const dynamic_format f = dynamic_format::of<T>();
  const random_key key{7, 3, 11};
  const auto x = tricky_floats(70001, 5, T::fraction_bits);
  for_each_policy([&]<class Round>(Round) {
    INFO("format " << f.to_string() << ", policy " << Round::name);
    const qtensor q = fxp::quantize(x, f, mode_of<Round>(), key);
    const tensor<T> expected = fxp::quantize<T, Round>(x, key);
    require_same_raw(q, expected);
    CHECK(q.saturations() == expected_saturations<T, Round>(x, key));

    const tensor<float> back = fxp::dequantize(q);
    for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(back[i] == static_cast<float>(expected[i]));

    // Into a narrower format and into a wider one.
    using narrow = fixed<3, 4>;
    const qtensor r = fxp::requantize(q, dynamic_format::of<narrow>(), mode_of<Round>(), key);
    require_same_raw(r, fxp::requantize<narrow, Round>(expected, key));
    using wide = fixed<8, 20>;
    const qtensor w = fxp::requantize(q, dynamic_format::of<wide>(), mode_of<Round>(), key);
    require_same_raw(w, fxp::requantize<wide, Round>(expected, key));
  });
}

TEST_CASE("run-time kernels reject NaN and bad formats, naming them", "[dynamic][errors]") {
  tensor<float> x(shape{4}, 1.0f);
  x[2] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(fxp::quantize(x, dynamic_format{8, 4, true}, rounding_mode::nearest),
                    Catch::Contains("element 2 is NaN"));
  const qtensor wide(shape{2, 2}, dynamic_format{20, 8, true});
  const qtensor ok(shape{2, 2}, dynamic_format{8, 4, true});
  CHECK_THROWS_WITH(fxp::matmul(wide, ok, transpose::no, transpose::no, dynamic_format{16, 8},
                                rounding_mode::nearest),
                    Catch::Contains("s20.8") && Catch::Contains("at most 16 bits"));
  const qtensor bias(shape{3}, dynamic_format{8, 2, true});
  CHECK_THROWS_WITH(fxp::matmul(ok, ok, transpose::no, transpose::no, dynamic_format{16, 8},
                                rounding_mode::nearest, {}, &bias),
                    Catch::Contains("bias has 3 elements, expected 2"));
  const qtensor fine_bias(shape{2}, dynamic_format{16, 12, true});
  CHECK_THROWS_WITH(fxp::matmul(ok, ok, transpose::no, transpose::no, dynamic_format{16, 8},
                                rounding_mode::nearest, {}, &fine_bias),
                    Catch::Contains("s16.12"));
  qtensor q(shape{2, 3}, dynamic_format{8, 4, false});
  CHECK_THROWS_AS(q.set_raw(0, 256), std::out_of_range);
  CHECK_THROWS_AS(q.set_raw(0, -1), std::out_of_range);
  CHECK_THROWS_AS(q.raw(6), std::out_of_range);
  q.reshape(shape{3, 2});
  CHECK(q.shape() == shape{3, 2});
  CHECK_THROWS_AS(q.reshape(shape{7}), std::invalid_argument);
}

namespace {

/// matmul in the run-time formats of A, B, C against the compile-time kernel of the same
/// formats, every transpose, and with a bias against exact 128-bit sums.
template <class A, class B, class C, class Round>
void check_matmul(std::size_t m, std::size_t n, std::size_t k) {
  const random_key key{5, 9, 2};
  const rounding_mode mode = mode_of<Round>();
  INFO(A::name() << " x " << B::name() << " -> " << C::name() << ", " << Round::name << ", m n k "
                 << m << " " << n << " " << k);
  for (const auto ta : {transpose::no, transpose::yes}) {
    for (const auto tb : {transpose::no, transpose::yes}) {
      const auto a = random_tensor<A>(ta == transpose::no ? shape{m, k} : shape{k, m}, m + 3 * k);
      const auto b = random_tensor<B>(tb == transpose::no ? shape{k, n} : shape{n, k}, n + 5 * k);
      const qtensor c = fxp::matmul(to_q(a), to_q(b), ta, tb, dynamic_format::of<C>(), mode, key);
      require_same_raw(c, fxp::matmul<C, Round>(a, b, ta, tb, key));
    }
  }
  // Bias: exact sum plus the aligned bias, rounded once by the core.
  using bias_t = fixed<6, A::fraction_bits + B::fraction_bits - 3>;
  const auto a = random_tensor<A>(shape{m, k}, 1);
  const auto b = random_tensor<B>(shape{k, n}, 2);
  const auto bias = random_tensor<bias_t>(shape{n}, 3);
  const qtensor qb = to_q(bias);
  const qtensor c = fxp::matmul(to_q(a), to_q(b), transpose::no, transpose::no,
                                dynamic_format::of<C>(), mode, key, &qb);
  constexpr int f = A::fraction_bits + B::fraction_bits;
  std::uint64_t clamped = 0;
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      i128 sum = static_cast<i128>(bias[j].raw()) * 8;
      for (std::size_t l = 0; l < k; ++l) sum += static_cast<i128>(a(i, l).raw()) * b(l, j).raw();
      const auto exact = fixed<64 - f, f>::from_raw(static_cast<std::int64_t>(sum));
      fxp::philox gen = key.generator_at(i * n + j);
      const C expected = fxp::fixed_cast<C, Round>(exact, gen);
      using wide = fixed<64 - C::fraction_bits, C::fraction_bits>;
      fxp::philox gen2 = key.generator_at(i * n + j);
      const auto w = fxp::fixed_cast<wide, Round>(exact, gen2);
      clamped += w.raw() > static_cast<std::int64_t>(C::raw_max) ||
                 w.raw() < static_cast<std::int64_t>(C::raw_min);
      REQUIRE(c.raw(i * n + j) == static_cast<std::int64_t>(expected.raw()));
    }
  }
  CHECK(c.saturations() == clamped);
}

}  // namespace

TEST_CASE("run-time matmul gives the compile-time bits for every storage pair and policy",
          "[dynamic][matmul]") {
  for_each_policy([]<class Round>(Round) {
    check_matmul<fixed<1, 7>, fixed<2, 6>, fixed<4, 4>, Round>(9, 13, 31);
    check_matmul<ufixed<4, 4>, fixed<-1, 9>, fixed<6, 10>, Round>(17, 5, 40);
    check_matmul<fixed<3, 13>, fixed<1, 7>, fixed<2, 6>, Round>(4, 33, 70);
    check_matmul<fixed<2, 14>, fixed<4, 12>, fixed<12, 20>, Round>(8, 8, 100);
    check_matmul<ufixed<3, 9>, ufixed<5, 3>, ufixed<8, 8>, Round>(6, 7, 300);
    check_matmul<ufixed<2, 6>, ufixed<2, 6>, ufixed<4, 4>, Round>(7, 9, 12);  // uint8 output
    // An output with more fractional bits than the products: no rounding (a shift of -2),
    // the exact-sum path rather than the rounding GEMM store.
    check_matmul<fixed<4, 4>, ufixed<6, 2>, fixed<16, 8>, Round>(5, 6, 20);
  });
}

TEST_CASE("run-time conv2d and its backward products give the compile-time bits",
          "[dynamic][conv]") {
  using x_t = ufixed<2, 6>;
  using w_t = fixed<1, 7>;
  using dy_t = fixed<3, 13>;
  const random_key key{8, 1, 6};
  const fxp::conv2d_params p{2, 1, 1, 2};
  const auto x = random_tensor<x_t>(shape{3, 2, 9, 8}, 1);
  const auto w = random_tensor<w_t>(shape{4, 2, 3, 3}, 2);
  const shape y_shape{3, 4, 5, 10};
  const auto dy = random_tensor<dy_t>(y_shape, 3);
  for_each_policy([&]<class Round>(Round) {
    INFO(Round::name);
    const rounding_mode mode = mode_of<Round>();
    using y_t = fixed<2, 6>;
    const qtensor y = fxp::conv2d(to_q(x), to_q(w), p, dynamic_format::of<y_t>(), mode, key);
    require_same_raw(y, fxp::conv2d<y_t, Round>(x, w, p, key));
    using dx_t = fixed<4, 12>;
    const qtensor dx = fxp::conv2d_backward_data(to_q(w), to_q(dy), x.shape(), p,
                                                 dynamic_format::of<dx_t>(), mode, key);
    require_same_raw(dx, fxp::conv2d_backward_data<dx_t, Round>(w, dy, x.shape(), p, key));
    using dw_t = fixed<8, 16>;
    const qtensor dw = fxp::conv2d_backward_weights(to_q(x), to_q(dy), w.shape(), p,
                                                    dynamic_format::of<dw_t>(), mode, key);
    require_same_raw(dw, fxp::conv2d_backward_weights<dw_t, Round>(x, dy, w.shape(), p, key));

    // A bias per channel joins the exact sum: against the compile-time sums plus the bias.
    using bias_t = fixed<4, 10>;
    const auto bias = random_tensor<bias_t>(shape{4}, 4);
    const qtensor qb = to_q(bias);
    const qtensor yb = fxp::conv2d(to_q(x), to_q(w), p, dynamic_format::of<y_t>(), mode, key, &qb);
    using sum_t = fixed<40, 13>;
    const auto sums = fxp::conv2d<sum_t, fxp::truncate>(x, w, p);
    for (std::size_t i = 0; i < sums.size(); ++i) {
      const std::size_t channel = (i / 50) % 4;
      const auto exact = sum_t::from_raw(sums[i].raw() + bias[channel].raw() * 8);
      fxp::philox gen = key.generator_at(i);
      REQUIRE(yb.raw(i) == fxp::fixed_cast<y_t, Round>(exact, gen).raw());
    }
  });
}

TEST_CASE("run-time kernels give the same bits on 1 and 2 threads", "[dynamic][threads]") {
  const auto x = random_tensor<float>(shape{200003}, 9);
  const auto a = random_tensor<float>(shape{64, 700}, 10);
  const auto b = random_tensor<float>(shape{300, 700}, 11);
  const random_key key{1, 2, 3};
  const dynamic_format f{8, 6, true};
  const auto run = [&](std::size_t threads) {
    const std::size_t before = fxp::num_threads();
    fxp::set_num_threads(threads);
    qtensor q = fxp::quantize(x, f, rounding_mode::stochastic, key);
    qtensor c = fxp::matmul(fxp::quantize(a, f, rounding_mode::nearest),
                            fxp::quantize(b, f, rounding_mode::nearest), transpose::no,
                            transpose::yes, dynamic_format{12, 6}, rounding_mode::stochastic, key);
    fxp::set_num_threads(before);
    return std::pair{std::move(q), std::move(c)};
  };
  const auto [q1, c1] = run(1);
  const auto [q2, c2] = run(2);
  REQUIRE(q1.saturations() == q2.saturations());
  REQUIRE(c1.saturations() == c2.saturations());
  CHECK(c1.saturations() > 0);  // the 12-bit output is narrow enough to clamp some sums
  for (std::size_t i = 0; i < q1.size(); ++i) REQUIRE(q1.raw(i) == q2.raw(i));
  for (std::size_t i = 0; i < c1.size(); ++i) REQUIRE(c1.raw(i) == c2.raw(i));
}

TEST_CASE("run-time kernels without a key draw one per call under stochastic rounding",
          "[dynamic][keyless]") {
  const auto x = random_tensor<float>(shape{100003}, 12);
  const dynamic_format f{8, 6, true};
  const dynamic_format out{12, 8, true};
  const qtensor xq = fxp::quantize(x, dynamic_format{16, 12, true}, rounding_mode::nearest);
  const qtensor a = fxp::quantize(random_tensor<float>(shape{33, 70}, 13), f, rounding_mode::nearest);
  const qtensor b = fxp::quantize(random_tensor<float>(shape{70, 21}, 14), f, rounding_mode::nearest);
  const qtensor images =
      fxp::quantize(random_tensor<float>(shape{2, 3, 8, 7}, 15), f, rounding_mode::nearest);
  const qtensor weights =
      fxp::quantize(random_tensor<float>(shape{4, 3, 3, 3}, 16), f, rounding_mode::nearest);
  const qtensor dy =
      fxp::quantize(random_tensor<float>(shape{2, 4, 6, 5}, 17), f, rounding_mode::nearest);
  const auto raws = [](const qtensor& q) {
    std::vector<std::int64_t> raw(q.size());
    for (std::size_t i = 0; i < q.size(); ++i) raw[i] = q.raw(i);
    return raw;
  };
  const auto checks = [&](auto&& run) {
    fxp_test::check_keyless_draws([&] { return raws(run(fxp::optional_key{})); },
                                  [&](const random_key& key) { return raws(run(key)); });
  };
  const fxp::conv2d_params p{};
  const auto stochastic = rounding_mode::stochastic;
  SECTION("quantize, and fake_quantize through it") {
    checks([&](fxp::optional_key key) { return fxp::quantize(x, f, stochastic, key); });
    fxp::seed(4);
    const tensor<float> fake = fxp::fake_quantize(x, f, stochastic);
    fxp::seed(4);
    const tensor<float> real = fxp::dequantize(fxp::quantize(x, f, stochastic));
    for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(fake[i] == real[i]);
  }
  SECTION("requantize") {
    checks([&](fxp::optional_key key) { return fxp::requantize(xq, f, stochastic, key); });
  }
  SECTION("matmul, conv2d and its backward products") {
    checks([&](fxp::optional_key key) {
      return fxp::matmul(a, b, transpose::no, transpose::no, out, stochastic, key);
    });
    checks([&](fxp::optional_key key) { return fxp::conv2d(images, weights, p, out, stochastic, key); });
    checks([&](fxp::optional_key key) {
      return fxp::conv2d_backward_data(weights, dy, images.shape(), p, out, stochastic, key);
    });
    checks([&](fxp::optional_key key) {
      return fxp::conv2d_backward_weights(images, dy, weights.shape(), p, out, stochastic, key);
    });
  }
  SECTION("the other modes draw nothing") {
    fxp_test::check_draws_nothing([&] {
      (void)fxp::quantize(x, f, rounding_mode::nearest);
      (void)fxp::requantize(xq, f, rounding_mode::truncate);
      (void)fxp::fake_quantize(x, f, rounding_mode::toward_zero);
      (void)fxp::matmul(a, b, transpose::no, transpose::no, out, rounding_mode::nearest_even);
      (void)fxp::conv2d(images, weights, p, out, rounding_mode::nearest);
    });
  }
}
