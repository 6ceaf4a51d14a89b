// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// The scalar core of fxp: fixed-point types, rounding and overflow policies, random bits
/// for stochastic rounding, exact arithmetic, comparisons, limits and printing.

#include "../version.hpp"
#include "arithmetic.hpp"
#include "cast.hpp"
#include "compare.hpp"
#include "fixed.hpp"
#include "limits.hpp"
#include "overflow.hpp"
#include "print.hpp"
#include "random.hpp"
#include "rounding.hpp"
