// SPDX-License-Identifier: MIT
#pragma once
// im2col and the summing half of col2im for one NCHW image: the data movement of a
// convolution lowered to a GEMM, generic over the element type.

#include <cstddef>    // std::size_t
#include <cstring>    // std::memcpy of a run
#include <type_traits>  // std::is_trivially_copyable_v

#include "../../core/conv2d_shape.hpp"
#include "isa_namespace.hpp"

namespace fxp::simd::detail {
FXP_BEGIN_ISA_NAMESPACE

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

/// For r < rows: dst + r * dst_step gets [src + r * src_step, + n) (no overlap). The runs of
/// a column matrix are as short as an output row (10 to 28 elements in the reference CNN),
/// where an element loop, vectorized or not, spends its time in its remainder: each run is
/// a few fixed-size moves, the last overlapping the one before, their size chosen once for
/// all the rows (im2col was 18% of a 16-bit training step and 25% of an 8-bit forward pass
/// with an element loop, and half of that with the size chosen per run).
template <class T>
void copy_runs(T* dst, std::size_t dst_step, const T* src, std::size_t src_step,
               std::size_t n, std::size_t rows) noexcept {
  if constexpr (std::is_trivially_copyable_v<T>) {
    const std::size_t bytes = n * sizeof(T);
    // Moves of `size` bytes: two cover any run of size to 2 * size bytes.
    const auto by = [&]<std::size_t size>() {
      for (std::size_t r = 0; r < rows; ++r, dst += dst_step, src += src_step) {
        auto* d = reinterpret_cast<unsigned char*>(dst);
        const auto* s = reinterpret_cast<const unsigned char*>(src);
        std::size_t i = 0;
        for (; i + size < bytes; i += size) std::memcpy(d + i, s + i, size);
        std::memcpy(d + bytes - size, s + bytes - size, size);
      }
    };
    if (bytes >= 32) {
      by.template operator()<32>();
    } else if (bytes >= 16) {
      by.template operator()<16>();
    } else if (bytes >= 8) {
      by.template operator()<8>();
    } else if (bytes >= 4) {
      by.template operator()<4>();
    } else if (bytes > 0) {
      by.template operator()<1>();
    }
  } else {
    for (std::size_t r = 0; r < rows; ++r, dst += dst_step, src += src_step) {
      for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
    }
  }
}

/// For r < rows: dst + r * step gets n zeros (all-zero bytes: T{} of a fixed-point type or
/// of float).
template <class T>
void zero_runs(T* dst, std::size_t step, std::size_t n, std::size_t rows) noexcept {
  alignas(64) static constexpr unsigned char zero_bytes[256] = {};
  if constexpr (std::is_trivially_copyable_v<T>) {
    if (n * sizeof(T) <= sizeof zero_bytes) {
      copy_runs(dst, step, reinterpret_cast<const T*>(zero_bytes), 0, n, rows);
      return;
    }
  }
  for (std::size_t r = 0; r < rows; ++r, dst += step) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = T{};
  }
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
      // The output rows whose input row oy * stride + ki - pad lies in the image.
      const column_range y = valid_columns(oh, s.stride_height, ki, s.pad_height, s.in_height);
      for (std::size_t kj = 0; kj < s.kernel_width; ++kj, ++row) {
        T* out = cols + row * ld;
        const column_range x = valid_columns(ow, s.stride_width, kj, s.pad_width, s.in_width);
        for (std::size_t i = 0; i < y.first * ow; ++i) out[i] = T{};
        for (std::size_t i = y.last * ow; i < oh * ow; ++i) out[i] = T{};
        if (y.first >= y.last) continue;
        T* first_out = out + y.first * ow;
        const std::size_t rows = y.last - y.first;
        // Horizontal padding: zeros before and after each run, as runs of their own (an
        // element loop becomes a call to memset per row, for one or two elements).
        zero_runs(first_out, ow, x.first, rows);
        zero_runs(first_out + x.last, ow, ow - x.last, rows);
        if (x.first >= x.last) continue;
        // Input row and column of the first element of the first run (in the image).
        const std::size_t iy = y.first * s.stride_height + ki - s.pad_height;
        const std::size_t ix = x.first * s.stride_width + kj - s.pad_width;
        const T* in = plane + iy * s.in_width + ix;
        const std::size_t in_step = s.stride_height * s.in_width;
        if (s.stride_width == 1) {  // contiguous runs: the common case
          copy_runs(first_out + x.first, ow, in, in_step, x.last - x.first, rows);
        } else {
          for (std::size_t r = 0; r < rows; ++r) {
            T* o = first_out + r * ow + x.first;
            const T* i = in + r * in_step;
            for (std::size_t ox = 0; ox < x.last - x.first; ++ox) o[ox] = i[ox * s.stride_width];
          }
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
          if (s.stride_width == 1) {
            // A contiguous run (the common case), which vectorizes; with the stride unknown
            // the loop was a strided scatter (col2im 4.9% -> 3.4% of a training step).
            // Restrict: the column matrix and the sums are separate buffers, and without it
            // every run of 10 paid for an overlap check before its vector loop.
            Sum* __restrict dst = out + (x.first + kj - s.pad_width);
            const T* __restrict src = in + x.first;
            const std::size_t n = x.last > x.first ? x.last - x.first : 0;
            for (std::size_t i = 0; i < n; ++i) dst[i] += value(src[i]);
          } else {
            for (std::size_t ox = x.first; ox < x.last; ++ox) {
              out[ox * s.stride_width + kj - s.pad_width] += value(in[ox]);
            }
          }
        }
      }
    }
  }
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp::simd::detail
