// SPDX-License-Identifier: MIT
// Precision plans: the text format, its errors (with line numbers), and applying a plan to a
// model, also after training (formats change at run time).

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include "nn_test_util.hpp"

namespace nn = fxp::nn;

TEST_CASE("layer_precision: fields") {
  nn::layer_precision p;
  CHECK(p.is_float(nn::role::weights));
  p.apply_fields("weights=s8.7 acts=u8.4, errors=s16.12 grads=s16.14 rounding=stochastic");
  REQUIRE(p[nn::role::weights]);
  CHECK(p[nn::role::weights]->bits == 8);
  CHECK(p[nn::role::weights]->frac == 7);
  CHECK(p[nn::role::weights]->is_signed);
  CHECK_FALSE(p[nn::role::activations]->is_signed);
  CHECK(p[nn::role::activations]->frac == 4);
  CHECK(p[nn::role::grads]->frac == 14);
  CHECK(p.is_float(nn::role::biases));
  CHECK(p.rounding == fxp::rounding_mode::stochastic);
  p.apply_fields("acts=float");
  CHECK(p.is_float(nn::role::activations));
  // to_string round-trips.
  nn::layer_precision q;
  q.apply_fields(p.to_string());
  CHECK(q == p);
  CHECK_THROWS_WITH(p.apply_fields("wieghts=s8.7"), Catch::Contains("unknown role 'wieghts'"));
  CHECK_THROWS_WITH(p.apply_fields("weights=x8.7"), Catch::Contains("bad format 'x8.7'"));
  CHECK_THROWS_WITH(p.apply_fields("rounding=up"), Catch::Contains("unknown rounding 'up'"));
  CHECK_THROWS_WITH(p.apply_fields("weights"), Catch::Contains("key=value"));
}

TEST_CASE("precision_plan: text, comments, wildcard and line numbers") {
  const char* text =
      "# reference CNN, 8-bit forward\n"
      "*      errors=s16.12 grads=s16.14 rounding=stochastic\n"
      "\n"
      "input  acts=u8.7\n"
      "conv1  weights=s8.7 acts=u8.4   # a comment\n"
      "conv1  rounding=nearest\n";
  const auto plan = nn::precision_plan::parse(text);
  REQUIRE(plan.lines().size() == 4);
  CHECK(plan.lines()[2].line_number == 5);
  const nn::layer_precision c1 = plan.precision_of("conv1");
  CHECK(c1[nn::role::weights]->to_string() == "s8.7");
  CHECK(c1[nn::role::errors]->to_string() == "s16.12");
  CHECK(c1.rounding == fxp::rounding_mode::nearest);  // the later line wins
  const nn::layer_precision other = plan.precision_of("fc2");
  CHECK(other.is_float(nn::role::weights));
  CHECK(other.rounding == fxp::rounding_mode::stochastic);
  const nn::layer_precision in = plan.precision_of("input");
  CHECK(in[nn::role::activations]->to_string() == "u8.7");
  CHECK(in.is_float(nn::role::errors));  // "*" does not apply to the input

  CHECK_THROWS_WITH(nn::precision_plan::parse("conv1 weights=s8.7\n\nfc1 acts=q8\n", "plan.txt"),
                    Catch::StartsWith("plan.txt:3: bad format 'q8'"));
  CHECK_THROWS_WITH(nn::precision_plan::parse("weights=s8.7\n"), Catch::Contains(":1: a line starts with a layer name"));

  const auto cli = nn::precision_plan::parse_lines({"conv1 weights=s4.3", "* rounding=nearest_even"});
  CHECK(cli.precision_of("conv1")[nn::role::weights]->bits == 4);
  CHECK(cli.precision_of("conv1").rounding == fxp::rounding_mode::nearest_even);
}

TEST_CASE("precision_plan: files") {
  const std::string path = "test_nn_precision_plan.txt";
  {
    std::ofstream out(path);
    out << "fc1 weights=s8.7\nfc1 acts=s16.300\n";
  }
  CHECK_THROWS_WITH(nn::precision_plan::read_file(path), Catch::StartsWith(path + ":2:"));
  {
    std::ofstream out(path);
    out << "fc1 weights=s8.7\n";
  }
  CHECK(nn::precision_plan::read_file(path).precision_of("fc1")[nn::role::weights]->frac == 7);
  std::remove(path.c_str());
  CHECK_THROWS_WITH(nn::precision_plan::read_file("no/such/plan.txt"), Catch::Contains("cannot open 'no/such/plan.txt'"));
}

TEST_CASE("sequential::apply: precision on a model, changeable after conversion") {
  nn::sequential net = nn::reference_cnn(1);
  CHECK_THROWS_WITH(net.apply(nn::precision_plan::parse("conv9 weights=s8.7\n")), Catch::Contains("no layer named 'conv9'"));
  CHECK_THROWS_WITH(net.set_mode(nn::training_mode::fixed), Catch::Contains("input's format"));
  net.apply(nn::precision_plan::parse("input acts=u8.7\n* weights=s16.14 acts=s16.10 errors=s16.12 grads=s16.14\n"));
  const float w0 = net.parameters()[0]->value[3];
  net.set_mode(nn::training_mode::fixed);
  const fxp::qtensor& q = net.parameters()[0]->qvalue;
  CHECK(q.format().to_string() == "s16.14");
  CHECK(std::abs(q.value(3) - static_cast<double>(w0)) <= std::ldexp(1.0, -15));  // nearest
  // A plan applied to the fixed model requantizes its weights (the bit-width solver's hook).
  net.apply(nn::precision_plan::parse("conv1 weights=s8.7\n"));
  const fxp::qtensor& q8 = net.parameters()[0]->qvalue;
  CHECK(q8.format().to_string() == "s8.7");
  CHECK(std::abs(q8.value(3) - static_cast<double>(w0)) <= std::ldexp(1.0, -8) + std::ldexp(1.0, -15));
  CHECK(net.plan().precision_of("conv1")[nn::role::weights]->bits == 8);
  // And back to float: the fixed values, exactly.
  const double v = q8.value(3);
  net.set_mode(nn::training_mode::floating);
  CHECK(static_cast<double>(net.parameters()[0]->value[3]) == v);
}
