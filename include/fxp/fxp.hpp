// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// Everything fxp offers but the io layer: the scalar core, tensors and their kernels (for
/// compile-time and run-time formats), the neural-network stack and the quantization
/// tools. The io layer (<fxp/io/io.hpp>: IDX data, checkpoints, C export) needs zlib and the
/// fxp::io CMake target, so it is included on its own.

#include "core/core.hpp"
#include "version.hpp"
#include "nn/nn.hpp"
#include "quant/adapt.hpp"
#include "quant/calibration.hpp"
#include "quant/quant.hpp"
#include "tensor/tensor.hpp"
