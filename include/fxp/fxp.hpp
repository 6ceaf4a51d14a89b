#pragma once
/// \file
/// Everything fxp offers.

#include "core/core.hpp"
#include "tensor/tensor.hpp"
