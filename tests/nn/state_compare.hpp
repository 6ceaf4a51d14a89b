// SPDX-License-Identifier: MIT
#pragma once
// Bit-for-bit comparison of two training states.

#include <fxp/nn/nn.hpp>

#include <cstring>
#include <variant>

namespace fxp_test {

inline bool same_state(const fxp::nn::training_state& a, const fxp::nn::training_state& b) {
  if (a.tensors.size() != b.tensors.size() || a.counters != b.counters || a.strings != b.strings) return false;
  for (std::size_t i = 0; i < a.tensors.size(); ++i) {
    const auto& x = a.tensors[i];
    const auto& y = b.tensors[i];
    if (x.name != y.name || x.value.index() != y.value.index()) return false;
    if (const auto* q = std::get_if<fxp::qtensor>(&x.value)) {
      const auto& r = std::get<fxp::qtensor>(y.value);
      if (!(q->format() == r.format()) || !(q->shape() == r.shape())) return false;
      for (std::size_t k = 0; k < q->size(); ++k)
        if (q->raw(k) != r.raw(k)) return false;
    } else {
      const auto& f = std::get<fxp::tensor<float>>(x.value);
      const auto& g = std::get<fxp::tensor<float>>(y.value);
      if (!(f.shape() == g.shape())) return false;
      if (f.size() != 0 && std::memcmp(f.data(), g.data(), f.size() * sizeof(float)) != 0) return false;
    }
  }
  return true;
}

}  // namespace fxp_test
