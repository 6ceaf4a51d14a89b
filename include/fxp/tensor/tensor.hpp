#pragma once
/// \file
/// The tensor layer of fxp: shapes, owning tensors and views, lazy element-wise expressions,
/// the casts where they round, reductions, and the kernels (quantize, matmul, conv2d) on
/// tensors.

#include "cast.hpp"
#include "container.hpp"
#include "expression.hpp"
#include "kernels.hpp"
#include "reduce.hpp"
#include "shape.hpp"
