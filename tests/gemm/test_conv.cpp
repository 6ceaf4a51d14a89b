// SPDX-License-Identifier: MIT
// Tests of fxp::conv2d and its backward pieces (include/fxp/simd/conv.hpp): forward,
// input gradient and weight gradient against direct 128-bit reference sums (written from
// the definition of a strided, padded convolution, without im2col) rounded once by the
// core's fixed_cast; im2col / col2im adjointness; float within a stated bound of a double
// reference; thread counts; stochastic reproducibility, with a key or drawn without one;
// shape errors.

#include <fxp/simd/conv.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <tuple>
#include <vector>

#include "../keyless_calls.hpp"
#include "reference.hpp"

namespace {

using fxp::conv2d_shape;
using fxp_test::i128;

std::vector<conv2d_shape> test_shapes() {
  std::vector<conv2d_shape> shapes;
  const auto add = [&](std::size_t batch, std::size_t cin, std::size_t h, std::size_t w,
                       std::size_t cout, std::size_t kh, std::size_t kw, std::size_t sh,
                       std::size_t sw, std::size_t ph, std::size_t pw) {
    shapes.push_back(conv2d_shape{batch, cin, h, w, cout, kh, kw, sh, sw, ph, pw});
  };
  add(2, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1);
  add(1, 2, 9, 9, 3, 5, 5, 2, 2, 2, 2);
  add(3, 1, 5, 8, 2, 2, 3, 2, 1, 0, 1);
  add(2, 4, 4, 4, 5, 4, 4, 1, 1, 0, 0);   // 1 x 1 output
  add(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0);   // everything 1
  add(2, 1, 12, 12, 16, 5, 5, 1, 1, 2, 2);  // the reference CNN's first layer, smaller
  add(1, 3, 6, 5, 2, 3, 2, 3, 2, 2, 1);   // strides larger than the kernel overlap
  add(9, 3, 6, 6, 5, 3, 3, 1, 1, 0, 0);   // images share a GEMM, tiles span two images
  return shapes;
}

/// Calls f(y, x, ci, co, ki, kj, oy, ox, iy, ix) for every product of the convolution.
template <class F>
void for_each_product(const conv2d_shape& s, F&& f) {
  for (std::size_t b = 0; b < s.batch; ++b) {
    for (std::size_t co = 0; co < s.out_channels; ++co) {
      for (std::size_t oy = 0; oy < s.out_height(); ++oy) {
        for (std::size_t ox = 0; ox < s.out_width(); ++ox) {
          for (std::size_t ci = 0; ci < s.in_channels; ++ci) {
            for (std::size_t ki = 0; ki < s.kernel_height; ++ki) {
              for (std::size_t kj = 0; kj < s.kernel_width; ++kj) {
                const long long iy = static_cast<long long>(oy * s.stride_height + ki) -
                                     static_cast<long long>(s.pad_height);
                const long long ix = static_cast<long long>(ox * s.stride_width + kj) -
                                     static_cast<long long>(s.pad_width);
                if (iy < 0 || ix < 0 || iy >= static_cast<long long>(s.in_height) ||
                    ix >= static_cast<long long>(s.in_width)) {
                  continue;
                }
                const std::size_t x_index =
                    ((b * s.in_channels + ci) * s.in_height + static_cast<std::size_t>(iy)) *
                        s.in_width +
                    static_cast<std::size_t>(ix);
                const std::size_t w_index =
                    ((co * s.in_channels + ci) * s.kernel_height + ki) * s.kernel_width + kj;
                const std::size_t y_index =
                    ((b * s.out_channels + co) * s.out_height() + oy) * s.out_width() + ox;
                f(x_index, w_index, y_index);
              }
            }
          }
        }
      }
    }
  }
}

/// Compares `got` with the roundings of `sums` (format Sum) into T; when a reference
/// rounding throws (checked overflow) the operation must have thrown instead.
template <class T, class Round, class Sum, class Run>
void check_rounded(const std::vector<i128>& sums, const fxp::random_key& key, Run&& run) {
  std::vector<T> expected;
  const bool defined = fxp_test::expected_values<T, Round, Sum>(sums, key, 0, expected);
  std::vector<T> got(sums.size(), T::from_raw(1));
  if (!defined) {
    REQUIRE_THROWS_AS(run(got.data()), fxp::overflow_error);
    return;
  }
  run(got.data());
  REQUIRE(fxp_test::raws(got.data(), got.size()) ==
          fxp_test::raws(expected.data(), expected.size()));
}

template <class X, class W, class Y, class Round>
void check_conv_formats(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const fxp::random_key key{seed, 1, 2};
  for (const conv2d_shape& s : test_shapes()) {
    INFO(X::name() << " * " << W::name() << " -> " << Y::name() << " " << Round::name
                   << "; batch " << s.batch << " channels " << s.in_channels << "->"
                   << s.out_channels << " input " << s.in_height << "x" << s.in_width
                   << " kernel " << s.kernel_height << "x" << s.kernel_width << " stride "
                   << s.stride_height << "," << s.stride_width << " pad " << s.pad_height
                   << "," << s.pad_width);
    const auto x = fxp_test::random_fixed<X>(s.input_size(), rng);
    const auto w = fxp_test::random_fixed<W>(s.weight_size(), rng);
    // The output gradient, in the input's format (any format works).
    const auto dy = fxp_test::random_fixed<X>(s.output_size(), rng);

    std::vector<i128> y_sums(s.output_size(), 0);
    std::vector<i128> dx_sums(s.input_size(), 0);
    std::vector<i128> dw_sums(s.weight_size(), 0);
    for_each_product(s, [&](std::size_t xi, std::size_t wi, std::size_t yi) {
      y_sums[yi] += i128(w[wi].raw()) * i128(x[xi].raw());
      dx_sums[xi] += i128(w[wi].raw()) * i128(dy[yi].raw());
      dw_sums[wi] += i128(dy[yi].raw()) * i128(x[xi].raw());
    });
    fxp_test::for_each_path([&](fxp::simd::isa path) {
      INFO("GEMM kernels " << fxp::simd::isa_name(path));
      {
        INFO("forward");
        check_rounded<Y, Round, fxp::gemm_sum_t<W, X>>(y_sums, key, [&](Y* y) {
          fxp::conv2d<Y, Round>(s, x.data(), w.data(), y, key);
        });
      }
      {
        INFO("input gradient");
        check_rounded<Y, Round, fxp::gemm_sum_t<W, X>>(dx_sums, key, [&](Y* dx) {
          fxp::conv2d_backward_data<Y, Round>(s, w.data(), dy.data(), dx, key);
        });
      }
      {
        INFO("weight gradient");
        check_rounded<Y, Round, fxp::gemm_sum_t<X, X>>(dw_sums, key, [&](Y* dw) {
          fxp::conv2d_backward_weights<Y, Round>(s, x.data(), dy.data(), dw, key);
        });
      }
    });
  }
}

}  // namespace

TEST_CASE("conv2d 8-bit, nearest: ufixed<0,8> activations, fixed<1,7> weights", "[conv]") {
  check_conv_formats<fxp::ufixed<0, 8>, fxp::fixed<1, 7>, fxp::fixed<6, 10>, fxp::nearest>(1);
}
TEST_CASE("conv2d 8-bit, stochastic, saturating to a narrow output", "[conv]") {
  check_conv_formats<fxp::fixed<1, 7>, fxp::fixed<1, 7>, fxp::fixed<2, 6>, fxp::stochastic>(2);
}
TEST_CASE("conv2d 16-bit, truncate: fixed<4,12> activations, fixed<1,15> weights", "[conv]") {
  check_conv_formats<fxp::fixed<4, 12>, fxp::fixed<1, 15>, fxp::fixed<8, 8>, fxp::truncate>(3);
}
TEST_CASE("conv2d 8-bit, nearest_even, checked overflow", "[conv]") {
  check_conv_formats<fxp::ufixed<0, 8>, fxp::fixed<1, 7>,
                     fxp::fixed<3, 9, fxp::nearest, fxp::checked>, fxp::nearest_even>(4);
}

TEST_CASE("fixed col2im rounds each exact sum once", "[conv]") {
  std::mt19937_64 rng(5);
  using S = fxp::fixed<3, 13>;
  using DX = fxp::fixed<6, 6>;
  for (conv2d_shape s : test_shapes()) {
    s.batch = 1;
    const std::size_t rows = s.patch_size();
    const std::size_t cols = s.out_pixels();
    const auto c = fxp_test::random_fixed<S>(rows * cols, rng);
    std::vector<i128> sums(s.image_size(), 0);
    for_each_product(s, [&](std::size_t xi, std::size_t wi, std::size_t yi) {
      // In one image: column-matrix row = (ci, ki, kj) = wi modulo the patch, column = yi
      // modulo the output pixels; only co = 0 is a real row of the column matrix.
      if (wi < rows) sums[xi] += c[wi * cols + yi].raw();
    });
    const fxp::random_key key{5, 5, 5};
    using wide = fxp::fixed<64 - S::fraction_bits, S::fraction_bits>;
    fxp_test::for_each_rounding([&](auto round) {
      using Round = typename decltype(round)::type;
      check_rounded<DX, Round, wide>(sums, key, [&](DX* dx) {
        fxp::col2im<DX, Round>(s, c.data(), dx, key);
      });
    });
  }
}

TEST_CASE("im2col and col2im are adjoint (float, exact integers)", "[conv]") {
  std::mt19937_64 rng(6);
  std::uniform_int_distribution<int> small(-8, 8);
  for (conv2d_shape s : test_shapes()) {
    s.batch = 1;
    std::vector<float> x(s.image_size());
    std::vector<float> c(s.patch_size() * s.out_pixels());
    for (auto& v : x) v = float(small(rng));
    for (auto& v : c) v = float(small(rng));
    std::vector<float> cols(c.size());
    std::vector<float> back(x.size());
    fxp::im2col(s, x.data(), cols.data());
    fxp::col2im(s, c.data(), back.data());
    double lhs = 0;
    double rhs = 0;
    for (std::size_t i = 0; i < c.size(); ++i) lhs += double(cols[i]) * double(c[i]);
    for (std::size_t i = 0; i < x.size(); ++i) rhs += double(x[i]) * double(back[i]);
    REQUIRE(lhs == rhs);
  }
}

namespace {

// im2col of one image against its definition: row (c, ki, kj), column (oy, ox) holds input
// (c, oy * sh + ki - ph, ox * sw + kj - pw) or zero; rows `ld` apart, nothing written
// between a row's last column and the next row.
template <class T>
void check_im2col_definition() {
  std::mt19937_64 rng(17);
  std::size_t checked = 0;
  for (std::size_t w = 1; w <= 40; ++w) {
    for (std::size_t k = 1; k <= 3; ++k) {
      for (std::size_t stride = 1; stride <= 2; ++stride) {
        for (std::size_t pad = 0; pad < k; ++pad) {
          if (w + 2 * pad < k) continue;
          const conv2d_shape s{1, 2, 3 + w % 4, w, 1, k, k, stride, stride, pad, pad};
          const std::size_t p = s.out_pixels();
          const std::size_t ld = p + 3;
          std::vector<T> x(s.image_size());
          for (auto& v : x) v = static_cast<T>(1 + rng() % 100);  // nonzero: padding shows
          const T guard = static_cast<T>(-7);
          std::vector<T> cols(s.patch_size() * ld, guard);
          fxp::simd::detail::im2col(s, x.data(), cols.data(), ld);
          for (std::size_t c = 0; c < s.in_channels; ++c) {
            for (std::size_t ki = 0; ki < k; ++ki) {
              for (std::size_t kj = 0; kj < k; ++kj) {
                const std::size_t row = (c * k + ki) * k + kj;
                for (std::size_t oy = 0; oy < s.out_height(); ++oy) {
                  for (std::size_t ox = 0; ox < s.out_width(); ++ox) {
                    const auto iy = static_cast<long>(oy * stride + ki) - static_cast<long>(pad);
                    const auto ix = static_cast<long>(ox * stride + kj) - static_cast<long>(pad);
                    const bool inside = iy >= 0 && iy < static_cast<long>(s.in_height) && ix >= 0 &&
                                        ix < static_cast<long>(w);
                    const T expected =
                        inside ? x[(c * s.in_height + static_cast<std::size_t>(iy)) * w +
                                   static_cast<std::size_t>(ix)]
                               : T{};
                    INFO("width " << w << " kernel " << k << " stride " << stride << " pad " << pad
                                  << " row " << row << " oy " << oy << " ox " << ox);
                    REQUIRE(cols[row * ld + oy * s.out_width() + ox] == expected);
                  }
                }
                for (std::size_t j = p; j < ld; ++j) REQUIRE(cols[row * ld + j] == guard);
              }
            }
          }
          ++checked;
        }
      }
    }
  }
  REQUIRE(checked > 400);
}

}  // namespace

namespace {

// Both ways of summing the input gradient (a column matrix then col2im; the GEMM's store
// adding into padded planes) give every image's exact sums, on every shape (the automatic
// choice takes the padded planes for stride 1 only, so both are called here directly).
template <class W, class DY>
void check_backward_data_sums(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<conv2d_shape> shapes = test_shapes();
  shapes.push_back(conv2d_shape{2, 2, 4, 5, 600, 2, 2, 1, 1, 1, 0});  // k > a kernel's block
  shapes.push_back(conv2d_shape{2, 3, 9, 7, 4, 3, 2, 2, 3, 1, 0});    // strides 2 and 3
  for (const conv2d_shape& s : shapes) {
    INFO(W::name() << " * " << DY::name() << "; batch " << s.batch << " channels "
                   << s.in_channels << "->" << s.out_channels << " input " << s.in_height << "x"
                   << s.in_width << " kernel " << s.kernel_height << "x" << s.kernel_width
                   << " stride " << s.stride_height << "," << s.stride_width << " pad "
                   << s.pad_height << "," << s.pad_width);
    const auto w = fxp_test::random_fixed<W>(s.weight_size(), rng);
    const auto dy = fxp_test::random_fixed<DY>(s.output_size(), rng);
    std::vector<i128> expected(s.input_size(), 0);
    for_each_product(s, [&](std::size_t xi, std::size_t wi, std::size_t yi) {
      expected[xi] += i128(w[wi].raw()) * i128(dy[yi].raw());
    });
    const auto check = [&](const char* path, auto sums_by) {
      INFO(path);
      std::vector<i128> got(s.input_size(), 0);
      sums_by([&](std::size_t b, const std::int64_t* sums) {
        for (std::size_t i = 0; i < s.image_size(); ++i) got[b * s.image_size() + i] = sums[i];
      });
      for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("element " << i);
        REQUIRE(got[i] == expected[i]);
      }
    };
    constexpr std::size_t max_k = fxp::gemm_default_max_k;
    fxp_test::for_each_path([&](fxp::simd::isa path) {
      INFO("GEMM kernels " << fxp::simd::isa_name(path));
      check("column matrix", [&](const auto& on_image) {
        fxp::simd::detail::backward_data_sums_by_columns<max_k>(s, w.data(), dy.data(), on_image);
      });
      check("padded planes", [&](const auto& on_image) {
        fxp::simd::detail::backward_data_sums_padded<max_k>(s, w.data(), dy.data(), on_image);
      });
    });
  }
}

}  // namespace

TEST_CASE("both ways of summing the input gradient give the exact sums", "[conv]") {
  check_backward_data_sums<fxp::fixed<1, 7>, fxp::fixed<3, 13>>(21);   // 8 x 16 bits
  check_backward_data_sums<fxp::fixed<2, 14>, fxp::fixed<3, 13>>(22);  // 16 x 16: split
  check_backward_data_sums<fxp::fixed<10, 14>, fxp::fixed<1, 7>>(23);  // 24 bits: int64
}

TEST_CASE("im2col equals its definition for runs of every length and element size", "[conv]") {
  check_im2col_definition<std::int8_t>();
  check_im2col_definition<std::int16_t>();
  check_im2col_definition<float>();
  check_im2col_definition<double>();
}

TEST_CASE("float conv2d and its gradients are within the rounding-error bound", "[conv][float]") {
  // Each result is a sum of N products computed in float in some order: within
  // gamma_N * sum |terms|, gamma_N = N u / (1 - N u), u = 2^-24 (Higham 3.1), N the number
  // of products (forward: patch_size; input gradient: out_channels * kh * kw; weights:
  // batch * out_pixels).
  std::mt19937_64 rng(7);
  const double u = std::ldexp(1.0, -24);
  const auto gamma = [&](std::size_t n) { return double(n) * u / (1 - double(n) * u); };
  for (const conv2d_shape& s : test_shapes()) {
    const auto x = fxp_test::random_float(s.input_size(), rng);
    const auto w = fxp_test::random_float(s.weight_size(), rng);
    const auto dy = fxp_test::random_float(s.output_size(), rng);
    std::vector<double> y_ref(s.output_size(), 0), y_mag(s.output_size(), 0);
    std::vector<double> dx_ref(s.input_size(), 0), dx_mag(s.input_size(), 0);
    std::vector<double> dw_ref(s.weight_size(), 0), dw_mag(s.weight_size(), 0);
    for_each_product(s, [&](std::size_t xi, std::size_t wi, std::size_t yi) {
      y_ref[yi] += double(w[wi]) * x[xi];
      y_mag[yi] += std::fabs(double(w[wi]) * x[xi]);
      dx_ref[xi] += double(w[wi]) * dy[yi];
      dx_mag[xi] += std::fabs(double(w[wi]) * dy[yi]);
      dw_ref[wi] += double(dy[yi]) * x[xi];
      dw_mag[wi] += std::fabs(double(dy[yi]) * x[xi]);
    });
    std::vector<float> y(s.output_size()), dx(s.input_size()), dw(s.weight_size());
    fxp::conv2d(s, x.data(), w.data(), y.data());
    fxp::conv2d_backward_data(s, w.data(), dy.data(), dx.data());
    fxp::conv2d_backward_weights(s, x.data(), dy.data(), dw.data());
    const auto check = [](const std::vector<float>& got, const std::vector<double>& ref,
                          const std::vector<double>& mag, double g) {
      for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("element " << i);
        REQUIRE(std::fabs(double(got[i]) - ref[i]) <= g * mag[i] * 1.0001);
      }
    };
    check(y, y_ref, y_mag, gamma(s.patch_size()));
    check(dx, dx_ref, dx_mag, gamma(s.out_channels * s.kernel_height * s.kernel_width));
    check(dw, dw_ref, dw_mag, gamma(s.batch * s.out_pixels()));
  }
}

TEST_CASE("float conv2d and its gradients equal a double reference exactly on dyadic data",
          "[conv][float]") {
  // Multiples of 1/8 in [-4, 4]: products are multiples of 2^-6 of magnitude <= 16, so every
  // partial sum of N <= 2^14 of them is a float whatever the order or FMA: exact, compare ==.
  std::mt19937_64 rng(9);
  const auto dyadic = [&](std::size_t count) { return fxp_test::dyadic_floats(count, rng); };
  for (const conv2d_shape& s : test_shapes()) {
    INFO("batch " << s.batch << " channels " << s.in_channels << "->" << s.out_channels
                  << " input " << s.in_height << "x" << s.in_width << " kernel "
                  << s.kernel_height << "x" << s.kernel_width);
    for (const std::size_t terms : {s.patch_size(), s.out_channels * s.kernel_height * s.kernel_width,
                                    s.batch * s.out_pixels()}) {
      REQUIRE(terms * 16 <= (std::size_t{1} << 18));  // |partial sums| < 2^24 * 2^-6
    }
    const auto x = dyadic(s.input_size());
    const auto w = dyadic(s.weight_size());
    const auto dy = dyadic(s.output_size());
    std::vector<double> y_ref(s.output_size(), 0);
    std::vector<double> dx_ref(s.input_size(), 0);
    std::vector<double> dw_ref(s.weight_size(), 0);
    for_each_product(s, [&](std::size_t xi, std::size_t wi, std::size_t yi) {
      y_ref[yi] += double(w[wi]) * x[xi];
      dx_ref[xi] += double(w[wi]) * dy[yi];
      dw_ref[wi] += double(dy[yi]) * x[xi];
    });
    const auto differing = [](const std::vector<float>& got, const std::vector<double>& ref) {
      std::size_t count = 0;
      for (std::size_t i = 0; i < got.size(); ++i) count += double(got[i]) != ref[i];
      return count;
    };
    fxp_test::for_each_path([&](fxp::simd::isa path) {
      INFO("GEMM kernels " << fxp::simd::isa_name(path));
      std::vector<float> y(s.output_size()), dx(s.input_size()), dw(s.weight_size());
      fxp::conv2d(s, x.data(), w.data(), y.data());
      fxp::conv2d_backward_data(s, w.data(), dy.data(), dx.data());
      fxp::conv2d_backward_weights(s, x.data(), dy.data(), dw.data());
      CHECK(differing(y, y_ref) == 0);
      CHECK(differing(dx, dx_ref) == 0);
      CHECK(differing(dw, dw_ref) == 0);
    });
  }
}

TEST_CASE("conv2d and its gradients give the same bits on 1 and 2 threads",
          "[conv][threads]") {
  std::mt19937_64 rng(8);
  conv2d_shape s;
  s.batch = 5;
  s.in_channels = 3;
  s.in_height = 14;
  s.in_width = 13;
  s.out_channels = 8;
  s.kernel_height = 5;
  s.kernel_width = 5;
  s.pad_height = 2;
  s.pad_width = 1;
  using X = fxp::ufixed<0, 8>;
  using W = fxp::fixed<1, 7>;
  using Y = fxp::fixed<6, 10, fxp::stochastic>;
  const auto x = fxp_test::random_fixed<X>(s.input_size(), rng);
  const auto w = fxp_test::random_fixed<W>(s.weight_size(), rng);
  const auto dy = fxp_test::random_fixed<X>(s.output_size(), rng);
  const auto xf = fxp_test::random_float(s.input_size(), rng);
  const auto wf = fxp_test::random_float(s.weight_size(), rng);
  const auto dyf = fxp_test::random_float(s.output_size(), rng);
  const fxp::random_key key{8, 8, 8};
  const auto everything = [&] {
    std::vector<Y> y(s.output_size()), dx(s.input_size()), dw(s.weight_size());
    fxp::conv2d<Y>(s, x.data(), w.data(), y.data(), key);
    fxp::conv2d_backward_data<Y>(s, w.data(), dy.data(), dx.data(), key);
    fxp::conv2d_backward_weights<Y>(s, x.data(), dy.data(), dw.data(), key);
    std::vector<float> yf(s.output_size()), dxf(s.input_size()), dwf(s.weight_size());
    fxp::conv2d(s, xf.data(), wf.data(), yf.data());
    fxp::conv2d_backward_data(s, wf.data(), dyf.data(), dxf.data());
    fxp::conv2d_backward_weights(s, xf.data(), dyf.data(), dwf.data());
    return std::make_tuple(fxp_test::raws(y.data(), y.size()), fxp_test::raws(dx.data(), dx.size()),
                           fxp_test::raws(dw.data(), dw.size()), yf, dxf, dwf);
  };
  decltype(everything()) one;
  decltype(everything()) two;
  fxp_test::with_threads(1, [&] { one = everything(); });
  fxp_test::with_threads(2, [&] { two = everything(); });
  REQUIRE(std::get<0>(one) == std::get<0>(two));
  REQUIRE(std::get<1>(one) == std::get<1>(two));
  REQUIRE(std::get<2>(one) == std::get<2>(two));
  REQUIRE(std::get<3>(one) == std::get<3>(two));
  REQUIRE(std::get<4>(one) == std::get<4>(two));
  REQUIRE(std::get<5>(one) == std::get<5>(two));
}

TEST_CASE("stochastic conv2d depends on the step", "[conv][stochastic]") {
  std::mt19937_64 rng(9);
  conv2d_shape s;
  s.batch = 2;
  s.in_channels = 2;
  s.in_height = 8;
  s.in_width = 8;
  s.out_channels = 3;
  s.kernel_height = 3;
  s.kernel_width = 3;
  using X = fxp::fixed<1, 7>;
  using Y = fxp::fixed<4, 4, fxp::stochastic>;
  const auto x = fxp_test::random_fixed<X>(s.input_size(), rng);
  const auto w = fxp_test::random_fixed<X>(s.weight_size(), rng);
  const auto forward = [&](std::uint32_t step) {
    std::vector<Y> y(s.output_size());
    fxp::conv2d<Y>(s, x.data(), w.data(), y.data(), fxp::random_key{1, 2, step});
    return fxp_test::raws(y.data(), y.size());
  };
  REQUIRE(forward(3) == forward(3));
  REQUIRE(forward(3) != forward(4));
}

TEST_CASE("stochastic convolutions without a key draw one per call from the default generator",
          "[conv][stochastic][keyless]") {
  std::mt19937_64 rng(10);
  conv2d_shape s;
  s.batch = 3;  // images run as separate tasks: the key must be drawn before
  s.in_channels = 2;
  s.in_height = 7;
  s.in_width = 9;
  s.out_channels = 4;
  s.kernel_height = 3;
  s.kernel_width = 3;
  s.pad_height = 1;
  using X = fxp::fixed<1, 7>;
  using Y = fxp::fixed<4, 4>;
  const auto x = fxp_test::random_fixed<X>(s.input_size(), rng);
  const auto w = fxp_test::random_fixed<X>(s.weight_size(), rng);
  const auto dy = fxp_test::random_fixed<X>(s.output_size(), rng);
  const auto cols = fxp_test::random_fixed<fxp::fixed<3, 13>>(s.patch_size() * s.out_pixels(), rng);
  const auto checks = [](auto&& run) {
    fxp_test::check_keyless_draws([&] { return run(); },
                                  [&](const fxp::random_key& key) { return run(key); });
  };
  SECTION("conv2d") {
    checks([&](auto&&... key) {
      std::vector<Y> y(s.output_size());
      fxp::conv2d<Y, fxp::stochastic>(s, x.data(), w.data(), y.data(), key...);
      return fxp_test::raws(y.data(), y.size());
    });
  }
  SECTION("conv2d_backward_data") {
    checks([&](auto&&... key) {
      std::vector<Y> dx(s.input_size());
      fxp::conv2d_backward_data<Y, fxp::stochastic>(s, w.data(), dy.data(), dx.data(), key...);
      return fxp_test::raws(dx.data(), dx.size());
    });
  }
  SECTION("conv2d_backward_weights") {
    checks([&](auto&&... key) {
      std::vector<Y> dw(s.weight_size());
      fxp::conv2d_backward_weights<Y, fxp::stochastic>(s, x.data(), dy.data(), dw.data(), key...);
      return fxp_test::raws(dw.data(), dw.size());
    });
  }
  SECTION("col2im") {
    checks([&](auto&&... key) {
      std::vector<Y> image(s.image_size());
      fxp::col2im<Y, fxp::stochastic>(s, cols.data(), image.data(), key...);
      return fxp_test::raws(image.data(), image.size());
    });
  }
  SECTION("deterministic policies draw nothing") {
    std::vector<Y> y(s.output_size());
    std::vector<Y> dx(s.input_size());
    std::vector<Y> dw(s.weight_size());
    fxp_test::check_draws_nothing([&] {
      fxp::conv2d<Y>(s, x.data(), w.data(), y.data());
      fxp::conv2d_backward_data<Y, fxp::truncate>(s, w.data(), dy.data(), dx.data());
      fxp::conv2d_backward_weights<Y, fxp::nearest_even>(s, x.data(), dy.data(), dw.data());
      fxp::col2im<Y, fxp::toward_zero>(s, cols.data(), dx.data());
    });
  }
}

TEST_CASE("convolution shape errors name the field", "[conv]") {
  conv2d_shape s;
  s.in_height = 3;
  s.in_width = 3;
  s.kernel_height = 5;
  s.kernel_width = 3;
  std::vector<float> buffer(100);
  REQUIRE_THROWS_WITH(fxp::conv2d(s, buffer.data(), buffer.data(), buffer.data()),
                      Catch::Contains("kernel_height = 5"));
  s.kernel_height = 3;
  s.stride_width = 0;
  REQUIRE_THROWS_WITH(fxp::conv2d(s, buffer.data(), buffer.data(), buffer.data()),
                      Catch::Contains("stride_width"));
  s.stride_width = 1;
  using T = fxp::fixed<1, 7>;
  std::vector<T> t(100);
  // patch_size = 9 > MaxK = 8.
  REQUIRE_THROWS_WITH((fxp::conv2d<T, fxp::nearest, 8>(s, t.data(), t.data(), t.data())),
                      Catch::Contains("= 9") && Catch::Contains("MaxK = 8"));
  // Sums of 3 x 3 = 9 values of a 62-bit format can need 66 bits.
  std::vector<fxp::fixed<40, 22>> wide_cols(9);
  std::vector<fxp::fixed<8, 8>> image(9);
  REQUIRE_THROWS_WITH((fxp::col2im<fxp::fixed<8, 8>>(s, wide_cols.data(), image.data())),
                      Catch::Contains("64 bits"));
}
