// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// The three input densities of the quantizer design (Lin, Talathi & Annapureddy,
/// "Fixed Point Quantization of Deep Convolutional Networks", arXiv:1511.06393, sec. 3).

#include <string_view>  // names for messages and printed plans

namespace fxp::quant {

/// The density a tensor's values are modelled by. All three are symmetric about their mean;
/// "per unit standard deviation" (optimal_step, quantizer_mse) means the zero-mean density of
/// variance 1: uniform on [-sqrt(3), sqrt(3)], N(0, 1), Laplacian of scale 1/sqrt(2).
enum class distribution { uniform, gaussian, laplacian };

/// The distributions in the order of the enum, for loops over all three.
inline constexpr distribution all_distributions[] = {distribution::uniform, distribution::gaussian,
                                                     distribution::laplacian};

/// The lower-case name of `d` ("uniform", "gaussian", "laplacian").
[[nodiscard]] constexpr std::string_view to_string(distribution d) noexcept {
  switch (d) {
    case distribution::uniform:
      return "uniform";
    case distribution::gaussian:
      return "gaussian";
    case distribution::laplacian:
      return "laplacian";
  }
  return "unknown";
}

}  // namespace fxp::quant
