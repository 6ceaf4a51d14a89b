// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// 2-D convolution on raw NCHW arrays, lowered to fxp::gemm through im2col: the forward
/// pass and the two products of its backward pass, for fixed point (exact sums, one
/// rounding into the output format) and for float. Bias is left to the caller (add it to
/// the output, or sum the output gradient over batch and pixels for its gradient).
///
/// For a shape s (see fxp::conv2d_shape), with P = s.out_pixels() and K = s.patch_size():
///  - conv2d:                  y[b] (C_out x P) = w (C_out x K) * im2col(x[b]) (K x P)
///  - conv2d_backward_data:    dx[b] = col2im(w^T (K x C_out) * dy[b] (C_out x P))
///  - conv2d_backward_weights: dw (C_out x K) = sum over b of dy[b] * im2col(x[b])^T
/// In fixed point each output element is the exact sum of all its products, rounded once:
/// the backward-data products are kept exact through col2im, and the weight gradient sums
/// over the whole batch in one GEMM (k = batch * P). Stochastic rounding of output element
/// i (its NCHW or OIHW flat index) draws word i under the key. Images run in parallel on
/// the pool (fxp::set_num_threads); no result depends on the thread count.

#include <algorithm>  // std::min, std::max, std::copy_n, std::fill_n
#include <cstddef>    // std::size_t
#include <cstdint>    // int64 sums, stochastic counters
#include <stdexcept>  // std::invalid_argument
#include <string>     // error messages
#include <vector>     // column matrices, row offsets

#include "../core/fixed.hpp"
#include "../core/random.hpp"
#include "../core/conv2d_shape.hpp"
#include "detail/conv_columns.hpp"
#include "detail/gemm_round.hpp"
#include "detail/isa_namespace.hpp"
#include "gemm.hpp"
#include "../core/thread_pool.hpp"

namespace fxp {

namespace simd::detail {
FXP_BEGIN_ISA_NAMESPACE

/// Throws unless a reduction of `terms` products fits the accumulator sized for MaxK.
inline void check_reduction(const char* who, const char* what, std::size_t terms,
                            std::size_t bound) {
  if (terms > bound) {
    throw std::invalid_argument(std::string(who) + ": the reduction length " + what + " = " +
                                std::to_string(terms) + " exceeds MaxK = " +
                                std::to_string(bound) + "; raise the MaxK template argument");
  }
}

/// Rounds one image of exact int64 sums (raw values of format Sum) into `out`.
template <class Out, class Round, class Sum>
void round_sums(const std::int64_t* sums, std::size_t count, Out* out, const random_key& key,
                std::uint64_t first_index) {
  if constexpr (!deterministic_rounding<Round>) {
    constexpr std::size_t chunk = 256;
    std::uint32_t words[chunk];
    for (std::size_t i0 = 0; i0 < count; i0 += chunk) {
      const std::size_t n = std::min(chunk, count - i0);
      fill_words(key, first_index + i0, n, words);
      round_row<Out, Round, Sum>(sums + i0, words, out + i0, n);
    }
  } else {
    round_row<Out, Round, Sum>(sums, static_cast<const std::uint32_t*>(nullptr), out, count);
  }
}

/// The most images for_each_image_group puts in one group (a bound for stack arrays).
inline constexpr std::size_t max_images_per_gemm = 64;

/// How many images share one forward GEMM: enough that their columns side by side fill the
/// kernels' tiles (one image of 10 x 10 output pixels left 28 of the 128 columns of its
/// tiles empty) and A is packed once for them, as long as their column matrix stays within
/// half an L2 cache and every thread still gets a group.
[[nodiscard]] inline std::size_t images_per_gemm(const conv2d_shape& s, std::size_t element_bytes) {
  constexpr std::size_t wanted_columns = 384;
  constexpr std::size_t max_column_bytes = std::size_t{1} << 19;
  const std::size_t p = s.out_pixels();
  const std::size_t image_bytes = s.patch_size() * p * element_bytes;
  std::size_t g = (wanted_columns + p - 1) / p;
  g = std::min(g, std::max<std::size_t>(1, max_column_bytes / std::max<std::size_t>(1, image_bytes)));
  g = std::min(g, std::max<std::size_t>(1, s.batch / std::max<std::size_t>(1, fxp::num_threads())));
  return std::max<std::size_t>(1, std::min({g, s.batch, max_images_per_gemm}));
}

/// Runs body(b0, count, cols) for groups of consecutive images on the pool (a group per task;
/// each GEMM then runs on its task's thread), cols the column matrices of images
/// b0 ... b0 + count - 1 side by side: s.patch_size() rows of count * s.out_pixels()
/// columns, image i's from column i * s.out_pixels() on (a per-thread buffer).
template <class X, class Body>
void for_each_image_group(const conv2d_shape& s, const X* x, const Body& body) {
  const std::size_t p = s.out_pixels();
  const std::size_t per_group = images_per_gemm(s, sizeof(X));
  const std::size_t groups = (s.batch + per_group - 1) / per_group;
  fxp::detail::parallel_for(groups, [&](std::size_t g) {
    const std::size_t b0 = g * per_group;
    const std::size_t count = std::min(per_group, s.batch - b0);
    // Written whole by im2col: scratch memory, not zeroed per group.
    X* cols = scratch<X>(scratch_slot::columns, s.patch_size() * count * p);
    for (std::size_t i = 0; i < count; ++i) {
      im2col(s, x + (b0 + i) * s.image_size(), cols + i * p, count * p);
    }
    body(b0, count, static_cast<const X*>(cols));
  });
}

/// Bytes per raw value of a run-time output.
[[nodiscard]] constexpr std::size_t carrier_bytes(raw_carrier c) noexcept {
  switch (c) {
    case raw_carrier::int8:
    case raw_carrier::uint8: return 1;
    case raw_carrier::int16:
    case raw_carrier::uint16: return 2;
    case raw_carrier::int32: return 4;
  }
  return 4;
}

/// Forward convolution into a run-time output format (run_time_output, its row_bias one per
/// output channel): as fxp::conv2d, image b's GEMM storing at out.c + b * O * P elements and
/// drawing words from counter b * O * P on. The caller checks the shapes and MaxK.
template <std::size_t MaxK, fixed_point X, fixed_point W>
void conv2d_run_time(const conv2d_shape& s, const X* x, const W* w, const run_time_output& out,
                     rounding_mode mode) {
  const std::size_t k = s.patch_size();
  const std::size_t p = s.out_pixels();
  const std::size_t per_image = s.out_channels * p;
  for_each_image_group(s, x, [&](std::size_t b0, std::size_t count, const X* cols) {
    run_time_output outputs[max_images_per_gemm];
    run_time_stores stores[max_images_per_gemm];
    for (std::size_t i = 0; i < count; ++i) {
      outputs[i] = out;
      outputs[i].c = static_cast<unsigned char*>(out.c) + (b0 + i) * per_image * carrier_bytes(out.carrier);
      outputs[i].first = out.first + (b0 + i) * per_image;
      stores[i] = run_time_stores{&outputs[i], mode};
    }
    on_active_isa([&]<class Isa>(Isa) {
      gemm_fixed_into<Isa, MaxK>(transpose::no, transpose::no, s.out_channels, count * p, k, w,
                                 k, cols, count * p, image_group_stores<run_time_stores>{stores, p});
    });
  });
}

/// The layout in which backward_data_sums' GEMM store does col2im itself. The GEMM w^T dy
/// runs on dy with each row of output pixels padded with zeros to `row_pitch` columns
/// (column j = oy * row_pitch + ox), and each input channel's sums are a padded plane of
/// `plane_width` columns. Column-matrix element (row (c, ki, kj), column j) then belongs at
/// (s_h oy + ki, s_w ox + kj) of channel c's plane, that is at c * plane_size + ki *
/// plane_width + kj + s_w * j: linear in j, so each row of a GEMM tile is added as one run
/// at its row's offset (offset_sums), and the zero columns (ox >= ow) add zeros wherever
/// they land. No column matrix is written or read back, and the runs are whole tile rows
/// instead of one output row each (10 elements in the reference CNN's second layer).
struct padded_sums_layout {
  std::size_t row_pitch = 0;    // GEMM columns per row of output pixels
  std::size_t plane_width = 0;  // sums per row of an input channel's padded plane
  std::size_t plane_size = 0;   // sums per padded plane
  std::size_t size = 0;         // sums of one image, with where the zero columns land

  explicit padded_sums_layout(const conv2d_shape& s) noexcept {
    const std::size_t sh = s.stride_height;
    const std::size_t sw = s.stride_width;
    const std::size_t ow = s.out_width();
    // plane_width = s_w * unit holds every s_w ox + kj and the input's columns; the rows of
    // GEMM columns are s_h * unit apart so that s_w * j steps s_h plane rows per output row.
    const std::size_t unit = std::max({ceil_div(ow, sh),
                                       ceil_div((ow - 1) * sw + s.kernel_width, sw),
                                       ceil_div(s.in_width + s.pad_width, sw)});
    row_pitch = sh * unit;
    plane_width = sw * unit;
    plane_size = (s.in_height + 2 * s.pad_height) * plane_width;
    const std::size_t last_reach = sw * (s.out_height() * row_pitch - 1) +
                                   (s.kernel_height - 1) * plane_width + s.kernel_width;
    size = (s.in_channels - 1) * plane_size + std::max(plane_size, last_reach);
  }

  /// Whether the zero columns cost fewer products than half of the GEMM's own (beyond
  /// that, strides above 1 or kernels wider than the output, the column matrix is cheaper).
  [[nodiscard]] static bool worthwhile(const conv2d_shape& s) noexcept {
    return s.in_channels > 0 && s.out_pixels() > 0 &&
           2 * padded_sums_layout(s).row_pitch <= 3 * s.out_width();
  }
};

/// backward_data_sums through a column matrix: the GEMM stores w^T dy[b] exactly, then
/// col2im sums it.
template <std::size_t MaxK, fixed_point W, fixed_point DY, class OnImage>
void backward_data_sums_by_columns(const conv2d_shape& s, const W* w, const DY* dy,
                                   const OnImage& on_image) {
  using sum_type = gemm_sum_t<W, DY, MaxK>;
  const std::size_t k = s.patch_size();
  const std::size_t p = s.out_pixels();
  fxp::detail::parallel_for(s.batch, [&](std::size_t b) {
    sum_type* cols = scratch<sum_type>(scratch_slot::columns, k * p);
    // Lossless: sum_type keeps every bit of the products' sums.
    fxp::gemm<sum_type, fxp::truncate, MaxK>(transpose::yes, transpose::no, k, p, s.out_channels,
                                             w, k, dy + b * s.out_channels * p, p, cols, p);
    std::int64_t* sums = scratch<std::int64_t>(scratch_slot::image_sums, s.image_size());
    col2im_sum(s, cols, p, sums, [](const sum_type& v) { return static_cast<std::int64_t>(v.raw()); });
    on_image(b, static_cast<const std::int64_t*>(sums));
  });
}

/// backward_data_sums with the GEMM's store doing col2im (padded_sums_layout).
template <std::size_t MaxK, fixed_point W, fixed_point DY, class OnImage>
void backward_data_sums_padded(const conv2d_shape& s, const W* w, const DY* dy,
                               const OnImage& on_image) {
  const padded_sums_layout layout(s);
  const std::size_t k = s.patch_size();
  const std::size_t oh = s.out_height();
  const std::size_t ow = s.out_width();
  const std::size_t n = oh * layout.row_pitch;
  // The GEMM's rows in (ki, kj, c) order, A = w^T with its rows permuted: in (c, ki, kj)
  // order neighbouring rows add runs one sum apart, and each run's loads waited for the
  // previous run's stores (a partly overlapping store does not forward; the store took
  // twice as long).
  std::vector<std::size_t> row_offset;
  std::vector<W> a;
  row_offset.reserve(k);
  a.reserve(k * s.out_channels);
  for (std::size_t ki = 0; ki < s.kernel_height; ++ki) {
    for (std::size_t kj = 0; kj < s.kernel_width; ++kj) {
      for (std::size_t c = 0; c < s.in_channels; ++c) {
        row_offset.push_back(c * layout.plane_size + ki * layout.plane_width + kj);
        const std::size_t column = (c * s.kernel_height + ki) * s.kernel_width + kj;
        for (std::size_t o = 0; o < s.out_channels; ++o) a.push_back(w[o * k + column]);
      }
    }
  }
  const std::size_t padded_dy_offset = ceil_div(layout.size * sizeof(std::int64_t), 64) * 64;
  fxp::detail::parallel_for(s.batch, [&](std::size_t b) {
    // One per-thread buffer: the padded planes of sums, then dy[b] with its rows padded.
    std::byte* buffer = scratch<std::byte>(scratch_slot::columns,
                                           padded_dy_offset + s.out_channels * n * sizeof(DY));
    auto* padded = reinterpret_cast<std::int64_t*>(buffer);
    auto* padded_dy = reinterpret_cast<DY*>(buffer + padded_dy_offset);
    std::fill_n(padded, layout.size, std::int64_t{0});
    const DY* from = dy + b * s.out_channels * oh * ow;
    for (std::size_t row = 0; row < s.out_channels * oh; ++row, from += ow) {
      DY* to = padded_dy + row * layout.row_pitch;
      std::copy_n(from, ow, to);
      std::fill(to + ow, to + layout.row_pitch, DY::from_raw(0));
    }
    const offset_sums out{padded, row_offset.data(), s.stride_width};
    on_active_isa([&]<class Isa>(Isa) {
      gemm_fixed_into<Isa, MaxK>(transpose::no, transpose::no, k, n, s.out_channels, a.data(),
                                 s.out_channels,
                                 static_cast<const DY*>(padded_dy), n, added_stores{&out});
    });
    std::int64_t* sums = scratch<std::int64_t>(scratch_slot::image_sums, s.image_size());
    for (std::size_t c = 0; c < s.in_channels; ++c) {
      for (std::size_t y = 0; y < s.in_height; ++y) {
        std::copy_n(padded + c * layout.plane_size + (y + s.pad_height) * layout.plane_width +
                        s.pad_width,
                    s.in_width, sums + (c * s.in_height + y) * s.in_width);
      }
    }
    on_image(b, static_cast<const std::int64_t*>(sums));
  });
}

/// Runs on_image(b, sums) for every image b on the pool, `sums` the exact sums of image b's
/// input gradient col2im(w^T dy[b]) as int64 in units of gemm_sum_t<W, DY, MaxK> (a
/// per-thread buffer of s.image_size()).
/// \throws std::invalid_argument when out_channels * kernel_height * kernel_width > MaxK
template <std::size_t MaxK, fixed_point W, fixed_point DY, class OnImage>
void backward_data_sums(const conv2d_shape& s, const W* w, const DY* dy, const OnImage& on_image) {
  // Every partial sum of the column matrix and of col2im is a sum of at most this many
  // products, so int64 holds them all once it is within MaxK.
  check_reduction("fxp::conv2d_backward_data", "out_channels * kernel_height * kernel_width",
                  s.out_channels * s.kernel_height * s.kernel_width, MaxK);
  if (padded_sums_layout::worthwhile(s)) {
    backward_data_sums_padded<MaxK>(s, w, dy, on_image);
  } else {
    backward_data_sums_by_columns<MaxK>(s, w, dy, on_image);
  }
}

/// A 64-bit format with S's fractional bits: holds any int64 sum of raw values of S.
template <class S>
using wide_sum_t = basic_fixed<64 - S::fraction_bits, S::fraction_bits, true,
                               typename S::rounding_policy, typename S::overflow_policy>;

FXP_END_ISA_NAMESPACE
}  // namespace simd::detail
FXP_BEGIN_ISA_NAMESPACE

/// im2col of one image: `cols` (s.patch_size() rows x s.out_pixels() columns, row-major)
/// gets, in row (c, ki, kj) and column (oy, ox), the input value at (c, oy * stride_height +
/// ki - pad_height, ox * stride_width + kj - pad_width), or zero in the padding.
/// \tparam T float or any fixed-point type
template <class T>
void im2col(const conv2d_shape& s, const T* image, T* cols) {
  s.validate("fxp::im2col");
  simd::detail::im2col(s, image, cols, s.out_pixels());
}

/// col2im of one image, the adjoint of im2col: each input position receives the exact sum
/// of the column-matrix elements im2col would have read from it, rounded once into DX.
/// \tparam DX the output format
/// \tparam Round the rounding policy (DX's own by default); element i of the image draws
///         word first_index + i under `key` (without a key, a random policy draws a fresh one
///         from fxp::default_generator(), once per call: see fxp::draw_key)
/// \throws std::invalid_argument when a sum of kernel_height * kernel_width values of S
///         could exceed 64 bits
template <fixed_point DX, rounding_policy Round = typename DX::rounding_policy, fixed_point S>
void col2im(const conv2d_shape& s, const S* cols, DX* image, optional_key key = {},
            std::uint64_t first_index = 0) {
  s.validate("fxp::col2im");
  const int bits = S::width + (S::is_signed ? 0 : 1) +
                   simd::detail::ceil_log2(s.kernel_height * s.kernel_width);
  if (bits > 64) {
    throw std::invalid_argument("fxp::col2im: a sum of kernel_height * kernel_width = " +
                                std::to_string(s.kernel_height * s.kernel_width) +
                                " values of " + S::name() + " can exceed 64 bits");
  }
  std::vector<std::int64_t> sums(s.image_size());
  simd::detail::col2im_sum(s, cols, s.out_pixels(), sums.data(),
                           [](const S& v) { return static_cast<std::int64_t>(v.raw()); });
  simd::detail::round_sums<DX, Round, simd::detail::wide_sum_t<S>>(
      sums.data(), sums.size(), image, resolve_key<Round>(key), first_index);
}

/// col2im of one float image: sums in float, in a fixed order.
inline void col2im(const conv2d_shape& s, const float* cols, float* image) {
  s.validate("fxp::col2im");
  simd::detail::col2im_sum(s, cols, s.out_pixels(), image, [](float v) { return v; });
}

/// Forward convolution y = conv(x, w) in fixed point, NCHW / OIHW / NCHW (bias not
/// included): each output is the exact sum of its s.patch_size() products, rounded once
/// into Y by `Round` and Y's overflow policy.
/// \tparam Y the output format
/// \tparam Round the rounding policy (Y's own by default); output element i (NCHW flat
///         index) draws word i under `key` (without a key, a random policy draws a fresh one
///         from fxp::default_generator(), once per call, before the images are split among
///         threads: see fxp::draw_key)
/// \tparam MaxK the largest reduction length (here s.patch_size()); sizes the accumulator
/// \throws std::invalid_argument on a bad shape or s.patch_size() > MaxK
template <fixed_point Y, rounding_policy Round = typename Y::rounding_policy,
          std::size_t MaxK = gemm_default_max_k, fixed_point X, fixed_point W>
void conv2d(const conv2d_shape& s, const X* x, const W* w, Y* y, optional_key key = {}) {
  s.validate("fxp::conv2d");
  simd::detail::check_reduction("fxp::conv2d", "in_channels * kernel_height * kernel_width",
                                s.patch_size(), MaxK);
  const random_key resolved = resolve_key<Round>(key);
  const std::size_t k = s.patch_size();
  const std::size_t p = s.out_pixels();
  const std::size_t per_image = s.out_channels * p;
  using stores_type = simd::detail::compile_time_stores<Y, Round>;
  simd::detail::for_each_image_group(s, x, [&](std::size_t b0, std::size_t count, const X* cols) {
    simd::detail::output_view<Y> outputs[simd::detail::max_images_per_gemm];
    stores_type stores[simd::detail::max_images_per_gemm];
    for (std::size_t i = 0; i < count; ++i) {
      outputs[i] = {y + (b0 + i) * per_image, p, resolved, (b0 + i) * per_image, p};
      stores[i] = stores_type{&outputs[i]};
    }
    simd::detail::on_active_isa([&]<class Isa>(Isa) {
      simd::detail::gemm_fixed_into<Isa, MaxK>(
          transpose::no, transpose::no, s.out_channels, count * p, k, w, k, cols, count * p,
          simd::detail::image_group_stores<stores_type>{stores, p});
    });
  });
}

/// Forward convolution in float (bias not included).
/// \throws std::invalid_argument on a bad shape
inline void conv2d(const conv2d_shape& s, const float* x, const float* w, float* y) {
  s.validate("fxp::conv2d");
  const std::size_t k = s.patch_size();
  const std::size_t p = s.out_pixels();
  using stores_type = simd::detail::float_stores;
  simd::detail::for_each_image_group(s, x, [&](std::size_t b0, std::size_t count, const float* cols) {
    simd::detail::output_view<float> outputs[simd::detail::max_images_per_gemm];
    stores_type stores[simd::detail::max_images_per_gemm];
    for (std::size_t i = 0; i < count; ++i) {
      outputs[i] = {y + (b0 + i) * s.out_channels * p, p, {}, 0, p};
      stores[i] = stores_type{&outputs[i]};
    }
    simd::detail::on_active_isa([&]<class Isa>(Isa) {
      simd::detail::gemm_float_into<Isa>(transpose::no, transpose::no, s.out_channels, count * p,
                                         k, w, k, cols, count * p,
                                         simd::detail::image_group_stores<stores_type>{stores, p});
    });
  });
}

/// Gradient of the input: dx = col2im(w^T dy) per image. Each element of dx is the exact
/// sum of its out_channels * kernel_height * kernel_width products (the column matrix is
/// kept exact, in gemm_sum_t<W, DY, MaxK>), rounded once into DX.
/// \tparam DX the format of the input gradient
/// \tparam Round the rounding policy (DX's own by default); element i of dx (NCHW flat
///         index) draws word i under `key` (without a key, as fxp::conv2d: a fresh one per
///         call from fxp::default_generator())
/// \tparam MaxK bound on out_channels * kernel_height * kernel_width; sizes the accumulator
/// \throws std::invalid_argument on a bad shape or a reduction longer than MaxK
template <fixed_point DX, rounding_policy Round = typename DX::rounding_policy,
          std::size_t MaxK = gemm_default_max_k, fixed_point W, fixed_point DY>
void conv2d_backward_data(const conv2d_shape& s, const W* w, const DY* dy, DX* dx,
                          optional_key key = {}) {
  s.validate("fxp::conv2d_backward_data");
  const random_key resolved = resolve_key<Round>(key);
  using sum_type = gemm_sum_t<W, DY, MaxK>;
  simd::detail::backward_data_sums<MaxK>(s, w, dy, [&](std::size_t b, const std::int64_t* sums) {
    simd::detail::round_sums<DX, Round, sum_type>(sums, s.image_size(), dx + b * s.image_size(),
                                                  resolved, b * s.image_size());
  });
}

/// Gradient of the input in float: dx = col2im(w^T dy), summed in float in a fixed order.
/// \throws std::invalid_argument on a bad shape
inline void conv2d_backward_data(const conv2d_shape& s, const float* w, const float* dy,
                                 float* dx) {
  s.validate("fxp::conv2d_backward_data");
  const std::size_t k = s.patch_size();
  const std::size_t p = s.out_pixels();
  fxp::detail::parallel_for(s.batch, [&](std::size_t b) {
    float* cols = simd::detail::scratch<float>(simd::detail::scratch_slot::columns, k * p);
    gemm(transpose::yes, transpose::no, k, p, s.out_channels, w, k, dy + b * s.out_channels * p,
         p, cols, p);
    simd::detail::col2im_sum(s, cols, p, dx + b * s.image_size(),
                             [](float v) { return v; });
  });
}

FXP_END_ISA_NAMESPACE
namespace simd::detail {
FXP_BEGIN_ISA_NAMESPACE

/// The column matrices of all images side by side (patch_size x batch * P) and the output
/// gradient regrouped to out_channels x batch * P: the operands of the batched weight GEMM.
template <class X, class DY>
void gather_for_weights(const conv2d_shape& s, const X* x, const DY* dy, std::vector<X>& cols,
                        std::vector<DY>& grads) {
  const std::size_t p = s.out_pixels();
  const std::size_t bp = s.batch * p;
  cols.resize(s.patch_size() * bp);
  grads.resize(s.out_channels * bp);
  fxp::detail::parallel_for(s.batch, [&](std::size_t b) {
    im2col(s, x + b * s.image_size(), cols.data() + b * p, bp);
    for (std::size_t c = 0; c < s.out_channels; ++c) {
      const DY* from = dy + (b * s.out_channels + c) * p;
      DY* to = grads.data() + c * bp + b * p;
      for (std::size_t i = 0; i < p; ++i) to[i] = from[i];
    }
  });
}

FXP_END_ISA_NAMESPACE
}  // namespace simd::detail
FXP_BEGIN_ISA_NAMESPACE

/// Gradient of the weights: dw = sum over the batch of dy[b] im2col(x[b])^T, one GEMM with
/// k = batch * out_pixels(), so each element of dw is the exact sum of all its products,
/// rounded once into DW.
/// \tparam DW the format of the weight gradient
/// \tparam Round the rounding policy (DW's own by default); element i of dw (OIHW flat
///         index) draws word i under `key` (without a key, as fxp::conv2d: a fresh one per
///         call from fxp::default_generator())
/// \tparam MaxK bound on batch * out_pixels(); sizes the accumulator
/// \throws std::invalid_argument on a bad shape or a reduction longer than MaxK
template <fixed_point DW, rounding_policy Round = typename DW::rounding_policy,
          std::size_t MaxK = gemm_default_max_k, fixed_point X, fixed_point DY>
void conv2d_backward_weights(const conv2d_shape& s, const X* x, const DY* dy, DW* dw,
                             optional_key key = {}) {
  s.validate("fxp::conv2d_backward_weights");
  const std::size_t bp = s.batch * s.out_pixels();
  simd::detail::check_reduction("fxp::conv2d_backward_weights", "batch * out_pixels", bp, MaxK);
  std::vector<X> cols;
  std::vector<DY> grads;
  simd::detail::gather_for_weights(s, x, dy, cols, grads);
  gemm<DW, Round, MaxK>(transpose::no, transpose::yes, s.out_channels, s.patch_size(), bp,
                        grads.data(), bp, cols.data(), bp, dw, s.patch_size(), key);
}

/// The three convolutions with Y's own rounding and a bound MaxK, without naming the
/// policy: `fxp::conv2d<Y, fxp::max_k<N>>(s, x, w, y)` (or a plain N), likewise the
/// backward products.
template <fixed_point Y, std::size_t MaxK, fixed_point X, fixed_point W>
void conv2d(const conv2d_shape& s, const X* x, const W* w, Y* y, optional_key key = {}) {
  conv2d<Y, typename Y::rounding_policy, MaxK>(s, x, w, y, key);
}
template <fixed_point DX, std::size_t MaxK, fixed_point W, fixed_point DY>
void conv2d_backward_data(const conv2d_shape& s, const W* w, const DY* dy, DX* dx,
                          optional_key key = {}) {
  conv2d_backward_data<DX, typename DX::rounding_policy, MaxK>(s, w, dy, dx, key);
}
template <fixed_point DW, std::size_t MaxK, fixed_point X, fixed_point DY>
void conv2d_backward_weights(const conv2d_shape& s, const X* x, const DY* dy, DW* dw,
                             optional_key key = {}) {
  conv2d_backward_weights<DW, typename DW::rounding_policy, MaxK>(s, x, dy, dw, key);
}

/// Gradient of the weights in float: one GEMM over the whole batch, summed in float in a
/// fixed order.
/// \throws std::invalid_argument on a bad shape
inline void conv2d_backward_weights(const conv2d_shape& s, const float* x, const float* dy,
                                    float* dw) {
  s.validate("fxp::conv2d_backward_weights");
  const std::size_t bp = s.batch * s.out_pixels();
  std::vector<float> cols;
  std::vector<float> grads;
  simd::detail::gather_for_weights(s, x, dy, cols, grads);
  gemm(transpose::no, transpose::yes, s.out_channels, s.patch_size(), bp, grads.data(), bp,
       cols.data(), bp, dw, s.patch_size());
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp
