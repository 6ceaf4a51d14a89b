// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// fxp's SIMD layer (xsimd): lane types, the batch form of the discarded bits, Philox on
/// lanes, lane conversions and the quantize / requantize / dequantize array kernels, all
/// bit-identical to the scalar core; and which instruction set the GEMM kernels run.

#include "discarded.hpp"
#include "isa.hpp"
#include "lanes.hpp"
#include "narrow.hpp"
#include "overflow.hpp"
#include "philox.hpp"
#include "quantize.hpp"
