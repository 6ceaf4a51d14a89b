// SPDX-License-Identifier: MIT
// The public array kernels (fxp::quantize, requantize, dequantize) and the random words of
// the NN stack (fill_words) on every instruction-set path this build and processor can run,
// chosen through fxp::simd::force_isa: the same bits as the scalar core on each. In a build
// without -march flags these are the SSE2 path and the AVX2 and AVX-512 target regions; in
// a build whose flags fix the instruction set, that one path.
#include "support.hpp"

#include <vector>

namespace {

using namespace fxp_test;

constexpr fxp::random_key key{0x0123456789ABCDEFull, 3, 9};

/// The paths force_isa accepts here.
std::vector<fxp::simd::isa> runnable_paths() {
  std::vector<fxp::simd::isa> paths;
  for (const auto i : {fxp::simd::isa::portable, fxp::simd::isa::avx2, fxp::simd::isa::avx512}) {
    const bool runs =
        fxp::simd::dispatches ? fxp::simd::isa_supported(i) : i == fxp::simd::active_isa();
    if (runs) paths.push_back(i);
  }
  return paths;
}

template <class T, class Round>
void check_quantize_path(const std::string& path, std::uint32_t seed) {
  // Lengths that leave heads and tails around whole chunks of every width, and a first
  // index off a Philox block boundary.
  for (const std::size_t n :
       {std::size_t{1}, std::size_t{63}, std::size_t{64}, std::size_t{257}, std::size_t{5000}}) {
    auto in = float_inputs<T>(n, seed, /*finite=*/true);
    if constexpr (std::is_same_v<typename T::overflow_policy, fxp::checked>) {
      drop_throwing<T, Round>(in, key, 7, 0.0f);
    }
    std::vector<T> out(in.size());
    fxp::quantize<T, Round>(in.data(), out.data(), in.size(), key, 7);
    for (std::size_t j = 0; j < in.size(); ++j) {
      const auto expected = reference_element<T, Round>(in[j], key, 7 + j);
      if (out[j].raw() != expected) {
        INFO("fxp::quantize " << T::name() << " by " << Round::name << " on the " << path
                              << " path, n = " << n << ", element " << j << ", input "
                              << describe(in[j]));
        CHECK(static_cast<long long>(out[j].raw()) == static_cast<long long>(expected));
        return;
      }
    }
  }
}

template <class From, class To, class Round>
void check_requantize_path(const std::string& path, std::uint32_t seed) {
  const auto raws = raw_inputs<From>(3000, seed);
  std::vector<From> in(raws.size());
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = From::from_raw(raws[i]);
  std::vector<To> out(in.size());
  std::vector<float> back(in.size());
  fxp::requantize<To, Round>(in.data(), out.data(), in.size(), key, 5);
  fxp::dequantize(in.data(), back.data(), in.size());
  for (std::size_t j = 0; j < in.size(); ++j) {
    const auto expected = reference_element<To, Round>(in[j], key, 5 + j);
    INFO("fxp::requantize and dequantize " << From::name() << " -> " << To::name() << " by "
                                           << Round::name << " on the " << path << " path, element "
                                           << j << ", raw " << static_cast<long long>(raws[j]));
    if (out[j].raw() != expected) {
      CHECK(static_cast<long long>(out[j].raw()) == static_cast<long long>(expected));
      return;
    }
    if (bits_of(back[j]) != bits_of(static_cast<float>(in[j]))) {
      CHECK(describe(back[j]) == describe(static_cast<float>(in[j])));
      return;
    }
  }
}

}  // namespace

TEST_CASE("the array kernels give the scalar core's bits on every path", "[simd][isa]") {
  const fxp::simd::isa initial = fxp::simd::active_isa();
  const std::vector<fxp::simd::isa> paths = runnable_paths();
  REQUIRE(!paths.empty());
  for (const fxp::simd::isa path : paths) {
    fxp::simd::force_isa(path);
    REQUIRE(fxp::simd::active_isa() == path);
    const std::string name(fxp::simd::isa_name(path));
    check_quantize_path<fxp::fixed<1, 7>, fxp::nearest>(name, 1);
    check_quantize_path<fxp::fixed<1, 7>, fxp::stochastic>(name, 2);
    check_quantize_path<fxp::fixed<1, 7, fxp::nearest, fxp::checked>, fxp::truncate>(name, 3);
    check_quantize_path<fxp::fixed<4, 12, fxp::nearest, fxp::wrap>, fxp::nearest_even>(name, 4);
    check_quantize_path<fxp::ufixed<8, 8>, fxp::stochastic>(name, 5);
    check_quantize_path<fxp::fixed<2, 30>, fxp::toward_zero>(name, 6);
    check_quantize_path<fxp::fixed<32, 0>, fxp::stochastic>(name, 7);  // the NN's integer sums
    check_requantize_path<fxp::fixed<4, 12>, fxp::fixed<1, 7>, fxp::stochastic>(name, 8);
    check_requantize_path<fxp::fixed<8, 8>, fxp::ufixed<4, 4>, fxp::nearest>(name, 9);
    check_requantize_path<fxp::fixed<16, 16>, fxp::fixed<3, 13>, fxp::nearest_even>(name, 10);

    // The random words of consecutive elements, from any first element.
    for (const std::uint64_t first : {std::uint64_t{0}, std::uint64_t{3}, std::uint64_t{0} - 700}) {
      std::vector<std::uint32_t> words(2000);
      fxp::simd::detail::fill_words(key, first, words.size(), words.data());
      for (std::size_t k = 0; k < words.size(); ++k) {
        if (words[k] != key.word(first + k)) {
          INFO("fill_words on the " << name << " path, first " << first << ", word " << k);
          CHECK(words[k] == key.word(first + k));
          break;
        }
      }
    }
  }
  fxp::simd::force_isa(initial);
}
