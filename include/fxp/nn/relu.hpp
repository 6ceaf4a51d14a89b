// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// fxp::nn::relu: y = max(x, 0).

#include <cstddef>  // std::size_t
#include <cstdint>  // raw values
#include <string>   // names
#include <type_traits>  // raw integer types
#include <utility>  // std::move
#include <vector>   // raw arrays

#include "../simd/detail/isa_namespace.hpp"
#include "detail/raw_ops.hpp"
#include "layer.hpp"

namespace fxp::nn {
FXP_BEGIN_ISA_NAMESPACE

/// y = max(x, 0), element-wise. Fixed point: on the raw values; the output is rounded once
/// into the `acts` format when one is set (the input's format otherwise), and the error
/// (dy where x > 0, else 0) into the `errors` format when set (dy's otherwise). QAT: the
/// output and the error are fake-quantized by those formats when set.
class relu final : public layer {
 public:
  explicit relu(std::string name) : layer(std::move(name)) {}

  [[nodiscard]] std::string_view kind() const noexcept override { return "relu"; }
  [[nodiscard]] fxp::shape output_shape(const fxp::shape& x) const override { return x; }

  [[nodiscard]] value forward(const value& x, const context& ctx) override {
    const rounding_mode rnd = precision_.rounding;
    if (!x.is_fixed) {
      tensor<float> y(x.f.shape());
      const float* in = x.f.data();
      float* out = y.data();
      for (std::size_t i = 0, n = y.size(); i < n; ++i) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
      if (ctx.mode == training_mode::qat) {
        y = detail::fake(std::move(y), precision_[role::activations], rnd, key(ctx, slot::activations),
                         saturations_[role::activations]);
      }
      return value(std::move(y));
    }
    const dynamic_format in = x.q.format();
    const dynamic_format out = precision_[role::activations].value_or(in);
    if (out == in) {
      return value(detail::map_raw(x.q, x.q.shape(), for_overwrite, [&](const auto* src, auto* dst) {
        using raw = std::remove_cvref_t<decltype(*dst)>;
        for (std::size_t i = 0, n = x.q.size(); i < n; ++i) dst[i] = src[i] > 0 ? src[i] : raw{0};
      }));
    }
    const std::vector<std::int64_t> raw = detail::load_raw(x.q);
    std::vector<detail::int128> wide(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) wide[i] = raw[i] > 0 ? raw[i] : 0;
    return value(detail::round_into(x.q.shape(), wide, in.frac, out, rnd, key(ctx, slot::activations),
                                    saturations_[role::activations]));
  }

  [[nodiscard]] value backward(const value& x, const value&, const value& dy, const context& ctx,
                               bool need_input_error) override {
    if (!need_input_error) return value();
    const rounding_mode rnd = precision_.rounding;
    if (!dy.is_fixed) {
      tensor<float> dx(dy.f.shape());
      const float* in = x.f.data();
      const float* d = dy.f.data();
      float* out = dx.data();
      for (std::size_t i = 0, n = dx.size(); i < n; ++i) {
        const float e = d[i];  // loaded whatever x's sign: a select, not a branch
        out[i] = in[i] > 0.0f ? e : 0.0f;
      }
      if (ctx.mode == training_mode::qat) {
        dx = detail::fake(std::move(dx), precision_[role::errors], rnd, key(ctx, slot::errors),
                          saturations_[role::errors]);
      }
      return value(std::move(dx));
    }
    const dynamic_format in = dy.q.format();
    const dynamic_format out = precision_[role::errors].value_or(in);
    if (out == in) {
      // dy where the raw input is above zero, in one pass over both carriers (a byte mask
      // first was 5% of a training step in a build for SSE2).
      return value(detail::map_raw(dy.q, dy.q.shape(), for_overwrite, [&](const auto* src, auto* dst) {
        x.q.visit([&](const auto* data) {
          // Restrict (8-bit raws are char types, which alias anything) and an unconditional
          // load: otherwise the compiler re-read x and dy after every store and branched
          // per element on x's sign.
          const auto* __restrict xr = fxp::detail::raw_pointer(data);
          const auto* __restrict s = src;
          auto* __restrict d = dst;
          using raw = std::remove_cvref_t<decltype(*d)>;
          for (std::size_t i = 0, n = dy.q.size(); i < n; ++i) {
            const raw e = s[i];
            d[i] = xr[i] > 0 ? e : raw{0};
          }
        });
      }));
    }
    const std::vector<std::int64_t> d = detail::load_raw(dy.q);
    std::vector<detail::int128> wide(d.size());
    x.q.visit([&](const auto* data) {
      const auto* xr = fxp::detail::raw_pointer(data);
      for (std::size_t i = 0; i < d.size(); ++i) wide[i] = xr[i] > 0 ? d[i] : 0;
    });
    return value(detail::round_into(dy.q.shape(), wide, in.frac, out, rnd, key(ctx, slot::errors),
                                    saturations_[role::errors]));
  }
};

FXP_END_ISA_NAMESPACE
}  // namespace fxp::nn
