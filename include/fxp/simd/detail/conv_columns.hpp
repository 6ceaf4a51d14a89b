// SPDX-License-Identifier: MIT
#pragma once
// im2col and the summing half of col2im for one NCHW image: the data movement of a
// convolution lowered to a GEMM, generic over the element type.

#include <cstddef>    // std::size_t
#include <stdexcept>  // std::invalid_argument for a bad shape
#include <string>     // error messages
#include <utility>    // std::pair naming the fields to validate

namespace fxp {

/// The shape of a 2-D convolution: NCHW input (batch x in_channels x in_height x
/// in_width), OIHW weights (out_channels x in_channels x kernel_height x kernel_width),
/// NCHW output (batch x out_channels x out_height() x out_width()). The input is padded
/// with zeros on each side by pad_height rows and pad_width columns.
struct conv2d_shape {
  std::size_t batch = 1;          ///< images
  std::size_t in_channels = 1;    ///< channels of an input image
  std::size_t in_height = 1;      ///< rows of an input image
  std::size_t in_width = 1;       ///< columns of an input image
  std::size_t out_channels = 1;   ///< filters, i.e. channels of an output image
  std::size_t kernel_height = 1;  ///< rows of a filter
  std::size_t kernel_width = 1;   ///< columns of a filter
  std::size_t stride_height = 1;  ///< vertical step between output rows
  std::size_t stride_width = 1;   ///< horizontal step between output columns
  std::size_t pad_height = 0;     ///< zero rows added above and below
  std::size_t pad_width = 0;      ///< zero columns added left and right

  /// Rows of an output image.
  [[nodiscard]] constexpr std::size_t out_height() const noexcept {
    return (in_height + 2 * pad_height - kernel_height) / stride_height + 1;
  }
  /// Columns of an output image.
  [[nodiscard]] constexpr std::size_t out_width() const noexcept {
    return (in_width + 2 * pad_width - kernel_width) / stride_width + 1;
  }
  /// Values of one output channel of one image (the columns of the column matrix).
  [[nodiscard]] constexpr std::size_t out_pixels() const noexcept {
    return out_height() * out_width();
  }
  /// Values under one filter (the rows of the column matrix; the forward GEMM's k).
  [[nodiscard]] constexpr std::size_t patch_size() const noexcept {
    return in_channels * kernel_height * kernel_width;
  }
  /// Values of one input image.
  [[nodiscard]] constexpr std::size_t image_size() const noexcept {
    return in_channels * in_height * in_width;
  }
  /// Elements of the input, the weights and the output.
  [[nodiscard]] constexpr std::size_t input_size() const noexcept { return batch * image_size(); }
  [[nodiscard]] constexpr std::size_t weight_size() const noexcept {
    return out_channels * patch_size();
  }
  [[nodiscard]] constexpr std::size_t output_size() const noexcept {
    return batch * out_channels * out_pixels();
  }

  /// Throws std::invalid_argument, naming `who` and the offending field, unless every
  /// extent and stride is at least 1 and the filter fits the padded input.
  void validate(const char* who) const {
    const auto fail = [&](const std::string& what) {
      throw std::invalid_argument(std::string(who) + ": " + what);
    };
    const std::pair<const char*, std::size_t> positive[] = {
        {"batch", batch},
        {"in_channels", in_channels},
        {"in_height", in_height},
        {"in_width", in_width},
        {"out_channels", out_channels},
        {"kernel_height", kernel_height},
        {"kernel_width", kernel_width},
        {"stride_height", stride_height},
        {"stride_width", stride_width}};
    for (const auto& [name, value] : positive) {
      if (value == 0) fail(std::string(name) + " must be at least 1, got 0");
    }
    if (kernel_height > in_height + 2 * pad_height) {
      fail("kernel_height = " + std::to_string(kernel_height) +
           " exceeds the padded input height " + std::to_string(in_height) + " + 2 * " +
           std::to_string(pad_height));
    }
    if (kernel_width > in_width + 2 * pad_width) {
      fail("kernel_width = " + std::to_string(kernel_width) + " exceeds the padded input width " +
           std::to_string(in_width) + " + 2 * " + std::to_string(pad_width));
    }
  }
};

}  // namespace fxp

namespace fxp::simd::detail {

/// The output columns ox whose input column ox * stride + offset - pad lies in [0, width):
/// [first, last).
struct column_range {
  std::size_t first;
  std::size_t last;
};
[[nodiscard]] constexpr column_range valid_columns(std::size_t out, std::size_t stride,
                                                   std::size_t offset, std::size_t pad,
                                                   std::size_t width) noexcept {
  // ix = ox * stride + offset - pad >= 0  <=>  ox >= ceil((pad - offset) / stride)
  const std::size_t first =
      offset >= pad ? 0 : (pad - offset + stride - 1) / stride;
  // ix < width  <=>  ox * stride < width + pad - offset
  const std::size_t limit = width + pad;  // > offset, since offset < kernel <= width + 2 pad
  const std::size_t last =
      limit <= offset ? 0 : (limit - offset + stride - 1) / stride;
  return {first < out ? first : out, last < out ? last : out};
}

/// Column matrix of one image: row (c, ki, kj), column (oy, ox) holds the input value at
/// (c, oy * stride + ki - pad, ox * stride + kj - pad), or zero in the padding; rows are
/// `ld` apart (ld >= out_pixels()).
template <class T>
void im2col(const conv2d_shape& s, const T* image, T* cols, std::size_t ld) {
  const std::size_t oh = s.out_height();
  const std::size_t ow = s.out_width();
  std::size_t row = 0;
  for (std::size_t c = 0; c < s.in_channels; ++c) {
    const T* plane = image + c * s.in_height * s.in_width;
    for (std::size_t ki = 0; ki < s.kernel_height; ++ki) {
      for (std::size_t kj = 0; kj < s.kernel_width; ++kj, ++row) {
        T* out = cols + row * ld;
        const column_range x = valid_columns(ow, s.stride_width, kj, s.pad_width, s.in_width);
        for (std::size_t oy = 0; oy < oh; ++oy, out += ow) {
          const std::size_t iy = oy * s.stride_height + ki;  // + pad on both sides
          if (iy < s.pad_height || iy >= s.in_height + s.pad_height) {
            for (std::size_t ox = 0; ox < ow; ++ox) out[ox] = T{};
            continue;
          }
          const T* in = plane + (iy - s.pad_height) * s.in_width;
          for (std::size_t ox = 0; ox < x.first; ++ox) out[ox] = T{};
          for (std::size_t ox = x.first; ox < x.last; ++ox) {
            out[ox] = in[ox * s.stride_width + kj - s.pad_width];
          }
          for (std::size_t ox = x.last; ox < ow; ++ox) out[ox] = T{};
        }
      }
    }
  }
}

/// The adjoint of im2col, summing: sums[c][y][x] = value(cols element) over every element
/// of the column matrix that im2col would have read from (c, y, x). `sums` (one image)
/// starts at zero; the order of the additions is fixed (rows, then columns).
template <class Sum, class T, class Value>
void col2im_sum(const conv2d_shape& s, const T* cols, std::size_t ld, Sum* sums,
                const Value& value) {
  const std::size_t oh = s.out_height();
  const std::size_t ow = s.out_width();
  for (std::size_t i = 0; i < s.image_size(); ++i) sums[i] = Sum{};
  std::size_t row = 0;
  for (std::size_t c = 0; c < s.in_channels; ++c) {
    Sum* plane = sums + c * s.in_height * s.in_width;
    for (std::size_t ki = 0; ki < s.kernel_height; ++ki) {
      for (std::size_t kj = 0; kj < s.kernel_width; ++kj, ++row) {
        const T* in = cols + row * ld;
        const column_range x = valid_columns(ow, s.stride_width, kj, s.pad_width, s.in_width);
        for (std::size_t oy = 0; oy < oh; ++oy, in += ow) {
          const std::size_t iy = oy * s.stride_height + ki;
          if (iy < s.pad_height || iy >= s.in_height + s.pad_height) continue;
          Sum* out = plane + (iy - s.pad_height) * s.in_width;
          for (std::size_t ox = x.first; ox < x.last; ++ox) {
            out[ox * s.stride_width + kj - s.pad_width] += value(in[ox]);
          }
        }
      }
    }
  }
}

}  // namespace fxp::simd::detail
