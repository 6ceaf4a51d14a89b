// SPDX-License-Identifier: MIT
#pragma once
// Shared helpers of the SIMD tests: the policy and architecture lists, inputs that reach
// every path of a conversion (generated at run time from fixed seeds, so the compiler cannot
// fold them), and the scalar reference every kernel is compared with bit for bit.

#include <fxp/core/core.hpp>
#include <fxp/simd/simd.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace fxp_test {

template <class... Ts>
struct type_list {};

/// Calls f(std::type_identity<T>{}) for each T of the list.
template <class... Ts, class F>
void for_each_type(type_list<Ts...>, F&& f) {
  (f(std::type_identity<Ts>{}), ...);
}

using rounding_policies =
    type_list<fxp::truncate, fxp::toward_zero, fxp::nearest, fxp::nearest_even, fxp::stochastic>;
using overflow_policies = type_list<fxp::saturate, fxp::wrap, fxp::checked>;

/// T with another overflow policy.
template <class T, class Overflow>
using with_overflow = fxp::basic_fixed<T::integer_bits, T::fraction_bits, T::is_signed,
                                       typename T::rounding_policy, Overflow>;

/// "fixed<1,7>" without the policies.
template <class T>
std::string format_name() {
  return std::string(T::is_signed ? "fixed<" : "ufixed<") + std::to_string(T::integer_bits) + "," +
         std::to_string(T::fraction_bits) + ">";
}

/// Calls f.template operator()<Arch>() for each xsimd architecture that the compiler flags
/// enable and this processor runs (the SSE2 baseline, SSE4.1, AVX2 and AVX-512BW), and for
/// the generic vectors of 32 and 64 bytes that a dispatching build runs in its AVX2 and
/// AVX-512 regions, when this processor has those (their x86 forms are compiled for them;
/// here the lane code around them is compiled outside a region).
template <class F>
void for_each_arch(F&& f) {
  const auto visit = [&]<class Arch>() {
    if constexpr (fxp::simd::simd_arch<Arch>) {
      if (xsimd::available_architectures().best >= Arch::version()) f.template operator()<Arch>();
    }
  };
  visit.template operator()<xsimd::sse2>();
  visit.template operator()<xsimd::sse4_1>();
  visit.template operator()<xsimd::avx2>();
  visit.template operator()<xsimd::avx512bw>();
  using fxp::simd::isa;
  if (fxp::simd::isa_supported(isa::avx2)) f.template operator()<fxp::simd::vector_arch<32>>();
  if (fxp::simd::isa_supported(isa::avx512)) f.template operator()<fxp::simd::vector_arch<64>>();
}

/// A float from its bits.
inline float from_bits(std::uint32_t b) { return std::bit_cast<float>(b); }
inline std::uint32_t bits_of(float x) { return std::bit_cast<std::uint32_t>(x); }

/// Hex bits and value of a float, for failure messages.
inline std::string describe(float x) {
  std::ostringstream s;
  s << std::hexfloat << x << " (0x" << std::hex << bits_of(x) << ")";
  return s.str();
}

/// 2^e * k as the nearest float (huge and tiny values saturate to inf or flush to 0, which
/// is fine for inputs).
inline float scaled(double k, int e) { return static_cast<float>(std::ldexp(k, e)); }

/// Floats that exercise every path of a conversion into T: uniform values over 1.5x T's
/// range (so both bounds overflow), exact grid points and ties of T's last bit and their
/// neighbours one float ulp away, values far below T's last bit, arbitrary bit patterns
/// (subnormals, huge values, infinities), and the special values. No NaN unless asked for.
template <class T>
std::vector<float> float_inputs(std::size_t n, std::uint32_t seed, bool finite = false) {
  std::mt19937_64 rng(seed);
  const int f = T::fraction_bits;
  const double lo = static_cast<double>(T::raw_min);
  const double hi = static_cast<double>(T::raw_max);
  std::uniform_real_distribution<double> uniform(1.5 * std::min(lo, -hi), 1.5 * hi + 1);
  std::uniform_real_distribution<double> raw_uniform(lo - 2, hi + 2);
  std::uniform_int_distribution<int> exponent(-160, 130);
  const float specials[] = {0.0f, -0.0f, 1.0f, -1.0f,
                            std::numeric_limits<float>::denorm_min(),
                            -std::numeric_limits<float>::denorm_min(),
                            std::numeric_limits<float>::min(), -std::numeric_limits<float>::min(),
                            std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            scaled(hi, -f), scaled(hi + 1, -f), scaled(hi + 0.5, -f),
                            scaled(lo, -f), scaled(lo - 1, -f), scaled(lo - 0.5, -f),
                            scaled(0.5, -f), scaled(-0.5, -f), scaled(1.5, -f), scaled(-1.5, -f),
                            scaled(1, -f - 31), scaled(-1, -f - 31), scaled(1, -f - 33),
                            scaled(-1, -f - 33), scaled(3, -f - 64), scaled(-3, -f - 64),
                            scaled(1, -f - 100), scaled(-1, -f - 100), scaled(1, 31 - f),
                            scaled(-1, 31 - f), scaled(1, 32 - f), scaled(-1, 32 - f)};
  std::vector<float> v(n);
  for (auto& x : v) {
    switch (rng() % 8) {
      case 0:
      case 1:
        x = static_cast<float>(std::ldexp(uniform(rng), -f));
        break;
      case 2:  // an exact grid point or tie of T, or one float ulp beside it
      {
        const double k = std::floor(raw_uniform(rng)) + ((rng() & 1) ? 0.5 : 0.0);
        x = scaled(k, -f);
        if (const auto step = rng() % 3; step == 1) {
          x = std::nextafter(x, std::numeric_limits<float>::infinity());
        } else if (step == 2) {
          x = std::nextafter(x, -std::numeric_limits<float>::infinity());
        }
        break;
      }
      case 3:  // any bit pattern: subnormals, huge values, infinities
        x = from_bits(static_cast<std::uint32_t>(rng()));
        break;
      case 4:  // any magnitude
        x = static_cast<float>(std::ldexp(uniform(rng) / (hi + 1), exponent(rng)));
        break;
      case 5:  // far below T's last bit: the stochastic fraction's low bits
        x = static_cast<float>(std::ldexp(uniform(rng) / (hi + 1), -f - 20 - static_cast<int>(rng() % 60)));
        break;
      default:
        x = specials[rng() % std::size(specials)];
        break;
    }
    if (std::isnan(x) || (finite && std::isinf(x))) x = 0.0f;
  }
  return v;
}

/// Raw values of T over its whole range, with its bounds, zero, and patterns whose low bits
/// are exactly a half or just beside one.
template <class T>
std::vector<typename T::raw_type> raw_inputs(std::size_t n, std::uint32_t seed) {
  using raw_type = typename T::raw_type;
  std::mt19937_64 rng(seed);
  std::vector<raw_type> v(n);
  for (auto& r : v) {
    // Uniform over [raw_min, raw_max] (64-bit formats: any word).
    const std::uint64_t span = static_cast<std::uint64_t>(T::raw_max) -
                               static_cast<std::uint64_t>(T::raw_min);
    const std::uint64_t offset = span == ~std::uint64_t{0} ? rng() : rng() % (span + 1);
    const auto any = static_cast<raw_type>(static_cast<std::uint64_t>(T::raw_min) + offset);
    switch (rng() % 6) {
      case 0:
        r = T::raw_min;
        break;
      case 1:
        r = T::raw_max;
        break;
      case 2:
        r = static_cast<raw_type>(rng() % 3);  // 0, 1, 2
        break;
      case 3:  // a single bit, perhaps with the sign: exact halves at every position
        r = static_cast<raw_type>(std::uint64_t{1} << (rng() % T::width));
        break;
      default:
        r = any;
        break;
    }
  }
  return v;
}

/// The scalar reference: element j converted by the core with the generator positioned at
/// element j, as the kernels' contract says.
template <class To, class Round, class From>
typename To::raw_type reference_element(const From& x, const fxp::random_key& key,
                                        std::uint64_t j) {
  auto gen = key.generator_at(j);
  return fxp::fixed_cast<To, Round>(x, gen).raw();
}

/// Replaces the inputs whose conversion throws (overflow under fxp::checked) with `safe`,
/// so that a whole array converts.
template <class To, class Round, class From>
void drop_throwing(std::vector<From>& in, const fxp::random_key& key, std::uint64_t first,
                   From safe) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    try {
      (void)reference_element<To, Round>(in[i], key, first + i);
    } catch (const fxp::overflow_error&) {
      in[i] = safe;
    }
  }
}

/// The sizes worth trying around a kernel's chunk of `chunk` elements (four batches): around
/// one batch, around one chunk, a few chunks, and many.
inline std::vector<std::size_t> sizes_around(std::size_t chunk) {
  const std::size_t batch = chunk / 4;
  return {0, 1, batch - 1, batch + 1, chunk - 1, chunk, chunk + 1, 2 * chunk + 3, 1000 + 7};
}

/// Runs `kernel(in, out, n, first)` on every size around the chunk, at input and output
/// offsets 0-3 elements (unaligned views), and compares every element with the scalar
/// reference bit for bit, and the elements around the output with their sentinel.
/// `expected[j]` is the raw value of element j of `in` converted as element first_base + j.
/// (Type-erased, so that it is compiled once per pair of element types.)
template <class Out, class In>
void check_kernel(const std::vector<In>& in, std::size_t chunk, std::uint64_t first_base,
                  const std::function<void(const In*, Out*, std::size_t, std::uint64_t)>& kernel,
                  const std::vector<typename Out::raw_type>& expected, const std::string& label) {
  constexpr std::size_t guard = 70;
  const auto sentinel = static_cast<typename Out::raw_type>(0x5A);
  const std::size_t offsets[][2] = {{0, 0}, {1, 3}, {2, 1}, {3, 2}};
  std::vector<Out> out;
  for (const std::size_t n : sizes_around(chunk)) {
    for (const auto& offset : offsets) {
      const std::size_t in_offset = offset[0];
      const std::size_t out_offset = offset[1];
      REQUIRE(in_offset + n <= in.size());
      out.assign(out_offset + n + guard, Out::from_raw(sentinel));
      kernel(in.data() + in_offset, out.data() + out_offset, n, first_base + in_offset);
      for (std::size_t i = 0; i < out.size(); ++i) {
        const bool inside = i >= out_offset && i < out_offset + n;
        const auto want = inside ? expected[in_offset + i - out_offset] : sentinel;
        if (out[i].raw() != want) {
          std::ostringstream where;
          where << label << ": n = " << n << ", input offset " << in_offset << ", output offset "
                << out_offset << ", element "
                << static_cast<long long>(i) - static_cast<long long>(out_offset)
                << (inside ? "" : " (outside the output)");
          if (inside) {
            if constexpr (std::is_same_v<In, float>) {
              where << ", input " << describe(in[in_offset + i - out_offset]);
            } else {
              where << ", input raw " << static_cast<long long>(in[in_offset + i - out_offset].raw());
            }
          }
          INFO(where.str());
          CHECK(static_cast<long long>(out[i].raw()) == static_cast<long long>(want));
          return;  // one failure per configuration is enough to read
        }
      }
    }
  }
}

}  // namespace fxp_test
