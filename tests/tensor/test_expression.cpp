// SPDX-License-Identifier: MIT
// Lazy element-wise expressions: SIMD body and scalar tail equal the scalar core, bit for
// bit, on random data of many formats and on sizes that are not multiples of the batch.
#include <fxp/core/core.hpp>
#include <fxp/tensor/expression.hpp>
#include <fxp/tensor/reduce.hpp>

#include <catch2/catch.hpp>

#include "random_tensor.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <type_traits>

using fxp::fixed;
using fxp::shape;
using fxp::tensor;
using fxp::ufixed;

namespace {

/// A tensor of random values (floats in [-4, 4]) with T's extremes first, where bit growth
/// matters.
template <class T>
tensor<T> random_tensor(const shape& s, std::uint64_t seed) {
  auto t = fxp_test::random_tensor<T>(s, seed, 4.0f);
  if constexpr (fxp::fixed_point<T>) {
    t[0] = T::from_raw(T::raw_min);
    if (t.size() > 1) t[1] = T::from_raw(T::raw_max);
  }
  return t;
}

/// out == the scalar core applied element by element, bit for bit.
template <class E, class Reference>
void check_against_scalar(const E& e, Reference reference, std::size_t n) {
  const auto result = fxp::eval(e);
  REQUIRE(result.size() == n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto expected = reference(i);
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(result[i])>, std::remove_cvref_t<decltype(expected)>>);
    if constexpr (fxp::fixed_point<decltype(expected)>) {
      REQUIRE(result[i].raw() == expected.raw());
    } else {
      REQUIRE(result[i] == expected);
    }
  }
}

}  // namespace

TEMPLATE_TEST_CASE("element-wise arithmetic equals the scalar core", "[expression]",
                   (std::pair<fixed<1, 7>, fixed<1, 7>>), (std::pair<fixed<4, 12>, fixed<1, 15>>),
                   (std::pair<ufixed<0, 8>, fixed<2, 6>>), (std::pair<fixed<8, 8>, ufixed<4, 4>>),
                   (std::pair<fixed<-2, 10>, fixed<6, -2>>), (std::pair<fixed<16, 16>, fixed<8, 8>>),
                   (std::pair<fixed<20, 10>, fixed<1, 31>>), (std::pair<float, float>)) {
  using A = typename TestType::first_type;
  using B = typename TestType::second_type;
  for (std::size_t n : {1u, 7u, 8u, 9u, 31u, 33u, 1000u}) {
    const auto a = random_tensor<A>(shape{n}, n);
    const auto b = random_tensor<B>(shape{n}, n + 1);
    check_against_scalar(a + b, [&](std::size_t i) { return a[i] + b[i]; }, n);
    check_against_scalar(a - b, [&](std::size_t i) { return a[i] - b[i]; }, n);
    check_against_scalar(a * b, [&](std::size_t i) { return a[i] * b[i]; }, n);
    check_against_scalar(-a, [&](std::size_t i) { return -a[i]; }, n);
    check_against_scalar(a * b + a, [&](std::size_t i) { return a[i] * b[i] + a[i]; }, n);
    check_against_scalar(fxp::relu(a - b), [&](std::size_t i) {
      const auto d = a[i] - b[i];
      return d < decltype(d){} ? decltype(d){} : d;
    }, n);
    const A lo = a[n / 2] < a[0] ? a[n / 2] : a[0];
    const A hi = a[n / 2] < a[0] ? a[0] : a[n / 2];
    check_against_scalar(fxp::clamp(a, lo, hi), [&](std::size_t i) {
      return a[i] < lo ? lo : (hi < a[i] ? hi : a[i]);
    }, n);
    const B scalar = b[n - 1];
    check_against_scalar(a * scalar, [&](std::size_t i) { return a[i] * scalar; }, n);
    check_against_scalar(scalar - a, [&](std::size_t i) { return scalar - a[i]; }, n);
  }
}

TEST_CASE("views of any offset evaluate like whole tensors", "[expression]") {
  const auto a = random_tensor<fixed<1, 7>>(shape{40, 3}, 1);
  const auto b = random_tensor<fixed<4, 4>>(shape{40, 3}, 2);
  for (std::size_t first = 0; first < 5; ++first) {
    const auto va = a.slice(first, 40);
    const auto vb = b.slice(first, 40);
    const auto sum = fxp::eval(va * vb + vb);
    for (std::size_t i = 0; i < sum.size(); ++i) REQUIRE(sum[i] == va[i] * vb[i] + vb[i]);
  }
}

TEST_CASE("assign into a wider format, and shape errors", "[expression]") {
  const auto a = random_tensor<fixed<1, 7>>(shape{5, 7}, 3);
  tensor<fixed<8, 16>> out(shape{5, 7});
  fxp::assign(out.view(), a + a);
  for (std::size_t i = 0; i < out.size(); ++i) REQUIRE(out[i] == a[i] + a[i]);
  tensor<fixed<1, 7>> other(shape{7, 5});
  CHECK_THROWS_WITH(a + other, Catch::Contains("shapes [5, 7] and [7, 5]"));
  CHECK_THROWS_WITH(fxp::assign(out.view(), other * other),
                    Catch::Contains("expression of shape [7, 5] into a tensor of shape [5, 7]"));
}

namespace {
__extension__ using i128 = __int128;
}

TEMPLATE_TEST_CASE("sum, sum_of_squares and max equal wide-integer references", "[reduce]",
                   (fixed<1, 7>), (fixed<1, 15>), (ufixed<0, 16>), (fixed<4, 28>), (fixed<8, 8>),
                   (fixed<24, 24>)) {
  for (std::size_t n : {1u, 5u, 8u, 17u, 1000u, 300007u}) {
    const auto a = random_tensor<TestType>(shape{n}, 7 * n);
    i128 sum = 0, squares = 0;
    auto best = a[0];
    for (const auto& x : a) {
      sum += x.raw();
      squares += static_cast<i128>(x.raw()) * x.raw();
      if (best < x) best = x;
    }
    const auto s = fxp::sum(a);
    static_assert(decltype(s)::width == 64 && decltype(s)::fraction_bits == TestType::fraction_bits);
    CHECK(s.raw() == sum);
    CHECK(fxp::max(a).raw() == best.raw());
    if constexpr (2 * TestType::width <= 62) {
      CHECK(fxp::sum_of_squares(a).raw() == squares);
    }
  }
}

TEST_CASE("a 16-bit sum long enough to spill every lane is still exact", "[reduce]") {
  // 32-bit lanes hold 2^(31-16) = 32768 values of fixed<1,15> before they spill: all at
  // the most negative value, 2^20 of them, the sum is -2^35 exactly.
  tensor<fixed<1, 15>> a(shape{std::size_t{1} << 20}, fxp::fixed<1, 15>(-1.0));
  CHECK(fxp::sum(a).raw() == -(std::int64_t{1} << 35));
  CHECK(fxp::sum(a * a).raw() == (std::int64_t{1} << 50));
}

TEST_CASE("reductions reject what they cannot do", "[reduce]") {
  // 17 values just below 2^59 sum past 2^63.
  tensor<fixed<60, 0>> big(shape{17}, fxp::fixed<60, 0>::from_raw((std::int64_t{1} << 59) - 1));
  CHECK_THROWS_AS(fxp::sum(big), std::overflow_error);
  CHECK_THROWS_AS(fxp::max(tensor<fixed<8, 8>>(shape{0})), std::invalid_argument);
  tensor<float> f(shape{10}, 0.5f);
  CHECK(fxp::sum(f) == 5.0f);
  CHECK(fxp::max(f - f) == 0.0f);
}

TEST_CASE("a float sum adds in its documented order, the same on every path", "[reduce]") {
  // Values of very different magnitudes, so that another order gives other bits.
  std::mt19937 rng(20261207);
  std::uniform_real_distribution<float> mantissa(-1.0f, 1.0f);
  std::uniform_int_distribution<int> exponent(-30, 30);
  for (std::size_t n : {1u, 15u, 16u, 17u, 1000u, 4099u}) {
    tensor<float> x(shape{n});
    for (auto& v : x) v = std::ldexp(mantissa(rng), exponent(rng));
    // Element i of each whole block of 16 into partial sum i, the partial sums in order,
    // then the elements after the last whole block.
    constexpr std::size_t lanes = fxp::float_sum_lanes;
    float partial[lanes] = {};
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      for (std::size_t k = 0; k < lanes; ++k) partial[k] += x[i + k];
    }
    float expected = 0.0f;
    for (float p : partial) expected += p;
    for (; i < n; ++i) expected += x[i];
    const float got = fxp::sum(x);
    CHECK(std::bit_cast<std::uint32_t>(got) == std::bit_cast<std::uint32_t>(expected));
  }
}
