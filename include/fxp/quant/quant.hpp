// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// fxp::quant, the quantizer design and bit-width allocation of Lin, Talathi & Annapureddy,
/// "Fixed Point Quantization of Deep Convolutional Networks" (arXiv:1511.06393):
/// statistics of tensors and calibration sets, MSE-optimal uniform quantizers and their
/// fixed-point formats, the SQNR model, and the exact (constexpr) allocation solver.

#include "allocate.hpp"
#include "concepts.hpp"
#include "distribution.hpp"
#include "format.hpp"
#include "model.hpp"
#include "quantizer.hpp"
#include "statistics.hpp"
