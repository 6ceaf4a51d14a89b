// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// fxp::nn::flatten: (N, C, H, W) -> (N, C * H * W).

#include <cstddef>  // std::size_t
#include <string>   // names
#include <utility>  // std::move

#include "../simd/detail/isa_namespace.hpp"
#include "detail/raw_ops.hpp"
#include "layer.hpp"

namespace fxp::nn {
FXP_BEGIN_ISA_NAMESPACE

/// Views each sample as one row: (N, d1, ...) -> (N, d1 * ...). Exact in every mode.
class flatten final : public layer {
 public:
  explicit flatten(std::string name) : layer(std::move(name)) {}

  [[nodiscard]] std::string_view kind() const noexcept override { return "flatten"; }
  [[nodiscard]] fxp::shape output_shape(const fxp::shape& x) const override {
    return fxp::shape{x[0], x[0] == 0 ? 0 : x.size() / x[0]};
  }
  [[nodiscard]] value forward(const value& x, const context&) override {
    return reshaped(x, output_shape(x.shape()));
  }
  [[nodiscard]] value backward(const value& x, const value&, const value& dy, const context&,
                               bool need_input_error) override {
    if (!need_input_error) return value();
    return reshaped(dy, x.shape());
  }

 private:
  static value reshaped(const value& v, const fxp::shape& s) {
    if (!v.is_fixed) return value(tensor<float>(v.f.reshape(s)));
    return value(detail::map_raw(v.q, s, for_overwrite, [&](const auto* src, auto* dst) {
      for (std::size_t i = 0, n = v.q.size(); i < n; ++i) dst[i] = src[i];
    }));
  }
};

FXP_END_ISA_NAMESPACE
}  // namespace fxp::nn
