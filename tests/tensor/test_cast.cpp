// SPDX-License-Identifier: MIT
// fxp::cast inside expressions: every element equals the scalar core's conversion of the
// scalar expression, bit for bit, for every rounding policy, float -> fixed, fixed -> fixed
// and fixed -> float, on sizes around the batch width and on views; stochastic rounding
// draws word i of its key for element i, and a cast without a key draws its key from the
// default generator.
#include <fxp/core/core.hpp>
#include <fxp/tensor/tensor.hpp>

#include <catch2/catch.hpp>

#include "../keyless_calls.hpp"
#include "random_tensor.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

using fxp::fixed;
using fxp::random_key;
using fxp::shape;
using fxp::tensor;
using fxp::ufixed;

namespace {

const std::size_t sizes[] = {1, 7, 8, 9, 31, 33, 100, 1000, 4099};

/// Floats spread over [-range, range], with exact ties of T's grid sprinkled in.
template <class T>
tensor<float> random_floats(std::size_t n, std::uint64_t seed, double range) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(-range, range);
  tensor<float> t(shape{n});
  for (std::size_t i = 0; i < n; ++i) {
    double x = u(gen);
    if (i % 5 == 1) {  // a tie: halfway between two neighbours of T
      x = (std::floor(std::ldexp(x, T::fraction_bits)) + 0.5) * std::ldexp(1.0, -T::fraction_bits);
    }
    t[i] = static_cast<float>(x);
  }
  return t;
}

template <class T>
tensor<T> random_fixed(std::size_t n, std::uint64_t seed) {
  return fxp_test::random_tensor<T>(shape{n}, seed);
}

/// The scalar core's conversion of x to To with Round, element i of tensor `key`.
template <class To, class Round, class From>
To scalar_cast(const From& x, const random_key& key, std::uint64_t i) {
  if constexpr (!fxp::fixed_point<To>) {
    return static_cast<To>(x);
  } else if constexpr (fxp::deterministic_rounding<Round>) {
    return fxp::fixed_cast<To, Round>(x);
  } else {
    fxp::philox gen(key.seed, key.stream());
    gen.set_position(i);
    return fxp::fixed_cast<To, Round>(x, gen);
  }
}

template <class T>
auto raw_bits(const T& x) {
  if constexpr (fxp::fixed_point<T>) {
    return x.raw();
  } else {
    return std::bit_cast<std::uint32_t>(x);
  }
}

/// eval(e) equals reference(i) in every element, bit for bit.
template <class Tensor, class Reference>
void require_elements(const Tensor& result, Reference reference) {
  for (std::size_t i = 0; i < result.size(); ++i) {
    const auto expected = reference(i);
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(result[i])>, std::remove_cvref_t<decltype(expected)>>);
    if (raw_bits(result[i]) != raw_bits(expected)) {
      FAIL_CHECK("element " << i << " of " << result.size() << ": got " << result[i] << ", core gives "
                            << expected);
      return;
    }
  }
  SUCCEED();
}

using roundings = std::tuple<fxp::truncate, fxp::toward_zero, fxp::nearest, fxp::nearest_even,
                             fxp::stochastic>;

}  // namespace

TEMPLATE_TEST_CASE("cast float -> fixed equals the core, every rounding policy", "[cast]",
                   (fixed<1, 7>), (fixed<4, 12>), (ufixed<0, 8>), (fixed<-2, 10>), (fixed<8, 24>),
                   (fixed<1, 7, fxp::truncate, fxp::wrap>), (ufixed<4, 12, fxp::truncate, fxp::wrap>),
                   (fixed<16, 16, fxp::truncate, fxp::wrap>), (fixed<20, 20>)) {
  const random_key key{2026, 3, 11};
  std::apply(
      [&](auto... round) {
        (
            [&](auto r) {
              using Round = decltype(r);
              for (std::size_t n : sizes) {
                const auto x = random_floats<TestType>(n, n, 3.0 * std::ldexp(1.0, TestType::integer_bits));
                const auto y = fxp::eval(fxp::cast<TestType, Round>(x, key));
                INFO("n = " << n);
                require_elements(y, [&](std::size_t i) { return scalar_cast<TestType, Round>(x[i], key, i); });
              }
            }(round),
            ...);
      },
      roundings{});
}

TEMPLATE_TEST_CASE("cast of a fixed-point expression equals the core, every rounding policy", "[cast]",
                   (fixed<1, 7>), (fixed<2, 6, fxp::truncate, fxp::wrap>), (ufixed<1, 7>), (fixed<4, 4>),
                   (fixed<1, 15>)) {
  const random_key key{7, 1, 2};
  std::apply(
      [&](auto... round) {
        (
            [&](auto r) {
              using Round = decltype(r);
              for (std::size_t n : sizes) {
                const auto a = random_fixed<fixed<2, 10>>(n, n);
                const auto b = random_fixed<fixed<1, 7>>(n, n + 1);
                // fixed<3, 17> * ... : a 32-bit product with F = 17, narrowed to TestType.
                const auto y = fxp::eval(fxp::cast<TestType, Round>(a * b + b, key));
                INFO("n = " << n);
                require_elements(y, [&](std::size_t i) {
                  return scalar_cast<TestType, Round>(a[i] * b[i] + b[i], key, i);
                });
              }
            }(round),
            ...);
      },
      roundings{});
}

TEST_CASE("cast from formats wider than 32 bits goes through the core, same bits", "[cast]") {
  const random_key key{1, 2, 3};
  for (std::size_t n : sizes) {
    const auto a = random_fixed<fixed<16, 16>>(n, n);
    const auto b = random_fixed<fixed<8, 8>>(n, n + 7);
    const auto y = fxp::eval(fxp::cast<fixed<8, 8>, fxp::stochastic>(a * b, key));  // 56 bits
    require_elements(y, [&](std::size_t i) { return scalar_cast<fixed<8, 8>, fxp::stochastic>(a[i] * b[i], key, i); });
    const auto z = fxp::eval(fxp::cast<fixed<24, 24>, fxp::nearest>(a * b));
    require_elements(z, [&](std::size_t i) { return scalar_cast<fixed<24, 24>, fxp::nearest>(a[i] * b[i], key, i); });
  }
}

TEST_CASE("cast fixed -> float equals static_cast, and float -> float is the identity", "[cast]") {
  for (std::size_t n : sizes) {
    const auto a = random_fixed<fixed<2, 10>>(n, n);
    const auto b = random_fixed<ufixed<24, 8>>(n, n + 1);  // W = 32: rounds to float
    const auto y = fxp::eval(fxp::cast<float>(a * a));
    require_elements(y, [&](std::size_t i) { return static_cast<float>(a[i] * a[i]); });
    const auto z = fxp::eval(fxp::cast<float>(b));
    require_elements(z, [&](std::size_t i) { return static_cast<float>(b[i]); });
    const auto w = fxp::eval(fxp::cast<float>(fxp::cast<float>(b)) * 2.0);
    require_elements(w, [&](std::size_t i) { return static_cast<float>(b[i]) * 2.0f; });
  }
}

TEST_CASE("casts compose with the rest of an expression and with reductions", "[cast]") {
  using q = fixed<1, 7>;
  const random_key key{99, 4, 0};
  for (std::size_t n : sizes) {
    const auto a = random_fixed<q>(n, n);
    const auto b = random_fixed<q>(n, n + 1);
    const auto c = random_fixed<fixed<4, 4>>(n, n + 2);
    // One rounding of the product, then exact arithmetic around it, then a second cast.
    const auto e = fxp::cast<fixed<4, 6>, fxp::stochastic>(
        fxp::relu(fxp::cast<q, fxp::nearest_even>(a * b)) + c, random_key{99, 5, 0});
    const auto y = fxp::eval(e);
    require_elements(y, [&](std::size_t i) {
      const q p = scalar_cast<q, fxp::nearest_even>(a[i] * b[i], key, i);
      const auto r = p < q{} ? q{} : p;
      return scalar_cast<fixed<4, 6>, fxp::stochastic>(r + c[i], random_key{99, 5, 0}, i);
    });
    std::int64_t total = 0;
    for (const auto& x : y) total += x.raw();
    CHECK(fxp::sum(e).raw() == total);
    const auto largest = fxp::max(e);
    for (const auto& x : y) CHECK_FALSE(largest < x);
  }
}

TEST_CASE("cast of a view numbers its elements from the view's start", "[cast]") {
  const auto x = random_floats<fixed<1, 7>>(300, 5, 1.0);
  const tensor<float> grid(x.reshape(shape{100, 3}));
  const random_key key{5, 0, 0};
  for (std::size_t first = 0; first < 5; ++first) {
    const auto view = grid.slice(first, 100);
    const auto y = fxp::eval(fxp::cast<fixed<1, 7>, fxp::stochastic>(view, key));
    require_elements(y, [&](std::size_t i) { return scalar_cast<fixed<1, 7>, fxp::stochastic>(view[i], key, i); });
  }
}

TEST_CASE("stochastic casts: same key, same bits; another step, other bits; unbiased", "[cast]") {
  constexpr std::size_t n = 1 << 20;
  // 0.3 lies 0.4 of an ulp above a grid point of fixed<1, 7> (0.3 * 128 = 38.4).
  const tensor<float> x(shape{n}, 0.3f);
  const double fraction = static_cast<double>(0.3f) * 128 - 38;
  const auto first = fxp::eval(fxp::cast<fixed<1, 7>, fxp::stochastic>(x, random_key{1, 2, 3}));
  const auto again = fxp::eval(fxp::cast<fixed<1, 7>, fxp::stochastic>(x, random_key{1, 2, 3}));
  const auto next = fxp::eval(fxp::cast<fixed<1, 7>, fxp::stochastic>(x, random_key{1, 2, 4}));
  std::size_t ups = 0, same = 0, disagree = 0;
  for (std::size_t i = 0; i < n; ++i) {
    REQUIRE((first[i].raw() == 38 || first[i].raw() == 39));
    ups += first[i].raw() == 39;
    same += first[i].raw() == again[i].raw();
    disagree += first[i].raw() != next[i].raw();
  }
  CHECK(same == n);
  // Independent steps disagree with probability 2 p (1 - p) = 0.48: six sigma each side.
  const double p_disagree = 2 * fraction * (1 - fraction);
  const double sigma_d = std::sqrt(n * p_disagree * (1 - p_disagree));
  CHECK(std::abs(static_cast<double>(disagree) - n * p_disagree) < 6 * sigma_d);
  // Rounds up with probability `fraction`: binomial, six sigma.
  const double sigma = std::sqrt(n * fraction * (1 - fraction));
  CHECK(std::abs(static_cast<double>(ups) - n * fraction) < 6 * sigma);
}

TEST_CASE("a stochastic cast without a key draws one when it is built", "[cast][keyless]") {
  using q = fixed<1, 7>;
  const auto x = random_floats<q>(4099, 8, 0.99);
  const auto a = random_fixed<fixed<4, 12>>(4099, 9);
  const auto raws = [](const auto& t) {
    std::vector<long long> raw(t.size());
    for (std::size_t i = 0; i < t.size(); ++i) raw[i] = t[i].raw();
    return raw;
  };
  SECTION("float -> fixed") {
    fxp_test::check_keyless_draws(
        [&] { return raws(fxp::eval(fxp::cast<q, fxp::stochastic>(x))); },
        [&](const random_key& key) { return raws(fxp::eval(fxp::cast<q, fxp::stochastic>(x, key))); });
  }
  SECTION("fixed expression -> fixed") {
    fxp_test::check_keyless_draws(
        [&] { return raws(fxp::eval(fxp::cast<q, fxp::stochastic>(a * a + a))); },
        [&](const random_key& key) {
          return raws(fxp::eval(fxp::cast<q, fxp::stochastic>(a * a + a, key)));
        });
  }
  SECTION("the key belongs to the expression: each evaluation gives the same bits") {
    fxp::seed(3);
    const auto e = fxp::cast<q, fxp::stochastic>(x);
    CHECK(raws(fxp::eval(e)) == raws(fxp::eval(e)));
  }
  SECTION("deterministic policies, and casts to float, draw nothing") {
    fxp_test::check_draws_nothing([&] {
      (void)fxp::eval(fxp::cast<q>(x));
      (void)fxp::eval(fxp::cast<q, fxp::truncate>(a * a));
      (void)fxp::eval(fxp::cast<float, fxp::stochastic>(a));
    });
  }
}

TEST_CASE("casts throw where the core throws: NaN, checked overflow", "[cast]") {
  for (std::size_t n : {3u, 40u}) {
    tensor<float> x(shape{n}, 0.25f);
    x[n - 2] = 100.0f;
    CHECK_THROWS_AS(fxp::eval(fxp::cast<fixed<1, 7, fxp::nearest, fxp::checked>>(x)), std::overflow_error);
    const auto saturated = fxp::eval(fxp::cast<fixed<1, 7>>(x));
    CHECK(saturated[n - 2].raw() == 127);
    x[n - 2] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_AS(fxp::eval(fxp::cast<fixed<1, 7>>(x)), std::domain_error);
    const auto a = random_fixed<fixed<4, 4>>(n, 1);
    CHECK_THROWS_AS(fxp::eval(fxp::cast<fixed<2, 4, fxp::truncate, fxp::checked>>(a * a)), std::overflow_error);
  }
}

TEST_CASE("unsigned 32-bit formats compare as unsigned in expressions", "[expression]") {
  using u = ufixed<32, 0>;
  tensor<u> a(shape{37});
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = u::from_raw(static_cast<std::uint32_t>(0xF0000000u + 977u * i));
  a[20] = u::from_raw(5);
  CHECK(fxp::max(a).raw() == 0xF0000000u + 977u * 36);
  const auto clamped = fxp::eval(fxp::clamp(a, u::from_raw(0x10000000u), u::from_raw(0xF0001000u)));
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::uint32_t expected = i == 20 ? 0x10000000u : std::min(a[i].raw(), 0xF0001000u);
    CHECK(clamped[i].raw() == expected);
  }
}
