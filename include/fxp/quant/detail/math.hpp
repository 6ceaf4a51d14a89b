// SPDX-License-Identifier: MIT
#pragma once
// Elementary functions usable in constant evaluation. std::exp, std::log and std::erfc are
// not constexpr in C++20 (and clang does not fold them at all), yet the quantizer tables and
// the allocation solver must run inside the compiler. Accuracy is a few ulp over the ranges
// the quant layer uses, checked against the C library by tests/quant/math_test.cpp.

#include <bit>      // bit_cast: exponent and mantissa of a double in constant expressions
#include <cstdint>  // the 64-bit image of a double
#include <limits>   // infinity and NaN results

namespace fxp::quant::detail {

inline constexpr double ln2 = 0.69314718055994530942;
inline constexpr double ln10 = 2.30258509299404568402;
inline constexpr double pi = 3.14159265358979323846;
inline constexpr double sqrt2 = 1.41421356237309504880;
inline constexpr double sqrt3 = 1.73205080756887729353;
inline constexpr double inv_sqrt_pi = 0.56418958354775628695;
inline constexpr double inv_sqrt_2pi = 0.39894228040143267794;

/// 2^k exactly, for every k whose power is a normal or subnormal double (0 and +inf beyond).
[[nodiscard]] constexpr double pow2(int k) noexcept {
  if (k > 1023) return std::numeric_limits<double>::infinity();
  if (k >= -1022) return std::bit_cast<double>(static_cast<std::uint64_t>(k + 1023) << 52);
  if (k < -1074) return 0.0;
  return std::bit_cast<double>(std::uint64_t{1} << (k + 1074));  // subnormal
}

/// e^x. Range reduction x = k ln2 + r with |r| <= ln2 / 2 (ln2 split in two parts so that
/// k ln2 is exact), then the Taylor series of e^r, which converges in 20 terms there.
[[nodiscard]] constexpr double exp(double x) noexcept {
  if (x != x) return x;
  if (x > 709.782712893384) return std::numeric_limits<double>::infinity();
  if (x < -745.2) return 0.0;
  const double kd = x / ln2;
  const auto k = static_cast<int>(kd < 0 ? kd - 0.5 : kd + 0.5);
  // fdlibm's split of ln2: the high part has 32 significant bits, so k * ln2_hi is exact.
  constexpr double ln2_hi = 6.93147180369123816490e-01;
  constexpr double ln2_lo = 1.90821492927058770002e-10;
  const double r = (x - k * ln2_hi) - k * ln2_lo;
  double sum = 1.0;
  double term = 1.0;
  for (int n = 1; n <= 20; ++n) {
    term *= r / n;
    sum += term;
  }
  // Two factors so that results in the subnormal range (k < -1022) stay accurate.
  if (k < -1000) return sum * pow2(k + 600) * pow2(-600);
  if (k > 1000) return sum * pow2(k - 600) * pow2(600);
  return sum * pow2(k);
}

/// e^x - 1 without the cancellation of exp(x) - 1 for small |x|.
[[nodiscard]] constexpr double expm1(double x) noexcept {
  if (x > 0.5 || x < -0.5) return exp(x) - 1.0;
  double sum = 0.0;
  double term = 1.0;
  for (int n = 1; n <= 22; ++n) {
    term *= x / n;
    sum += term;
  }
  return sum;
}

/// The natural logarithm: x = m 2^e with m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh(z),
/// z = (m - 1) / (m + 1), |z| < 0.172, whose odd series converges in 12 terms.
[[nodiscard]] constexpr double log(double x) noexcept {
  if (x != x || x < 0) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0) return -std::numeric_limits<double>::infinity();
  if (x == std::numeric_limits<double>::infinity()) return x;
  int e = 0;
  if (x < 0x1p-1022) {  // subnormal: scale into the normal range first
    x *= 0x1p54;
    e -= 54;
  }
  const auto bits = std::bit_cast<std::uint64_t>(x);
  e += static_cast<int>((bits >> 52) & 0x7ff) - 1023;
  double m = std::bit_cast<double>((bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
  if (m > sqrt2) {
    m *= 0.5;
    ++e;
  }
  const double z = (m - 1.0) / (m + 1.0);
  const double z2 = z * z;
  double power = z;
  double sum = 0.0;
  for (int n = 1; n <= 25; n += 2) {
    sum += power / n;
    power *= z2;
  }
  return e * ln2 + 2.0 * sum;
}

/// log10(x).
[[nodiscard]] constexpr double log10(double x) noexcept { return log(x) / ln10; }

/// 10^x.
[[nodiscard]] constexpr double pow10(double x) noexcept { return exp(x * ln10); }

/// The square root by Newton's iteration from an estimate that halves the exponent.
[[nodiscard]] constexpr double sqrt(double x) noexcept {
  if (x != x || x < 0) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0 || x == std::numeric_limits<double>::infinity()) return x;
  const auto bits = std::bit_cast<std::uint64_t>(x);
  double y = std::bit_cast<double>((bits >> 1) + (std::uint64_t{1023} << 51));
  for (int i = 0; i < 6; ++i) y = 0.5 * (y + x / y);  // quadratic from a 1-bit-good start
  return y;
}

/// erfc(x) for x >= 0. Below 2.5: 1 - erf(x) with erf from the series of positive terms
/// erf x = 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1} / (1 3 5 ... (2n+1)), which does not
/// cancel; above: the continued fraction e^{-x^2}/sqrt(pi) / (x + (1/2)/(x + 1/(x + ...))),
/// which keeps full relative accuracy in the far tail (the quantizer's overload region).
[[nodiscard]] constexpr double erfc_nonnegative(double x) noexcept {
  if (x < 2.5) {
    double term = x;
    double sum = x;
    const double two_x2 = 2.0 * x * x;
    for (int n = 0; n < 80 && term > 1e-17 * sum; ++n) {
      term *= two_x2 / (2 * n + 3);
      sum += term;
    }
    return 1.0 - 2.0 * inv_sqrt_pi * exp(-x * x) * sum;
  }
  if (x > 27.3) return 0.0;  // below the smallest subnormal
  double f = x;
  for (int n = 60; n >= 1; --n) f = x + (0.5 * n) / f;
  return inv_sqrt_pi * exp(-x * x) / f;
}

/// erfc(x) for every x.
[[nodiscard]] constexpr double erfc(double x) noexcept {
  return x >= 0 ? erfc_nonnegative(x) : 2.0 - erfc_nonnegative(-x);
}

/// The standard normal density.
[[nodiscard]] constexpr double normal_pdf(double x) noexcept {
  return inv_sqrt_2pi * exp(-0.5 * x * x);
}

/// The standard normal upper tail P(X > x), accurate in relative terms for large x.
[[nodiscard]] constexpr double normal_tail(double x) noexcept { return 0.5 * erfc(x / sqrt2); }

/// The smallest integer e with 2^e >= s (s > 0 and finite), exactly: ceil(log2(s)) without
/// the rounding a floating-point log2 would add at powers of two.
[[nodiscard]] constexpr int ceil_log2(double s) noexcept {
  int e = 0;
  if (s < 0x1p-1022) {
    s *= 0x1p54;
    e -= 54;
  }
  const auto bits = std::bit_cast<std::uint64_t>(s);
  e += static_cast<int>((bits >> 52) & 0x7ff) - 1023;
  return (bits & 0x000fffffffffffffULL) == 0 ? e : e + 1;
}

/// |x| (std::abs is constexpr only from C++23).
[[nodiscard]] constexpr double abs(double x) noexcept { return x < 0 ? -x : x; }

}  // namespace fxp::quant::detail
