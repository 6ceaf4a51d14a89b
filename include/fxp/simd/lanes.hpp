// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// The vocabulary of fxp's SIMD layer: the lane types every kernel works on (32-bit words
/// holding raw fixed-point values, random words or float bit patterns), the architectures a
/// kernel can be instantiated for, and the choice between hand-written intrinsics and plain
/// xsimd operations.

#include <concepts>  // std::same_as for the instruction-selection tags
#include <cstddef>   // std::size_t lane counts
#include <cstdint>   // 32-bit lanes

// The intrinsic headers first, with GCC 12's false warnings in them silenced (see
// detail/x86_intrinsics.hpp); xsimd then finds them included.
#include "detail/isa_namespace.hpp"
#include "detail/x86_intrinsics.hpp"
#include <xsimd/xsimd.hpp>

#include "detail/vector_lanes.hpp"

// Before a loop over the four batches of a chunk: unrolled whatever the compiler's size
// estimate (g++ keeps a large kernel's quad in memory otherwise, in a target region).
#define FXP_UNROLL_BATCHES _Pragma("GCC unroll 4")

namespace fxp::simd {
FXP_BEGIN_ISA_NAMESPACE

/// Instruction selection: xsimd operations, plus hand-written intrinsics where xsimd 8.1
/// has no fast form on the architecture (per-lane shifts, 32x32->64 multiplies, unsigned
/// compares, widening loads and narrowing stores on SSE2/AVX2/AVX-512). The default.
struct native {};

/// Instruction selection: xsimd operations only, valid on any architecture xsimd supports.
/// Results are bit-identical to `native`; the tests run both so that this path stays built.
struct portable {};

/// fxp::simd::native or fxp::simd::portable.
template <class Ops>
concept instruction_selection = std::same_as<Ops, native> || std::same_as<Ops, portable>;

/// An architecture a kernel can run on, with 32-bit integer lanes in groups of four: an
/// xsimd architecture enabled by the compiler flags of this translation unit (every x86
/// and Arm vector architecture), or a vector_arch (detail/vector_lanes.hpp).
template <class Arch>
concept simd_arch = Arch::supported() && Arch::version() > 0 &&
                    xsimd::batch<std::uint32_t, Arch>::size % 4 == 0;

/// The architecture the public kernels use: the best one the compiler flags enable
/// (AVX-512BW, AVX2+FMA, ..., SSE2 on x86-64 without -march). The instruction set is chosen at
/// compile time; fxp never forces -march on its users.
using default_arch = xsimd::default_arch;

/// 32-bit unsigned lanes: raw values (sign-extended or zero-extended), float bit patterns,
/// Philox words. Arithmetic wraps modulo 2^32, as in the scalar core's unsigned words.
template <class Arch>
using word_lanes = xsimd::batch<std::uint32_t, Arch>;

/// One truth value per 32-bit lane.
template <class Arch>
using mask_lanes = xsimd::batch_bool<std::uint32_t, Arch>;

/// float lanes, for conversions to float.
template <class Arch>
using float_lanes = xsimd::batch<float, Arch>;

/// The number of 32-bit lanes of `Arch` (4 for SSE2, 8 for AVX2, 16 for AVX-512).
template <class Arch>
inline constexpr std::size_t lane_count = word_lanes<Arch>::size;

/// Kernels work on chunks of four batches: four batches of 32-bit lanes narrow into a whole
/// register of 8-bit raws.
template <class Arch>
inline constexpr std::size_t chunk_size = 4 * lane_count<Arch>;

FXP_END_ISA_NAMESPACE
}  // namespace fxp::simd
