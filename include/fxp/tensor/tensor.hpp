#pragma once
/// \file
/// The tensor layer of fxp: shapes, owning tensors and views.

#include "container.hpp"
#include "shape.hpp"
