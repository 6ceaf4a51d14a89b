// SPDX-License-Identifier: MIT
// The kernels on tensors: quantize / requantize / dequantize, matmul and conv2d equal
// element-by-element references (the scalar core for one rounding, 128-bit integer sums for
// products), check their shapes, and give the same bits on 1 and 2 threads; without a key
// they draw one from the default generator; fxp::max_k raises a product's bound alone.
#include <fxp/core/core.hpp>
#include <fxp/tensor/tensor.hpp>

#include <catch2/catch.hpp>

#include "../keyless_calls.hpp"
#include "random_tensor.hpp"

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

using fxp::fixed;
using fxp::random_key;
using fxp::shape;
using fxp::tensor;
using fxp::transpose;
using fxp_test::random_tensor;

namespace {

__extension__ using i128 = __int128;

/// Runs f on `threads` threads, then restores the count.
template <class F>
auto on_threads(std::size_t threads, F f) {
  const std::size_t before = fxp::num_threads();
  fxp::set_num_threads(threads);
  auto result = f();
  fxp::set_num_threads(before);
  return result;
}

/// An exact sum of products with F fractional bits, rounded into C as the core rounds it
/// (element `index` of tensor `key` under a random policy).
template <class C, class Round, int F>
C round_sum(i128 sum, const random_key& key, std::uint64_t index) {
  REQUIRE(sum >= INT64_MIN);
  REQUIRE(sum <= INT64_MAX);
  const auto exact = fxp::fixed<64 - F, F>::from_raw(static_cast<std::int64_t>(sum));
  if constexpr (fxp::deterministic_rounding<Round>) {
    return fxp::fixed_cast<C, Round>(exact);
  } else {
    fxp::philox gen = key.generator_at(index);
    return fxp::fixed_cast<C, Round>(exact, gen);
  }
}

/// The raw values of a fixed-point tensor, in order.
template <class T>
std::vector<long long> raws(const tensor<T>& t) {
  std::vector<long long> raw(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) raw[i] = t[i].raw();
  return raw;
}

template <class T>
void require_same_bits(const tensor<T>& a, const tensor<T>& b) {
  REQUIRE(a.shape() == b.shape());
  std::size_t differing = 0;
  for (std::size_t i = 0; i < a.size(); ++i) differing += !(a[i].raw() == b[i].raw());
  REQUIRE(differing == 0);
}

}  // namespace

TEST_CASE("quantize, requantize and dequantize tensors element by element", "[kernels]") {
  using q = fixed<2, 10>;
  using r = fixed<1, 7>;
  const random_key key{11, 12, 13};
  for (std::size_t n : {1u, 100u, 65537u, 200003u}) {  // one piece, and several
    const auto x = random_tensor<float>(shape{n}, n);
    const auto y = fxp::quantize<q, fxp::stochastic>(x, key);
    const auto z = fxp::requantize<r, fxp::nearest>(y.view());
    const auto w = fxp::dequantize(z);
    for (std::size_t i = 0; i < n; ++i) {
      fxp::philox gen = key.generator_at(i);
      const q expected = fxp::fixed_cast<q, fxp::stochastic>(x[i], gen);
      REQUIRE(y[i].raw() == expected.raw());
      REQUIRE(z[i].raw() == fxp::fixed_cast<r, fxp::nearest>(expected).raw());
      REQUIRE(w[i] == static_cast<float>(z[i]));
    }
  }
}

TEST_CASE("element-wise kernels and expressions give the same bits on 1 and 2 threads", "[kernels][threads]") {
  const auto x = random_tensor<float>(shape{300001}, 5);
  const random_key key{1, 2, 3};
  const auto one = on_threads(1, [&] { return fxp::quantize<fixed<1, 7>, fxp::stochastic>(x, key); });
  const auto two = on_threads(2, [&] { return fxp::quantize<fixed<1, 7>, fxp::stochastic>(x, key); });
  require_same_bits(one, two);
  const auto e1 = on_threads(1, [&] { return fxp::eval(fxp::cast<fixed<4, 4>, fxp::stochastic>(one * one + one, key)); });
  const auto e2 = on_threads(2, [&] { return fxp::eval(fxp::cast<fixed<4, 4>, fxp::stochastic>(one * one + one, key)); });
  require_same_bits(e1, e2);
  // And equal to the scalar core, element by element.
  for (std::size_t i = 0; i < x.size(); i += 997) {
    fxp::philox gen = key.generator_at(i);
    REQUIRE(e1[i].raw() == fxp::fixed_cast<fixed<4, 4>, fxp::stochastic>(one[i] * one[i] + one[i], gen).raw());
  }
}

TEMPLATE_TEST_CASE("matmul equals 128-bit sums rounded once, every transpose", "[kernels][matmul]",
                   fxp::nearest, fxp::stochastic) {
  using a_t = fixed<1, 7>;
  using b_t = fixed<4, 12>;
  using c_t = fixed<8, 8>;
  constexpr int f = a_t::fraction_bits + b_t::fraction_bits;
  const random_key key{3, 1, 4};
  const std::size_t dims[][3] = {{1, 1, 1}, {7, 5, 3}, {33, 17, 65}, {16, 40, 200}};
  for (const auto& [m, n, k] : dims) {
    for (const auto ta : {transpose::no, transpose::yes}) {
      for (const auto tb : {transpose::no, transpose::yes}) {
        const auto a = random_tensor<a_t>(ta == transpose::no ? shape{m, k} : shape{k, m}, m + k);
        const auto b = random_tensor<b_t>(tb == transpose::no ? shape{k, n} : shape{n, k}, n + k);
        const auto c = fxp::matmul<c_t, TestType>(a, b, ta, tb, key);
        REQUIRE(c.shape() == shape{m, n});
        for (std::size_t i = 0; i < m; ++i) {
          for (std::size_t j = 0; j < n; ++j) {
            i128 sum = 0;
            for (std::size_t l = 0; l < k; ++l) {
              const auto x = ta == transpose::no ? a(i, l) : a(l, i);
              const auto y = tb == transpose::no ? b(l, j) : b(j, l);
              sum += static_cast<i128>(x.raw()) * y.raw();
            }
            const c_t expected = round_sum<c_t, TestType, f>(sum, key, i * n + j);
            INFO("m, n, k = " << m << ", " << n << ", " << k << "; element (" << i << ", " << j << ")");
            REQUIRE(c(i, j).raw() == expected.raw());
          }
        }
      }
    }
  }
}

TEST_CASE("float matmul is within k ulp-sized steps of a double reference", "[kernels][matmul]") {
  const auto a = random_tensor<float>(shape{19, 70}, 1);
  const auto b = random_tensor<float>(shape{70, 23}, 2);
  const auto c = fxp::matmul<float>(a, b);
  for (std::size_t i = 0; i < 19; ++i) {
    for (std::size_t j = 0; j < 23; ++j) {
      double exact = 0, magnitude = 0;
      for (std::size_t l = 0; l < 70; ++l) {
        exact += double{a(i, l)} * b(l, j);
        magnitude += std::abs(double{a(i, l)} * b(l, j));
      }
      // Each of the k additions rounds by at most half an ulp of the running magnitude.
      REQUIRE(std::abs(c(i, j) - exact) <= 70 * magnitude * 0x1p-24);
    }
  }
}

namespace {
/// Multiples of 1/8 in [-4, 4] from `seed`: float data whose sums below are exact.
tensor<float> dyadic_tensor(const shape& s, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_int_distribution<int> eighths(-32, 32);
  tensor<float> t(s);
  for (auto& x : t) x = static_cast<float>(eighths(gen)) / 8;
  return t;
}
}  // namespace

TEST_CASE("float matmul equals a double reference exactly on dyadic data, every transpose",
          "[kernels][matmul]") {
  // Multiples of 1/8 in [-4, 4]: products are multiples of 2^-6 of magnitude <= 16, so every
  // partial sum of k <= 2^14 of them is a float whatever the order or FMA: exact, compare ==.
  const std::size_t dims[][3] = {{1, 1, 1}, {7, 5, 3}, {33, 17, 65}, {16, 40, 200}};
  for (const auto& [m, n, k] : dims) {
    for (const auto ta : {transpose::no, transpose::yes}) {
      for (const auto tb : {transpose::no, transpose::yes}) {
        const auto a = dyadic_tensor(ta == transpose::no ? shape{m, k} : shape{k, m}, m + k);
        const auto b = dyadic_tensor(tb == transpose::no ? shape{k, n} : shape{n, k}, n + k);
        const auto c = fxp::matmul<float>(a, b, ta, tb);
        REQUIRE(c.shape() == shape{m, n});
        std::size_t differing = 0;
        for (std::size_t i = 0; i < m; ++i) {
          for (std::size_t j = 0; j < n; ++j) {
            double exact = 0;
            for (std::size_t l = 0; l < k; ++l) {
              exact += double{ta == transpose::no ? a(i, l) : a(l, i)} *
                       double{tb == transpose::no ? b(l, j) : b(j, l)};
            }
            differing += double{c(i, j)} != exact;
          }
        }
        INFO("m, n, k = " << m << ", " << n << ", " << k << "; transposes " << int(ta) << int(tb));
        REQUIRE(differing == 0);
      }
    }
  }
}

TEST_CASE("float conv2d and its backward products equal a double reference exactly on dyadic data",
          "[kernels][conv]") {
  // Multiples of 1/8 in [-4, 4]: products are multiples of 2^-6 of magnitude <= 16, so every
  // partial sum of N <= 2^14 of them is a float whatever the order or FMA: exact, compare ==.
  const auto p = fxp::conv2d_params{2, 1, 1, 2};  // strides 2 and 1, paddings 1 and 2
  const shape xs{3, 2, 7, 6};
  const shape ws{4, 2, 3, 3};
  const std::size_t oh = (7 + 2 - 3) / 2 + 1, ow = (6 + 4 - 3) / 1 + 1;
  const auto x = dyadic_tensor(xs, 21);
  const auto w = dyadic_tensor(ws, 22);
  const auto dy = dyadic_tensor(shape{3, 4, oh, ow}, 23);
  std::vector<double> y_ref(3 * 4 * oh * ow, 0), dx_ref(x.size(), 0), dw_ref(w.size(), 0);
  for (std::size_t b = 0; b < 3; ++b)
    for (std::size_t o = 0; o < 4; ++o)
      for (std::size_t oy = 0; oy < oh; ++oy)
        for (std::size_t ox = 0; ox < ow; ++ox)
          for (std::size_t c = 0; c < 2; ++c)
            for (std::size_t ki = 0; ki < 3; ++ki)
              for (std::size_t kj = 0; kj < 3; ++kj) {
                const long r = static_cast<long>(oy * 2 + ki) - 1;
                const long col = static_cast<long>(ox + kj) - 2;
                if (r < 0 || r >= 7 || col < 0 || col >= 6) continue;
                const auto xr = static_cast<std::size_t>(r), xc = static_cast<std::size_t>(col);
                y_ref[((b * 4 + o) * oh + oy) * ow + ox] += double{x(b, c, xr, xc)} * w(o, c, ki, kj);
                dx_ref[((b * 2 + c) * 7 + xr) * 6 + xc] += double{w(o, c, ki, kj)} * dy(b, o, oy, ox);
                dw_ref[((o * 2 + c) * 3 + ki) * 3 + kj] += double{x(b, c, xr, xc)} * dy(b, o, oy, ox);
              }
  const auto y = fxp::conv2d<float>(x, w, p);
  const auto dx = fxp::conv2d_backward_data<float>(w, dy, xs, p);
  const auto dw = fxp::conv2d_backward_weights<float>(x, dy, ws, p);
  REQUIRE(y.shape() == dy.shape());
  REQUIRE(dx.shape() == xs);
  REQUIRE(dw.shape() == ws);
  const auto differing = [](const tensor<float>& got, const std::vector<double>& ref) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < got.size(); ++i) count += double{got[i]} != ref[i];
    return count;
  };
  CHECK(differing(y, y_ref) == 0);
  CHECK(differing(dx, dx_ref) == 0);
  CHECK(differing(dw, dw_ref) == 0);
}

TEST_CASE("conv2d and its backward products equal direct 128-bit sums", "[kernels][conv]") {
  using x_t = fixed<2, 6>;
  using w_t = fixed<1, 7>;
  using y_t = fixed<6, 10>;
  const random_key key{9, 9, 9};
  const auto p = fxp::conv2d_params{2, 1, 1, 2};  // strides 2 and 1, paddings 1 and 2
  const shape xs{3, 2, 7, 6};
  const shape ws{4, 2, 3, 3};
  const auto x = random_tensor<x_t>(xs, 1);
  const auto w = random_tensor<w_t>(ws, 2);
  const auto y = fxp::conv2d<y_t, fxp::stochastic>(x, w, p, key);
  const std::size_t oh = (7 + 2 - 3) / 2 + 1, ow = (6 + 4 - 3) / 1 + 1;
  REQUIRE(y.shape() == shape{3, 4, oh, ow});
  // Input position of output (oy, ox) under filter tap (ki, kj), or -1 in the padding.
  const auto in_row = [&](std::size_t oy, std::size_t ki) { return static_cast<long>(oy * 2 + ki) - 1; };
  const auto in_col = [&](std::size_t ox, std::size_t kj) { return static_cast<long>(ox + kj) - 2; };
  const auto inside = [](long v, std::size_t extent) { return v >= 0 && v < static_cast<long>(extent); };
  // Forward, and the exact backward sums, accumulated from the same loops.
  const auto dy = random_tensor<fixed<3, 5>>(y.shape(), 3);
  std::vector<i128> dx_sum(x.size(), 0), dw_sum(w.size(), 0);
  std::vector<i128> exact_sum(y.size(), 0);
  std::size_t index = 0;
  for (std::size_t b = 0; b < 3; ++b) {
    for (std::size_t o = 0; o < 4; ++o) {
      for (std::size_t oy = 0; oy < oh; ++oy) {
        for (std::size_t ox = 0; ox < ow; ++ox, ++index) {
          i128 sum = 0;
          for (std::size_t c = 0; c < 2; ++c) {
            for (std::size_t ki = 0; ki < 3; ++ki) {
              for (std::size_t kj = 0; kj < 3; ++kj) {
                const long r = in_row(oy, ki), col = in_col(ox, kj);
                if (!inside(r, 7) || !inside(col, 6)) continue;
                const auto xr = static_cast<std::size_t>(r), xc = static_cast<std::size_t>(col);
                const i128 product = static_cast<i128>(x(b, c, xr, xc).raw()) * w(o, c, ki, kj).raw();
                sum += product;
                dx_sum[((b * 2 + c) * 7 + xr) * 6 + xc] +=
                    static_cast<i128>(w(o, c, ki, kj).raw()) * dy(b, o, oy, ox).raw();
                dw_sum[((o * 2 + c) * 3 + ki) * 3 + kj] +=
                    static_cast<i128>(x(b, c, xr, xc).raw()) * dy(b, o, oy, ox).raw();
              }
            }
          }
          exact_sum[index] = sum;
          REQUIRE(y[index].raw() == round_sum<y_t, fxp::stochastic, 13>(sum, key, index).raw());
        }
      }
    }
  }
  using dx_t = fixed<4, 8>;
  using dw_t = fixed<6, 10>;
  const auto dx = fxp::conv2d_backward_data<dx_t, fxp::nearest_even>(w, dy, xs, p);
  const auto dw = fxp::conv2d_backward_weights<dw_t, fxp::stochastic>(x, dy, ws, p, key);
  for (std::size_t i = 0; i < dx.size(); ++i) {
    REQUIRE(dx[i].raw() == round_sum<dx_t, fxp::nearest_even, 12>(dx_sum[i], key, i).raw());
  }
  for (std::size_t i = 0; i < dw.size(); ++i) {
    REQUIRE(dw[i].raw() == round_sum<dw_t, fxp::stochastic, 11>(dw_sum[i], key, i).raw());
  }
  // Float: the same convolution, exact.
  const auto xf = fxp::dequantize(x);
  const auto wf = fxp::dequantize(w);
  const auto yf = fxp::conv2d<float>(xf, wf, p);
  REQUIRE(yf.shape() == y.shape());
  for (std::size_t i = 0; i < yf.size(); ++i) {
    // Exact: 18 products, multiples of 2^-13 of magnitude <= 2, so every partial sum is a float.
    REQUIRE(double{yf[i]} == std::ldexp(static_cast<double>(exact_sum[i]), -13));
  }
  // Threads: the same bits on 1 and 2.
  const auto y1 = on_threads(1, [&] { return fxp::conv2d<y_t, fxp::stochastic>(x, w, p, key); });
  const auto y2 = on_threads(2, [&] { return fxp::conv2d<y_t, fxp::stochastic>(x, w, p, key); });
  require_same_bits(y1, y2);
}

TEST_CASE("conv2d_output_shape is the shape conv2d returns", "[kernels][conv]") {
  // Brute force over small convolutions: the rule against what conv2d allocates, and
  // against the count of window positions, computed here by stepping the window.
  for (std::size_t h = 1; h <= 7; h += 3)
    for (std::size_t k = 1; k <= 3; ++k)
      for (std::size_t stride = 1; stride <= 3; ++stride)
        for (std::size_t pad = 0; pad <= 2; ++pad) {
          if (h + 2 * pad < k) continue;
          const shape xs{2, 3, h, h + 1};
          const shape ws{5, 3, k, k};
          const fxp::conv2d_params p = fxp::conv2d_params::square(stride, pad);
          const shape out = fxp::conv2d_output_shape(xs, ws, p);
          const tensor<fixed<1, 7>> x(xs);
          const tensor<fixed<1, 7>> w(ws);
          CHECK(fxp::conv2d<fixed<8, 8>>(x, w, p).shape() == out);
          std::size_t rows = 0, cols = 0;
          for (std::size_t top = 0; top + k <= h + 2 * pad; top += stride) ++rows;
          for (std::size_t left = 0; left + k <= h + 1 + 2 * pad; left += stride) ++cols;
          CHECK(out == shape{2, 5, rows, cols});
        }
  CHECK_THROWS_WITH(fxp::conv2d_output_shape(shape{1, 3, 8, 8}, shape{4, 2, 3, 3}),
                    Catch::Contains("fxp::conv2d_output_shape") &&
                        Catch::Contains("the input has 3 channels"));
}

TEST_CASE("kernels on tensors name the shapes that do not fit", "[kernels][errors]") {
  using q88 = fixed<8, 8>;
  const tensor<fixed<1, 7>> vector12(shape{12});
  const tensor<fixed<1, 7>> a(shape{3, 4});
  const tensor<fixed<1, 7>> b(shape{5, 2});
  CHECK_THROWS_WITH(fxp::matmul<q88>(a, b),
                    Catch::Contains("op(A) is 3 x 4") && Catch::Contains("op(B) is 5 x 2"));
  CHECK_THROWS_WITH(fxp::matmul<q88>(vector12, b),
                    Catch::Contains("A must have rank 2, got shape [12]"));
  const tensor<fixed<1, 7>> x(shape{2, 3, 8, 8});
  const tensor<fixed<1, 7>> w(shape{4, 2, 3, 3});
  CHECK_THROWS_WITH(fxp::conv2d<q88>(x, w),
                    Catch::Contains("the input has 3 channels") && Catch::Contains("[4, 2, 3, 3]"));
  const tensor<fixed<1, 7>> big(shape{4, 3, 9, 9});
  CHECK_THROWS_WITH(fxp::conv2d<q88>(x, big), Catch::Contains("kernel_height = 9"));
  const tensor<fixed<1, 7>> w3(shape{4, 3, 3, 3});
  const tensor<fixed<1, 7>> dy(shape{2, 4, 5, 5});
  CHECK_THROWS_WITH(fxp::conv2d_backward_data<q88>(w3, dy, x.shape()),
                    Catch::Contains("dy has shape [2, 4, 5, 5], expected [2, 4, 6, 6]"));
}

TEST_CASE("kernels on tensors without a key draw one per call from the default generator",
          "[kernels][keyless]") {
  using q = fixed<2, 10>;
  using r = fixed<1, 7>;
  using y_t = fixed<6, 10>;
  const auto x = random_tensor<float>(shape{100001}, 21);  // several pieces
  const auto xq = random_tensor<q>(shape{100001}, 22);
  const auto a = random_tensor<fixed<1, 7>>(shape{37, 64}, 23);
  const auto b = random_tensor<fixed<4, 12>>(shape{64, 29}, 24);
  const auto images = random_tensor<fixed<2, 6>>(shape{3, 2, 9, 8}, 25);
  const auto weights = random_tensor<fixed<1, 7>>(shape{4, 2, 3, 3}, 26);
  const auto dy = random_tensor<fixed<3, 5>>(shape{3, 4, 7, 6}, 27);
  const auto checks = [](auto&& run) {
    fxp_test::check_keyless_draws([&] { return raws(run()); },
                                  [&](const random_key& key) { return raws(run(key)); });
  };
  SECTION("quantize") {
    checks([&](auto&&... key) { return fxp::quantize<q, fxp::stochastic>(x, key...); });
  }
  SECTION("requantize") {
    checks([&](auto&&... key) { return fxp::requantize<r, fxp::stochastic>(xq, key...); });
  }
  SECTION("matmul") {
    checks([&](auto&&... key) {
      return fxp::matmul<y_t, fxp::stochastic>(a, b, transpose::no, transpose::no, key...);
    });
  }
  SECTION("conv2d and its backward products") {
    checks([&](auto&&... key) {
      return fxp::conv2d<fixed<4, 6>, fxp::stochastic>(images, weights, {}, key...);
    });
    checks([&](auto&&... key) {
      return fxp::conv2d_backward_data<fixed<4, 6>, fxp::stochastic>(weights, dy, images.shape(),
                                                                     {}, key...);
    });
    checks([&](auto&&... key) {
      return fxp::conv2d_backward_weights<fixed<4, 6>, fxp::stochastic>(images, dy,
                                                                        weights.shape(), {}, key...);
    });
  }
  SECTION("the key is drawn before the work is split: the same bits on 1 and 2 threads") {
    const auto keyless_on = [&](std::size_t threads) {
      fxp::seed(5);
      return on_threads(threads, [&] {
        return std::vector{raws(fxp::quantize<q, fxp::stochastic>(x)),
                           raws(fxp::matmul<y_t, fxp::stochastic>(a, b)),
                           raws(fxp::conv2d<fixed<4, 6>, fxp::stochastic>(images, weights))};
      });
    };
    CHECK(keyless_on(1) == keyless_on(2));
  }
  SECTION("deterministic policies draw nothing") {
    fxp_test::check_draws_nothing([&] {
      (void)fxp::quantize<q>(x);
      (void)fxp::requantize<r, fxp::nearest_even>(xq);
      (void)fxp::matmul<y_t>(a, b);
      (void)fxp::conv2d<fixed<4, 6>, fxp::truncate>(images, weights);
      (void)fxp::conv2d_backward_data<fixed<4, 6>>(weights, dy, images.shape());
      (void)fxp::conv2d_backward_weights<fixed<4, 6>, fxp::toward_zero>(images, dy,
                                                                         weights.shape());
    });
  }
}

TEST_CASE("fxp::max_k raises matmul's bound without naming the rounding policy",
          "[kernels][matmul]") {
  using s8 = fixed<1, 7>;
  const auto a = random_tensor<s8>(shape{2, 5}, 31);
  const auto b = random_tensor<s8>(shape{5, 3}, 32);
  using c_t = fixed<8, 8>;
  // Every spelling of the bound reaches the check: k = 5 > 4.
  CHECK_THROWS_WITH((fxp::matmul<c_t, fxp::max_k<4>>(a, b)),
                    Catch::Contains("k = 5") && Catch::Contains("MaxK = 4"));
  CHECK_THROWS_WITH((fxp::matmul<c_t, 4>(a, b)),
                    Catch::Contains("k = 5") && Catch::Contains("MaxK = 4"));
  CHECK_THROWS_WITH((fxp::matmul<c_t, fxp::stochastic, fxp::max_k<4>>(a, b, transpose::no,
                                                                      transpose::no, {1, 2, 3})),
                    Catch::Contains("k = 5") && Catch::Contains("MaxK = 4"));
  // The bound alone keeps C's own policy: the bits of naming it.
  const auto c = fxp::matmul<c_t, fxp::max_k<5>>(a, b);
  CHECK(raws(c) == raws(fxp::matmul<c_t, c_t::rounding_policy, 5>(a, b)));

  // Above the default bound: k = 2^20 + 1 throws by default and is exact with a larger one.
  constexpr std::size_t k = fxp::gemm_default_max_k + 1;
  constexpr std::size_t bound = 2 * fxp::gemm_default_max_k;
  using sum_t = fxp::gemm_sum_t<s8, s8, bound>;
  const auto row = random_tensor<s8>(shape{1, k}, 33);
  const auto column = random_tensor<s8>(shape{k, 1}, 34);
  CHECK_THROWS_WITH(fxp::matmul<sum_t>(row, column),
                    Catch::Contains("k = " + std::to_string(k)) &&
                        Catch::Contains("MaxK = " + std::to_string(fxp::gemm_default_max_k)));
  const auto dot = fxp::matmul<sum_t, fxp::max_k<bound>>(row, column);
  i128 exact = 0;
  for (std::size_t l = 0; l < k; ++l) exact += static_cast<i128>(row[l].raw()) * column[l].raw();
  CHECK(static_cast<i128>(dot[0].raw()) == exact);
}

TEST_CASE("fxp::max_k raises the convolutions' bounds without naming the rounding policy",
          "[kernels][conv]") {
  // Truncating outputs, so that the output's own policy is told apart from nearest.
  using s8 = fixed<1, 7>;
  using y_t = fixed<6, 4, fxp::truncate>;
  const auto x = random_tensor<s8>(shape{1, 2, 5, 5}, 41);
  const auto w = random_tensor<s8>(shape{4, 2, 3, 3}, 42);
  const auto dy = random_tensor<s8>(shape{1, 4, 3, 3}, 43);
  // Reductions: forward 2 * 3 * 3 = 18, input gradient 4 * 3 * 3 = 36, weight gradient
  // 1 * 3 * 3 = 9.
  CHECK_THROWS_WITH((fxp::conv2d<y_t, fxp::max_k<17>>(x, w)), Catch::Contains("MaxK = 17"));
  CHECK_THROWS_WITH((fxp::conv2d_backward_data<y_t, 35>(w, dy, x.shape())),
                    Catch::Contains("MaxK = 35"));
  CHECK_THROWS_WITH((fxp::conv2d_backward_weights<y_t, fxp::max_k<8>>(x, dy, w.shape())),
                    Catch::Contains("MaxK = 8"));
  const auto y = fxp::conv2d<y_t, fxp::max_k<18>>(x, w);
  CHECK(raws(y) == raws(fxp::conv2d<y_t, fxp::truncate, 18>(x, w)));
  CHECK(raws(y) != raws(fxp::conv2d<y_t, fxp::nearest, 18>(x, w)));
  const auto dx = fxp::conv2d_backward_data<y_t, fxp::max_k<36>>(w, dy, x.shape());
  CHECK(raws(dx) == raws(fxp::conv2d_backward_data<y_t, fxp::truncate, 36>(w, dy, x.shape())));
  const auto dw = fxp::conv2d_backward_weights<y_t, 9>(x, dy, w.shape());
  CHECK(raws(dw) == raws(fxp::conv2d_backward_weights<y_t, fxp::truncate, 9>(x, dy, w.shape())));
  // The same spellings on raw arrays.
  const fxp::conv2d_shape s{1, 2, 5, 5, 4, 3, 3, 1, 1, 0, 0};
  const auto raw_array = [](const std::vector<y_t>& v) {
    std::vector<long long> r;
    for (const y_t& e : v) r.push_back(e.raw());
    return r;
  };
  std::vector<y_t> raw_y(y.size());
  CHECK_THROWS_WITH((fxp::conv2d<y_t, fxp::max_k<17>>(s, x.data(), w.data(), raw_y.data())),
                    Catch::Contains("MaxK = 17"));
  fxp::conv2d<y_t, fxp::max_k<18>>(s, x.data(), w.data(), raw_y.data());
  CHECK(raw_array(raw_y) == raws(y));
  std::vector<y_t> raw_dx(dx.size());
  fxp::conv2d_backward_data<y_t, 36>(s, w.data(), dy.data(), raw_dx.data());
  CHECK(raw_array(raw_dx) == raws(dx));
  std::vector<y_t> raw_dw(dw.size());
  fxp::conv2d_backward_weights<y_t, fxp::max_k<9>>(s, x.data(), dy.data(), raw_dw.data());
  CHECK(raw_array(raw_dw) == raws(dw));
}
