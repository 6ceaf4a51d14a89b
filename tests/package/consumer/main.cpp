// A user's program: include fxp, compute, check the answer.
#include <fxp/fxp.hpp>

#include <iostream>

int main() {
  constexpr fxp::fixed<1, 7> w(0.75);
  constexpr fxp::ufixed<4, 4> a(2.5);
  constexpr auto y = w * a;  // exact: fixed<5, 11>
  static_assert(y == fxp::fixed<8, 8>(1.875));
  std::cout << w << " * " << a << " = " << y << '\n';
  return fxp::to_string(y) == "1.875" ? 0 : 1;
}
