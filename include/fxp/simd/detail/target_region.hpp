// SPDX-License-Identifier: MIT
#pragma once
// Target regions: the functions defined between FXP_BEGIN_TARGET_REGION("avx2,fma") and
// FXP_END_TARGET_REGION are compiled for those instruction sets whatever the translation
// unit's flags (GCC's `#pragma GCC target`, clang's `#pragma clang attribute` with the
// `target` attribute), templates instantiated later included. That is how a program built
// with the compiler's default flags carries the kernels of better instruction sets, to pick
// one at run time (simd/isa.hpp): fxp never adds a flag to its users' builds.
//
// Code in a region must not run unless the processor has its instruction sets, and must
// not be inlined into code outside it (the compilers refuse): regions hold whole kernels
// called through plain pointers and integers, never functions that take or return vectors
// across the region's edge.

#if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__)
#define FXP_HAVE_TARGET_REGIONS 1

#define FXP_TARGET_PRAGMA(text) _Pragma(#text)
#if defined(__clang__)
#define FXP_BEGIN_TARGET_REGION(targets) \
  FXP_TARGET_PRAGMA(clang attribute push(__attribute__((target(targets))), apply_to = function))
#define FXP_END_TARGET_REGION FXP_TARGET_PRAGMA(clang attribute pop)
#else
#define FXP_BEGIN_TARGET_REGION(targets) \
  FXP_TARGET_PRAGMA(GCC push_options) FXP_TARGET_PRAGMA(GCC target(targets))
#define FXP_END_TARGET_REGION FXP_TARGET_PRAGMA(GCC pop_options)
#endif

// The instruction sets of fxp's x86 regions. The AVX-512 region also has VL and DQ, which
// every processor with AVX512-VNNI has (Cascade Lake, Ice Lake and later, Zen 4): the loops
// the compiler vectorizes there (a GEMM's rounding, Philox's 32x32->64 products) then use
// EVEX forms on 256-bit registers and 64-bit lane operations, 1.7x faster for Philox.
#define FXP_AVX2_TARGETS "avx2,fma"
#define FXP_AVX512_TARGETS "avx2,fma,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni"
#endif
