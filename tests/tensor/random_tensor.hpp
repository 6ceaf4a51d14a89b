// SPDX-License-Identifier: MIT
#pragma once
// Random test tensors from fixed seeds, shared by the tensor tests.

#include <fxp/tensor/container.hpp>

#include <cstdint>
#include <random>

namespace fxp_test {

/// Raw values uniform over T's whole range (fixed point), or uniform in [-range, range]
/// (float), from `seed`.
template <class T>
fxp::tensor<T> random_tensor(const fxp::shape& s, std::uint64_t seed, float range = 2.0f) {
  std::mt19937_64 gen(seed);
  fxp::tensor<T> t(s);
  if constexpr (fxp::fixed_point<T>) {
    std::uniform_int_distribution<long long> raw(static_cast<long long>(T::raw_min),
                                                 static_cast<long long>(T::raw_max));
    for (auto& x : t) x = T::from_raw(static_cast<typename T::raw_type>(raw(gen)));
  } else {
    std::uniform_real_distribution<T> u(-range, range);
    for (auto& x : t) x = u(gen);
  }
  return t;
}

}  // namespace fxp_test
