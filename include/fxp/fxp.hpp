#pragma once
/// \file
/// Everything fxp offers.

#include "core/core.hpp"
