// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// SQNR-optimal bit-width allocation (Lin, Talathi & Annapureddy, "Fixed Point Quantization
/// of Deep Convolutional Networks", arXiv:1511.06393, sec. 4): choose one bit-width per
/// quantized tensor (a layer's weights, biases, activations) to minimise the model size
/// sum cost_i * bits_i subject to a predicted output SQNR, or the dual, the best predicted
/// SQNR within a size budget. Each term's SQNR is the line kappa_i * bits_i + offset_i and
/// the noises add, 1/g_out = sum_i 1/g_i (g linear), as in the paper's noise model.
///
/// The integer problem is solved exactly, by depth-first branch and bound, in constant
/// evaluation as well as at run time:
///  - terms of cost 0 (activations whose storage is not counted) take max_bits: more bits
///    cost nothing and only lower the noise, so every optimum under the tie rule has them
///    there; the others are searched in decreasing order of cost;
///  - the bound of a node is the continuous relaxation of its remaining terms, solved
///    exactly by the KKT conditions with box constraints: every interior term has
///    n_i = cost_i / (kappa_i * mu) (equal marginal noise per cost), clamped terms sit at a
///    bound; walking the 2n sorted breakpoints of mu gives the multiplier in O(n) with one
///    logarithm per node;
///  - at a node the relaxation is convex in the branching term's bits, so the candidates are
///    visited outward from the continuous optimum, the nearer integer first, and each
///    direction stops at its first pruned value; the last term is never branched on (its
///    cheapest feasible, or largest affordable, value is the only candidate);
///  - identical terms (equal layers) are interchangeable, so only plans whose bits do not
///    increase along a run of identical terms are searched;
///  - the incumbent starts from the continuous optimum rounded to a feasible plan and
///    improved greedily (primal: bits removed from the costliest terms while feasible; dual:
///    bits added where they lower the noise most per unit of cost while the budget lasts).
/// Pruning keeps a relative margin of 1e-9 above the incumbent, so solutions of equal cost
/// are still reached and the tie rule (higher predicted SQNR) is exact.
///
/// How many terms fit the compilers' default constexpr limits: see allocate().

#include <array>        // terms and plans of a size known at compile time
#include <cstddef>      // std::size_t
#include <limits>       // infinities
#include <stdexcept>    // std::domain_error
#include <string>       // run-time error messages with numbers
#include <type_traits>  // std::is_constant_evaluated

#include "detail/math.hpp"
#include "distribution.hpp"
#include "format.hpp"
#include "model.hpp"
#include "quantizer.hpp"

namespace fxp::quant {

/// One quantized tensor of a network in the allocation problem (arXiv:1511.06393, sec. 4).
struct term {
  /// What one bit of this tensor costs: its number of values for a model-size objective (a
  /// layer's weight count); 0 for a tensor whose storage does not count (activations).
  double cost;
  /// dB of SQNR per bit (the slope of the term's SQNR line), > 0.
  double kappa_db;
  /// The SQNR line's value at 0 bits, in dB.
  double offset_db;
  /// The smallest bit-width allowed (1 .. 16).
  int min_bits = 1;
  /// The largest bit-width allowed (min_bits .. 16).
  int max_bits = 16;
  /// The tensor's standard deviation, for the format of the chosen bits.
  double sigma = 1.0;
  /// The density modelling the tensor, for the format of the chosen bits.
  distribution dist = distribution::gaussian;
};

/// A term whose SQNR line is the least-squares fit of sqnr_db(dist, b) over its own bit
/// range [min_bits, max_bits] (fit_sqnr_line), the usual way to build a problem.
[[nodiscard]] constexpr term make_term(double cost, distribution dist, double sigma,
                                       int min_bits = 1, int max_bits = max_design_bits) {
  const sqnr_line line = fit_sqnr_line(dist, min_bits, max_bits);
  return {cost, line.kappa_db, line.offset_db, min_bits, max_bits, sigma, dist};
}

/// The predicted SQNR of one term at `bits`: kappa_db * bits + offset_db.
[[nodiscard]] constexpr double term_sqnr_db(const term& t, int bits) noexcept {
  return t.kappa_db * bits + t.offset_db;
}

/// The allocation of one term.
struct term_plan {
  /// The chosen bit-width.
  int bits;
  /// Integer bits (sign included) of the format for `bits`, the term's sigma and density:
  /// bits - frac_bits.
  int int_bits;
  /// -ceil(log2(sigma * optimal_step(dist, bits))).
  int frac_bits;
  /// The term's bit-width in the continuous (real-valued) optimum of the same problem.
  double continuous_bits;
  /// The term's predicted SQNR at `bits`, in dB.
  double sqnr_db;
};

/// The result of allocate / allocate_within: one term_plan per term, in the terms' order.
/// \tparam N the number of terms
template <std::size_t N>
struct allocation {
  /// The per-term plans.
  std::array<term_plan, N> terms{};
  /// sum_i cost_i * bits_i.
  double total_cost = 0.0;
  /// The predicted output SQNR in dB, -10 log10(sum_i 10^(-sqnr_i / 10)).
  double predicted_sqnr_db = 0.0;
  /// sum_i cost_i * continuous_bits_i, a lower bound of total_cost (primal problem).
  double continuous_cost = 0.0;
  /// Nodes the branch and bound visited (a diagnostic of the search effort).
  std::size_t search_nodes = 0;

  /// The plan of term i.
  [[nodiscard]] constexpr const term_plan& operator[](std::size_t i) const noexcept {
    return terms[i];
  }
  /// N.
  [[nodiscard]] static constexpr std::size_t size() noexcept { return N; }
  /// Iteration over the term plans.
  [[nodiscard]] constexpr auto begin() const noexcept { return terms.begin(); }
  /// Iteration over the term plans.
  [[nodiscard]] constexpr auto end() const noexcept { return terms.end(); }
};

namespace detail {

/// Deliberately not constexpr: reached in constant evaluation, the compiler rejects the
/// call and prints it, message included (the {fmt} technique). At run time it throws.
[[noreturn]] inline void report_error(const char* message) { throw std::domain_error(message); }

/// Unless `ok`: report_error in constant evaluation, std::domain_error(message) at run time.
constexpr void require(bool ok, const char* message) {
  if (ok) return;
  if (std::is_constant_evaluated()) report_error(message);
  throw std::domain_error(message);
}

[[noreturn]] inline void throw_unreachable(double target_db, double best_db) {
  throw std::domain_error("fxp::quant::allocate: the target SQNR of " + std::to_string(target_db) +
                          " dB is not reachable; the best reachable SQNR is " +
                          std::to_string(best_db) + " dB (every term at its max_bits)");
}

[[noreturn]] inline void throw_over_budget(double budget, double smallest) {
  throw std::domain_error("fxp::quant::allocate_within: the size budget " + std::to_string(budget) +
                          " is below the smallest size " + std::to_string(smallest) +
                          " (every term at its min_bits)");
}

inline constexpr double infinity = std::numeric_limits<double>::infinity();
// The contract's relative slack on the noise constraint.
inline constexpr double constraint_slack = 1e-9;
// Bounds are computed in floating point; a node is pruned only when its bound exceeds the
// incumbent by this relative margin, far above their rounding error and far below any
// real difference, so no solution as good as the incumbent is ever cut off.
inline constexpr double prune_margin = 1e-9;
// Feasibility tests inside the search allow for rounding; the leaves decide exactly.
inline constexpr double search_slack = 1e-12;

// A searched term (positive cost), in search order.
struct slot {
  std::size_t index;  // in the caller's array
  double cost;
  double kappa;
  double alpha;  // its bits in the relaxation at mu = 1: b(mu) = alpha + 10 log10(mu) / kappa
  double noise_per_mu;  // cost / kappa: an interior term's noise is this / mu
  double weight;        // 10 cost / kappa: d(cost of the term) / d log10(mu) while interior
  int lo;
  int hi;
  double offset;
  bool same_as_previous = false;  // identical to the slot before it in search order
};

// Identical terms are interchangeable: any plan can be permuted so that their bits do not
// increase along the search order, at the same cost and noise. Searching only such plans
// removes the factorial blow-up of ties among equal layers.
[[nodiscard]] constexpr bool same_term(const slot& a, const slot& b) noexcept {
  return a.cost == b.cost && a.kappa == b.kappa && a.offset == b.offset && a.lo == b.lo &&
         a.hi == b.hi;
}

// Search order: decreasing cost, then any fixed order of the rest, so identical terms
// are adjacent.
[[nodiscard]] constexpr bool searched_before(const slot& a, const slot& b) noexcept {
  if (a.cost != b.cost) return a.cost > b.cost;
  if (a.kappa != b.kappa) return a.kappa > b.kappa;
  if (a.offset != b.offset) return a.offset > b.offset;
  if (a.lo != b.lo) return a.lo < b.lo;
  return a.hi < b.hi;
}

struct breakpoint {
  double mu;
  double log10_mu;
  std::size_t pos;  // search position
  bool enter;       // the term leaves min_bits here (else it reaches max_bits)
};

template <std::size_t N>
struct problem {
  std::array<term, N> terms{};
  std::array<std::array<double, max_design_bits + 1>, N> noise{};  // 1/g_i at each bits
  std::array<slot, N> slots{};
  std::size_t m = 0;  // searched terms
  std::array<breakpoint, 2 * N> points{};
  std::size_t point_count = 0;
  // Over search positions s .. m-1: sum of noise at hi / at lo, sum of cost at lo / at hi.
  std::array<double, N + 1> noise_hi{};
  std::array<double, N + 1> noise_lo{};
  std::array<double, N + 1> cost_lo{};
  std::array<double, N + 1> cost_hi{};
  std::array<int, N> base_bits{};  // zero-cost terms at max_bits; searched ones overwritten
  double fixed_noise = 0.0;        // noise of the zero-cost terms

  [[nodiscard]] constexpr double slot_noise(std::size_t pos, int bits) const {
    return noise[slots[pos].index][static_cast<std::size_t>(bits)];
  }
};

template <std::size_t N>
constexpr problem<N> prepare(const std::array<term, N>& terms) {
  problem<N> p;
  p.terms = terms;
  for (std::size_t i = 0; i < N; ++i) {
    const term& t = terms[i];
    require(t.cost >= 0 && t.cost < 1e300,
            "fxp::quant::allocate: a term's cost must be finite and >= 0");
    require(t.kappa_db > 0 && t.kappa_db < 1e6,
            "fxp::quant::allocate: a term's kappa_db must be positive and finite");
    require(t.offset_db > -1e6 && t.offset_db < 1e6,
            "fxp::quant::allocate: a term's offset_db must be finite");
    require(t.min_bits >= 1 && t.max_bits <= max_design_bits && t.min_bits <= t.max_bits,
            "fxp::quant::allocate: a term needs 1 <= min_bits <= max_bits <= 16");
    require(t.sigma > 0 && t.sigma < 1e300,
            "fxp::quant::allocate: a term's sigma must be positive and finite");
    for (int b = t.min_bits; b <= t.max_bits; ++b) {
      p.noise[i][static_cast<std::size_t>(b)] = pow10(-(t.kappa_db * b + t.offset_db) / 10.0);
    }
    p.base_bits[i] = t.max_bits;
  }
  // Searched terms by decreasing cost (searched_before): the expensive terms decide the
  // most, so fixing them first tightens the bounds soonest.
  for (std::size_t i = 0; i < N; ++i) {
    if (terms[i].cost > 0) {
      const term& t = terms[i];
      const double log10_ratio = log10(t.cost / t.kappa_db);
      slot s{i,
             t.cost,
             t.kappa_db,
             (-10.0 * log10_ratio - t.offset_db) / t.kappa_db,
             t.cost / t.kappa_db,
             10.0 * t.cost / t.kappa_db,
             t.min_bits,
             t.max_bits,
             t.offset_db};
      std::size_t at = p.m;
      while (at > 0 && searched_before(s, p.slots[at - 1])) {
        p.slots[at] = p.slots[at - 1];
        --at;
      }
      p.slots[at] = s;
      ++p.m;
    } else {
      p.fixed_noise += p.noise[i][static_cast<std::size_t>(terms[i].max_bits)];
    }
  }
  for (std::size_t k = 1; k < p.m; ++k) {
    p.slots[k].same_as_previous = same_term(p.slots[k], p.slots[k - 1]);
  }
  // Breakpoints of mu: slot k is interior for mu in [cost/(kappa n(lo)), cost/(kappa n(hi))].
  for (std::size_t k = 0; k < p.m; ++k) {
    const slot& s = p.slots[k];
    const double log10_ratio = log10(s.noise_per_mu);
    for (int e = 0; e < 2; ++e) {
      const int b = e == 0 ? s.lo : s.hi;
      const double log10_mu = log10_ratio + (s.kappa * b + p.terms[s.index].offset_db) / 10.0;
      breakpoint bp{pow10(log10_mu), log10_mu, k, e == 0};
      std::size_t at = p.point_count;
      // Insertion sort; at equal mu an entry goes before a leave, so lo == hi stays clamped.
      while (at > 0 &&
             (p.points[at - 1].log10_mu > bp.log10_mu ||
              (p.points[at - 1].log10_mu == bp.log10_mu && !p.points[at - 1].enter && bp.enter))) {
        p.points[at] = p.points[at - 1];
        --at;
      }
      p.points[at] = bp;
      ++p.point_count;
    }
  }
  for (std::size_t k = p.m; k-- > 0;) {
    const slot& s = p.slots[k];
    p.noise_hi[k] = p.noise_hi[k + 1] + p.slot_noise(k, s.hi);
    p.noise_lo[k] = p.noise_lo[k + 1] + p.slot_noise(k, s.lo);
    p.cost_lo[k] = p.cost_lo[k + 1] + s.cost * s.lo;
    p.cost_hi[k] = p.cost_hi[k + 1] + s.cost * s.hi;
  }
  return p;
}

// The continuous relaxation of the search positions s .. m-1 at one value of the
// multiplier: which terms are clamped where, and the sums over the interior ones.
struct relaxation {
  bool feasible = true;
  double log10_mu = -infinity;  // -inf: all at min_bits; +inf: all at max_bits
  double cost = 0.0;            // the relaxed cost of the suffix
  double noise = 0.0;           // the relaxed noise of the suffix
};

struct walk_state {
  double clamped_noise;
  double clamped_cost;
  double interior_noise_per_mu = 0.0;  // sum cost/kappa over interior terms
  double interior_alpha_cost = 0.0;    // sum cost * alpha
  double interior_weight = 0.0;        // sum 10 cost / kappa
  int interior = 0;

  template <std::size_t N>
  constexpr void pass(const problem<N>& p, const breakpoint& bp) {
    const slot& s = p.slots[bp.pos];
    if (bp.enter) {
      clamped_noise -= p.slot_noise(bp.pos, s.lo);
      clamped_cost -= s.cost * s.lo;
      interior_noise_per_mu += s.noise_per_mu;
      interior_alpha_cost += s.cost * s.alpha;
      interior_weight += s.weight;
      ++interior;
    } else {
      clamped_noise += p.slot_noise(bp.pos, s.hi);
      clamped_cost += s.cost * s.hi;
      interior_noise_per_mu -= s.noise_per_mu;
      interior_alpha_cost -= s.cost * s.alpha;
      interior_weight -= s.weight;
      --interior;
    }
  }
};

// Minimise the suffix's cost with its noise <= budget (primal bound).
template <std::size_t N>
constexpr relaxation relax_noise(const problem<N>& p, std::size_t s, double budget, double slack) {
  const double allowed = budget + slack;
  if (p.noise_hi[s] > allowed) return {false, infinity, infinity, infinity};
  if (p.noise_lo[s] <= allowed) return {true, -infinity, p.cost_lo[s], p.noise_lo[s]};
  walk_state w{p.noise_lo[s], p.cost_lo[s]};
  for (std::size_t j = 0; j < p.point_count; ++j) {
    const breakpoint& bp = p.points[j];
    if (bp.pos < s) continue;
    if (w.clamped_noise + (w.interior > 0 ? w.interior_noise_per_mu / bp.mu : 0.0) <= allowed) {
      if (w.interior == 0) return {true, bp.log10_mu, w.clamped_cost, w.clamped_noise};
      const double log10_mu = log10(w.interior_noise_per_mu / (allowed - w.clamped_noise));
      return {true, log10_mu, w.clamped_cost + w.interior_alpha_cost + w.interior_weight * log10_mu,
              allowed};
    }
    w.pass(p, bp);
  }
  return {true, infinity, p.cost_hi[s], p.noise_hi[s]};
}

// Minimise the suffix's noise with its cost <= budget (dual bound).
template <std::size_t N>
constexpr relaxation relax_cost(const problem<N>& p, std::size_t s, double budget, double slack) {
  const double allowed = budget + slack + 1e-300;
  if (p.cost_lo[s] > allowed) return {false, -infinity, infinity, infinity};
  if (p.cost_hi[s] <= allowed) return {true, infinity, p.cost_hi[s], p.noise_hi[s]};
  walk_state w{p.noise_lo[s], p.cost_lo[s]};
  for (std::size_t j = 0; j < p.point_count; ++j) {
    const breakpoint& bp = p.points[j];
    if (bp.pos < s) continue;
    const double cost_here =
        w.clamped_cost +
        (w.interior > 0 ? w.interior_alpha_cost + w.interior_weight * bp.log10_mu : 0.0);
    if (cost_here >= allowed) {
      if (w.interior == 0) return {true, bp.log10_mu, w.clamped_cost, w.clamped_noise};
      const double log10_mu =
          (allowed - w.clamped_cost - w.interior_alpha_cost) / w.interior_weight;
      return {true, log10_mu, allowed,
              w.clamped_noise + w.interior_noise_per_mu * pow10(-log10_mu)};
    }
    w.pass(p, bp);
  }
  return {true, infinity, p.cost_hi[s], p.noise_hi[s]};
}

// The real-valued bits of search position k at a multiplier.
template <std::size_t N>
constexpr double relaxed_bits(const problem<N>& p, std::size_t k, double log10_mu) {
  const slot& s = p.slots[k];
  if (log10_mu == -infinity) return s.lo;
  if (log10_mu == infinity) return s.hi;
  const double b = s.alpha + 10.0 * log10_mu / s.kappa;
  return b < s.lo ? s.lo : (b > s.hi ? s.hi : b);
}

template <std::size_t N>
struct search {
  const problem<N>& p;
  double limit;  // primal: the noise limit; dual: the size budget
  bool dual;
  std::array<int, N> bits{};
  std::array<int, N> best_bits{};
  double best_cost = infinity;
  double best_noise = infinity;
  bool found = false;
  std::size_t nodes = 0;

  // The exact test and comparison of a complete assignment, sums in the caller's order;
  // whether it is feasible.
  constexpr bool leaf() {
    double cost = 0.0;
    double noise = 0.0;
    for (std::size_t i = 0; i < N; ++i) {
      cost += p.terms[i].cost * bits[i];
      noise += p.noise[i][static_cast<std::size_t>(bits[i])];
    }
    if (dual ? !(cost <= limit) : !(noise <= limit)) return false;
    const bool better = dual ? (noise < best_noise || (noise == best_noise && cost < best_cost))
                             : (cost < best_cost || (cost == best_cost && noise < best_noise));
    if (better || !found) {
      best_cost = cost;
      best_noise = noise;
      best_bits = bits;
      found = true;
    }
    return true;
  }

  [[nodiscard]] constexpr bool pruned(double cost_bound, double noise_bound) const {
    if (!found) return false;
    return dual ? noise_bound > best_noise * (1.0 + prune_margin)
                : cost_bound > best_cost + prune_margin * (best_cost > 1.0 ? best_cost : 1.0);
  }

  [[nodiscard]] constexpr relaxation relax(std::size_t s, double spent_cost,
                                           double spent_noise) const {
    return dual ? relax_cost(p, s, limit - spent_cost, search_slack * limit)
                : relax_noise(p, s, limit - spent_noise, search_slack * limit);
  }

  // The last searched term: its best value given the others is the cheapest feasible one
  // (primal) or the largest affordable one (dual); the leaf decides feasibility exactly,
  // the search's slack only guarantees the start is not past it.
  constexpr void last(std::size_t k, double spent_cost, double spent_noise) {
    const slot& s = p.slots[k];
    const int hi = top(k);
    auto& b = bits[s.index];
    if (!dual) {
      const double allowed = limit - spent_noise + search_slack * limit;
      b = s.lo;
      while (b < hi && p.slot_noise(k, b) > allowed) ++b;
      for (; b <= hi; ++b) {
        if (leaf()) break;
      }
    } else {
      const double allowed = limit - spent_cost + search_slack * limit + 1e-300;
      b = hi;
      while (b > s.lo && s.cost * b > allowed) --b;
      for (; b >= s.lo; --b) {
        if (leaf()) break;
      }
    }
  }

  // The largest bits position k may take: its max_bits, or the bits of an identical term
  // searched just before it.
  [[nodiscard]] constexpr int top(std::size_t k) const {
    const slot& s = p.slots[k];
    if (k == 0 || !s.same_as_previous) return s.hi;
    const int before = bits[p.slots[k - 1].index];
    return before < s.hi ? before : s.hi;
  }

  // Position k given the relaxation r of positions k .. m-1.
  constexpr void node(std::size_t k, double spent_cost, double spent_noise, const relaxation& r) {
    ++nodes;
    if (k == p.m) {
      leaf();
      return;
    }
    if (k + 1 == p.m) {
      last(k, spent_cost, spent_noise);
      return;
    }
    const slot& s = p.slots[k];
    const double centre = relaxed_bits(p, k, r.log10_mu);
    int up = static_cast<int>(centre);
    if (up < centre) ++up;  // ceil
    const int down = up - 1;
    // Visit upward from ceil(centre) and downward from ceil(centre) - 1, the direction of
    // the nearer integer first (good plans early tighten the pruning); each direction ends
    // at its first pruned or infeasible value (the relaxation is convex in b).
    const bool down_first = centre - down < up - centre;
    const int hi = top(k);
    for (int pass = 0; pass < 2; ++pass) {
      const bool going_down = (pass == 0) == down_first;
      const int first = going_down ? (down < hi ? down : hi) : up;
      for (int b = first; b >= s.lo && b <= hi; b += going_down ? -1 : 1) {
        const double cost = spent_cost + s.cost * b;
        const double noise = spent_noise + p.slot_noise(k, b);
        const relaxation child = relax(k + 1, cost, noise);
        if (!child.feasible) {
          // Primal: fewer bits are worse still (stop going down, keep going up); dual:
          // more bits are worse still.
          if (going_down != dual) break;
          continue;
        }
        if (pruned(cost + child.cost, noise + child.noise)) break;
        bits[s.index] = b;
        node(k + 1, cost, noise, child);
      }
    }
  }
};

template <std::size_t N>
constexpr allocation<N> finish(const problem<N>& p, const search<N>& s, const relaxation& root) {
  allocation<N> plan;
  plan.search_nodes = s.nodes;
  double noise = 0.0;
  for (std::size_t i = 0; i < N; ++i) {
    const term& t = p.terms[i];
    const int b = s.best_bits[i];
    const q_format f = optimal_format(b, t.sigma, t.dist);
    plan.terms[i] = {b, f.int_bits, f.frac_bits, static_cast<double>(t.max_bits),
                     term_sqnr_db(t, b)};
    plan.total_cost += t.cost * b;
    noise += p.noise[i][static_cast<std::size_t>(b)];
  }
  for (std::size_t k = 0; k < p.m; ++k) {
    plan.terms[p.slots[k].index].continuous_bits = relaxed_bits(p, k, root.log10_mu);
  }
  for (std::size_t i = 0; i < N; ++i)
    plan.continuous_cost += p.terms[i].cost * plan.terms[i].continuous_bits;
  plan.predicted_sqnr_db = -10.0 * log10(noise);
  return plan;
}

// A feasible start for the primal: the continuous optimum rounded up, then each term
// lowered while the plan stays feasible (the most expensive first).
template <std::size_t N>
constexpr void primal_incumbent(search<N>& s, const relaxation& root) {
  const problem<N>& p = s.p;
  for (std::size_t k = 0; k < p.m; ++k) {
    const double c = relaxed_bits(p, k, root.log10_mu);
    int b = static_cast<int>(c);
    if (b < c) ++b;
    s.bits[p.slots[k].index] = b;
  }
  if (!s.leaf()) return;
  for (std::size_t k = 0; k < p.m; ++k) {
    auto& b = s.bits[p.slots[k].index];
    while (b > p.slots[k].lo) {
      --b;
      if (!s.leaf()) {
        ++b;
        break;
      }
    }
  }
}

// A feasible start for the dual: the continuous optimum rounded down, then bits added one
// at a time where they lower the noise most per unit of cost, while the budget allows (the
// search prunes by this incumbent, so a good one saves most of the nodes).
template <std::size_t N>
constexpr void dual_incumbent(search<N>& s, const relaxation& root) {
  const problem<N>& p = s.p;
  double spent = 0.0;  // by the searched terms; the others cost nothing
  for (std::size_t k = 0; k < p.m; ++k) {
    const int b = static_cast<int>(relaxed_bits(p, k, root.log10_mu));
    s.bits[p.slots[k].index] = b;
    spent += p.slots[k].cost * b;
  }
  if (!s.leaf()) return;
  for (;;) {
    std::size_t pick = p.m;
    double best_gain = 0.0;
    for (std::size_t k = 0; k < p.m; ++k) {
      const slot& sl = p.slots[k];
      const int b = s.bits[sl.index];
      if (b >= sl.hi || spent + sl.cost > s.limit) continue;
      const double gain = (p.slot_noise(k, b) - p.slot_noise(k, b + 1)) / sl.cost;
      if (gain > best_gain) {
        best_gain = gain;
        pick = k;
      }
    }
    if (pick == p.m) break;
    ++s.bits[p.slots[pick].index];
    spent += p.slots[pick].cost;
    if (!s.leaf()) {  // the exact sum disagrees at the margin: stop here
      --s.bits[p.slots[pick].index];
      break;
    }
  }
}

}  // namespace detail

/// The cheapest integer bit-widths reaching a predicted SQNR (arXiv:1511.06393, sec. 4):
/// minimises sum_i cost_i * bits_i over min_bits_i <= bits_i <= max_bits_i subject to
/// sum_i 10^(-(kappa_i bits_i + offset_i) / 10) <= 10^(-target_sqnr_db / 10) (1 + 1e-9).
/// The result equals exhaustive search; among plans of equal cost it has the highest
/// predicted SQNR. Terms of cost 0 get max_bits. `continuous_bits` is the real-valued
/// optimum of the same problem (KKT with the bit bounds as box constraints: every interior
/// term has the same marginal noise per cost, so SQNR_i - SQNR_j = 10 log10(cost_j kappa_i /
/// (cost_i kappa_j)), i.e. b_i - b_j = 10 log10(cost_j / cost_i) / kappa for equal kappas and
/// offsets; a clamped term sits at the bound its unclamped value passes).
///
/// An unreachable target throws std::domain_error naming the best reachable SQNR (all terms
/// at max_bits); in constant evaluation it is a compile error quoting
/// detail::report_error's message. Invalid terms likewise.
///
/// How far constant evaluation goes with the default limits of g++ 12
/// (-fconstexpr-ops-limit=2^25) and clang++ 14 (-fconstexpr-steps=2^20), measured on
/// network-like problems: weight terms of costs 320 .. 409600, alternating Gaussian and
/// Laplacian lines fitted over bits 2 .. 16 (15 choices each), targets 30, 40, 50, 60 dB:
///  - every third term a zero-cost activation: N <= 48 compiles with both compilers at every
///    target (at N = 64 g++ still does, clang++ only at 30 dB);
///  - every term of positive cost: N <= 32 with both (at N = 48 clang++ fails 3 targets);
///  - allocate_within (budget 93% of the 40 dB plan's size): N <= 32 with both, both kinds
///    (at N = 48 clang++ fails one budget).
/// clang++'s step limit is the binding one. Identical terms tie in cost in many ways: 16
/// identical terms compile (tests/quant), 24 exceed clang++'s limit.
/// An 8-term, 15-choice problem takes under 20 search nodes (tests/quant static_asserts
/// one). Past these sizes, evaluate at run time (the same code, no limit) or raise the
/// compiler's limit.
/// \tparam N the number of terms
template <std::size_t N>
[[nodiscard]] constexpr allocation<N> allocate(const std::array<term, N>& terms,
                                               double target_sqnr_db) {
  static_assert(N >= 1, "fxp::quant::allocate: the problem needs at least one term");
  detail::require(target_sqnr_db > -1e6 && target_sqnr_db < 1e6,
                  "fxp::quant::allocate: the target SQNR must be a finite number of dB");
  const detail::problem<N> p = detail::prepare(terms);
  const double limit = detail::pow10(-target_sqnr_db / 10.0) * (1.0 + detail::constraint_slack);
  const double best_noise = p.fixed_noise + p.noise_hi[0];
  if (best_noise > limit) {
    if (std::is_constant_evaluated()) {
      // One line, so that the compiler's quote of the call shows the whole message.
      detail::report_error("fxp::quant::allocate: target SQNR unreachable at max_bits");
    }
    detail::throw_unreachable(target_sqnr_db, -10.0 * detail::log10(best_noise));
  }
  detail::search<N> s{p, limit, false};
  s.bits = p.base_bits;
  const detail::relaxation root =
      detail::relax_noise(p, 0, limit - p.fixed_noise, detail::search_slack * limit);
  detail::primal_incumbent(s, root);
  s.node(0, 0.0, p.fixed_noise, root);
  return detail::finish(p, s, root);
}

/// The dual of allocate: the integer bit-widths with the highest predicted SQNR whose size
/// sum_i cost_i * bits_i is at most `size_budget`; among plans of equal SQNR the cheapest.
/// Terms of cost 0 get max_bits. `continuous_bits` is the real-valued optimum of this
/// problem. A budget below the smallest size (every term at min_bits) throws
/// std::domain_error naming that size (a compile error in constant evaluation).
/// \tparam N the number of terms
template <std::size_t N>
[[nodiscard]] constexpr allocation<N> allocate_within(const std::array<term, N>& terms,
                                                      double size_budget) {
  static_assert(N >= 1, "fxp::quant::allocate_within: the problem needs at least one term");
  detail::require(size_budget > -1e300 && size_budget < 1e300,
                  "fxp::quant::allocate_within: the size budget must be finite");
  const detail::problem<N> p = detail::prepare(terms);
  if (p.cost_lo[0] > size_budget) {
    if (std::is_constant_evaluated()) {
      detail::report_error("fxp::quant::allocate_within: size budget below min_bits");
    }
    detail::throw_over_budget(size_budget, p.cost_lo[0]);
  }
  detail::search<N> s{p, size_budget, true};
  s.bits = p.base_bits;
  const detail::relaxation root =
      detail::relax_cost(p, 0, size_budget, detail::search_slack * size_budget);
  detail::dual_incumbent(s, root);
  s.node(0, 0.0, p.fixed_noise, root);
  return detail::finish(p, s, root);
}

/// The predicted SQNR in dB of `terms` at the given bit-widths: -10 log10(sum_i 1/g_i).
template <std::size_t N>
[[nodiscard]] constexpr double predicted_sqnr_db(const std::array<term, N>& terms,
                                                 const std::array<int, N>& bits) {
  double noise = 0.0;
  for (std::size_t i = 0; i < N; ++i)
    noise += detail::pow10(-term_sqnr_db(terms[i], bits[i]) / 10.0);
  return -10.0 * detail::log10(noise);
}

}  // namespace fxp::quant
