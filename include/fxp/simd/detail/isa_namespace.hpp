// SPDX-License-Identifier: MIT
#pragma once
// The namespace named after the instruction set the compiler flags enable, around
// everything whose code or layout depends on it: the SIMD layer, the tensor kernels and
// expressions, the NN stack. Two translation units of one program built with different
// -march flags then define different functions (fxp::simd::built_for_sse2::quantize_on and
// fxp::simd::built_for_avx2_fma::quantize_on), so the linker never keeps one unit's body for
// the other's calls, and a class whose size follows the vector width (an expression's
// word buffer) is a different class in each. It is an inline namespace: users still write
// fxp::quantize, fxp::nn::sequential. The vocabulary types (formats, policies, philox,
// random_key, shape, tensor, qtensor) and state shared by the whole program (the thread
// pool, force_isa's choice) stay outside and cross between such units freely.
//
// The name lists what the fxp and xsimd sources branch on: xsimd's default architecture,
// FMA, AVX-512VL and the two VNNI extensions (the GEMM kernels' choice).

#include <xsimd/config/xsimd_config.hpp>

#if XSIMD_WITH_AVX512BW
#define FXP_DETAIL_ISA_LEVEL avx512bw
#elif XSIMD_WITH_AVX512DQ
#define FXP_DETAIL_ISA_LEVEL avx512dq
#elif XSIMD_WITH_AVX512CD
#define FXP_DETAIL_ISA_LEVEL avx512cd
#elif XSIMD_WITH_AVX512F
#define FXP_DETAIL_ISA_LEVEL avx512f
#elif XSIMD_WITH_AVX2
#define FXP_DETAIL_ISA_LEVEL avx2
#elif XSIMD_WITH_AVX
#define FXP_DETAIL_ISA_LEVEL avx
#elif XSIMD_WITH_SSE4_2
#define FXP_DETAIL_ISA_LEVEL sse4_2
#elif XSIMD_WITH_SSE4_1
#define FXP_DETAIL_ISA_LEVEL sse4_1
#elif XSIMD_WITH_SSSE3
#define FXP_DETAIL_ISA_LEVEL ssse3
#elif XSIMD_WITH_SSE3
#define FXP_DETAIL_ISA_LEVEL sse3
#elif XSIMD_WITH_SSE2
#define FXP_DETAIL_ISA_LEVEL sse2
#elif XSIMD_WITH_NEON64
#define FXP_DETAIL_ISA_LEVEL neon64
#elif XSIMD_WITH_NEON
#define FXP_DETAIL_ISA_LEVEL neon
#else
#define FXP_DETAIL_ISA_LEVEL scalar
#endif

#if defined(__FMA__)
#define FXP_DETAIL_ISA_FMA _fma
#else
#define FXP_DETAIL_ISA_FMA
#endif
#if defined(__AVX512VL__)
#define FXP_DETAIL_ISA_VL _vl
#else
#define FXP_DETAIL_ISA_VL
#endif
#if defined(__AVX512VNNI__)
#define FXP_DETAIL_ISA_VNNI _vnni
#else
#define FXP_DETAIL_ISA_VNNI
#endif
#if defined(__AVXVNNI__)
#define FXP_DETAIL_ISA_AVXVNNI _avxvnni
#else
#define FXP_DETAIL_ISA_AVXVNNI
#endif

#define FXP_DETAIL_ISA_PASTE(level, fma, vl, vnni, avxvnni) built_for_##level##fma##vl##vnni##avxvnni
#define FXP_DETAIL_ISA_EXPAND(level, fma, vl, vnni, avxvnni) \
  FXP_DETAIL_ISA_PASTE(level, fma, vl, vnni, avxvnni)

/// This build's namespace, e.g. built_for_sse2 (x86-64 without -march flags),
/// built_for_avx2_fma, built_for_avx512bw_fma_vl_vnni.
#define FXP_ISA_NAMESPACE                                                                  \
  FXP_DETAIL_ISA_EXPAND(FXP_DETAIL_ISA_LEVEL, FXP_DETAIL_ISA_FMA, FXP_DETAIL_ISA_VL, \
                        FXP_DETAIL_ISA_VNNI, FXP_DETAIL_ISA_AVXVNNI)

// Opened innermost in each namespace block (fxp, fxp::simd::detail, fxp::nn, ...), never
// around a namespace definition, so that fxp::simd::detail is one namespace in every header.
#define FXP_BEGIN_ISA_NAMESPACE inline namespace FXP_ISA_NAMESPACE {
#define FXP_END_ISA_NAMESPACE }
