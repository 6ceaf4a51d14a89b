// SPDX-License-Identifier: MIT
// Errors of the kernels are those of the scalar loop, at the same element: a NaN throws
// std::domain_error, an out-of-range value (an infinity too) under fxp::checked throws
// fxp::overflow_error; the elements before it hold their results, those after are untouched.
#include "support.hpp"

#include <limits>
#include <stdexcept>

namespace {

using namespace fxp_test;

template <class Exception, class T, class Round, class Arch, class Ops>
void check_throws_at(std::vector<float> in, std::size_t bad, float bad_value) {
  const fxp::random_key key{9, 8, 7};
  in[bad] = bad_value;
  using raw_type = typename T::raw_type;
  const auto sentinel = static_cast<raw_type>(0x33);
  std::vector<T> out(in.size(), T::from_raw(sentinel));
  INFO(T::name() << " on " << Arch::name() << ", bad element " << bad << " of " << in.size()
                 << " = " << describe(bad_value));
  CHECK_THROWS_AS((fxp::simd::quantize_on<Arch, T, Round, Ops>(in.data(), out.data(), in.size(), key, 5)),
                  Exception);
  for (std::size_t i = 0; i < in.size(); ++i) {
    const raw_type expected = i < bad ? reference_element<T, Round>(in[i], key, 5 + i) : sentinel;
    if (out[i].raw() != expected) {
      INFO("element " << i);
      CHECK(static_cast<long long>(out[i].raw()) == static_cast<long long>(expected));
      return;
    }
  }
}

template <class Arch, class Ops>
void check_errors() {
  using checked = fxp::fixed<4, 12, fxp::nearest, fxp::checked>;
  using saturating = fxp::fixed<4, 12, fxp::nearest, fxp::saturate>;
  using wrapping = fxp::ufixed<8, 8, fxp::nearest, fxp::wrap>;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  constexpr std::size_t chunk = fxp::simd::chunk_size<Arch>;
  const std::size_t n = 3 * chunk + 7;
  std::vector<float> in(n);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> in_range(-7.0f, 7.0f);
  for (auto& x : in) x = in_range(rng);
  // In the head, first and later chunks (first, middle and last lanes), and the tail.
  const std::size_t positions[] = {0, 2, 3, 4, chunk / 2, chunk + 1, 2 * chunk - 1, 2 * chunk + 3, n - 1};
  for (const std::size_t bad : positions) {
    check_throws_at<std::domain_error, saturating, fxp::nearest, Arch, Ops>(in, bad, nan);
    check_throws_at<std::domain_error, wrapping, fxp::stochastic, Arch, Ops>(in, bad, -nan);
    check_throws_at<std::domain_error, checked, fxp::truncate, Arch, Ops>(in, bad, nan);
    check_throws_at<fxp::overflow_error, checked, fxp::nearest, Arch, Ops>(in, bad, 8.0f);
    check_throws_at<fxp::overflow_error, checked, fxp::stochastic, Arch, Ops>(in, bad, -inf);
    check_throws_at<fxp::overflow_error, checked, fxp::nearest, Arch, Ops>(in, bad, 1e30f);
    // Rounding up past the top is an overflow too: 8 - 2^-13 rounds to 8 by nearest.
    check_throws_at<fxp::overflow_error, checked, fxp::nearest, Arch, Ops>(in, bad, 8.0f - 0x1p-13f);
  }
  // The first error wins: an overflow before a NaN throws the overflow.
  std::vector<float> both = in;
  both[chunk + 2] = 100.0f;
  check_throws_at<fxp::overflow_error, checked, fxp::nearest, Arch, Ops>(both, chunk + 2, 100.0f);
  both[chunk + 5] = nan;
  std::vector<checked> out(n);
  CHECK_THROWS_AS((fxp::simd::quantize_on<Arch, checked, fxp::nearest, Ops>(both.data(), out.data(), n)),
                  fxp::overflow_error);
}

}  // namespace

TEST_CASE("quantize throws where the scalar loop throws, having written the elements before",
          "[simd][errors]") {
  for_each_arch([]<class Arch>() {
    check_errors<Arch, fxp::simd::native>();
    check_errors<Arch, fxp::simd::portable>();
  });
}

TEST_CASE("requantize under checked throws at the first overflowing element", "[simd][errors]") {
  using from = fxp::fixed<8, 8>;
  using to = fxp::fixed<4, 4, fxp::nearest, fxp::checked>;
  const std::size_t n = 300;
  std::vector<from> in(n);
  for (std::size_t i = 0; i < n; ++i) in[i] = from(static_cast<double>(i % 13) * 0.5 - 3.0);
  for (const std::size_t bad : {std::size_t{0}, std::size_t{40}, std::size_t{130}, n - 1}) {
    std::vector<from> input = in;
    input[bad] = from(-100.0);
    std::vector<to> out(n, to::from_raw(0x11));
    CHECK_THROWS_AS(fxp::requantize(input.data(), out.data(), n), fxp::overflow_error);
    for (std::size_t i = 0; i < n; ++i) {
      const auto expected = i < bad ? fxp::fixed_cast<to>(input[i]).raw() : static_cast<std::int8_t>(0x11);
      REQUIRE(static_cast<int>(out[i].raw()) == static_cast<int>(expected));
    }
  }
}
