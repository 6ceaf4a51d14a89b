// SPDX-License-Identifier: MIT
// fxp::requantize (fixed -> fixed) against the scalar core, bit for bit: narrowing by a few
// bits, by more than 32 and by more than 64, widening with and without overflow, signed to
// unsigned and back, 32-bit unsigned sources (which do not fit int32 lanes), the identity,
// and a 64-bit source (the scalar fallback); every rounding policy under saturation, wrap and
// checked under two each.
#include "support.hpp"

#include <utility>

namespace {

using namespace fxp_test;

constexpr fxp::random_key key{0xA5A5A5A55A5A5A5Aull, 5, 77};

template <class From, class To, class Round, class Arch, class Ops>
void check_requantize(std::uint32_t seed) {
  static_assert(From::width > 32 || To::width > 32 || fxp::simd::lane_target<To, Round, Arch>);
  const std::uint64_t firsts[] = {0, std::uint64_t{0} - 333};
  for (const std::uint64_t first : firsts) {
    const auto raws = raw_inputs<From>(1200, seed);
    std::vector<From> in(raws.size());
    for (std::size_t i = 0; i < in.size(); ++i) in[i] = From::from_raw(raws[i]);
    if constexpr (std::is_same_v<typename To::overflow_policy, fxp::checked>) {
      drop_throwing<To, Round>(in, key, first, From{});
    }
    std::vector<typename To::raw_type> expected(in.size());
    for (std::size_t j = 0; j < in.size(); ++j) {
      expected[j] = reference_element<To, Round>(in[j], key, first + j);
    }
    const std::string label = "requantize " + From::name() + " -> " + To::name() + " rounded by " +
                              Round::name + " on " + Arch::name() +
                              (std::is_same_v<Ops, fxp::simd::native> ? "" : " (portable)");
    check_kernel<To, From>(
        in, fxp::simd::chunk_size<Arch>, first,
        [](const From* p, To* o, std::size_t n, std::uint64_t f) {
          fxp::simd::requantize_on<Arch, To, Round, From, Ops>(p, o, n, key, f);
        },
        expected, label);
  }
  // Many more random inputs in one call.
  const auto raws = raw_inputs<From>(20000, seed + 1);
  std::vector<From> bulk(raws.size());
  for (std::size_t i = 0; i < bulk.size(); ++i) bulk[i] = From::from_raw(raws[i]);
  if constexpr (std::is_same_v<typename To::overflow_policy, fxp::checked>) {
    drop_throwing<To, Round>(bulk, key, 3, From{});
  }
  std::vector<To> out(bulk.size());
  fxp::simd::requantize_on<Arch, To, Round, From, Ops>(bulk.data(), out.data(), bulk.size(), key, 3);
  for (std::size_t j = 0; j < bulk.size(); ++j) {
    const auto expected = reference_element<To, Round>(bulk[j], key, 3 + j);
    if (out[j].raw() != expected) {
      INFO("requantize " << From::name() << " -> " << To::name() << " rounded by " << Round::name
                         << " on " << Arch::name() << ", bulk element " << j << ", raw "
                         << static_cast<long long>(raws[j]));
      CHECK(static_cast<long long>(out[j].raw()) == static_cast<long long>(expected));
      break;
    }
  }
}

/// Every rounding policy under saturation, and wrap and checked each under two policies.
template <class From, class ToBase>
void check_main_policies(std::uint32_t seed) {
  using arch = fxp::simd::default_arch;
  using native = fxp::simd::native;
  for_each_type(rounding_policies{}, [&](auto rounding) {
    using Round = typename decltype(rounding)::type;
    check_requantize<From, with_overflow<ToBase, fxp::saturate>, Round, arch, native>(seed);
  });
  check_requantize<From, with_overflow<ToBase, fxp::wrap>, fxp::nearest, arch, native>(seed);
  check_requantize<From, with_overflow<ToBase, fxp::wrap>, fxp::stochastic, arch, native>(seed);
  check_requantize<From, with_overflow<ToBase, fxp::checked>, fxp::nearest_even, arch, native>(seed);
  check_requantize<From, with_overflow<ToBase, fxp::checked>, fxp::truncate, arch, native>(seed);
}

template <class From, class To>
struct conversion {
  using from = From;
  using to = To;
};

}  // namespace

TEMPLATE_TEST_CASE("requantize matches the scalar core", "[simd][requantize]",
                   (conversion<fxp::fixed<4, 12>, fxp::fixed<1, 7>>),
                   (conversion<fxp::fixed<16, 16>, fxp::fixed<4, 12>>),
                   (conversion<fxp::fixed<-2, 10>, fxp::fixed<1, 7>>),
                   (conversion<fxp::fixed<1, 7>, fxp::fixed<4, 12>>),
                   (conversion<fxp::fixed<8, 8>, fxp::fixed<1, 15>>),
                   (conversion<fxp::fixed<2, 30>, fxp::fixed<12, -4>>),
                   (conversion<fxp::fixed<2, 30>, fxp::ufixed<0, 8>>),
                   (conversion<fxp::fixed<1, 31>, fxp::fixed<70, -60>>),
                   (conversion<fxp::fixed<1, 15>, fxp::fixed<-60, 70>>),
                   (conversion<fxp::ufixed<8, 8>, fxp::fixed<1, 7>>),
                   (conversion<fxp::ufixed<32, 0>, fxp::fixed<8, 0>>),
                   (conversion<fxp::ufixed<1, 31>, fxp::ufixed<0, 8>>),
                   (conversion<fxp::ufixed<32, 0>, fxp::ufixed<33, -1>>),
                   (conversion<fxp::ufixed<32, 0>, fxp::ufixed<32, 0>>),
                   (conversion<fxp::fixed<16, 16>, fxp::fixed<16, 16>>),
                   (conversion<fxp::fixed<2, 30>, fxp::fixed<2, 30>>),
                   (conversion<fxp::fixed<8, 56>, fxp::fixed<1, 7>>),
                   (conversion<fxp::fixed<1, 7>, fxp::fixed<24, 40>>)) {
  check_main_policies<typename TestType::from, typename TestType::to>(31u);
}

TEST_CASE("requantize is the same on every architecture", "[simd][requantize][arch]") {
  for_each_arch([]<class Arch>() {
    const auto both = [&]<class Ops>() {
      check_requantize<fxp::fixed<4, 12>, fxp::fixed<1, 7>, fxp::stochastic, Arch, Ops>(3);
      check_requantize<fxp::fixed<4, 12>, fxp::fixed<1, 7, fxp::nearest, fxp::wrap>,
                       fxp::nearest_even, Arch, Ops>(4);
      check_requantize<fxp::fixed<1, 7>, fxp::fixed<3, 12, fxp::nearest, fxp::checked>,
                       fxp::nearest, Arch, Ops>(5);
      check_requantize<fxp::ufixed<8, 8>, fxp::ufixed<12, 4, fxp::nearest, fxp::saturate>,
                       fxp::toward_zero, Arch, Ops>(6);
      check_requantize<fxp::ufixed<32, 0>, fxp::ufixed<33, -1, fxp::nearest, fxp::saturate>,
                       fxp::nearest, Arch, Ops>(7);
      check_requantize<fxp::fixed<2, 30>, fxp::fixed<12, -4>, fxp::stochastic, Arch, Ops>(8);
    };
    both.template operator()<fxp::simd::native>();
    both.template operator()<fxp::simd::portable>();
  });
}
