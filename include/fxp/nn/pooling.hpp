// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// fxp::nn::max_pool2d and fxp::nn::avg_pool2d: square windows, a stride, no padding.

#include <algorithm>  // std::max, std::min of the plane ranges
#include <bit>        // std::bit_cast of a pair of neighbours
#include <cstddef>    // std::size_t
#include <cstdint>    // raw values, argmax indices
#include <cstring>    // std::memcpy of a pair of neighbours
#include <stdexcept>  // std::invalid_argument
#include <string>     // names
#include <type_traits>  // the integer of a pair of neighbours
#include <utility>    // std::move
#include <vector>     // raw arrays

#include "../core/thread_pool.hpp"
#include "../simd/detail/isa_namespace.hpp"
#include "detail/raw_ops.hpp"
#include "layer.hpp"

namespace fxp::nn {

namespace detail {
FXP_BEGIN_ISA_NAMESPACE

/// The geometry of a pooling layer on an input (N, C, H, W).
struct pool_geometry {
  std::size_t planes, height, width, out_height, out_width, kernel, stride;

  pool_geometry(const char* who, const std::string& name, const fxp::shape& x, std::size_t k,
                std::size_t s) : kernel(k), stride(s) {
    if (x.rank() != 4 || x[2] < k || x[3] < k) {
      throw std::invalid_argument(std::string(who) + " " + name + ": expects input (N, C, H, W) with H, W >= " +
                                  std::to_string(k) + ", got " + to_string(x));
    }
    planes = x[0] * x[1];
    height = x[2];
    width = x[3];
    out_height = (height - k) / s + 1;
    out_width = (width - k) / s + 1;
  }
  [[nodiscard]] fxp::shape output(const fxp::shape& x) const { return fxp::shape{x[0], x[1], out_height, out_width}; }
  /// Calls f(output index, input index of each window element...) via f(o, i) per element.
  template <class F>
  void for_each(F f) const {
    std::size_t o = 0;
    for (std::size_t p = 0; p < planes; ++p) {
      const std::size_t base = p * height * width;
      for (std::size_t oh = 0; oh < out_height; ++oh) {
        for (std::size_t ow = 0; ow < out_width; ++ow, ++o) {
          for (std::size_t kh = 0; kh < kernel; ++kh) {
            const std::size_t row = base + (oh * stride + kh) * width + ow * stride;
            for (std::size_t kw = 0; kw < kernel; ++kw) f(o, row + kw, kh == 0 && kw == 0);
          }
        }
      }
    }
  }

  /// Runs body(first plane, end plane) over all planes, in pieces on the pool.
  template <class Body>
  void for_plane_ranges(Body body) const {
    const std::size_t per_task = std::max<std::size_t>(1, (std::size_t{1} << 16) / (height * width));
    const std::size_t tasks = (planes + per_task - 1) / per_task;
    fxp::detail::parallel_for(tasks, [&](std::size_t t) {
      body(t * per_task, std::min(planes, (t + 1) * per_task));
    });
  }
};

/// out[o] = the largest element of window o of `in` and, when `at` is given, at[o] = the
/// input index of its first occurrence in row-major order (NaN is never larger), on the
/// pool. Kernel = the window size when known at compile time (0: the geometry's). Branch
/// free: a data-dependent branch per element mispredicted half the time.
template <std::size_t Kernel, bool WithIndex, class T>
void max_windows(const pool_geometry& g, const T* in, T* out, std::uint32_t* at) {
  const std::size_t k = Kernel != 0 ? Kernel : g.kernel;
  const std::size_t plane_in = g.height * g.width;
  const std::size_t plane_out = g.out_height * g.out_width;
  if constexpr (Kernel == 2 && sizeof(T) <= 4) {
    if (g.stride == 2) {
      // The common 2 x 2 windows at stride 2, a row of windows at a time: each pair of
      // neighbours is read as one integer of twice the width and split in registers, which
      // the compiler vectorizes (strided loads of single elements it does not). The same
      // comparisons in the same order (row-major, a later element only when larger), so
      // float NaN, signed zeros and the index of ties come out the same.
      using pair_bits = std::conditional_t<sizeof(T) == 1, std::uint16_t,
                                           std::conditional_t<sizeof(T) == 2, std::uint32_t, std::uint64_t>>;
      using element_bits = std::conditional_t<sizeof(T) == 1, std::uint8_t,
                                              std::conditional_t<sizeof(T) == 2, std::uint16_t, std::uint32_t>>;
      // The element at the lower address: the low half on a little-endian processor.
      constexpr int first_shift = std::endian::native == std::endian::little ? 0 : 8 * sizeof(T);
      constexpr int second_shift = 8 * sizeof(T) - first_shift;
      const auto first = [](pair_bits w) {
        return std::bit_cast<T>(static_cast<element_bits>(w >> first_shift));
      };
      const auto second = [](pair_bits w) {
        return std::bit_cast<T>(static_cast<element_bits>(w >> second_shift));
      };
      // In locals: stores of 8-bit values may alias anything, the geometry included.
      const std::size_t width = g.width;
      const std::size_t out_height = g.out_height;
      const std::size_t out_width = g.out_width;
      g.for_plane_ranges([=](std::size_t p0, std::size_t p1) {
        for (std::size_t p = p0; p < p1; ++p) {
          for (std::size_t oh = 0; oh < out_height; ++oh) {
            const T* top = in + p * plane_in + 2 * oh * width;
            const T* bottom = top + width;
            T* row_out = out + p * plane_out + oh * out_width;
            const auto top_index = static_cast<std::uint32_t>(p * plane_in + 2 * oh * width);
            for (std::size_t ow = 0; ow < out_width; ++ow) {
              pair_bits upper;
              pair_bits lower;
              std::memcpy(&upper, top + 2 * ow, sizeof upper);
              std::memcpy(&lower, bottom + 2 * ow, sizeof lower);
              T best = first(upper);
              const auto index = [&](std::size_t offset) {
                return top_index + static_cast<std::uint32_t>(2 * ow + offset);
              };
              [[maybe_unused]] std::uint32_t where = index(0);
              const auto consider = [&](T candidate, std::uint32_t candidate_index) {
                const bool larger = candidate > best;
                best = larger ? candidate : best;
                if constexpr (WithIndex) where = larger ? candidate_index : where;
              };
              consider(second(upper), index(1));
              consider(first(lower), index(width));
              consider(second(lower), index(width + 1));
              row_out[ow] = best;
              if constexpr (WithIndex) at[p * plane_out + oh * out_width + ow] = where;
            }
          }
        }
      });
      return;
    }
  }
  g.for_plane_ranges([&](std::size_t p0, std::size_t p1) {
    for (std::size_t p = p0; p < p1; ++p) {
      std::size_t o = p * plane_out;
      for (std::size_t oh = 0; oh < g.out_height; ++oh) {
        const std::size_t row = p * plane_in + oh * g.stride * g.width;
        for (std::size_t ow = 0; ow < g.out_width; ++ow, ++o) {
          const std::size_t top = row + ow * g.stride;
          T best = in[top];
          [[maybe_unused]] auto where = static_cast<std::uint32_t>(top);
          for (std::size_t kh = 0; kh < k; ++kh) {
            for (std::size_t kw = kh == 0 ? 1 : 0; kw < k; ++kw) {
              const std::size_t i = top + kh * g.width + kw;
              const bool larger = in[i] > best;
              best = larger ? in[i] : best;
              if constexpr (WithIndex) where = larger ? static_cast<std::uint32_t>(i) : where;
            }
          }
          out[o] = best;
          if constexpr (WithIndex) at[o] = where;
        }
      }
    }
  });
}

/// max_windows with the window size of g, compiled for the common 2 x 2 windows.
template <class T>
void max_windows(const pool_geometry& g, const T* in, T* out, std::uint32_t* at) {
  const auto run = [&]<std::size_t Kernel>() {
    if (at != nullptr) {
      max_windows<Kernel, true>(g, in, out, at);
    } else {
      max_windows<Kernel, false>(g, in, out, at);
    }
  };
  if (g.kernel == 2) {
    run.template operator()<2>();
  } else {
    run.template operator()<0>();
  }
}

FXP_END_ISA_NAMESPACE
}  // namespace detail
FXP_BEGIN_ISA_NAMESPACE

/// The largest value of each k x k window (stride s, default k). The error goes to the
/// first largest element of each window (in row-major order). Fixed point: exact on the raw
/// values (the output keeps the input's format; then rounded into `acts` when set); errors
/// likewise in dy's format (or `errors`).
class max_pool2d final : public layer {
 public:
  max_pool2d(std::string name, std::size_t kernel, std::size_t stride = 0)
      : layer(std::move(name)), kernel_(kernel), stride_(stride == 0 ? kernel : stride) {}

  [[nodiscard]] std::string_view kind() const noexcept override { return "max_pool2d"; }
  [[nodiscard]] fxp::shape output_shape(const fxp::shape& x) const override {
    return detail::pool_geometry("fxp::nn::max_pool2d", name(), x, kernel_, stride_).output(x);
  }

  [[nodiscard]] value forward(const value& x, const context& ctx) override {
    const detail::pool_geometry g("fxp::nn::max_pool2d", name(), x.shape(), kernel_, stride_);
    const fxp::shape ys = g.output(x.shape());
    // Inference skips the argmax indices; a backward pass after it finds them from x.
    argmax_current_ = ctx.training;
    if (ctx.training) argmax_.resize(ys.size());
    std::uint32_t* at = ctx.training ? argmax_.data() : nullptr;
    const rounding_mode rnd = precision_.rounding;
    if (!x.is_fixed) {
      tensor<float> y(ys);
      detail::max_windows(g, x.f.data(), y.data(), at);
      if (ctx.mode == training_mode::qat) {
        y = detail::fake(std::move(y), precision_[role::activations], rnd, key(ctx, slot::activations),
                         saturations_[role::activations]);
      }
      return value(std::move(y));
    }
    qtensor y = detail::map_raw(x.q, ys, for_overwrite, [&](const auto* in, auto* out) { detail::max_windows(g, in, out, at); });
    return value(detail::to_format(std::move(y), precision_[role::activations], rnd,
                                   key(ctx, slot::activations), saturations_[role::activations]));
  }

  [[nodiscard]] value backward(const value& x, const value&, const value& dy, const context& ctx,
                               bool need_input_error) override {
    if (!need_input_error) return value();
    if (!argmax_current_) find_argmax(x);
    const rounding_mode rnd = precision_.rounding;
    if (!dy.is_fixed) {
      tensor<float> dx(x.shape());
      for (std::size_t o = 0; o < argmax_.size(); ++o) dx[argmax_[o]] += dy.f[o];
      if (ctx.mode == training_mode::qat) {
        dx = detail::fake(std::move(dx), precision_[role::errors], rnd, key(ctx, slot::errors),
                          saturations_[role::errors]);
      }
      return value(std::move(dx));
    }
    const dynamic_format out = precision_[role::errors].value_or(dy.q.format());
    if (stride_ >= kernel_ && out == dy.q.format()) {  // windows do not overlap: a scatter
      return value(detail::map_raw(dy.q, x.shape(), [&](const auto* d, auto* dx) {
        for (std::size_t o = 0; o < argmax_.size(); ++o) dx[argmax_[o]] = d[o];
      }));
    }
    const std::vector<std::int64_t> d = detail::load_raw(dy.q);
    std::vector<detail::int128> sums(x.shape().size(), 0);
    for (std::size_t o = 0; o < argmax_.size(); ++o) sums[argmax_[o]] += d[o];
    return value(detail::round_into(x.shape(), sums, dy.q.format().frac, out, rnd,
                                    key(ctx, slot::errors), saturations_[role::errors]));
  }

 private:
  /// argmax_ of the windows of x (the forward pass was an inference one).
  void find_argmax(const value& x) {
    const detail::pool_geometry g("fxp::nn::max_pool2d", name(), x.shape(), kernel_, stride_);
    const fxp::shape ys = g.output(x.shape());
    argmax_.resize(ys.size());
    if (!x.is_fixed) {
      tensor<float> y(ys);
      detail::max_windows(g, x.f.data(), y.data(), argmax_.data());
    } else {
      (void)detail::map_raw(x.q, ys, for_overwrite, [&](const auto* in, auto* out) { detail::max_windows(g, in, out, argmax_.data()); });
    }
    argmax_current_ = true;
  }

  std::size_t kernel_;
  std::size_t stride_;
  std::vector<std::uint32_t> argmax_;  // the input index of each output of the last forward
  bool argmax_current_ = false;        // whether argmax_ belongs to the last forward pass
};

/// The mean of each k x k window (stride s, default k); the error of an output is shared
/// equally by its window. Fixed point: the exact raw sum divided by k * k and rounded once
/// (the layer's policy) into `acts` (the input's format when none is set); the error
/// likewise: for each input, the exact sum of the dy of its windows over k * k, rounded
/// once into `errors` (dy's format when none is set).
class avg_pool2d final : public layer {
 public:
  avg_pool2d(std::string name, std::size_t kernel, std::size_t stride = 0)
      : layer(std::move(name)), kernel_(kernel), stride_(stride == 0 ? kernel : stride) {}

  [[nodiscard]] std::string_view kind() const noexcept override { return "avg_pool2d"; }
  [[nodiscard]] fxp::shape output_shape(const fxp::shape& x) const override {
    return detail::pool_geometry("fxp::nn::avg_pool2d", name(), x, kernel_, stride_).output(x);
  }

  [[nodiscard]] value forward(const value& x, const context& ctx) override {
    const detail::pool_geometry g("fxp::nn::avg_pool2d", name(), x.shape(), kernel_, stride_);
    const fxp::shape ys = g.output(x.shape());
    const rounding_mode rnd = precision_.rounding;
    const auto area = static_cast<std::int64_t>(kernel_ * kernel_);
    if (!x.is_fixed) {
      tensor<float> y(ys);
      const float* in = x.f.data();
      g.for_each([&](std::size_t o, std::size_t i, bool) { y[o] += in[i]; });
      const float scale = 1.0f / static_cast<float>(area);
      for (auto& v : y) v *= scale;
      if (ctx.mode == training_mode::qat) {
        y = detail::fake(std::move(y), precision_[role::activations], rnd, key(ctx, slot::activations),
                         saturations_[role::activations]);
      }
      return value(std::move(y));
    }
    const std::vector<std::int64_t> in = detail::load_raw(x.q);
    std::vector<detail::int128> sums(ys.size(), 0);
    g.for_each([&](std::size_t o, std::size_t i, bool) { sums[o] += in[i]; });
    const dynamic_format out = precision_[role::activations].value_or(x.q.format());
    return value(divide_into(ys, sums, x.q.format().frac, area, out, rnd, key(ctx, slot::activations),
                             saturations_[role::activations]));
  }

  [[nodiscard]] value backward(const value& x, const value&, const value& dy, const context& ctx,
                               bool need_input_error) override {
    if (!need_input_error) return value();
    const detail::pool_geometry g("fxp::nn::avg_pool2d", name(), x.shape(), kernel_, stride_);
    const rounding_mode rnd = precision_.rounding;
    const auto area = static_cast<std::int64_t>(kernel_ * kernel_);
    if (!dy.is_fixed) {
      tensor<float> dx(x.shape());
      const float scale = 1.0f / static_cast<float>(area);
      g.for_each([&](std::size_t o, std::size_t i, bool) { dx[i] += dy.f[o] * scale; });
      if (ctx.mode == training_mode::qat) {
        dx = detail::fake(std::move(dx), precision_[role::errors], rnd, key(ctx, slot::errors),
                          saturations_[role::errors]);
      }
      return value(std::move(dx));
    }
    const std::vector<std::int64_t> d = detail::load_raw(dy.q);
    std::vector<detail::int128> sums(x.shape().size(), 0);
    g.for_each([&](std::size_t o, std::size_t i, bool) { sums[i] += d[o]; });
    const dynamic_format out = precision_[role::errors].value_or(dy.q.format());
    return value(divide_into(x.shape(), sums, dy.q.format().frac, area, out, rnd,
                             key(ctx, slot::errors), saturations_[role::errors]));
  }

 private:
  // sums[i] * 2^-frac / area rounded once into `out`.
  static qtensor divide_into(const fxp::shape& s, const std::vector<detail::int128>& sums, int frac,
                             std::int64_t area, const dynamic_format& out, rounding_mode rnd,
                             const random_key& k, std::uint64_t& saturations) {
    const int shift = out.frac - frac;  // value * 2^out.frac = sums * 2^shift / area
    const detail::int128 num_scale = shift > 0 ? detail::int128{1} << shift : 1;
    const detail::int128 den = shift < 0 ? detail::int128{area} << -shift : detail::int128{area};
    std::vector<std::int64_t> raw(sums.size());
    const bool random = rnd == rounding_mode::stochastic;
    for (std::size_t i = 0; i < sums.size(); ++i) {
      raw[i] = detail::saturate(detail::round_ratio(sums[i] * num_scale, den, rnd, random ? k.word(i) : 0u),
                                out, saturations);
    }
    return detail::store_raw(s, out, raw);
  }

  std::size_t kernel_;
  std::size_t stride_;
};

FXP_END_ISA_NAMESPACE
}  // namespace fxp::nn
