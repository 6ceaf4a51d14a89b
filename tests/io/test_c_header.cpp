// SPDX-License-Identifier: MIT
// Tests of fxp/io/c_header.hpp: a generated header is compiled by the C compiler (C99,
// -Wall -Wextra -Werror -pedantic) into a program that checks every value bit for bit
// against numbers the test prints itself, linked from two translation units, and compiled
// as C++ too; identifiers, formats and values are validated; the save is atomic.

#include <fxp/io/c_header.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"

#ifndef FXP_IO_TEST_C_COMPILER
#error "FXP_IO_TEST_C_COMPILER: the C compiler the test runs"
#endif

namespace {

using Catch::Matchers::Contains;
using fxp_test::temp_dir;

int run(const std::string& command) {
  INFO(command);
  return std::system(command.c_str());
}

void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream(file) << text;
}

std::uint32_t bits_of(float f) {
  std::uint32_t u = 0;
  std::memcpy(&u, &f, 4);
  return u;
}

}  // namespace

TEST_CASE("c_header: a generated header compiles as C99 and holds exact values",
          "[io][c_header]") {
  temp_dir dir;
  std::vector<std::int8_t> weights(256);
  std::iota(weights.begin(), weights.end(), std::int8_t{-128});  // -128 .. 127
  const std::vector<std::int16_t> w16{-32768, -1, 0, 32767};
  const std::vector<std::int32_t> bias{std::numeric_limits<std::int32_t>::min(), -1, 0,
                                       std::numeric_limits<std::int32_t>::max(), 100000};
  std::vector<std::uint8_t> pixels(256);
  std::iota(pixels.begin(), pixels.end(), std::uint8_t{0});
  const std::vector<std::uint16_t> u16{0, 65535};
  const std::vector<std::uint32_t> u32{0, 2147483648u, 4294967295u};
  const std::vector<float> golden{1.0f / 3.0f, -0.0f, std::numeric_limits<float>::denorm_min(),
                                  std::numeric_limits<float>::max(), 1e-10f, 123456789.0f, 1.0f,
                                  -2.5f, std::numeric_limits<float>::min()};

  fxp::io::c_header h("fxp_test_model");
  h.comment("A test model. Weights are fixed<1,7>; a comment with */ inside stays a comment.\nSecond line.");
  h.define("MODEL_LAYERS", 4);
  h.define("BIG_NEGATIVE", std::numeric_limits<std::int64_t>::min());
  h.define("BIG_POSITIVE", 5000000000);
  h.define("SMALL", -2147483648LL);
  h.define_float("INPUT_SCALE", 1.0f / 255.0f);
  h.fixed_array("conv1_w", weights, {8, 7, true}, fxp::shape{4, 1, 8, 8});
  h.array("w16", w16);
  h.fixed_array("conv1_b", bias, {32, 14, true});
  h.fixed_array("act", pixels, {8, 8, false});
  h.array("u16", u16);
  h.array("u32", u32);
  h.array("golden_out", golden);
  const auto header = dir / "fxp_test_model.h";
  h.save(header);
  CHECK(fxp_test::read_bytes(header).size() == h.str().size());
  CHECK_THAT(h.str(), Contains("#ifndef FXP_TEST_MODEL_H") && Contains("static const int8_t conv1_w[256]") &&
                          Contains("#include <stdint.h>"));

  // The checking program: every expected number printed here, independently of the writer.
  std::ostringstream c;
  c << "#include \"fxp_test_model.h\"\n#include <stdio.h>\n#include <string.h>\n"
       "static int failures = 0;\n"
       "static void check(int ok, int line) { if (!ok) { printf(\"check at line %d failed\\n\", line); ++failures; } }\n"
       "#define CHECK(x) check((x), __LINE__)\n"
       "static uint32_t bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }\n"
       "int main(void) {\n  int i;\n";
  c << "  CHECK(MODEL_LAYERS == 4);\n";
  c << "  CHECK(BIG_NEGATIVE == INT64_MIN);\n  CHECK(BIG_POSITIVE == 5000000000LL);\n";
  c << "  CHECK(SMALL == INT32_MIN);\n";
  c << "  CHECK(bits(INPUT_SCALE) == " << bits_of(1.0f / 255.0f) << "u);\n";
  c << "  CHECK(CONV1_W_LENGTH == 256 && CONV1_W_RANK == 4 && CONV1_W_DIM0 == 4 && CONV1_W_DIM1 == 1"
       " && CONV1_W_DIM2 == 8 && CONV1_W_DIM3 == 8);\n";
  c << "  CHECK(CONV1_W_BITS == 8 && CONV1_W_FRAC_BITS == 7 && CONV1_W_SIGNED == 1);\n";
  c << "  CHECK(CONV1_W_SCALE == 0.0078125f);\n";
  c << "  CHECK(sizeof conv1_w[0] == 1 && (int8_t)-1 < 0);\n";
  c << "  for (i = 0; i < 256; ++i) CHECK(conv1_w[i] == i - 128);\n";
  c << "  CHECK(W16_LENGTH == 4 && w16[0] == -32768 && w16[1] == -1 && w16[3] == 32767);\n";
  c << "  CHECK(CONV1_B_LENGTH == 5 && CONV1_B_BITS == 32 && CONV1_B_FRAC_BITS == 14);\n";
  c << "  CHECK(conv1_b[0] == INT32_MIN && conv1_b[1] == -1 && conv1_b[2] == 0 && conv1_b[3] == INT32_MAX"
       " && conv1_b[4] == 100000);\n";
  c << "  CHECK(ACT_SIGNED == 0 && ACT_FRAC_BITS == 8 && ACT_SCALE == 1.0f / 256);\n";
  c << "  for (i = 0; i < 256; ++i) CHECK(act[i] == i);\n";
  c << "  CHECK(u16[1] == 65535u && u32[1] == 2147483648u && u32[2] == UINT32_MAX);\n";
  c << "  CHECK(GOLDEN_OUT_LENGTH == " << golden.size() << ");\n";
  for (std::size_t i = 0; i < golden.size(); ++i)
    c << "  CHECK(bits(golden_out[" << i << "]) == " << bits_of(golden[i]) << "u);\n";
  c << "  CHECK(sizeof conv1_w == 256 && sizeof golden_out == " << 4 * golden.size() << ");\n";
  c << "  if (failures == 0) printf(\"all values exact\\n\");\n  return failures;\n}\n";
  write_text(dir / "main.c", c.str());
  // A second translation unit that includes the header too: static arrays, one program.
  write_text(dir / "other.c",
             "#include \"fxp_test_model.h\"\nint other(void);\nint other(void) { return conv1_w[0]; }\n");

  const std::string cc = FXP_IO_TEST_C_COMPILER;
  const std::string d = "'" + dir.path().string() + "'";
  REQUIRE(run("'" + cc + "' -std=c99 -Wall -Wextra -Werror -pedantic -I" + d + " " + d + "/main.c " + d +
              "/other.c -o " + d + "/check") == 0);
  CHECK(run(d + "/check") == 0);
  // The C++ compiler takes it as well.
  CHECK(run("'" + cc + "' -x c++ -std=c++17 -Wall -Wextra -Werror -pedantic -fsyntax-only " + d +
            "/fxp_test_model.h") == 0);
  // A broken header would fail: the harness does detect compile errors.
  write_text(dir / "broken.c", "#include \"fxp_test_model.h\"\nint main(void) { return conv1_w; }\n");
  CHECK(run("'" + cc + "' -std=c99 -Wall -Werror -I" + d + " -fsyntax-only " + d + "/broken.c 2>/dev/null") != 0);
}

TEST_CASE("c_header: identifiers are checked", "[io][c_header]") {
  CHECK(fxp::io::is_c_identifier("conv1_weights"));
  CHECK(fxp::io::is_c_identifier("W"));
  for (const char* bad : {"", "1abc", "a-b", "conv1.weights", "int", "static", "_x", "__y", "_Bool",
                          "int8_t", "uint32_t", "INT8_MAX", "UINT64_C", "caf\xc3\xa9"}) {
    INFO(bad);
    CHECK_FALSE(fxp::io::is_c_identifier(bad));
    CHECK_THROWS_AS(fxp::io::c_header(bad), std::invalid_argument);
  }
  CHECK(fxp::io::to_c_identifier("conv1.weights") == "conv1_weights");
  CHECK(fxp::io::to_c_identifier("3x3") == "v_3x3");
  CHECK(fxp::io::to_c_identifier("_hidden") == "v__hidden");
  CHECK(fxp::io::to_c_identifier("int") == "int_");
  CHECK(fxp::io::to_c_identifier("") == "v_");

  fxp::io::c_header h("model");
  const std::vector<std::int8_t> v{1, 2};
  const auto msg = fxp_test::thrown<std::invalid_argument>([&] { h.array("bad name", v); });
  CHECK_THAT(msg, Contains("'bad name' is not a valid C identifier"));
  h.array("w", v);
  CHECK_THROWS_AS(h.array("w", v), std::invalid_argument);          // the same array twice
  CHECK_THROWS_AS(h.define("W_LENGTH", 3), std::invalid_argument);  // the macro of w
  CHECK_THROWS_AS(h.define("MODEL_H", 3), std::invalid_argument);   // the guard
  CHECK_THROWS_AS(h.fixed_array("x", v, {8, 0, true}, fxp::shape{3}), std::invalid_argument);
  h.define("X_LENGTH_OK", 1);
  // A failed entry adds nothing: "x" is still free.
  CHECK_NOTHROW(h.array("x", v));
  CHECK(h.str().find("bad name") == std::string::npos);
}

TEST_CASE("c_header: formats, values and comments are validated", "[io][c_header]") {
  fxp::io::c_header h("model");
  const std::vector<std::int8_t> small{-8, 7};
  const std::vector<std::int8_t> big{-9, 7};
  CHECK_NOTHROW(h.fixed_array("a", small, {4, 2, true}));
  auto msg = fxp_test::thrown<std::invalid_argument>([&] { h.fixed_array("b", big, {4, 2, true}); });
  CHECK_THAT(msg, Contains("raw value -9 at index 0 is outside [-8, 7]") && Contains("'b'"));
  CHECK_THROWS_AS(h.fixed_array("c", small, {9, 2, true}), std::invalid_argument);   // wider than int8
  CHECK_THROWS_AS(h.fixed_array("c", small, {1, 0, true}), std::invalid_argument);   // no value bit
  const std::vector<std::uint8_t> unsigned_raw{0, 255};
  CHECK_THROWS_AS(h.fixed_array("c", unsigned_raw, {8, 0, true}), std::invalid_argument);
  CHECK_THROWS_AS(h.fixed_array("c", unsigned_raw, {7, 0, false}), std::invalid_argument);  // 255 > 127
  CHECK_NOTHROW(h.fixed_array("c", unsigned_raw, {8, 0, false}));
  CHECK_THROWS_AS(h.array("e", std::vector<std::int16_t>{}), std::invalid_argument);
  CHECK_THROWS_AS(h.array("f", std::vector<float>{1.0f, std::numeric_limits<float>::infinity()}),
                  std::invalid_argument);
  CHECK_THROWS_AS(h.array("g", std::vector<float>{std::numeric_limits<float>::quiet_NaN()}),
                  std::invalid_argument);
  CHECK_THROWS_AS(h.array("s", small, fxp::shape{3}), std::invalid_argument);
  h.comment("ends here */ #error not code");
  CHECK(h.str().find("/* ends here * / #error not code */") != std::string::npos);
  CHECK(fxp::io::detail::c_float_literal(1.0f) == "1.0f");
  CHECK(fxp::io::detail::c_float_literal(0.1f) == "0.1f");
  CHECK(fxp::io::detail::c_float_literal(1e20f) == "1e+20f");
}

TEST_CASE("c_header: save is atomic and reports a bad path", "[io][c_header]") {
  temp_dir dir;
  fxp::io::c_header h("model");
  h.define("A", 1);
  write_text(dir / "model.h", "old");
  h.save(dir / "model.h");
  const auto bytes = fxp_test::read_bytes(dir / "model.h");
  CHECK(std::string(bytes.begin(), bytes.end()) == h.str());
  CHECK(dir.files() == std::vector<std::string>{"model.h"});
  const auto msg = fxp_test::thrown<fxp::io::file_error>([&] { h.save(dir / "missing" / "model.h"); });
  CHECK_THAT(msg, Contains("missing"));
}
