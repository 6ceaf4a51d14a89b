// SPDX-License-Identifier: MIT
// Tests of fxp::gemm (include/fxp/simd/gemm.hpp): every kernel compiled in that this
// processor runs (portable, AVX2, AVX2-VNNI, AVX-512), and the run-time choice among them,
// against exact 128-bit reference sums rounded by the core's fixed_cast, on random shapes (1, odd, several reduction blocks), all four transpose
// variants, a spread of operand formats (8- and 16-bit whole and split, unsigned, wider
// than 16 bits, negative integer bits), every rounding policy and every overflow policy;
// extreme values that need the full accumulator; float against a double reference; thread
// counts; stochastic reproducibility, with a key or drawn without one; fxp::max_k; errors.

#include <fxp/simd/gemm.hpp>
#include <fxp/simd/isa.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "../keyless_calls.hpp"
#include "reference.hpp"

namespace {

using fxp::transpose;
using fxp_test::i128;
namespace d = fxp::simd::detail;

constexpr transpose transposes[][2] = {{transpose::no, transpose::no},
                                       {transpose::yes, transpose::no},
                                       {transpose::no, transpose::yes},
                                       {transpose::yes, transpose::yes}};

struct shape {
  std::size_t m, n, k;
};

/// A 1 x 1 x 1 product, then random shapes with odd sizes and k past one reduction block.
std::vector<shape> test_shapes(std::mt19937_64& rng) {
  std::vector<shape> shapes{{1, 1, 1}, {1, 67, 700}};
  std::uniform_int_distribution<std::size_t> m(1, 37);
  std::uniform_int_distribution<std::size_t> n(1, 70);
  std::uniform_int_distribution<std::size_t> k(1, 600);
  for (int i = 0; i < 2; ++i) shapes.push_back({m(rng), n(rng), k(rng)});
  return shapes;
}

/// Runs one GEMM on every instruction set and compares each with the reference
/// roundings of `sums`; when the reference throws (checked overflow), requires the GEMM to
/// throw.
template <class C, class Round, std::size_t MaxK, class A, class B>
void check_against(transpose ta, transpose tb, const shape& s, const std::vector<A>& a,
                   std::size_t lda, const std::vector<B>& b, std::size_t ldb,
                   const std::vector<i128>& sums, const fxp::random_key& key,
                   std::uint64_t first = 0) {
  using sum_type = fxp::gemm_sum_t<A, B, MaxK>;
  std::vector<C> expected;
  const bool defined = fxp_test::expected_values<C, Round, sum_type>(sums, key, first, expected);
  for (const auto& variant : fxp_test::gemm_variants<C, Round, MaxK, A, B>()) {
    const char* isa = variant.first;
    const auto gemm = variant.second;  // (a structured binding: clang 14 cannot capture it)
    INFO("isa " << isa << ", " << A::name() << " x " << B::name() << " -> " << C::name()
                << " rounded " << Round::name << ", m n k = " << s.m << " " << s.n << " "
                << s.k << ", transposes " << int(ta) << int(tb));
    // Ragged ldc: C is a view into a wider matrix whose extra columns must stay untouched.
    const std::size_t ldc = s.n + 3;
    std::vector<C> c(s.m * ldc, C::from_raw(1));
    const auto run = [&] {
      gemm(ta, tb, s.m, s.n, s.k, a.data(), lda, b.data(), ldb, c.data(), ldc, key, first);
    };
    if (!defined) {
      REQUIRE_THROWS_AS(run(), fxp::overflow_error);
      continue;
    }
    run();
    std::vector<C> got(s.m * s.n);
    bool margins_untouched = true;
    for (std::size_t i = 0; i < s.m; ++i) {
      for (std::size_t j = 0; j < s.n; ++j) got[i * s.n + j] = c[i * ldc + j];
      for (std::size_t j = s.n; j < ldc; ++j) margins_untouched &= c[i * ldc + j].raw() == 1;
    }
    REQUIRE(margins_untouched);
    REQUIRE(fxp_test::raws(got.data(), got.size()) ==
            fxp_test::raws(expected.data(), expected.size()));
  }
}

/// The whole matrix of checks for one operand / output format triple.
template <class A, class B, class C, std::size_t MaxK = fxp::gemm_default_max_k>
void check_formats(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const fxp::random_key key{seed, 7, 3};
  for (const shape& s : test_shapes(rng)) {
    for (const auto& t : transposes) {
      const transpose ta = t[0];
      const transpose tb = t[1];
      // Stored shapes, with leading dimensions wider than the rows they hold.
      const std::size_t lda = (ta == transpose::no ? s.k : s.m) + 2;
      const std::size_t ldb = (tb == transpose::no ? s.n : s.k) + 1;
      const auto a = fxp_test::random_fixed<A>((ta == transpose::no ? s.m : s.k) * lda, rng);
      const auto b = fxp_test::random_fixed<B>((tb == transpose::no ? s.k : s.n) * ldb, rng);
      const auto sums = fxp_test::exact_products(ta, tb, s.m, s.n, s.k, a, lda, b, ldb);
      fxp_test::for_each_rounding([&](auto round) {
        using Round = typename decltype(round)::type;
        check_against<C, Round, MaxK>(ta, tb, s, a, lda, b, ldb, sums, key);
      });
      using wrapping = fxp_test::with_overflow<C, fxp::wrap>;
      using checking = fxp_test::with_overflow<C, fxp::checked>;
      check_against<wrapping, fxp::nearest, MaxK>(ta, tb, s, a, lda, b, ldb, sums, key);
      check_against<wrapping, fxp::stochastic, MaxK>(ta, tb, s, a, lda, b, ldb, sums, key);
      check_against<checking, fxp::nearest_even, MaxK>(ta, tb, s, a, lda, b, ldb, sums, key);
      check_against<checking, fxp::truncate, MaxK>(ta, tb, s, a, lda, b, ldb, sums, key);
    }
  }
}

}  // namespace

TEST_CASE("the native kernels are the best the build targets", "[gemm]") {
#if defined(FXP_TEST_EXPECT_PORTABLE)
  STATIC_REQUIRE(std::is_same_v<d::native_isa, d::portable_isa>);
#endif
  // What the compiler's macros promise, restated here apart from gemm_kernels.hpp (every
  // AVX-512F processor has FMA). tests/gemm/isa_selection.cpp checks the targets this
  // host cannot run; this checks the one the tests run.
#if defined(__GNUC__) && defined(__x86_64__) && defined(__AVX2__) && \
    (defined(__FMA__) || defined(__AVX512F__))
  constexpr bool avx2 = true;
#else
  constexpr bool avx2 = false;
#endif
#if defined(__AVXVNNI__) || (defined(__AVX512VNNI__) && defined(__AVX512VL__))
  constexpr bool vnni_256 = avx2;
#else
  constexpr bool vnni_256 = false;
#endif
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
  constexpr bool avx512 = avx2;
#else
  constexpr bool avx512 = false;
#endif
  using promised = std::conditional_t<
      avx512, d::avx512_isa,
      std::conditional_t<vnni_256, d::avx2_vnni_isa,
                         std::conditional_t<avx2, d::avx2_isa, d::portable_isa>>>;
  INFO("fxp::gemm runs the " << d::native_isa::name << " kernels; the compiler targets "
                             << promised::name);
  STATIC_REQUIRE(std::is_same_v<d::native_isa, promised>);
  STATIC_REQUIRE(fxp::simd::dispatches == std::is_same_v<promised, d::portable_isa>);
  // The x86 kernels are compiled in whatever the flags (target regions), vpdpwssd on
  // 256-bit registers only where the flags choose its encoding.
#if defined(__GNUC__) && defined(__x86_64__)
  constexpr bool regions = true;
#else
  constexpr bool regions = false;
#endif
  STATIC_REQUIRE(d::isa_available<d::avx2_isa> == regions);
  STATIC_REQUIRE(d::isa_available<d::avx2_vnni_isa> == vnni_256);
  STATIC_REQUIRE(d::isa_available<d::avx512_isa> == regions);
  STATIC_REQUIRE(d::has_split_kernel<d::native_isa> == avx512);
#if defined(__GNUC__) && defined(__x86_64__)
  // The processor running the tests has every set the flags promise (else they would die
  // of an illegal instruction, not fail).
  if constexpr (avx2) {
    CHECK(__builtin_cpu_supports("avx2"));
    CHECK((__builtin_cpu_supports("fma") || __builtin_cpu_supports("avx512f")));
  }
  if constexpr (avx512) {
    CHECK(__builtin_cpu_supports("avx512f"));
    CHECK(__builtin_cpu_supports("avx512bw"));
    CHECK(__builtin_cpu_supports("avx512vnni"));
  }
#if defined(__AVXVNNI__) && !defined(__clang__)  // clang 14 does not name avxvnni here
  CHECK(__builtin_cpu_supports("avxvnni"));
#endif
#endif
}

TEST_CASE("fxp::gemm runs active_isa()'s kernels, and each forced path gives the same bits",
          "[gemm][isa]") {
  namespace s = fxp::simd;
  constexpr s::isa every[] = {s::isa::portable, s::isa::avx2, s::isa::avx512};
  CHECK(s::parse_isa("avx2") == s::isa::avx2);
  CHECK(s::parse_isa("AVX2") == std::nullopt);
  CHECK(s::parse_isa("") == std::nullopt);
  for (const s::isa i : every) CHECK(s::parse_isa(s::isa_name(i)) == i);
  CHECK(s::isa_supported(s::isa::portable));
  CHECK(s::isa_supported(s::best_isa()));
  // Which tag fxp::gemm hands its kernels: the dispatcher itself.
  const auto tag_name = [] {
    return d::on_active_isa([]<class Isa>(Isa) { return std::string(Isa::name); });
  };
  if constexpr (!s::dispatches) {
    CHECK(s::active_isa() == s::detail::native_path());
    CHECK(tag_name() == d::native_isa::name);
    for (const s::isa i : every) {
      if (i == s::active_isa()) {
        CHECK_NOTHROW(s::force_isa(i));
      } else {
        CHECK_THROWS_AS(s::force_isa(i), std::invalid_argument);
      }
    }
    return;
  }
  // A dispatching build: the first call reads FXP_ISA (the CTest tests
  // test_gemm_portable.fxp_isa_* set it), else takes the best set this processor runs.
  const char* const env = std::getenv("FXP_ISA");
  const std::string named = env == nullptr ? "" : env;
  INFO("FXP_ISA=" << named);
  if (!named.empty() && !(s::parse_isa(named) && s::isa_supported(*s::parse_isa(named)))) {
    CHECK_THROWS_AS(s::active_isa(), std::invalid_argument);
    return;
  }
  const s::isa first = s::active_isa();
  CHECK(first == (named.empty() ? s::best_isa() : *s::parse_isa(named)));
  // 8-bit operands into 12 bits, nearest, and dyadic floats (exact on every path), against
  // the portable kernels called directly.
  using A = fxp::fixed<1, 7>;
  using C = fxp::fixed<4, 8>;
  constexpr std::size_t m = 13, n = 37, k = 301;
  std::mt19937_64 rng(21);
  const auto a = fxp_test::random_fixed<A>(m * k, rng);
  const auto b = fxp_test::random_fixed<A>(k * n, rng);
  const auto fa = fxp_test::dyadic_floats(m * k, rng);
  const auto fb = fxp_test::dyadic_floats(k * n, rng);
  std::vector<C> expected(m * n);
  std::vector<float> expected_float(m * n);
  d::gemm_fixed<d::portable_isa, C, fxp::nearest, fxp::gemm_default_max_k>(
      transpose::no, transpose::no, m, n, k, a.data(), k, b.data(), n, expected.data(), n, {}, 0);
  d::gemm_float<d::portable_isa>(transpose::no, transpose::no, m, n, k, fa.data(), k, fb.data(),
                                 n, expected_float.data(), n);
  for (const s::isa i : every) {
    INFO("forced " << s::isa_name(i));
    if (!s::isa_supported(i)) {
      CHECK_THROWS_AS(s::force_isa(i), std::invalid_argument);
      continue;
    }
    s::force_isa(i);
    CHECK(s::active_isa() == i);
    CHECK(tag_name() == s::isa_name(i));
    std::vector<C> c(m * n);
    std::vector<float> fc(m * n);
    fxp::gemm<C>(transpose::no, transpose::no, m, n, k, a.data(), k, b.data(), n, c.data(), n);
    fxp::gemm(transpose::no, transpose::no, m, n, k, fa.data(), k, fb.data(), n, fc.data(), n);
    CHECK(fxp_test::raws(c.data(), c.size()) == fxp_test::raws(expected.data(), expected.size()));
    CHECK(fc == expected_float);
  }
  s::force_isa(first);
}

TEST_CASE("the accumulator and the exact-sum format follow the operand widths and MaxK",
          "[gemm]") {
  using s8 = fxp::fixed<1, 7>;
  using u8 = fxp::ufixed<0, 8>;
  using s16 = fxp::fixed<1, 15>;
  // 8 x 8 bits: |product| <= 2^14, so 2^17 - 1 products fit int32, 2^17 do not.
  STATIC_REQUIRE(std::is_same_v<fxp::gemm_accumulator_t<s8, s8, 131071>, std::int32_t>);
  STATIC_REQUIRE(std::is_same_v<fxp::gemm_accumulator_t<s8, s8, 131072>, std::int64_t>);
  STATIC_REQUIRE(std::is_same_v<fxp::gemm_accumulator_t<s8, s8>, std::int64_t>);
  // Products of 8-bit unsigned and signed reach 255 * -128 = -32640: 65793 sums fit int32.
  STATIC_REQUIRE(std::is_same_v<fxp::gemm_accumulator_t<u8, s8, 65793>, std::int32_t>);
  STATIC_REQUIRE(std::is_same_v<fxp::gemm_accumulator_t<u8, s8, 65794>, std::int64_t>);
  STATIC_REQUIRE(std::is_same_v<fxp::gemm_accumulator_t<s16, s16, 1>, std::int32_t>);
  STATIC_REQUIRE(std::is_same_v<fxp::gemm_accumulator_t<s16, s16, 2>, std::int64_t>);
  // result_t<mul> = fixed<2,14>, widened by ceil(log2(MaxK)) integer bits.
  STATIC_REQUIRE(std::is_same_v<fxp::gemm_sum_t<s8, s8, 1000>, fxp::fixed<12, 14>>);
  STATIC_REQUIRE(std::is_same_v<fxp::gemm_sum_t<s8, s8>, fxp::fixed<22, 14>>);
  STATIC_REQUIRE(std::is_same_v<fxp::gemm_sum_t<u8, u8, 1>, fxp::ufixed<0, 16>>);
  // 16 x 16 bits would overflow the int32 partial sums after one product: one operand is
  // split into bytes. 8 x 8 bits and 16 x 8 bits stay whole.
  STATIC_REQUIRE(d::int16_plan<s16, s16>::split_a != d::int16_plan<s16, s16>::split_b);
  STATIC_REQUIRE(!d::int16_plan<s8, s8>::split_a && !d::int16_plan<s8, s8>::split_b);
  STATIC_REQUIRE(!d::int16_plan<s16, s8>::split_a && !d::int16_plan<s16, s8>::split_b);
  // An unsigned 16-bit operand does not fit int16 lanes whole.
  STATIC_REQUIRE(d::int16_plan<fxp::ufixed<0, 16>, s8>::split_a);
  STATIC_REQUIRE(!d::int16_plan<fxp::fixed<8, 24>, s8>::usable);
}

TEST_CASE("gemm 8 x 8 bits: fixed<1,7> x fixed<1,7>", "[gemm]") {
  check_formats<fxp::fixed<1, 7>, fxp::fixed<1, 7>, fxp::fixed<4, 8>>(1);
}
TEST_CASE("gemm unsigned x signed 8 bits: ufixed<0,8> x fixed<1,7>", "[gemm]") {
  check_formats<fxp::ufixed<0, 8>, fxp::fixed<1, 7>, fxp::fixed<3, 9>>(2);
}
TEST_CASE("gemm 16 x 16 bits (one operand split): fixed<4,12> x fixed<1,15>", "[gemm]") {
  check_formats<fxp::fixed<4, 12>, fxp::fixed<1, 15>, fxp::fixed<6, 10>>(3);
}
TEST_CASE("gemm 15 x 16 bits (the wider B split): fixed<2,13> x fixed<1,15>", "[gemm]") {
  using a15 = fxp::fixed<2, 13>;
  using b16 = fxp::fixed<1, 15>;
  STATIC_REQUIRE(!d::int16_plan<a15, b16>::split_a && d::int16_plan<a15, b16>::split_b);
  check_formats<a15, b16, fxp::fixed<5, 11>>(11);
}
TEST_CASE("gemm mixed 8 bits to an integer format: fixed<2,6> x ufixed<4,4>", "[gemm]") {
  check_formats<fxp::fixed<2, 6>, fxp::ufixed<4, 4>, fxp::fixed<8, 0>>(4);
}
TEST_CASE("gemm unsigned 16 x 16 bits (both split): ufixed<0,16> x ufixed<8,8>", "[gemm]") {
  check_formats<fxp::ufixed<0, 16>, fxp::ufixed<8, 8>, fxp::ufixed<12, 12>>(5);
}
TEST_CASE("gemm 16 x 8 bits: fixed<1,15> x fixed<1,7>", "[gemm]") {
  check_formats<fxp::fixed<1, 15>, fxp::fixed<1, 7>, fxp::fixed<1, 15>>(6);
}
TEST_CASE("gemm wider than 16 bits (int64 lanes): fixed<8,24> x fixed<2,6>", "[gemm]") {
  check_formats<fxp::fixed<8, 24>, fxp::fixed<2, 6>, fxp::fixed<12, 20>>(7);
}
TEST_CASE("gemm negative integer bits: fixed<-2,10> x fixed<3,5>", "[gemm]") {
  check_formats<fxp::fixed<-2, 10>, fxp::fixed<3, 5>, fxp::fixed<2, 14>>(8);
}
TEST_CASE("gemm widening output (nothing discarded): ufixed<3,5> x ufixed<2,6>", "[gemm]") {
  check_formats<fxp::ufixed<3, 5>, fxp::ufixed<2, 6>, fxp::ufixed<6, 13>>(9);
}
TEST_CASE("gemm with int32 accumulators (MaxK = 4096): fixed<1,7> x ufixed<0,8>", "[gemm]") {
  using A = fxp::fixed<1, 7>;
  using B = fxp::ufixed<0, 8>;
  STATIC_REQUIRE(std::is_same_v<fxp::gemm_accumulator_t<A, B, 4096>, std::int32_t>);
  check_formats<A, B, fxp::fixed<5, 7>, 4096>(10);
}

namespace {
// Rounding policies a user might write; the GEMM's rounding must need nothing added for them.
struct half_down {  // nearest, ties toward minus infinity: a threshold rule
  static constexpr const char* name = "half_down";
  template <class D>
  static constexpr auto round_up(const D& d) noexcept {
    return d.above_half();
  }
};
struct half_away {  // nearest, ties away from zero: a threshold that depends on the sign
  static constexpr const char* name = "half_away";
  template <class D>
  static constexpr auto round_up(const D& d) noexcept {
    return d.above_half() || (d.tie() && !d.negative());
  }
};
struct ceiling {  // toward plus infinity
  static constexpr const char* name = "ceiling";
  template <class D>
  static constexpr auto round_up(const D& d) noexcept {
    return !d.exact();
  }
};
struct past_quarter {  // up from a quarter: no threshold of the four classes
  static constexpr const char* name = "past_quarter";
  template <class D>
  static constexpr auto round_up(const D& d) noexcept {
    return d.fraction32() >= 0x40000000u;
  }
};
struct odd_up {  // up when floor is odd, exact or not: not a rule on the discarded part
  static constexpr const char* name = "odd_up";
  template <class D>
  static constexpr auto round_up(const D& d) noexcept {
    return d.odd();
  }
};
struct clamp_policy {  // saturation under another name
  static constexpr const char* name = "clamp_policy";
  template <class F>
  static constexpr typename F::raw_type on_overflow(bool negative, std::uint64_t) noexcept {
    return negative ? F::raw_min : F::raw_max;
  }
};
struct zero_on_overflow {  // no clamp: what the select form is for
  static constexpr const char* name = "zero_on_overflow";
  template <class F>
  static constexpr typename F::raw_type on_overflow(bool, std::uint64_t) noexcept {
    return 0;
  }
};
}  // namespace

TEST_CASE("gemm rounds by user policies, as a bias where the policy is a threshold rule",
          "[gemm]") {
  // The bias each policy is found to be, asked of the policy itself (shift 4: 2^4 = 16).
  using d::rounding_bias;
  STATIC_REQUIRE(rounding_bias<fxp::truncate, 4>::exists);
  STATIC_REQUIRE(rounding_bias<fxp::nearest, 4>::b00 == 8);
  STATIC_REQUIRE(rounding_bias<fxp::nearest_even, 4>::b00 == 7);
  STATIC_REQUIRE(rounding_bias<fxp::nearest_even, 4>::b01 == 8);
  STATIC_REQUIRE(rounding_bias<fxp::toward_zero, 4>::b00 == 0);
  STATIC_REQUIRE(rounding_bias<fxp::toward_zero, 4>::b10 == 15);
  STATIC_REQUIRE(rounding_bias<half_down, 4>::b00 == 7);
  STATIC_REQUIRE(rounding_bias<half_away, 4>::b00 == 8);
  STATIC_REQUIRE(rounding_bias<half_away, 4>::b10 == 7);
  STATIC_REQUIRE(rounding_bias<ceiling, 4>::b11 == 15);
  STATIC_REQUIRE(rounding_bias<odd_up, 4>::exists);  // a threshold per parity: 0 or always
  STATIC_REQUIRE(rounding_bias<odd_up, 4>::b01 == 16);
  STATIC_REQUIRE(!rounding_bias<past_quarter, 4>::exists);
  STATIC_REQUIRE(!rounding_bias<fxp::stochastic, 4>::exists);
  STATIC_REQUIRE(d::overflow_clamps<fxp::saturate, fxp::fixed<4, 4>>);
  STATIC_REQUIRE(d::overflow_clamps<clamp_policy, fxp::ufixed<4, 4>>);
  STATIC_REQUIRE(!d::overflow_clamps<zero_on_overflow, fxp::fixed<4, 4>>);
  STATIC_REQUIRE(!d::overflow_clamps<fxp::wrap, fxp::fixed<4, 4>>);
  STATIC_REQUIRE(!d::overflow_clamps<fxp::checked, fxp::fixed<4, 4>>);

  std::mt19937_64 rng(21);
  const fxp::random_key key{21, 2, 2};
  const auto run = [&]<class A, class B, class C>() {
    for (const shape& s : {shape{1, 1, 1}, shape{5, 70, 33}, shape{17, 40, 300}}) {
      const auto a = fxp_test::random_fixed<A>(s.m * s.k, rng);
      const auto b = fxp_test::random_fixed<B>(s.k * s.n, rng);
      const auto sums = fxp_test::exact_products(transpose::no, transpose::no, s.m, s.n, s.k, a,
                                                 s.k, b, s.n);
      const auto check = [&]<class Out, class Round>() {
        check_against<Out, Round, fxp::gemm_default_max_k>(transpose::no, transpose::no, s, a,
                                                           s.k, b, s.n, sums, key);
      };
      check.template operator()<C, half_down>();
      check.template operator()<C, half_away>();
      check.template operator()<C, ceiling>();
      check.template operator()<C, past_quarter>();
      check.template operator()<C, odd_up>();
      check.template operator()<fxp_test::with_overflow<C, clamp_policy>, half_away>();
      check.template operator()<fxp_test::with_overflow<C, zero_on_overflow>, fxp::nearest>();
    }
  };
  // int64 sums (8- and 16-bit operands, default MaxK) and int64 operands; narrow outputs
  // so that some sums overflow.
  run.template operator()<fxp::fixed<1, 7>, fxp::fixed<1, 7>, fxp::fixed<3, 5>>();
  run.template operator()<fxp::fixed<4, 12>, fxp::fixed<1, 15>, fxp::fixed<6, 10>>();
  run.template operator()<fxp::fixed<8, 24>, fxp::fixed<2, 6>, fxp::ufixed<6, 2>>();
}

TEST_CASE("gemm shifts beyond the fast rounding path go through the core's narrowing",
          "[gemm]") {
  std::mt19937_64 rng(15);
  const fxp::random_key key{15, 1, 1};
  // Runs C = A B for a few small shapes (k <= MaxK = 16) on every instruction set.
  const auto run = [&]<class A, class B, class C>() {
    using layout = fxp::simd::detail::sum_rounding<C, fxp::nearest, fxp::gemm_sum_t<A, B, 16>,
                                                   std::int64_t>;
    STATIC_REQUIRE(!layout::fast);
    for (const shape& s : {shape{1, 1, 1}, shape{3, 17, 16}, shape{9, 5, 7}}) {
      const auto a = fxp_test::random_fixed<A>(s.m * s.k, rng);
      const auto b = fxp_test::random_fixed<B>(s.k * s.n, rng);
      const auto sums = fxp_test::exact_products(transpose::no, transpose::no, s.m, s.n, s.k, a,
                                                 s.k, b, s.n);
      fxp_test::for_each_rounding([&](auto round) {
        using Round = typename decltype(round)::type;
        check_against<C, Round, 16>(transpose::no, transpose::no, s, a, s.k, b, s.n, sums, key);
      });
    }
  };
  // 40 + 7 fractional bits into -16: a right shift by 63.
  run.operator()<fxp::fixed<1, 40>, fxp::fixed<1, 7>, fxp::fixed<40, -16>>();
  // 0 fractional bits into 64: a left shift by 64, everything but 0 overflows.
  run.operator()<fxp::fixed<2, 0>, fxp::fixed<2, 0>, fxp::fixed<-40, 64>>();
  // A 64-bit unsigned output does not fit the int64 fast path.
  run.operator()<fxp::fixed<1, 7>, fxp::fixed<1, 7>, fxp::ufixed<60, 4>>();
}

TEST_CASE("gemm extreme values need the whole accumulator", "[gemm]") {
  std::mt19937_64 rng(11);
  const fxp::random_key key{11, 0, 0};
  // Runs C = A B on every instruction set with operands drawn as `kind`, against the
  // reference, m x n = 3 x 5 (both transposes of A).
  const auto extreme = [&]<class A, class B, class C, std::size_t MaxK>(std::size_t k,
                                                                       fxp_test::values kind) {
    for (const transpose ta : {transpose::no, transpose::yes}) {
      const shape s{3, 5, k};
      const std::size_t lda = ta == transpose::no ? k : s.m;
      const auto a = fxp_test::random_fixed<A>(s.m * k, rng, kind);
      const auto b = fxp_test::random_fixed<B>(k * s.n, rng, kind);
      const auto sums = fxp_test::exact_products(ta, transpose::no, s.m, s.n, k, a, lda, b, s.n);
      check_against<C, fxp::nearest, MaxK>(ta, transpose::no, s, a, lda, b, s.n, sums, key);
    }
  };
  using s8 = fxp::fixed<1, 7>;
  using s16 = fxp::fixed<1, 15>;
  SECTION("min * min sums at the int32 accumulator's limit") {
    // 131071 * 2^14 = 2^31 - 2^14: the largest sum an int32 accumulator must hold.
    using sum = fxp::gemm_sum_t<s8, s8, 131071>;
    STATIC_REQUIRE(std::is_same_v<fxp::gemm_accumulator_t<s8, s8, 131071>, std::int32_t>);
    extreme.operator()<s8, s8, sum, 131071>(131071, fxp_test::values::min_only);
  }
  SECTION("k above the int32 limit goes to int64") {
    extreme.operator()<s8, s8, fxp::gemm_sum_t<s8, s8>, fxp::gemm_default_max_k>(
        140000, fxp_test::values::min_only);
    extreme.operator()<s8, s8, fxp::fixed<16, 2>, fxp::gemm_default_max_k>(
        140000, fxp_test::values::extremes);
  }
  SECTION("16-bit min * min, and a mix of the extremes") {
    extreme.operator()<s16, s16, fxp::gemm_sum_t<s16, s16>, fxp::gemm_default_max_k>(
        5000, fxp_test::values::min_only);
    extreme.operator()<s16, s16, fxp::fixed<8, 8>, fxp::gemm_default_max_k>(
        3001, fxp_test::values::extremes);
    extreme.operator()<fxp::ufixed<0, 16>, s16, fxp::fixed<16, 16>, fxp::gemm_default_max_k>(
        3001, fxp_test::values::extremes);
  }
  SECTION("a tie decided by a bit below the top 32 discarded bits (shift 33)") {
    // Four products (-2^15)^2 sum to 2^32 raw units: exactly half of the 2^33 that one bit
    // of fixed<31, -3> is worth. A fifth product of 1 * 1 (odd columns, first row) makes
    // it just above half; only the sticky bit below the top 32 discarded bits tells.
    using C = fxp::fixed<31, -3>;
    const shape s{2, 40, 5};
    std::vector<s16> a(s.m * s.k, s16::from_raw(INT16_MIN));
    std::vector<s16> b(s.k * s.n, s16::from_raw(INT16_MIN));
    a[4] = s16::from_raw(1);
    a[9] = s16::from_raw(0);
    for (std::size_t j = 0; j < s.n; ++j) b[4 * s.n + j] = s16::from_raw(j % 2 == 1 ? 1 : 0);
    const auto sums = fxp_test::exact_products(transpose::no, transpose::no, s.m, s.n, s.k, a, s.k, b, s.n);
    fxp_test::for_each_rounding([&](auto round) {
      using Round = typename decltype(round)::type;
      check_against<C, Round, fxp::gemm_default_max_k>(transpose::no, transpose::no, s, a, s.k, b,
                                                       s.n, sums, key);
    });
  }
  SECTION("int64 sums whose rounded value leaves the int32 range, in rows long enough for lanes") {
    // A at -1 and B at -1 or 1 - 2^-15: sums of eight products reach +-8, +-2^33 raw units
    // of fixed<*, 30>; one bit shifted out into fixed<3, 29> that is +-2^32 raw, beyond
    // int32: saturated, wrapped or thrown as the core does.
    using C = fxp::fixed<3, 29>;
    for (const transpose ta : {transpose::no, transpose::yes}) {
      const shape s{3, 40, 8};
      const std::size_t lda = ta == transpose::no ? s.k : s.m;
      auto a = fxp_test::random_fixed<s16>(s.m * s.k, rng, fxp_test::values::min_only);
      const auto b = fxp_test::random_fixed<s16>(s.k * s.n, rng, fxp_test::values::extremes);
      a[1] = s16::from_raw(12345);  // one row not at the extremes
      const auto sums = fxp_test::exact_products(ta, transpose::no, s.m, s.n, s.k, a, lda, b, s.n);
      check_against<C, fxp::nearest, fxp::gemm_default_max_k>(ta, transpose::no, s, a, lda, b, s.n, sums, key);
      check_against<fxp_test::with_overflow<C, fxp::wrap>, fxp::stochastic, fxp::gemm_default_max_k>(
          ta, transpose::no, s, a, lda, b, s.n, sums, key);
      check_against<fxp_test::with_overflow<C, fxp::checked>, fxp::nearest_even,
                    fxp::gemm_default_max_k>(ta, transpose::no, s, a, lda, b, s.n, sums, key);
    }
  }
}

TEST_CASE("16-bit operands with small values multiply in whole lanes, in int32 runs their "
          "magnitudes allow", "[gemm]") {
  std::mt19937_64 rng(12);
  const fxp::random_key key{12, 0, 0};
  using s16 = fxp::fixed<1, 15>;
  using u16 = fxp::ufixed<0, 16>;
  // Every element of A at +-a and of B at +-b (all positive: every int32 run at its largest
  // sum; or random signs), k past several runs, against the reference.
  const auto check = [&]<class A, class B>(std::int32_t a_raw, std::int32_t b_raw, bool mixed_signs,
                                           bool whole) {
    INFO("|A| " << a_raw << " |B| " << b_raw << (mixed_signs ? " random signs" : " all positive"));
    // Which lanes the planner takes for these magnitudes.
    REQUIRE((d::whole_lanes_chunk(a_raw, b_raw) >= d::min_chunk) == whole);
    std::uniform_int_distribution<int> sign(0, 1);
    const auto draw = [&](std::int32_t r) { return mixed_signs && sign(rng) == 1 ? -r : r; };
    for (const transpose ta : {transpose::no, transpose::yes}) {
      const shape s{5, 37, 1000};
      const std::size_t lda = ta == transpose::no ? s.k : s.m;
      std::vector<A> a(s.m * s.k);
      std::vector<B> b(s.k * s.n);
      for (auto& x : a) x = A::from_raw(static_cast<typename A::raw_type>(draw(a_raw)));
      for (auto& x : b) x = B::from_raw(static_cast<typename B::raw_type>(draw(b_raw)));
      REQUIRE(d::max_magnitude(a.data(), 1, a.size(), 0) == a_raw);
      const auto sums = fxp_test::exact_products(ta, transpose::no, s.m, s.n, s.k, a, lda, b, s.n);
      check_against<fxp::gemm_sum_t<A, B>, fxp::nearest, fxp::gemm_default_max_k>(
          ta, transpose::no, s, a, lda, b, s.n, sums, key);
    }
  };
  for (const bool mixed : {false, true}) {
    // 8191 * 8192 * 32 = 2^31 - 2^18: runs of 32 products, the shortest whole lanes take.
    check.operator()<s16, s16>(8191, 8192, mixed, true);
    // 8192 * 8192 * 32 = 2^31: runs of 30 would be needed; the byte split instead.
    check.operator()<s16, s16>(8192, 8192, mixed, false);
    check.operator()<s16, s16>(32767, 1, mixed, true);    // runs as long as a kernel block
    check.operator()<s16, s16>(32768, 1, mixed, false);   // -2^15 has no whole int16 lane
  }
  // Unsigned 16-bit values below 2^15 fit int16 lanes whole; larger ones are split.
  check.operator()<u16, s16>(32767, 60, false, true);
  check.operator()<u16, s16>(40000, 1, false, false);
}

TEST_CASE("gemm of an empty reduction is zero; empty outputs are left alone", "[gemm]") {
  using T = fxp::fixed<1, 7>;
  using C = fxp::fixed<4, 4, fxp::stochastic>;
  const std::vector<T> a(6, T::from_raw(5));
  std::vector<C> c(6, C::from_raw(9));
  fxp::gemm<C>(transpose::no, transpose::no, 2, 3, 0, a.data(), 1, a.data(), 3, c.data(), 3);
  for (const C& x : c) REQUIRE(x.raw() == 0);
  std::vector<C> untouched(6, C::from_raw(9));
  fxp::gemm<C>(transpose::no, transpose::no, 0, 3, 2, a.data(), 2, a.data(), 3,
               untouched.data(), 3);
  fxp::gemm<C>(transpose::no, transpose::no, 2, 0, 2, a.data(), 2, a.data(), 1,
               untouched.data(), 1);
  for (const C& x : untouched) REQUIRE(x.raw() == 9);
}

TEST_CASE("gemm rejects k > MaxK and bad leading dimensions, naming them", "[gemm]") {
  using T = fxp::fixed<1, 7>;
  std::vector<T> a(100);
  std::vector<T> c(100);
  const auto too_long = [&] {
    fxp::gemm<T, fxp::nearest, 4>(transpose::no, transpose::no, 2, 2, 5, a.data(), 5, a.data(),
                                  2, c.data(), 2);
  };
  REQUIRE_THROWS_WITH(too_long(), Catch::Contains("k = 5") && Catch::Contains("MaxK = 4"));
  REQUIRE_THROWS_AS(too_long(), std::invalid_argument);
  REQUIRE_THROWS_WITH(fxp::gemm<T>(transpose::no, transpose::no, 2, 3, 4, a.data(), 3, a.data(),
                                   3, c.data(), 3),
                      Catch::Contains("lda = 3"));
  REQUIRE_THROWS_WITH(fxp::gemm<T>(transpose::yes, transpose::no, 5, 3, 4, a.data(), 4,
                                   a.data(), 3, c.data(), 3),
                      Catch::Contains("lda = 4"));
  REQUIRE_THROWS_WITH(fxp::gemm<T>(transpose::no, transpose::yes, 2, 3, 4, a.data(), 4,
                                   a.data(), 3, c.data(), 3),
                      Catch::Contains("ldb = 3"));
  REQUIRE_THROWS_WITH(fxp::gemm<T>(transpose::no, transpose::no, 2, 3, 4, a.data(), 4, a.data(),
                                   3, c.data(), 2),
                      Catch::Contains("ldc = 2"));
  const T* null = nullptr;
  REQUIRE_THROWS_WITH(fxp::gemm<T>(transpose::no, transpose::no, 2, 3, 4, null, 4, a.data(), 3,
                                   c.data(), 3),
                      Catch::Contains("null"));
  float f[4] = {};
  REQUIRE_THROWS_WITH(
      fxp::gemm(transpose::no, transpose::no, 2, 2, 2, f, 1, f, 2, f, 2),
      Catch::Contains("lda = 1"));
}

namespace {

/// The raw carrier of C for a run-time output.
template <class C>
constexpr d::raw_carrier carrier_of() {
  using raw = typename C::raw_type;
  if constexpr (std::is_same_v<raw, std::int8_t>) return d::raw_carrier::int8;
  else if constexpr (std::is_same_v<raw, std::uint8_t>) return d::raw_carrier::uint8;
  else if constexpr (std::is_same_v<raw, std::int16_t>) return d::raw_carrier::int16;
  else if constexpr (std::is_same_v<raw, std::uint16_t>) return d::raw_carrier::uint16;
  else return d::raw_carrier::int32;
}

/// A GEMM whose store rounds into a run-time format (the tensor kernels' path for formats
/// chosen at run time) on every instruction set: against the core's rounding of the exact
/// sum plus a row and a column bias (each, both or neither) into C (saturating), and the
/// clamped count against the same rounding into a format wide enough never to clamp. Some
/// biases lie beyond 32 bits (the store's 32-bit path must clamp around them, or step
/// aside), the rest are small.
template <class A, class B, class C>
void check_run_time_store(std::uint64_t seed) {
  static_assert(std::is_same_v<typename C::overflow_policy, fxp::saturate>);
  std::mt19937_64 rng(seed);
  const fxp::random_key key{seed, 3, 1};
  constexpr std::size_t m = 19, n = 45, k = 133;
  constexpr std::uint64_t first = 77;
  using sum_type = fxp::gemm_sum_t<A, B, fxp::gemm_default_max_k>;
  constexpr int shift = sum_type::fraction_bits - C::fraction_bits;
  static_assert(shift >= 1 && shift <= 62);
  using wide = fxp::fixed<64 - C::fraction_bits, C::fraction_bits>;
  std::uniform_int_distribution<std::int64_t> bias_value(-(std::int64_t{1} << 20), std::int64_t{1} << 20);
  const std::int64_t large[] = {(std::int64_t{1} << 31) + 1000, -(std::int64_t{1} << 31) - 1000,
                                std::int64_t{1} << 45, -(std::int64_t{1} << 45),
                                (std::int64_t{1} << 31) - 1, -(std::int64_t{1} << 31)};
  std::vector<std::int64_t> row_bias(m), col_bias(n);
  for (auto& v : row_bias) v = bias_value(rng);
  for (auto& v : col_bias) v = bias_value(rng);
  for (std::size_t i = 0; i < std::size(large); ++i) {
    row_bias[2 * i + 1] = large[i];
    col_bias[3 * i + 2] = large[i];
  }
  for (const int biases : {0, 1, 2, 3}) {  // bit 0: row biases, bit 1: column biases
    const bool by_row = (biases & 1) != 0;
    const bool by_col = (biases & 2) != 0;
    for (const auto& t : transposes) {
      const transpose ta = t[0];
      const transpose tb = t[1];
      const std::size_t lda = ta == transpose::no ? k : m;
      const std::size_t ldb = tb == transpose::no ? n : k;
      const auto a = fxp_test::random_fixed<A>(m * k, rng);
      const auto b = fxp_test::random_fixed<B>(k * n, rng);
      auto sums = fxp_test::exact_products(ta, tb, m, n, k, a, lda, b, ldb);
      for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
          sums[i * n + j] += (by_row ? row_bias[i] : 0) + (by_col ? col_bias[j] : 0);
        }
      }
      fxp_test::for_each_rounding([&](auto round) {
        using Round = typename decltype(round)::type;
        std::vector<C> expected;
        REQUIRE(fxp_test::expected_values<C, Round, sum_type>(sums, key, first, expected));
        std::vector<wide> unclamped;
        REQUIRE(fxp_test::expected_values<wide, Round, sum_type>(sums, key, first, unclamped));
        std::uint64_t expected_clamps = 0;
        for (const wide& x : unclamped) {
          expected_clamps += x.raw() > static_cast<std::int64_t>(C::raw_max) || x.raw() < static_cast<std::int64_t>(C::raw_min);
        }
        fxp_test::for_each_isa([&](auto isa) {
          using Isa = decltype(isa);
          INFO("isa " << Isa::name << ", " << A::name() << " x " << B::name() << " -> " << C::name()
                      << " rounded " << Round::name << ", transposes " << int(ta) << int(tb)
                      << ", biases " << biases);
          std::vector<C> c(m * n, C::from_raw(1));
          std::atomic<std::uint64_t> clamped{0};
          const d::run_time_output out{fxp::detail::raw_pointer(c.data()), n, carrier_of<C>(), key, first, n,
                                       shift, C::raw_min, C::raw_max, by_row ? row_bias.data() : nullptr,
                                       by_col ? col_bias.data() : nullptr, &clamped};
          d::gemm_fixed_into<Isa, fxp::gemm_default_max_k>(ta, tb, m, n, k, a.data(), lda, b.data(), ldb,
                                                           d::run_time_stores{&out, fxp::rounding_mode_of<Round>});
          REQUIRE(fxp_test::raws(c.data(), c.size()) == fxp_test::raws(expected.data(), expected.size()));
          CHECK(clamped.load() == expected_clamps);
        });
      });
    }
  }
}

}  // namespace

TEST_CASE("a GEMM storing into a run-time format rounds as the core on every instruction set",
          "[gemm][run_time]") {
  check_run_time_store<fxp::fixed<1, 7>, fxp::fixed<2, 6>, fxp::fixed<3, 5>>(31);      // int8, clamps
  check_run_time_store<fxp::ufixed<0, 8>, fxp::fixed<1, 7>, fxp::ufixed<4, 4>>(32);    // uint8
  check_run_time_store<fxp::fixed<4, 12>, fxp::fixed<1, 15>, fxp::fixed<6, 10>>(33);   // split, int16
  check_run_time_store<fxp::ufixed<2, 14>, fxp::fixed<2, 6>, fxp::ufixed<8, 8>>(34);   // uint16
  check_run_time_store<fxp::fixed<3, 13>, fxp::fixed<4, 12>, fxp::fixed<16, 16>>(35);  // int32
}

TEST_CASE("gemm stochastic rounding is reproducible from the key and the element counter",
          "[gemm][stochastic]") {
  using A = fxp::fixed<1, 7>;
  using C = fxp::fixed<4, 4, fxp::stochastic>;
  std::mt19937_64 rng(12);
  const std::size_t m = 23;
  const std::size_t n = 41;
  const std::size_t k = 77;
  const auto a = fxp_test::random_fixed<A>(m * k, rng);
  const auto b = fxp_test::random_fixed<A>(k * n, rng);
  const auto product = [&](const fxp::random_key& key, std::uint64_t first) {
    std::vector<C> c(m * n);
    fxp::gemm<C>(transpose::no, transpose::no, m, n, k, a.data(), k, b.data(), n, c.data(), n,
                 key, first);
    return fxp_test::raws(c.data(), c.size());
  };
  const fxp::random_key key{99, 4, 10};
  REQUIRE(product(key, 0) == product(key, 0));
  REQUIRE(product(key, 0) != product(fxp::random_key{99, 4, 11}, 0));
  REQUIRE(product(key, 0) != product(fxp::random_key{99, 5, 10}, 0));
  REQUIRE(product(key, 0) != product(key, 1));
  // first_index offsets every counter: C(i, j) draws word first + i * n + j.
  const auto sums = fxp_test::exact_products(transpose::no, transpose::no, m, n, k, a, k, b, n);
  check_against<C, fxp::stochastic, fxp::gemm_default_max_k>(
      transpose::no, transpose::no, shape{m, n, k}, a, k, b, n, sums, key, 1000003);
}

TEST_CASE("the batched Philox words equal random_key::word", "[gemm][stochastic]") {
  const fxp::random_key key{0x0123456789ABCDEFu, 17, 4};
  for (const std::uint64_t first : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{3},
                                    std::uint64_t{126}, (std::uint64_t{1} << 40) - 5}) {
    for (const std::size_t count : {std::size_t{1}, std::size_t{5}, std::size_t{128},
                                    std::size_t{129}, std::size_t{1000}}) {
      std::vector<std::uint32_t> words(count);
      d::fill_words(key, first, count, words.data());
      std::vector<std::uint32_t> expected(count);
      for (std::size_t i = 0; i < count; ++i) expected[i] = key.word(first + i);
      INFO("first " << first << " count " << count);
      REQUIRE(words == expected);
    }
  }
}

TEST_CASE("gemm gives the same bits on 1, 2 and 3 threads", "[gemm][threads]") {
  std::mt19937_64 rng(13);
  const std::size_t m = 70;
  const std::size_t n = 150;
  const std::size_t k = 1100;  // several reduction blocks
  const fxp::random_key key{5, 6, 7};
  const auto run_fixed = [&]<class A, class C>() {
    const auto a = fxp_test::random_fixed<A>(m * k, rng);
    const auto b = fxp_test::random_fixed<A>(k * n, rng);
    std::vector<std::vector<long long>> results;
    for (const std::size_t threads : {std::size_t{1}, std::size_t{2}, std::size_t{3}}) {
      fxp_test::with_threads(threads, [&] {
        std::vector<C> c(m * n);
        fxp::gemm<C>(transpose::no, transpose::yes, m, n, k, a.data(), k, b.data(), k, c.data(),
                     n, key);
        results.push_back(fxp_test::raws(c.data(), c.size()));
      });
    }
    REQUIRE(results[0] == results[1]);
    REQUIRE(results[0] == results[2]);
  };
  run_fixed.operator()<fxp::fixed<1, 7>, fxp::fixed<8, 8>>();
  run_fixed.operator()<fxp::fixed<1, 15>, fxp::fixed<8, 8, fxp::stochastic>>();

  const auto a = fxp_test::random_float(m * k, rng);
  const auto b = fxp_test::random_float(k * n, rng);
  std::vector<std::vector<float>> results;
  for (const std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
    fxp_test::with_threads(threads, [&] {
      std::vector<float> c(m * n);
      fxp::gemm(transpose::yes, transpose::no, m, n, k, a.data(), m, b.data(), n, c.data(), n);
      results.push_back(c);
    });
  }
  REQUIRE(results[0] == results[1]);  // bit for bit: each sum has one thread and one order
}

TEST_CASE("float gemm equals a double reference exactly on small dyadic data",
          "[gemm][float]") {
  // Multiples of 1/8 in [-4, 4]: products are multiples of 2^-6 of magnitude <= 16, so every
  // partial sum of k <= 2^14 of them is a float whatever the order or FMA: exact, compare ==.
  std::mt19937_64 rng(16);
  const auto dyadic = [&](std::size_t count) { return fxp_test::dyadic_floats(count, rng); };
  for (const shape& s : test_shapes(rng)) {
    REQUIRE(s.k * 16 <= (std::size_t{1} << 18));  // |partial sums| < 2^24 * 2^-6
    for (const auto& t : transposes) {
      const transpose ta = t[0];
      const transpose tb = t[1];
      const std::size_t lda = (ta == transpose::no ? s.k : s.m) + 1;
      const std::size_t ldb = (tb == transpose::no ? s.n : s.k) + 3;
      const auto a = dyadic((ta == transpose::no ? s.m : s.k) * lda);
      const auto b = dyadic((tb == transpose::no ? s.k : s.n) * ldb);
      std::vector<double> exact(s.m * s.n, 0);
      for (std::size_t i = 0; i < s.m; ++i) {
        for (std::size_t j = 0; j < s.n; ++j) {
          for (std::size_t p = 0; p < s.k; ++p) {
            exact[i * s.n + j] += double(fxp_test::element(a, lda, ta, i, p)) *
                                  double(fxp_test::element(b, ldb, tb, p, j));
          }
        }
      }
      const auto require_exact = [&](const char* who, const std::vector<float>& c) {
        std::size_t differing = 0;
        for (std::size_t i = 0; i < c.size(); ++i) differing += double(c[i]) != exact[i];
        INFO(who << " m n k = " << s.m << " " << s.n << " " << s.k << ", transposes "
                 << int(ta) << int(tb));
        REQUIRE(differing == 0);
      };
      fxp_test::for_each_isa([&](auto isa) {
        std::vector<float> c(s.m * s.n);
        d::gemm_float<decltype(isa)>(ta, tb, s.m, s.n, s.k, a.data(), lda, b.data(), ldb,
                                     c.data(), s.n);
        require_exact(decltype(isa)::name, c);
      });
      std::vector<float> c(s.m * s.n);
      fxp::gemm(ta, tb, s.m, s.n, s.k, a.data(), lda, b.data(), ldb, c.data(), s.n);
      require_exact("fxp::gemm", c);
    }
  }
}

TEST_CASE("float gemm is within the rounding-error bound of a double reference",
          "[gemm][float]") {
  // Any order of k float products and additions (with or without FMA) is within
  // gamma_k * sum |a_i b_i| of the exact dot product, gamma_k = k u / (1 - k u), u = 2^-24
  // (Higham, Accuracy and Stability of Numerical Algorithms, 3.1). The double reference
  // is exact to 2^-53 relative per term, far below that.
  std::mt19937_64 rng(14);
  for (const shape& s : test_shapes(rng)) {
    for (const auto& t : transposes) {
      const transpose ta = t[0];
      const transpose tb = t[1];
      const std::size_t lda = ta == transpose::no ? s.k : s.m;
      const std::size_t ldb = tb == transpose::no ? s.n : s.k;
      const auto a = fxp_test::random_float(s.m * s.k, rng);
      const auto b = fxp_test::random_float(s.k * s.n, rng);
      const double u = std::ldexp(1.0, -24);
      const double gamma = static_cast<double>(s.k) * u / (1 - static_cast<double>(s.k) * u);
      fxp_test::for_each_isa([&](auto isa) {
        std::vector<float> c(s.m * s.n);
        d::gemm_float<decltype(isa)>(ta, tb, s.m, s.n, s.k, a.data(), lda, b.data(), ldb,
                                     c.data(), s.n);
        for (std::size_t i = 0; i < s.m; ++i) {
          for (std::size_t j = 0; j < s.n; ++j) {
            double exact = 0;
            double magnitude = 0;
            for (std::size_t p = 0; p < s.k; ++p) {
              const double term = double(fxp_test::element(a, lda, ta, i, p)) *
                                  double(fxp_test::element(b, ldb, tb, p, j));
              exact += term;
              magnitude += std::fabs(term);
            }
            INFO(decltype(isa)::name << " m n k = " << s.m << " " << s.n << " " << s.k
                                     << " at " << i << ", " << j);
            REQUIRE(std::fabs(double(c[i * s.n + j]) - exact) <= gamma * magnitude * 1.0001);
          }
        }
      });
    }
  }
}

TEST_CASE("gemm without a key draws one per call from the default generator",
          "[gemm][stochastic][keyless]") {
  using A = fxp::fixed<1, 7>;
  using C = fxp::fixed<4, 4>;
  std::mt19937_64 rng(14);
  const std::size_t m = 29;
  const std::size_t n = 37;
  const std::size_t k = 300;
  const auto a = fxp_test::random_fixed<A>(m * k, rng);
  const auto b = fxp_test::random_fixed<A>(k * n, rng);
  const auto product = [&](fxp::optional_key key) {
    std::vector<C> c(m * n);
    fxp::gemm<C, fxp::stochastic>(transpose::no, transpose::no, m, n, k, a.data(), k, b.data(),
                                  n, c.data(), n, key, 11);
    return fxp_test::raws(c.data(), c.size());
  };
  fxp_test::check_keyless_draws([&] { return product({}); },
                                [&](const fxp::random_key& key) { return product(key); });
  std::vector<C> c(m * n);
  fxp_test::check_draws_nothing([&] {
    fxp::gemm<C>(transpose::no, transpose::no, m, n, k, a.data(), k, b.data(), n, c.data(), n);
  });
}

TEST_CASE("fxp::max_k raises gemm's bound without naming the rounding policy", "[gemm]") {
  using T = fxp::fixed<1, 7>;
  std::mt19937_64 rng(15);
  const auto a = fxp_test::random_fixed<T>(10, rng);
  std::vector<T> c(4);
  REQUIRE_THROWS_WITH((fxp::gemm<T, fxp::max_k<4>>(transpose::no, transpose::no, 2, 2, 5,
                                                   a.data(), 5, a.data(), 2, c.data(), 2)),
                      Catch::Contains("k = 5") && Catch::Contains("MaxK = 4"));
  // Above the default bound: k = 2^20 + 1 throws by default and is exact with a larger one.
  constexpr std::size_t k = fxp::gemm_default_max_k + 1;
  constexpr std::size_t bound = 2 * fxp::gemm_default_max_k;
  using S = fxp::gemm_sum_t<T, T, bound>;
  const auto row = fxp_test::random_fixed<T>(k, rng);
  const auto column = fxp_test::random_fixed<T>(k, rng);
  S dot;
  REQUIRE_THROWS_WITH(fxp::gemm<S>(transpose::no, transpose::no, 1, 1, k, row.data(), k,
                                   column.data(), 1, &dot, 1),
                      Catch::Contains("MaxK = " + std::to_string(fxp::gemm_default_max_k)));
  fxp::gemm<S, fxp::max_k<bound>>(transpose::no, transpose::no, 1, 1, k, row.data(), k,
                                  column.data(), 1, &dot, 1);
  i128 exact = 0;
  for (std::size_t p = 0; p < k; ++p) exact += static_cast<i128>(row[p].raw()) * column[p].raw();
  CHECK(static_cast<i128>(dot.raw()) == exact);
}
