// SPDX-License-Identifier: MIT
// Cases that must not compile; tests/compile_fail/CMakeLists.txt compiles each one alone
// (-DFXP_CASE_<NAME>) and expects the compiler's message. The control case must compile.
#include <fxp/core/core.hpp>
#include <random>

using namespace fxp;

#if defined(FXP_CASE_CONTROL_COMPILES)
constexpr fixed<1, 7> ok(0.5);
static_assert(ok.raw() == 64);
constexpr auto product = ok * ok;
static_assert(product == fixed<2, 2>(0.25));
#elif defined(FXP_CASE_SIGNED_WIDTH_TOO_SMALL)
fixed<1, 0> x;  // a sign bit and nothing else
#elif defined(FXP_CASE_SIGNED_WIDTH_TOO_LARGE)
fixed<40, 30> x;
#elif defined(FXP_CASE_UNSIGNED_WIDTH_ZERO)
ufixed<3, -3> x;
#elif defined(FXP_CASE_FRACTION_BITS_OUT_OF_RANGE)
fixed<-590, 600> x;  // W = 10 is fine, F is not
#elif defined(FXP_CASE_PRODUCT_TOO_WIDE)
auto x = fixed<32, 32>() * fixed<8, 8>();  // W = 80
#elif defined(FXP_CASE_QUOTIENT_TOO_FAR)
auto x = divide<fixed<2, 120>>(fixed<60, 4>(), fixed<8, 8>(1));
#elif defined(FXP_CASE_NOT_A_ROUNDING_POLICY)
fixed<4, 4, int> x;
#elif defined(FXP_CASE_NOT_AN_OVERFLOW_POLICY)
fixed<4, 4, nearest, nearest> x;
#elif defined(FXP_CASE_GENERATOR_WITH_ODD_RANGE)
std::minstd_rand gen;  // words in [1, 2^31 - 2]: not uniform bits
auto x = fixed_cast<fixed<4, 4>, stochastic>(0.3, gen);
#elif defined(FXP_CASE_IMPLICIT_NARROWING)
fixed<4, 4> x = fixed<8, 8>();  // loses bits: must be spelled fixed<4, 4>(y)
#elif defined(FXP_CASE_STOCHASTIC_IN_CONSTEXPR)
constexpr fixed<4, 4, stochastic> x(0.3);  // random bits are never a constant expression
#elif defined(FXP_CASE_OVERFLOW_CHECKED_CONSTEXPR)
constexpr fixed<4, 4, nearest, checked> x(100.0);
#elif defined(FXP_CASE_DIVIDE_BY_ZERO_CONSTEXPR)
constexpr auto x = divide<fixed<8, 8>>(fixed<4, 4>(1), fixed<4, 4>(0));
#elif defined(FXP_CASE_ALLOCATE_UNREACHABLE_CONSTEXPR)
#include <fxp/quant/quant.hpp>
// One term of at most 4 bits reaches 24 dB: a 60 dB target has no plan.
constexpr auto plan = fxp::quant::allocate(std::array{fxp::quant::term{100, 6.0, 0.0, 1, 4}}, 60.0);
#elif defined(FXP_CASE_ALLOCATE_WITHIN_TOO_SMALL_CONSTEXPR)
#include <fxp/quant/quant.hpp>
// Two bits at a cost of 100 each need a budget of 200.
constexpr auto plan =
    fxp::quant::allocate_within(std::array{fxp::quant::term{100, 6.0, 0.0, 2, 8}}, 150.0);
#else
#error "unknown case"
#endif

int main() {}
