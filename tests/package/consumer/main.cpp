// SPDX-License-Identifier: MIT
// A user's program: include fxp, compute, check the answer.
#include <fxp/fxp.hpp>

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
  return fxp::to_string(y) == "1.875" ? 0 : 1;
}
