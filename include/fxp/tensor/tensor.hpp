#pragma once
/// \file
/// The tensor layer of fxp: shapes, owning tensors and views, lazy element-wise expressions.

#include "container.hpp"
#include "expression.hpp"
#include "shape.hpp"
