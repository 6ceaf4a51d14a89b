// SPDX-License-Identifier: MIT
// The quantize kernel on every architecture the compiler flags enable (SSE2, SSE4.1, AVX2,
// AVX-512BW, as this processor runs them), each with the native intrinsics and with the
// portable xsimd-only forms: the same bits as the scalar core everywhere.
#include "quantize_checks.hpp"

namespace {

using namespace fxp_test;

template <class Ops>
void check_all_archs() {
  for_each_arch([&]<class Arch>() {
    // The cheap clamping path with 8-bit stores, every rounding policy.
    check_quantize_main_policies<fxp::fixed<1, 7>, Arch, Ops>(99u);
    // 16-bit stores, signed and unsigned.
    check_quantize<fxp::fixed<4, 12>, fxp::stochastic, Arch, Ops>(98u);
    check_quantize<fxp::ufixed<8, 8, fxp::nearest, fxp::wrap>, fxp::nearest, Arch, Ops>(97u);
    check_quantize<fxp::ufixed<8, 8>, fxp::stochastic, Arch, Ops>(96u);
    // The general path: 32-bit words, signed and unsigned.
    check_quantize<fxp::fixed<2, 30>, fxp::nearest_even, Arch, Ops>(95u);
    check_quantize<fxp::fixed<2, 30, fxp::nearest, fxp::wrap>, fxp::stochastic, Arch, Ops>(94u);
    check_quantize<fxp::fixed<2, 30, fxp::nearest, fxp::checked>, fxp::toward_zero, Arch, Ops>(93u);
    check_quantize<fxp::ufixed<32, 0, fxp::nearest, fxp::wrap>, fxp::nearest, Arch, Ops>(92u);
    check_quantize<fxp::ufixed<32, 0>, fxp::stochastic, Arch, Ops>(91u);
    // Infinities flagged explicitly.
    check_quantize<fxp::fixed<150, -130, fxp::nearest, fxp::wrap>, fxp::truncate, Arch, Ops>(90u);
    check_quantize<fxp::fixed<150, -130>, fxp::nearest, Arch, Ops>(89u);
  });
}

}  // namespace

TEST_CASE("quantize is the same on every architecture, native intrinsics",
          "[simd][quantize][arch]") {
  check_all_archs<fxp::simd::native>();
}

TEST_CASE("quantize is the same on every architecture, portable xsimd forms",
          "[simd][quantize][arch]") {
  check_all_archs<fxp::simd::portable>();
}
