// SPDX-License-Identifier: MIT
// Which GEMM kernels a translation unit selects for the instruction sets it is compiled
// for: compiled (never run) once per case by tests/gemm/CMakeLists.txt, with that case's
// -m flags and FXP_ISA_CASE_<NAME>, so that the selection of every x86 target is checked on
// any host (an AVX-512 build included, on a machine without AVX-512). The kernels of the
// selected set are instantiated, so that their inline asm also reaches the assembler.
#include <fxp/simd/detail/gemm_kernels.hpp>
#include <fxp/simd/isa.hpp>

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace d = fxp::simd::detail;

/// What a case expects: the native set (what the flags guarantee), and whether vpdpwssd on
/// 256-bit registers is compiled in (the AVX2 and AVX-512 kernels always are, in target
/// regions, whatever the flags).
template <class Native, bool Avx2Vnni>
struct expectation {
  using native = Native;
  static constexpr bool avx2_vnni = Avx2Vnni;
};

#if defined(FXP_ISA_CASE_BASELINE)  // -march=x86-64 alone
using expected = expectation<d::portable_isa, false>;
#elif defined(FXP_ISA_CASE_AVX2_WITHOUT_FMA)  // the AVX2 float kernel needs FMA
using expected = expectation<d::portable_isa, false>;
#elif defined(FXP_ISA_CASE_AVX2)
using expected = expectation<d::avx2_isa, false>;
#elif defined(FXP_ISA_CASE_AVX2_VNNI)
using expected = expectation<d::avx2_vnni_isa, true>;
#elif defined(FXP_ISA_CASE_AVX512_VNNI)  // also VL: vpdpwssd on 256-bit registers too
using expected = expectation<d::avx512_isa, true>;
#elif defined(FXP_ISA_CASE_AVX512_VNNI_WITHOUT_VL)
using expected = expectation<d::avx512_isa, false>;
#else
#error "unknown case"
#endif

static_assert(std::is_same_v<d::native_isa, expected::native>, "native_isa is not the expected set");
static_assert(fxp::simd::dispatches == std::is_same_v<expected::native, d::portable_isa>,
              "a build dispatches exactly when its flags guarantee no kernel set");
static_assert(d::isa_available<d::portable_isa>, "the portable kernels are always compiled in");
static_assert(d::isa_available<d::avx2_isa>, "the AVX2 kernels are always compiled in");
static_assert(d::isa_available<d::avx2_vnni_isa> == expected::avx2_vnni,
              "isa_available<avx2_vnni_isa>");
static_assert(d::isa_available<d::avx512_isa>, "the AVX-512 kernels are always compiled in");
static_assert(d::has_split_kernel<d::native_isa> == std::is_same_v<expected::native, d::avx512_isa>,
              "a split kernel exactly on AVX-512");
static_assert(!d::has_split_kernel<d::portable_isa> && !d::has_split_kernel<d::avx2_isa> &&
                  !d::has_split_kernel<d::avx2_vnni_isa>,
              "no split kernel on 256-bit registers");

namespace fxp_isa_selection {

void run_int16(std::size_t steps, const std::int16_t* a, const std::int16_t* b, std::int32_t* c) {
  d::int16_kernel<d::native_isa>::run(steps, a, b, c);
}
void run_float(std::size_t steps, const float* a, const float* b, float* c) {
  d::float_kernel<d::native_isa>::run(steps, a, b, c);
}
// Every kernel compiled in reaches the assembler, in every case.
void run_split(std::size_t steps, const std::int16_t* a, const std::int16_t* b, std::int64_t* c) {
  d::int16_split_kernel<d::avx512_isa>::run(steps, a, b, c);
}
void run_avx2(std::size_t steps, const std::int16_t* a, const std::int16_t* b, std::int32_t* c,
              const float* fa, const float* fb, float* fc) {
  d::int16_kernel<d::avx2_isa>::run(steps, a, b, c);
  d::float_kernel<d::avx2_isa>::run(steps, fa, fb, fc);
}
void run_avx512(std::size_t steps, const std::int16_t* a, const std::int16_t* b, std::int32_t* c,
                const float* fa, const float* fb, float* fc) {
  d::int16_kernel<d::avx512_isa>::run(steps, a, b, c);
  d::float_kernel<d::avx512_isa>::run(steps, fa, fb, fc);
}

}  // namespace fxp_isa_selection
