// SPDX-License-Identifier: MIT
// The bit-width allocation solver: equal to exhaustive search on random problems (primal
// and dual), the tie rule, the KKT conditions of the continuous optimum, primal-dual
// consistency, constant evaluation (an 8-term, 15-choice problem checked against a dynamic
// programme), and the errors.
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <fxp/core/core.hpp>
#include <fxp/quant/quant.hpp>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

using namespace fxp::quant;
using D = distribution;

namespace {

// The test's own noise model: 1/g = 10^(-(kappa b + offset) / 10), with the C library.
double noise_of(const term& t, int b) {
  return std::pow(10.0, -(t.kappa_db * b + t.offset_db) / 10.0);
}

template <std::size_t N>
double noise_of(const std::array<term, N>& terms, const std::array<int, N>& bits) {
  double n = 0;
  for (std::size_t i = 0; i < N; ++i) n += noise_of(terms[i], bits[i]);
  return n;
}

template <std::size_t N>
double cost_of(const std::array<term, N>& terms, const std::array<int, N>& bits) {
  double c = 0;
  for (std::size_t i = 0; i < N; ++i) c += terms[i].cost * bits[i];
  return c;
}

struct brute_result {
  bool feasible = false;
  double cost = std::numeric_limits<double>::infinity();
  double noise = std::numeric_limits<double>::infinity();
  int optimal_plans = 0;  // plans of the optimal cost (primal) / noise (dual)
};

// Every assignment, odometer style, with the noise table precomputed per term.
template <std::size_t N, class Visit>
void for_each_plan(const std::array<term, N>& terms, Visit visit) {
  std::array<std::array<double, 17>, N> table{};
  for (std::size_t i = 0; i < N; ++i) {
    for (int b = terms[i].min_bits; b <= terms[i].max_bits; ++b) {
      table[i][static_cast<std::size_t>(b)] = noise_of(terms[i], b);
    }
  }
  std::array<int, N> bits{};
  for (std::size_t i = 0; i < N; ++i) bits[i] = terms[i].min_bits;
  for (;;) {
    double cost = 0, noise = 0;
    for (std::size_t i = 0; i < N; ++i) {
      cost += terms[i].cost * bits[i];
      noise += table[i][static_cast<std::size_t>(bits[i])];
    }
    visit(bits, cost, noise);
    std::size_t i = 0;
    for (; i < N; ++i) {
      if (bits[i] < terms[i].max_bits) {
        ++bits[i];
        break;
      }
      bits[i] = terms[i].min_bits;
    }
    if (i == N) return;
  }
}

template <std::size_t N>
brute_result brute_primal(const std::array<term, N>& terms, double target_db) {
  const double limit = std::pow(10.0, -target_db / 10) * (1 + 1e-9);
  brute_result r;
  for_each_plan(terms, [&](const std::array<int, N>&, double cost, double noise) {
    if (noise > limit) return;
    if (cost < r.cost || (cost == r.cost && noise < r.noise)) {
      r.optimal_plans = cost < r.cost ? 1 : r.optimal_plans + 1;
      r.cost = cost;
      r.noise = noise;
    } else if (cost == r.cost) {
      ++r.optimal_plans;
    }
    r.feasible = true;
  });
  return r;
}

template <std::size_t N>
brute_result brute_dual(const std::array<term, N>& terms, double budget) {
  brute_result r;
  for_each_plan(terms, [&](const std::array<int, N>&, double cost, double noise) {
    if (cost > budget) return;
    if (noise < r.noise || (noise == r.noise && cost < r.cost)) {
      r.cost = cost;
      r.noise = noise;
    }
    r.feasible = true;
  });
  return r;
}

double db(double noise) { return -10 * std::log10(noise); }

// 2 to 6 terms: costs 0 (one in five), a repeat of the previous cost (one in four, for
// ties; one in ten a copy of the whole previous term) or log-uniform integers up to 10^4; kappa 3
// .. 6.5 dB; offsets -6 .. 2 dB; bounds within 1 .. 16, at most 9 choices.
template <std::size_t N>
std::array<term, N> random_terms(std::mt19937_64& gen) {
  std::uniform_int_distribution<int> lo(1, 9), span(0, 8), pick(0, 19);
  std::uniform_real_distribution<double> kappa(3.0, 6.5), offset(-6.0, 2.0), exponent(0.0, 4.0);
  std::array<term, N> t{};
  for (std::size_t i = 0; i < N; ++i) {
    const int p = pick(gen);
    double cost = std::round(std::pow(10.0, exponent(gen)));
    if (p < 4) cost = 0;
    if (p >= 15 && i > 0) cost = t[i - 1].cost;
    const int l = lo(gen);
    t[i] = term{cost, kappa(gen), offset(gen), l, std::min(16, l + span(gen))};
    if (p >= 18 && i > 0) t[i] = t[i - 1];  // identical terms (equal layers)
  }
  return t;
}

template <std::size_t N>
double max_reachable_db(const std::array<term, N>& t) {
  double n = 0;
  for (const term& x : t) n += noise_of(x, x.max_bits);
  return db(n);
}

// The KKT conditions of the continuous problem at plan.continuous_bits: one multiplier mu
// with cost_i = mu * kappa_i * n_i(b_i) for interior terms (n_i = 1/g_i), cost_i >= ... at
// min_bits and <= ... at max_bits, zero-cost terms at max_bits, and an active constraint
// unless every positive-cost term sits at min_bits.
template <std::size_t N>
void check_kkt(const std::array<term, N>& t, const allocation<N>& plan, double target_db) {
  const double limit = std::pow(10.0, -target_db / 10) * (1 + 1e-9);
  double noise = 0;
  double mu = -1;
  bool all_low = true;
  for (std::size_t i = 0; i < N; ++i) {
    const double b = plan[i].continuous_bits;
    REQUIRE(b >= t[i].min_bits - 1e-12);
    REQUIRE(b <= t[i].max_bits + 1e-12);
    noise += std::pow(10.0, -(t[i].kappa_db * b + t[i].offset_db) / 10);
    if (t[i].cost == 0) {
      CHECK(b == t[i].max_bits);
      continue;
    }
    if (b > t[i].min_bits + 1e-9) all_low = false;
    if (b > t[i].min_bits + 1e-9 && b < t[i].max_bits - 1e-9) {
      const double m =
          t[i].cost / (t[i].kappa_db * std::pow(10.0, -(t[i].kappa_db * b + t[i].offset_db) / 10));
      if (mu < 0) mu = m;
      CHECK(m == Approx(mu).epsilon(1e-7));
    }
  }
  CHECK(noise <= limit * (1 + 1e-9));
  if (!all_low) CHECK(noise == Approx(limit).epsilon(1e-7));
  if (mu > 0) {
    for (std::size_t i = 0; i < N; ++i) {
      if (t[i].cost == 0 || t[i].min_bits == t[i].max_bits) continue;
      const double b = plan[i].continuous_bits;
      // The unclamped optimum at this mu lies beyond the bound the term is clamped to.
      const double free_b =
          (-10 * std::log10(t[i].cost / (t[i].kappa_db * mu)) - t[i].offset_db) / t[i].kappa_db;
      if (b <= t[i].min_bits + 1e-9) CHECK(free_b <= t[i].min_bits + 1e-6);
      if (b >= t[i].max_bits - 1e-9) CHECK(free_b >= t[i].max_bits - 1e-6);
    }
  }
}

template <std::size_t N>
void random_primal(std::mt19937_64& gen, int& checked, int& infeasible) {
  const auto t = random_terms<N>(gen);
  // Mostly reachable targets, a few beyond the best reachable SQNR.
  const double best = max_reachable_db(t);
  const double target = std::uniform_real_distribution<double>(best - 40.0, best + 2.0)(gen);
  const brute_result r = brute_primal(t, target);
  INFO("N " << N << " target " << target);
  if (!r.feasible) {
    ++infeasible;
    CHECK_THROWS_AS(allocate(t, target), std::domain_error);
    return;
  }
  const allocation<N> plan = allocate(t, target);
  std::array<int, N> bits{};
  for (std::size_t i = 0; i < N; ++i) bits[i] = plan[i].bits;
  CHECK(plan.total_cost == r.cost);
  CHECK(cost_of(t, bits) == plan.total_cost);
  // The tie rule: among the plans of the optimal cost, the lowest noise.
  CHECK(db(noise_of(t, bits)) == Approx(db(r.noise)).margin(1e-9));
  CHECK(plan.predicted_sqnr_db == Approx(db(noise_of(t, bits))).margin(1e-9));
  CHECK(noise_of(t, bits) <= std::pow(10.0, -target / 10) * (1 + 1e-9));
  for (std::size_t i = 0; i < N; ++i) {
    CHECK((plan[i].bits >= t[i].min_bits && plan[i].bits <= t[i].max_bits));
    if (t[i].cost == 0) CHECK(plan[i].bits == t[i].max_bits);
    const q_format f = optimal_format(plan[i].bits, t[i].sigma, t[i].dist);
    CHECK((plan[i].int_bits == f.int_bits && plan[i].frac_bits == f.frac_bits));
  }
  CHECK(plan.continuous_cost <= plan.total_cost * (1 + 1e-12) + 1e-9);
  check_kkt(t, plan, target);
  ++checked;
}

template <std::size_t N>
void random_dual(std::mt19937_64& gen, int& checked) {
  const auto t = random_terms<N>(gen);
  double smallest = 0, largest = 0;
  for (const term& x : t) {
    smallest += x.cost * x.min_bits;
    largest += x.cost * x.max_bits;
  }
  const double budget =
      std::round(std::uniform_real_distribution<double>(smallest, largest * 1.02 + 1)(gen));
  const brute_result r = brute_dual(t, budget);
  REQUIRE(r.feasible);
  INFO("N " << N << " budget " << budget);
  const allocation<N> plan = allocate_within(t, budget);
  std::array<int, N> bits{};
  for (std::size_t i = 0; i < N; ++i) bits[i] = plan[i].bits;
  CHECK(plan.total_cost <= budget);
  CHECK(db(noise_of(t, bits)) == Approx(db(r.noise)).margin(1e-9));
  CHECK(plan.total_cost == r.cost);
  // Consistency with the primal: reaching the dual's SQNR costs at most the budget, and
  // the primal's own cost as a budget reaches the primal's target.
  const allocation<N> back = allocate(t, plan.predicted_sqnr_db);
  CHECK(back.total_cost <= budget);
  CHECK(back.total_cost == plan.total_cost);
  const double target = plan.predicted_sqnr_db - 3.0;
  if (target < max_reachable_db(t)) {
    const allocation<N> primal = allocate(t, target);
    const allocation<N> dual = allocate_within(t, primal.total_cost);
    CHECK(dual.predicted_sqnr_db >= target - 1e-9);
    CHECK(dual.predicted_sqnr_db >= primal.predicted_sqnr_db - 1e-9);
    CHECK(dual.total_cost <= primal.total_cost);
  }
  ++checked;
}

}  // namespace

TEST_CASE("allocate equals exhaustive search on random problems", "[quant][allocate]") {
  std::mt19937_64 gen(20261201);
  int checked = 0, infeasible = 0;
  for (int round = 0; round < 60; ++round) {
    random_primal<2>(gen, checked, infeasible);
    random_primal<3>(gen, checked, infeasible);
    random_primal<4>(gen, checked, infeasible);
    random_primal<5>(gen, checked, infeasible);
    random_primal<6>(gen, checked, infeasible);
  }
  CHECK(checked >= 200);
  CHECK(infeasible > 0);
}

TEST_CASE("allocate_within equals exhaustive search and agrees with allocate",
          "[quant][allocate]") {
  std::mt19937_64 gen(77);
  int checked = 0;
  for (int round = 0; round < 50; ++round) {
    random_dual<2>(gen, checked);
    random_dual<3>(gen, checked);
    random_dual<4>(gen, checked);
    random_dual<5>(gen, checked);
    random_dual<6>(gen, checked);
  }
  CHECK(checked >= 200);
}

TEST_CASE("identical terms: optimal, and folded by symmetry in constant evaluation",
          "[quant][allocate]") {
  // Six equal layers: the brute force sees 15^6 plans; the solver sees sorted ones.
  std::array<term, 6> t{};
  for (term& x : t) x = make_term(1000, D::gaussian, 0.1, 2, 16);
  t[5] = make_term(50, D::laplacian, 1.0, 2, 16);
  for (double target : {25.0, 37.5, 50.0}) {
    const brute_result r = brute_primal(t, target);
    const auto plan = allocate(t, target);
    CHECK(plan.total_cost == r.cost);
    CHECK(plan.predicted_sqnr_db == Approx(db(r.noise)).margin(1e-9));
  }
  // Sixteen identical terms in constant evaluation.
  constexpr std::array<term, 16> many = [] {
    std::array<term, 16> m{};
    for (term& x : m) x = make_term(1000, D::gaussian, 1.0, 2, 16);
    return m;
  }();
  constexpr auto plan = allocate(many, 40.0);
  static_assert(plan.predicted_sqnr_db >= 40.0 - 1e-9);
  // The best equal plan needs b bits each; the optimum mixes b and b - 1.
  int low = 16, high = 2;
  for (const auto& e : plan) {
    low = std::min(low, e.bits);
    high = std::max(high, e.bits);
  }
  CHECK(high - low <= 1);
}

TEST_CASE("ties in cost go to the higher predicted SQNR", "[quant][allocate]") {
  // Two terms of cost 1: plans with the same total bits differ in SQNR. For each target
  // where the cheapest total has several feasible splits, the solver takes the best one.
  const std::array<term, 2> t{term{1.0, 6.0, 0.0, 1, 16}, term{1.0, 4.5, 3.0, 1, 16}};
  int ties = 0;
  for (double target = 10; target <= 60; target += 0.25) {
    const brute_result r = brute_primal(t, target);
    if (r.optimal_plans < 2) continue;
    ++ties;
    const auto plan = allocate(t, target);
    CHECK(plan.total_cost == r.cost);
    CHECK(plan.predicted_sqnr_db == Approx(db(r.noise)).margin(1e-12));
    // and no other split of the same cost is better: enumerate them here
    for (int a = 1; a <= 16; ++a) {
      const int b = static_cast<int>(r.cost) - a;
      if (b < 1 || b > 16) continue;
      const double n = noise_of(t[0], a) + noise_of(t[1], b);
      if (n <= std::pow(10.0, -target / 10) * (1 + 1e-9))
        CHECK(db(n) <= plan.predicted_sqnr_db + 1e-12);
    }
  }
  CHECK(ties > 10);
}

TEST_CASE("the continuous optimum satisfies the Lagrange conditions", "[quant][allocate]") {
  // Equal kappas and offsets: b_i - b_j = 10 log10(cost_j / cost_i) / kappa.
  const double kappa = 5.5;
  const std::array<double, 4> costs{100, 400, 1600, 25600};
  std::array<term, 4> t{};
  for (std::size_t i = 0; i < 4; ++i) t[i] = term{costs[i], kappa, -2.0, 1, 16};
  const auto plan = allocate(t, 40.0);
  for (std::size_t i = 0; i < 4; ++i) {
    for (std::size_t j = 0; j < 4; ++j) {
      CHECK(plan[i].continuous_bits - plan[j].continuous_bits ==
            Approx(10 * std::log10(costs[j] / costs[i]) / kappa).margin(1e-9));
    }
  }
  double noise = 0;
  for (std::size_t i = 0; i < 4; ++i)
    noise += std::pow(10.0, -(kappa * plan[i].continuous_bits - 2.0) / 10);
  CHECK(noise == Approx(std::pow(10.0, -4.0)).epsilon(1e-8));
  CHECK(plan.continuous_cost <= plan.total_cost);
  // Box constraints: cap the cheapest term below its free optimum; it sits at the cap and
  // the others still satisfy the relation among themselves (with a larger share each).
  t[0].max_bits = 9;
  REQUIRE(plan[0].continuous_bits > 9);
  const auto capped = allocate(t, 40.0);
  CHECK(capped[0].continuous_bits == 9.0);
  for (std::size_t i = 1; i < 4; ++i) {
    CHECK(capped[i].continuous_bits > plan[i].continuous_bits);
    CHECK(capped[i].continuous_bits - capped[1].continuous_bits ==
          Approx(10 * std::log10(costs[1] / costs[i]) / kappa).margin(1e-9));
  }
  check_kkt(t, capped, 40.0);
  // A zero-cost term (an activation) is at max_bits in both optima.
  std::array<term, 3> with_free{term{1000, 5.0, -1.0}, term{0, 5.0, -1.0, 2, 12},
                                term{10, 5.0, -1.0}};
  const auto free_plan = allocate(with_free, 40.0);
  CHECK(free_plan[1].bits == 12);
  CHECK(free_plan[1].continuous_bits == 12.0);
  check_kkt(with_free, free_plan, 40.0);
}

namespace {

// An 8-term, 15-choice problem (bits 2 .. 16) with small integer costs, so that a dynamic
// programme over the total cost is an exact independent reference; one term costs 0.
constexpr std::array<term, 8> eight = {{
    make_term(17, D::gaussian, 0.05, 2, 16),
    make_term(3, D::laplacian, 0.2, 2, 16),
    make_term(29, D::gaussian, 0.01, 2, 16),
    make_term(0, D::laplacian, 1.5, 2, 16),
    make_term(11, D::laplacian, 0.07, 2, 16),
    make_term(5, D::gaussian, 0.5, 2, 16),
    make_term(23, D::gaussian, 0.02, 2, 16),
    make_term(2, D::uniform, 2.0, 2, 16),
}};
constexpr auto plan8 = allocate(eight, 50.0);
static_assert(plan8.size() == 8);
static_assert(plan8.predicted_sqnr_db >= 50.0 - 1e-9);
static_assert(plan8[3].bits == 16);  // the zero-cost term
constexpr auto dual8 = allocate_within(eight, plan8.total_cost);
static_assert(dual8.total_cost <= plan8.total_cost);
static_assert(dual8.predicted_sqnr_db >= plan8.predicted_sqnr_db - 1e-9);
// A realistic network: four weight terms (conv 5x5 1->16, conv 5x5 16->32, dense 800->128,
// dense 128->10) and their activations at no cost.
constexpr std::array<term, 8> cnn_terms = {{
    make_term(400, D::gaussian, 0.2, 2, 16),
    make_term(0, D::gaussian, 1.0, 2, 16),
    make_term(12800, D::gaussian, 0.05, 2, 16),
    make_term(0, D::laplacian, 1.2, 2, 16),
    make_term(102400, D::laplacian, 0.02, 2, 16),
    make_term(0, D::laplacian, 2.0, 2, 16),
    make_term(1280, D::gaussian, 0.1, 2, 16),
    make_term(0, D::gaussian, 4.0, 2, 16),
}};
constexpr auto network_plan = allocate(cnn_terms, 40.0);
static_assert(network_plan.predicted_sqnr_db >= 40.0 - 1e-9);
// The resulting formats are fxp types.
using first_weights = fxp::fixed<network_plan[0].int_bits, network_plan[0].frac_bits>;
static_assert(first_weights::width == network_plan[0].bits);

// Min noise for each exact total cost, over the terms' choices.
template <std::size_t N>
std::vector<double> min_noise_by_cost(const std::array<term, N>& t) {
  int total = 0;
  for (const term& x : t) total += static_cast<int>(x.cost) * x.max_bits;
  std::vector<double> dp(static_cast<std::size_t>(total) + 1, INFINITY);
  dp[0] = 0;
  for (const term& x : t) {
    std::vector<double> next(dp.size(), INFINITY);
    for (std::size_t c = 0; c < dp.size(); ++c) {
      if (dp[c] == INFINITY) continue;
      for (int b = x.min_bits; b <= x.max_bits; ++b) {
        const std::size_t to = c + static_cast<std::size_t>(x.cost) * static_cast<std::size_t>(b);
        next[to] = std::min(next[to], dp[c] + noise_of(x, b));
      }
    }
    dp = next;
  }
  return dp;
}

}  // namespace

TEST_CASE("an 8-term, 15-choice problem solved in constant evaluation is optimal",
          "[quant][allocate][constexpr]") {
  const auto dp = min_noise_by_cost(eight);
  const double limit = std::pow(10.0, -5.0) * (1 + 1e-9);
  std::size_t best = 0;
  while (dp[best] > limit) ++best;
  CHECK(plan8.total_cost == static_cast<double>(best));
  CHECK(plan8.predicted_sqnr_db == Approx(db(dp[best])).margin(1e-9));
  double dual_best = INFINITY;
  for (std::size_t c = 0; c <= static_cast<std::size_t>(plan8.total_cost); ++c)
    dual_best = std::min(dual_best, dp[c]);
  CHECK(dual8.predicted_sqnr_db == Approx(db(dual_best)).margin(1e-9));
  // Run time and compile time agree bit for bit.
  const auto again = allocate(eight, 50.0);
  for (std::size_t i = 0; i < 8; ++i) CHECK(again[i].bits == plan8[i].bits);
  CHECK(again.predicted_sqnr_db == plan8.predicted_sqnr_db);
  // The realistic plan: feasible and locally optimal (one bit less anywhere breaks it).
  std::array<int, 8> bits{};
  for (std::size_t i = 0; i < 8; ++i) bits[i] = network_plan[i].bits;
  CHECK(db(noise_of(cnn_terms, bits)) >= 40.0 - 1e-9);
  for (std::size_t i = 0; i < 8; ++i) {
    if (cnn_terms[i].cost == 0) {
      CHECK(bits[i] == 16);
      continue;
    }
    if (bits[i] == cnn_terms[i].min_bits) continue;
    auto fewer = bits;
    --fewer[i];
    CHECK(db(noise_of(cnn_terms, fewer)) < 40.0);
  }
  // Bigger layers get fewer bits (the Lagrange rule, half a bit per doubling).
  CHECK(network_plan[4].continuous_bits < network_plan[2].continuous_bits);
  CHECK(network_plan[2].continuous_bits < network_plan[0].continuous_bits);
}

TEST_CASE("make_term fits the SQNR line over the term's bit range", "[quant][allocate]") {
  constexpr term t = make_term(100, D::laplacian, 0.3, 3, 9);
  constexpr sqnr_line line = fit_sqnr_line(D::laplacian, 3, 9);
  static_assert(t.kappa_db == line.kappa_db && t.offset_db == line.offset_db);
  static_assert(t.min_bits == 3 && t.max_bits == 9 && t.sigma == 0.3 && t.dist == D::laplacian);
  static_assert(term_sqnr_db(t, 5) == line.at(5));
  constexpr std::array<term, 2> pair{t, make_term(10, D::gaussian, 1.0)};
  constexpr auto p = allocate(pair, 30.0);
  static_assert(
      predicted_sqnr_db(pair, std::array<int, 2>{p[0].bits, p[1].bits}) == p.predicted_sqnr_db ||
      (predicted_sqnr_db(pair, std::array<int, 2>{p[0].bits, p[1].bits}) - p.predicted_sqnr_db) <
          1e-12);
  CHECK(combine_sqnr_db({40.0, 40.0}) == Approx(40 - 10 * std::log10(2.0)).margin(1e-12));
  CHECK(combine_sqnr_db(std::vector<double>{30.0, 40.0, 50.0}) ==
        Approx(-10 * std::log10(1e-3 + 1e-4 + 1e-5)).margin(1e-12));
}

TEST_CASE("unreachable targets and budgets are errors naming the best reachable value",
          "[quant][allocate]") {
  const std::array<term, 3> t{term{100, 6.0, 0.0, 1, 4}, term{10, 5.0, 1.0, 2, 6},
                              term{0, 6.0, 0.0, 1, 8}};
  const double best = max_reachable_db(t);
  try {
    (void)allocate(t, best + 1.0);
    FAIL("no exception");
  } catch (const std::domain_error& e) {
    const std::string what = e.what();
    const std::string key = "the best reachable SQNR is ";
    const auto at = what.find(key);
    REQUIRE(at != std::string::npos);
    CHECK(std::stod(what.substr(at + key.size())) == Approx(best).margin(1e-5));
    CHECK(what.find("not reachable") != std::string::npos);
  }
  // Just reachable: every term at max_bits.
  const auto top = allocate(t, best - 1e-9);
  CHECK((top[0].bits == 4 && top[1].bits == 6 && top[2].bits == 8));
  try {
    (void)allocate_within(t, 100 * 1 + 10 * 2 - 1);
    FAIL("no exception");
  } catch (const std::domain_error& e) {
    const std::string what = e.what();
    CHECK(what.find("smallest size 120") != std::string::npos);
  }
  CHECK(allocate_within(t, 120).total_cost == 120);
  CHECK_THROWS_AS(allocate(std::array{term{-1, 6.0, 0.0}}, 10.0), std::domain_error);
  CHECK_THROWS_AS(allocate(std::array{term{1, 0.0, 0.0}}, 10.0), std::domain_error);
  CHECK_THROWS_AS(allocate(std::array{term{1, 6.0, 0.0, 5, 4}}, 10.0), std::domain_error);
  CHECK_THROWS_AS(allocate(std::array{term{1, 6.0, 0.0, 1, 17}}, 10.0), std::domain_error);
  CHECK_THROWS_AS(allocate(std::array{term{1, 6.0, 0.0, 1, 16, 0.0}}, 10.0), std::domain_error);
  CHECK_THROWS_AS(allocate(std::array{term{1, 6.0, 0.0}}, std::nan("")), std::domain_error);
}

// The README's snippet, verbatim (README "Bit-width allocation"), compiled here.
namespace readme_snippet {
using namespace fxp::quant;

constexpr std::array<term, 4> terms = {{
    make_term(400, distribution::gaussian, 0.20, 2, 16),     // conv weights: 400 values
    make_term(0, distribution::laplacian, 1.0, 2, 12),       // its activations: free, <= 12 bits
    make_term(102400, distribution::gaussian, 0.03, 2, 16),  // dense weights
    make_term(1280, distribution::gaussian, 0.10, 2, 16),    // output weights
}};
constexpr auto plan = allocate(terms, 40.0);  // solved by the compiler
using dense_weight = fxp::fixed<plan[2].int_bits, plan[2].frac_bits>;
static_assert(plan.predicted_sqnr_db >= 40.0 && plan[1].bits == 12);
}  // namespace readme_snippet

TEST_CASE("the README snippet's plan", "[quant][allocate]") {
  const auto& p = readme_snippet::plan;
  CHECK(readme_snippet::dense_weight::width == p[2].bits);
  CHECK(p[2].bits < p[0].bits);  // the big layer gets fewer bits
  CHECK(p.total_cost == 400.0 * p[0].bits + 102400.0 * p[2].bits + 1280.0 * p[3].bits);
}
