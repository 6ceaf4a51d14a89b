// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// fxp's neural networks: layers, the sequential model, the loss, optimizers, run-time
/// per-layer precision and the training loop (namespace fxp::nn).

#include "affine.hpp"
#include "flatten.hpp"
#include "layer.hpp"
#include "loss.hpp"
#include "model.hpp"
#include "optimizer.hpp"
#include "pooling.hpp"
#include "precision.hpp"
#include "relu.hpp"
#include "state.hpp"
#include "trainer.hpp"
