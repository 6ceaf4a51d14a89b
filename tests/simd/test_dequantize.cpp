// SPDX-License-Identifier: MIT
// fxp::dequantize (fixed -> float) gives exactly static_cast<float>(x), bit for bit: formats
// of up to 24 bits (exact), 25-32 bits (rounded once), 32-bit unsigned raws, scales that
// underflow or overflow float, a 64-bit format (the scalar fallback), on every architecture.
#include "support.hpp"

namespace {

using namespace fxp_test;

template <class From, class Arch, class Ops>
void check_dequantize() {
  const auto raws = raw_inputs<From>(1100, 41);
  std::vector<From> in(raws.size());
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = From::from_raw(raws[i]);
  constexpr std::size_t guard = 70;
  const std::size_t offsets[][2] = {{0, 0}, {1, 3}, {3, 1}};
  const float sentinel = -12345.5f;
  for (const std::size_t n : sizes_around(fxp::simd::chunk_size<Arch>)) {
    for (const auto& offset : offsets) {
      std::vector<float> out(offset[1] + n + guard, sentinel);
      fxp::simd::dequantize_on<Arch, From, Ops>(in.data() + offset[0], out.data() + offset[1], n);
      for (std::size_t i = 0; i < out.size(); ++i) {
        const bool inside = i >= offset[1] && i < offset[1] + n;
        const float expected = inside ? static_cast<float>(in[offset[0] + i - offset[1]]) : sentinel;
        if (bits_of(out[i]) != bits_of(expected)) {
          INFO("dequantize " << From::name() << " on " << Arch::name() << ", n = " << n
                             << ", element " << i << ", raw "
                             << (inside ? static_cast<long long>(in[offset[0] + i - offset[1]].raw()) : 0));
          CHECK(describe(out[i]) == describe(expected));
          return;
        }
      }
    }
  }
}

template <class Arch, class Ops>
void check_formats() {
  check_dequantize<fxp::fixed<1, 7>, Arch, Ops>();
  check_dequantize<fxp::fixed<4, 12>, Arch, Ops>();
  check_dequantize<fxp::ufixed<8, 8>, Arch, Ops>();
  check_dequantize<fxp::ufixed<0, 8>, Arch, Ops>();
  check_dequantize<fxp::fixed<12, -4>, Arch, Ops>();
  check_dequantize<fxp::fixed<16, 16>, Arch, Ops>();
  check_dequantize<fxp::fixed<2, 30>, Arch, Ops>();
  check_dequantize<fxp::ufixed<32, 0>, Arch, Ops>();
  check_dequantize<fxp::ufixed<1, 31>, Arch, Ops>();
  check_dequantize<fxp::ufixed<25, 0>, Arch, Ops>();
  check_dequantize<fxp::fixed<-120, 140>, Arch, Ops>();
  check_dequantize<fxp::fixed<130, -110>, Arch, Ops>();
  check_dequantize<fxp::fixed<20, 20>, Arch, Ops>();
  // Beyond float's exact scalings: the scalar path (its rounding is tested in tests/core).
  check_dequantize<fxp::fixed<-140, 150>, Arch, Ops>();
  check_dequantize<fxp::fixed<-97, 127>, Arch, Ops>();
  check_dequantize<fxp::fixed<140, -130>, Arch, Ops>();
}

}  // namespace

TEST_CASE("dequantize is static_cast<float>, bit for bit", "[simd][dequantize]") {
  for_each_arch([]<class Arch>() {
    check_formats<Arch, fxp::simd::native>();
    check_formats<Arch, fxp::simd::portable>();
  });
}

TEST_CASE("fxp::dequantize runs the default architecture", "[simd][dequantize]") {
  std::vector<fxp::fixed<1, 7>> in(300);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = fxp::fixed<1, 7>::from_raw(static_cast<std::int8_t>(i));
  std::vector<float> out(in.size());
  fxp::dequantize(in.data(), out.data(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    REQUIRE(out[i] == static_cast<float>(static_cast<std::int8_t>(i)) / 128.0f);
  }
}
