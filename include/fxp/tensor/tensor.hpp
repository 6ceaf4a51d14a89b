#pragma once
/// \file
/// The tensor layer of fxp: shapes, owning tensors and views, lazy element-wise expressions, reductions.

#include "container.hpp"
#include "expression.hpp"
#include "reduce.hpp"
#include "shape.hpp"
