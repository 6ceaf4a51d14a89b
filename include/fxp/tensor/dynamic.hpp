// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// Tensors and kernels whose fixed-point formats are run-time values: fxp::dynamic_format
/// and fxp::rounding_mode (core/dynamic_format.hpp), fxp::qtensor (qtensor.hpp) and the
/// kernels on qtensors (dynamic_kernels.hpp). What a layer uses when its precision comes
/// from a plan, a flag or a file rather than from a template argument.

#include "../core/dynamic_format.hpp"
#include "dynamic_kernels.hpp"
#include "qtensor.hpp"
