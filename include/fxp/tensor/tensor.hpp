// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// The tensor layer of fxp: shapes, owning tensors and views, lazy element-wise expressions,
/// the casts where they round, reductions, and the kernels (quantize, matmul, conv2d) on
/// tensors, and the same kernels for formats chosen at run time (fxp::qtensor).

#include "cast.hpp"
#include "container.hpp"
#include "dynamic.hpp"
#include "expression.hpp"
#include "kernels.hpp"
#include "reduce.hpp"
#include "shape.hpp"
