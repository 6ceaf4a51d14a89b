// SPDX-License-Identifier: MIT
#pragma once
// The checks of the quantize kernels, shared by the translation units that instantiate them
// for different formats and architectures (split so that they compile in parallel).

#include "support.hpp"

namespace fxp_test {

/// The key of the stochastic tests: arbitrary, with every word of seed and stream nonzero.
inline constexpr fxp::random_key test_key{0x1234567890ABCDEFull, 17, 42};

/// Element indices of in[0] worth trying: the start of a tensor, one where the Philox block
/// counter carries into its high word inside the array, and one where the 64-bit element
/// index wraps inside the array. Deterministic policies ignore the index.
template <class Round>
std::vector<std::uint64_t> first_indices() {
  if constexpr (fxp::deterministic_rounding<Round>) {
    return {0};
  } else {
    return {0, (std::uint64_t{4} << 32) - 130, std::uint64_t{0} - 600};
  }
}

/// fxp::simd::quantize_on<Arch, T, Round, Ops> against the scalar core.
template <class T, class Round, class Arch, class Ops>
void check_quantize(std::uint32_t seed) {
  // Formats of up to 32 bits must take the lane path, or these tests would only compare
  // the scalar core with itself.
  static_assert(T::width > 32 || fxp::simd::lane_target<T, Round, Arch>);
  for (const std::uint64_t first : first_indices<Round>()) {
    auto in = float_inputs<T>(1200, seed);
    if constexpr (std::is_same_v<typename T::overflow_policy, fxp::checked>) {
      drop_throwing<T, Round>(in, test_key, first, 0.0f);
    }
    std::vector<typename T::raw_type> expected(in.size());
    for (std::size_t j = 0; j < in.size(); ++j) {
      expected[j] = reference_element<T, Round>(in[j], test_key, first + j);
    }
    const std::string label = "quantize " + T::name() + " rounded by " + Round::name + " on " +
                              Arch::name() + (std::is_same_v<Ops, fxp::simd::native> ? "" : " (portable)") +
                              ", first index " + std::to_string(first);
    check_kernel<T, float>(
        in, fxp::simd::chunk_size<Arch>, first,
        [](const float* p, T* o, std::size_t n, std::uint64_t f) {
          fxp::simd::quantize_on<Arch, T, Round, Ops>(p, o, n, test_key, f);
        },
        expected, label);
  }
  // Many more random inputs in one call (cheap to run, unlike more instantiations).
  auto bulk = float_inputs<T>(20000, seed + 1);
  if constexpr (std::is_same_v<typename T::overflow_policy, fxp::checked>) {
    drop_throwing<T, Round>(bulk, test_key, 11, 0.0f);
  }
  std::vector<T> out(bulk.size());
  fxp::simd::quantize_on<Arch, T, Round, Ops>(bulk.data(), out.data(), bulk.size(), test_key, 11);
  for (std::size_t j = 0; j < bulk.size(); ++j) {
    const auto expected = reference_element<T, Round>(bulk[j], test_key, 11 + j);
    if (out[j].raw() != expected) {
      INFO("quantize " << T::name() << " rounded by " << Round::name << " on " << Arch::name()
                       << ", bulk element " << j << ", input " << describe(bulk[j]));
      CHECK(static_cast<long long>(out[j].raw()) == static_cast<long long>(expected));
      break;
    }
  }
}

/// Every rounding policy x every overflow policy of format Base (whose own policies are
/// replaced), on the default architecture (what fxp::quantize runs).
template <class Base>
void check_quantize_all_policies(std::uint32_t seed) {
  for_each_type(overflow_policies{}, [&](auto overflow) {
    using T = with_overflow<Base, typename decltype(overflow)::type>;
    for_each_type(rounding_policies{}, [&](auto rounding) {
      using Round = typename decltype(rounding)::type;
      check_quantize<T, Round, fxp::simd::default_arch, fxp::simd::native>(seed);
    });
  });
}

/// Every rounding policy under saturation, and wrap and checked each under two policies: the
/// paths of the lanes without the whole matrix (which the common formats run).
template <class Base, class Arch = fxp::simd::default_arch, class Ops = fxp::simd::native>
void check_quantize_main_policies(std::uint32_t seed) {
  for_each_type(rounding_policies{}, [&](auto rounding) {
    using Round = typename decltype(rounding)::type;
    check_quantize<with_overflow<Base, fxp::saturate>, Round, Arch, Ops>(seed);
  });
  check_quantize<with_overflow<Base, fxp::wrap>, fxp::nearest, Arch, Ops>(seed);
  check_quantize<with_overflow<Base, fxp::wrap>, fxp::stochastic, Arch, Ops>(seed);
  check_quantize<with_overflow<Base, fxp::checked>, fxp::nearest_even, Arch, Ops>(seed);
  check_quantize<with_overflow<Base, fxp::checked>, fxp::truncate, Arch, Ops>(seed);
}

}  // namespace fxp_test
