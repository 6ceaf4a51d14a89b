// SPDX-License-Identifier: MIT
#pragma once
// Shared by the GEMM and convolution tests: random operands, the exact reference sums
// (128-bit integers, computed here independently of the library's kernels) and their one
// rounding through the core's fxp::fixed_cast, which is tested exhaustively elsewhere.

#include <fxp/core/core.hpp>
#include <fxp/simd/gemm.hpp>
#include <fxp/simd/isa.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace fxp_test {

/// `count` random multiples of 1/8 in [-4, 4]: their products are multiples of 2^-6 of
/// magnitude <= 16, so every partial sum of up to 2^14 of them is a float whatever the order
/// or FMA, and float results can be compared exactly (==) with a double reference.
inline std::vector<float> dyadic_floats(std::size_t count, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> eighths(-32, 32);
  std::vector<float> v(count);
  for (auto& x : v) x = static_cast<float>(eighths(rng)) / 8;
  return v;
}

__extension__ using i128 = __int128;

/// Every instruction set whose kernels this build compiled and this processor runs, as a
/// tag for a lambda.
template <class F>
void for_each_isa(F&& f) {
  namespace d = fxp::simd::detail;
  const auto visit = [&](auto tag) {
    if (d::isa_runs<decltype(tag)>()) f(tag);
  };
  visit(d::portable_isa{});
  if constexpr (d::isa_available<d::avx2_isa>) visit(d::avx2_isa{});
  if constexpr (d::isa_available<d::avx2_vnni_isa>) visit(d::avx2_vnni_isa{});
  if constexpr (d::isa_available<d::avx512_isa>) visit(d::avx512_isa{});
}

/// f(path) once per path fxp::gemm (and what stands on it) can take in this build, forced
/// in turn: every one this processor runs when the build dispatches, else the flags' one.
template <class F>
void for_each_path(F&& f) {
  namespace simd = fxp::simd;
  if constexpr (!simd::dispatches) {
    f(simd::active_isa());
  } else {
    const simd::isa first = simd::active_isa();
    for (const simd::isa i : {simd::isa::portable, simd::isa::avx2, simd::isa::avx512}) {
      if (!simd::isa_supported(i)) continue;
      simd::force_isa(i);
      f(i);
    }
    simd::force_isa(first);
  }
}

/// The fixed-point GEMM of one instruction set, as a plain function.
template <class C, class Round, std::size_t MaxK, class A, class B>
using gemm_function = void (*)(fxp::transpose, fxp::transpose, std::size_t, std::size_t,
                               std::size_t, const A*, std::size_t, const B*, std::size_t, C*,
                               std::size_t, const fxp::random_key&, std::uint64_t);

/// The fixed-point GEMM of every instruction set compiled in, with its name: a run-time
/// list, so that a test's checking code is compiled once, not once per instruction set.
template <class C, class Round, std::size_t MaxK, class A, class B>
std::vector<std::pair<const char*, gemm_function<C, Round, MaxK, A, B>>> gemm_variants() {
  std::vector<std::pair<const char*, gemm_function<C, Round, MaxK, A, B>>> v;
  for_each_isa([&](auto isa) {
    using Isa = decltype(isa);
    v.emplace_back(Isa::name, &fxp::simd::detail::gemm_fixed<Isa, C, Round, MaxK, A, B>);
  });
  return v;
}

/// Calls f(std::type_identity<R>{}) for every rounding policy.
template <class F>
void for_each_rounding(F&& f) {
  f(std::type_identity<fxp::truncate>{});
  f(std::type_identity<fxp::toward_zero>{});
  f(std::type_identity<fxp::nearest>{});
  f(std::type_identity<fxp::nearest_even>{});
  f(std::type_identity<fxp::stochastic>{});
}

/// T with overflow policy O.
template <class T, class O>
using with_overflow = fxp::basic_fixed<T::integer_bits, T::fraction_bits, T::is_signed,
                                       typename T::rounding_policy, O>;

/// How test values are drawn: uniform over the raw range, only the extremes, or mostly
/// the extremes.
enum class values { uniform, extremes, min_only };

template <class T>
std::vector<T> random_fixed(std::size_t count, std::mt19937_64& rng, values kind = values::uniform) {
  std::vector<T> v(count);
  std::uniform_int_distribution<long long> uniform(static_cast<long long>(T::raw_min),
                                                   static_cast<long long>(T::raw_max));
  for (auto& x : v) {
    long long raw = uniform(rng);
    if (kind == values::min_only) raw = static_cast<long long>(T::raw_min);
    if (kind == values::extremes) {
      raw = (rng() & 1) != 0 ? static_cast<long long>(T::raw_min)
                             : static_cast<long long>(T::raw_max);
    }
    x = T::from_raw(static_cast<typename T::raw_type>(raw));
  }
  return v;
}

inline std::vector<float> random_float(std::size_t count, std::mt19937_64& rng) {
  std::vector<float> v(count);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  for (auto& x : v) x = d(rng);
  return v;
}

/// A stored operand: element (i, j) of op(X) is data[i * ld + j] as stored, or
/// data[j * ld + i] when transposed.
template <class T>
T element(const std::vector<T>& data, std::size_t ld, fxp::transpose t, std::size_t i,
          std::size_t j) {
  return t == fxp::transpose::no ? data[i * ld + j] : data[j * ld + i];
}

/// The exact sums of op(A) op(B), in 128-bit integers (raw product units).
template <class A, class B>
std::vector<i128> exact_products(fxp::transpose ta, fxp::transpose tb, std::size_t m,
                                 std::size_t n, std::size_t k, const std::vector<A>& a,
                                 std::size_t lda, const std::vector<B>& b, std::size_t ldb) {
  std::vector<i128> sums(m * n, 0);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      i128 s = 0;
      for (std::size_t p = 0; p < k; ++p) {
        s += static_cast<i128>(element(a, lda, ta, i, p).raw()) *
             static_cast<i128>(element(b, ldb, tb, p, j).raw());
      }
      sums[i * n + j] = s;
    }
  }
  return sums;
}

/// The rounding of one exact sum (raw units of format Sum) into C: what every output
/// element must equal. nullopt when C's `checked` policy throws.
template <class C, class Round, class Sum>
std::optional<C> round_reference(i128 sum, const fxp::random_key& key, std::uint64_t index) {
  REQUIRE(sum >= static_cast<i128>(std::numeric_limits<typename Sum::raw_type>::min()));
  REQUIRE(sum <= static_cast<i128>(std::numeric_limits<typename Sum::raw_type>::max()));
  const Sum exact = Sum::from_raw(static_cast<typename Sum::raw_type>(sum));
  fxp::philox gen = key.generator_at(index);
  try {
    return fxp::fixed_cast<C, Round>(exact, gen);
  } catch (const fxp::overflow_error&) {
    return std::nullopt;
  }
}

/// Compares a result with the reference roundings of `sums`; a reference that throws
/// means the library must have thrown, which the caller checks (returns false then).
template <class C, class Round, class Sum>
bool expected_values(const std::vector<i128>& sums, const fxp::random_key& key,
                     std::uint64_t first, std::vector<C>& expected) {
  expected.resize(sums.size());
  bool all = true;
  for (std::size_t i = 0; i < sums.size(); ++i) {
    const auto r = round_reference<C, Round, Sum>(sums[i], key, first + i);
    if (r) {
      expected[i] = *r;
    } else {
      all = false;
    }
  }
  return all;
}

/// Raw values, for comparisons that print well.
template <class T>
std::vector<long long> raws(const T* data, std::size_t count) {
  std::vector<long long> r(count);
  for (std::size_t i = 0; i < count; ++i) r[i] = static_cast<long long>(data[i].raw());
  return r;
}

/// Runs f with the pool set to `threads` threads, restoring the previous count.
template <class F>
void with_threads(std::size_t threads, F&& f) {
  const std::size_t saved = fxp::num_threads();
  fxp::set_num_threads(threads);
  try {
    f();
  } catch (...) {
    fxp::set_num_threads(saved);
    throw;
  }
  fxp::set_num_threads(saved);
}

}  // namespace fxp_test
