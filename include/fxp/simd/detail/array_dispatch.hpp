// SPDX-License-Identifier: MIT
#pragma once
// The run-time choice of the array kernels (quantize, requantize, dequantize, random words)
// in a build whose flags guarantee no instruction set fxp has kernels for (simd/isa.hpp):
// the kernel is a generic lambda of the architecture, and on an AVX2 or AVX-512 path it
// runs on fxp's generic vectors (vector_lanes.hpp) inside a target region for that
// instruction set. `flatten` inlines the whole kernel there (lane code, Philox, loops), so
// that all of it is compiled for the region's instruction set; a build whose flags fix the
// instruction set runs the kernel on xsimd's architecture of the flags, with no dispatch.

#include "../isa.hpp"
#include "../lanes.hpp"
#include "isa_namespace.hpp"
#include "target_region.hpp"

// g++ only: clang 14's `flatten` inlines a single level of calls, so the lane code of a
// kernel stayed outside the region, compiled for the flags, and its generic vectors of 32
// and 64 bytes went through memory: at -O2, quantize ran 80x slower than on the flags'
// SSE2 lanes. With clang, the array kernels run the flags' instruction set.
#if defined(FXP_HAVE_TARGET_REGIONS) && !defined(__clang__)
#define FXP_HAVE_ARRAY_KERNEL_REGIONS 1
#endif

namespace fxp::simd::detail {
FXP_BEGIN_ISA_NAMESPACE

#if defined(FXP_HAVE_ARRAY_KERNEL_REGIONS)
FXP_BEGIN_TARGET_REGION(FXP_AVX2_TARGETS)
template <class Kernel>
[[gnu::flatten]] inline void run_on_avx2(const Kernel& kernel) {
  kernel(vector_arch<32>{});
}
FXP_END_TARGET_REGION
FXP_BEGIN_TARGET_REGION(FXP_AVX512_TARGETS)
template <class Kernel>
[[gnu::flatten]] inline void run_on_avx512(const Kernel& kernel) {
  kernel(vector_arch<64>{});
}
FXP_END_TARGET_REGION
#endif

/// kernel(Arch{}) for the architecture of active_isa(): default_arch (the flags' own; SSE2
/// on a dispatching x86-64 build), or generic vectors of 32 or 64 bytes in a target region.
/// The kernel must accept an Arch that is not a simd_arch (a build without vector
/// instructions) and run the scalar core there.
template <class Kernel>
void run_array_kernel(const Kernel& kernel) {
  if constexpr (!dispatches) {
    kernel(default_arch{});
  } else {
    switch (active_isa()) {
#if defined(FXP_HAVE_ARRAY_KERNEL_REGIONS)
      case isa::avx512:
        run_on_avx512(kernel);
        return;
      case isa::avx2:
        run_on_avx2(kernel);
        return;
#endif
      default:
        kernel(default_arch{});
        return;
    }
  }
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp::simd::detail
