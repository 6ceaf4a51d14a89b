// SPDX-License-Identifier: MIT
// Bit-width allocation at compile time (Lin, Talathi & Annapureddy, "Fixed Point
// Quantization of Deep Convolutional Networks", arXiv:1511.06393): the reference CNN's four
// weight tensors and four activations as terms, the cheapest plan reaching 40 dB of
// predicted output SQNR solved by the compiler, and fxp::fixed types taken from the plan.
//
//   allocate [--budget BITS]
//
// --budget also solves the dual at run time: the best predicted SQNR within a size budget.

#include <CLI/CLI.hpp>
#include <array>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <fxp/fxp.hpp>
#include <fxp/quant/quant.hpp>
#include <string_view>

namespace {

using fxp::quant::distribution;
using fxp::quant::make_term;

// The terms: cost = number of values stored (weights), 0 for activations, whose storage is
// not part of the model size; sigma as measured on a trained float model of this shape
// (typical values); weights Gaussian, activations after ReLU heavier-tailed (Laplacian).
constexpr std::array<fxp::quant::term, 8> terms = {{
    make_term(5 * 5 * 1 * 16, distribution::gaussian, 0.20, 2, 16),   // conv1 weights
    make_term(0, distribution::laplacian, 0.80, 2, 16),               // conv1 activations
    make_term(5 * 5 * 16 * 32, distribution::gaussian, 0.05, 2, 16),  // conv2 weights
    make_term(0, distribution::laplacian, 1.50, 2, 16),               // conv2 activations
    make_term(800 * 128, distribution::gaussian, 0.03, 2, 16),        // dense1 weights
    make_term(0, distribution::laplacian, 2.00, 2, 16),               // dense1 activations
    make_term(128 * 10, distribution::gaussian, 0.10, 2, 16),         // dense2 weights
    make_term(0, distribution::gaussian, 4.00, 2, 16),                // logits
}};
constexpr std::array<std::string_view, 8> names = {"conv1.w",  "conv1.a",  "conv2.w",  "conv2.a",
                                                   "dense1.w", "dense1.a", "dense2.w", "logits"};

// Solved by the compiler: an unreachable target would not compile.
constexpr auto plan = fxp::quant::allocate(terms, 40.0);

// The formats are compile-time types.
using conv1_weight = fxp::fixed<plan[0].int_bits, plan[0].frac_bits>;
using dense1_weight = fxp::fixed<plan[4].int_bits, plan[4].frac_bits>;
static_assert(conv1_weight::width == plan[0].bits);

template <std::size_t N>
void print(const fxp::quant::allocation<N>& p) {
  std::printf("%-9s %8s %5s %5s %5s %11s %8s %7s\n", "term", "cost", "bits", "int", "frac",
              "continuous", "sqnr_dB", "sigma");
  for (std::size_t i = 0; i < N; ++i) {
    std::printf("%-9s %8.0f %5d %5d %5d %11.3f %8.2f %7.3f\n", names[i].data(), terms[i].cost,
                p[i].bits, p[i].int_bits, p[i].frac_bits, p[i].continuous_bits, p[i].sqnr_db,
                terms[i].sigma);
  }
  std::printf(
      "total cost %.0f bits (continuous optimum %.1f), predicted SQNR %.2f dB, %zu search nodes\n",
      p.total_cost, p.continuous_cost, p.predicted_sqnr_db, p.search_nodes);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fxp bit-width allocation (arXiv:1511.06393)"};
  double budget = 0;
  app.add_option("--budget", budget, "also solve the dual: best SQNR within this many bits");
  CLI11_PARSE(app, argc, argv);
  try {
    std::printf(
        "cheapest plan with a predicted output SQNR of at least 40 dB (solved at compile time):\n");
    print(plan);
    double equal_bits_cost = 0;
    for (const auto& t : terms) equal_bits_cost += t.cost;
    // The equal allocation of the same SQNR: the smallest common weight width that reaches it.
    for (int b = 2; b <= 16; ++b) {
      std::array<int, 8> bits{};
      for (std::size_t i = 0; i < 8; ++i) bits[i] = terms[i].cost > 0 ? b : terms[i].max_bits;
      if (fxp::quant::predicted_sqnr_db(terms, bits) >= 40.0) {
        std::printf("equal weight widths need %d bits: %.0f bits, %.1f%% more than the plan\n", b,
                    equal_bits_cost * b, 100.0 * (equal_bits_cost * b / plan.total_cost - 1.0));
        break;
      }
    }
    const conv1_weight w(0.1234);
    const dense1_weight v(-0.0123);
    std::printf(
        "conv1 weight 0.1234 as fixed<%d, %d>: %s; dense1 weight -0.0123 as fixed<%d, %d>: %s\n",
        plan[0].int_bits, plan[0].frac_bits, fxp::to_string(w).c_str(), plan[4].int_bits,
        plan[4].frac_bits, fxp::to_string(v).c_str());
    if (budget > 0) {
      std::printf("\nbest predicted SQNR within %.0f bits:\n", budget);
      print(fxp::quant::allocate_within(terms, budget));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "allocate: %s\n", e.what());
    return 1;
  }
  return 0;
}
