// SPDX-License-Identifier: MIT
// The solver in constant evaluation at the size the contract names: 8 terms, every one with
// a cost, 15 bit choices each (2 .. 16), primal and dual, at four targets, within the
// compilers' default constexpr limits (no -fconstexpr-ops-limit or -fconstexpr-steps). The
// suite's compiler builds it here; tests/quant/CMakeLists.txt also has clang or g++ (the
// other one, when installed) check it alone. At run time the same calls must give the same
// plans.
#if !defined(FXP_CONSTEXPR_LIMITS_ALONE)
#include <catch2/catch.hpp>
#endif

#include <fxp/core/core.hpp>
#include <fxp/quant/quant.hpp>

#include <array>
#include <cstddef>

namespace constexpr_limits {

using fxp::quant::distribution;
using fxp::quant::term;

// Costs from a few hundred to 400k weights (a wide spread makes the search prune less).
constexpr std::array<term, 8> terms = {{
    fxp::quant::make_term(320, distribution::gaussian, 0.01, 2, 16),
    fxp::quant::make_term(409600, distribution::laplacian, 0.02, 2, 16),
    fxp::quant::make_term(12800, distribution::gaussian, 0.03, 2, 16),
    fxp::quant::make_term(1280, distribution::laplacian, 0.04, 2, 16),
    fxp::quant::make_term(51200, distribution::gaussian, 0.05, 2, 16),
    fxp::quant::make_term(800, distribution::laplacian, 0.06, 2, 16),
    fxp::quant::make_term(102400, distribution::uniform, 0.07, 2, 16),
    fxp::quant::make_term(2560, distribution::laplacian, 0.08, 2, 16),
}};

constexpr auto plan30 = fxp::quant::allocate(terms, 30.0);
constexpr auto plan40 = fxp::quant::allocate(terms, 40.0);
constexpr auto plan50 = fxp::quant::allocate(terms, 50.0);
constexpr auto plan60 = fxp::quant::allocate(terms, 60.0);
static_assert(plan30.predicted_sqnr_db >= 30.0 - 1e-9);
static_assert(plan40.predicted_sqnr_db >= 40.0 - 1e-9);
static_assert(plan50.predicted_sqnr_db >= 50.0 - 1e-9);
static_assert(plan60.predicted_sqnr_db >= 60.0 - 1e-9);
static_assert(plan30.total_cost < plan40.total_cost && plan40.total_cost < plan50.total_cost &&
              plan50.total_cost < plan60.total_cost);

// The dual within 93% of each primal's size: never larger, and (being optimal within that
// size) never above the primal's SQNR, which needed the larger size.
constexpr auto within30 = fxp::quant::allocate_within(terms, 0.93 * plan30.total_cost);
constexpr auto within60 = fxp::quant::allocate_within(terms, 0.93 * plan60.total_cost);
static_assert(within30.total_cost <= 0.93 * plan30.total_cost);
static_assert(within60.total_cost <= 0.93 * plan60.total_cost);
static_assert(within60.predicted_sqnr_db <= plan60.predicted_sqnr_db);

// The plan's formats are fxp types.
using first_weights = fxp::fixed<plan40[0].int_bits, plan40[0].frac_bits>;
static_assert(first_weights::width == plan40[0].bits);

}  // namespace constexpr_limits

#if !defined(FXP_CONSTEXPR_LIMITS_ALONE)
TEST_CASE("constant-evaluated plans equal the run-time ones", "[quant][allocate]") {
  using namespace constexpr_limits;
  const std::array<const fxp::quant::allocation<8>*, 4> constant = {&plan30, &plan40, &plan50, &plan60};
  const std::array<double, 4> targets = {30.0, 40.0, 50.0, 60.0};
  for (std::size_t t = 0; t < targets.size(); ++t) {
    auto run_time_terms = terms;  // a copy, so nothing below is constant-folded
    const auto plan = fxp::quant::allocate(run_time_terms, targets[t]);
    INFO("target " << targets[t] << " dB");
    CHECK(plan.total_cost == constant[t]->total_cost);
    CHECK(plan.predicted_sqnr_db == constant[t]->predicted_sqnr_db);
    for (std::size_t i = 0; i < 8; ++i) CHECK(plan[i].bits == (*constant[t])[i].bits);
  }
}
#else
int main() { return 0; }
#endif
