// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// fxp::conv2d_shape: the geometry of a 2-D convolution (NCHW input, OIHW weights, stride,
/// zero padding), its output size and its validation. Plain data shared by the raw kernels
/// (fxp/simd/conv.hpp), the tensor kernels and the layers.

#include <cstddef>    // std::size_t extents
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
