// SPDX-License-Identifier: MIT
// A user's program: include fxp, compute, check the answer.
#include <fxp/fxp.hpp>

#include <cstdlib>
#include <iostream>
#include <string_view>

int main() {
  constexpr fxp::fixed<1, 7> w(0.75);
  constexpr fxp::ufixed<4, 4> a(2.5);
  constexpr auto y = w * a;  // exact: fixed<5, 11>
  static_assert(y == fxp::fixed<8, 8>(1.875));
  std::cout << w << " * " << a << " = " << y << '\n';
  // The version macros agree with the version CMake gave the package.
  std::cout << "fxp " << FXP_VERSION_STRING << " (" << FXP_VERSION << ")\n";
  if (std::string_view(FXP_VERSION_STRING) != FXP_CONSUMER_EXPECTED_VERSION ||
      FXP_VERSION != FXP_CONSUMER_EXPECTED_VERSION_NUMBER) {
    return 2;
  }
  // Built with the compiler's default flags, as most projects are: the GEMM kernels are the
  // best this processor runs, chosen at run time (unless the flags fix them).
  const fxp::simd::isa path = fxp::simd::active_isa();
  std::cout << "GEMM kernels: " << fxp::simd::isa_name(path)
            << (fxp::simd::dispatches ? " (chosen at run time)" : " (fixed by the build's flags)")
            << '\n';
  if (fxp::simd::dispatches && std::getenv("FXP_ISA") == nullptr &&
      path != fxp::simd::best_isa()) {
    return 3;
  }
  const fxp::fixed<1, 7> m[4] = {fxp::fixed<1, 7>(0.5), fxp::fixed<1, 7>(-0.25),
                                 fxp::fixed<1, 7>(0.75), fxp::fixed<1, 7>(0.125)};
  fxp::fixed<4, 12> square[4];
  fxp::gemm<fxp::fixed<4, 12>>(fxp::transpose::no, fxp::transpose::no, 2, 2, 2, m, 2, m, 2,
                               square, 2);
  if (square[0] != fxp::fixed<4, 12>(0.0625) || square[3] != fxp::fixed<4, 12>(-0.171875)) {
    return 4;
  }
  return fxp::to_string(y) == "1.875" ? 0 : 1;
}
