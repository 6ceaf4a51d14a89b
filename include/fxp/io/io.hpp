// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// The io layer of fxp (target fxp::io, which adds zlib): IDX data sets and Fashion-MNIST,
/// shuffled mini-batches from a seed, atomic file writes, checkpoint archives and C header
/// export.

#include "batches.hpp"
#include "c_header.hpp"
#include "checkpoint.hpp"
#include "crc32.hpp"
#include "dataset.hpp"
#include "error.hpp"
#include "fashion_mnist.hpp"
#include "file.hpp"
#include "idx.hpp"
