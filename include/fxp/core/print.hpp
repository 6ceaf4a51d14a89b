// SPDX-License-Identifier: MIT
#pragma once
// Printing the exact decimal value. Every fixed-point value is a finite decimal:
// raw * 2^-F = raw * 5^F / 10^F.

#include <cstdint>  // 32-bit limbs of the decimal big number
#include <ostream>  // operator<<
#include <string>   // to_string
#include <vector>   // limbs

#include "fixed.hpp"

namespace fxp {

namespace detail {

/// Decimal digits of magnitude * 2^-f, exactly, without a sign.
[[nodiscard]] inline std::string exact_decimal(std::uint64_t magnitude, int f) {
  // Little-endian limbs in base 10^9, so multiplying by 2 or 5 never overflows 64 bits.
  constexpr std::uint32_t base = 1'000'000'000;
  std::vector<std::uint32_t> limbs;
  do {
    limbs.push_back(static_cast<std::uint32_t>(magnitude % base));
    magnitude /= base;
  } while (magnitude != 0);
  const auto multiply = [&](std::uint32_t factor) {
    std::uint64_t carry = 0;
    for (auto& limb : limbs) {
      const std::uint64_t product = std::uint64_t{limb} * factor + carry;
      limb = static_cast<std::uint32_t>(product % base);
      carry = product / base;
    }
    if (carry != 0) limbs.push_back(static_cast<std::uint32_t>(carry));
  };
  // 2^-f = 5^f / 10^f: scale by 5 (or by 2 for f < 0), 13 factors at a time (5^13 < 2^31).
  const std::uint32_t factor = f > 0 ? 5 : 2;
  for (int left = f > 0 ? f : -f; left > 0; left -= 13) {
    std::uint32_t chunk = 1;
    for (int i = 0; i < (left < 13 ? left : 13); ++i) chunk *= factor;
    multiply(chunk);
  }
  std::string digits = std::to_string(limbs.back());
  for (auto it = limbs.rbegin() + 1; it != limbs.rend(); ++it) {
    const std::string part = std::to_string(*it);
    digits += std::string(9 - part.size(), '0') + part;
  }
  if (f <= 0) return digits;
  const auto point = static_cast<std::size_t>(f);
  if (digits.size() <= point) digits.insert(0, point + 1 - digits.size(), '0');
  digits.insert(digits.size() - point, 1, '.');
  while (digits.back() == '0') digits.pop_back();  // the shortest exact form
  if (digits.back() == '.') digits.pop_back();
  return digits;
}

}  // namespace detail

/// The exact decimal value of x, shortest form: "-0.0078125", "3", "1536".
template <fixed_point T>
[[nodiscard]] std::string to_string(const T& x) {
  const auto raw = x.raw();
  const bool negative = raw < 0;
  // Negate in the unsigned domain: the magnitude of the lowest int64 does not fit int64.
  const auto bits = static_cast<std::uint64_t>(raw);
  const std::uint64_t magnitude = negative ? ~bits + 1 : bits;
  std::string digits = detail::exact_decimal(magnitude, T::fraction_bits);
  if (negative) digits.insert(digits.begin(), '-');
  return digits;
}

/// Writes the exact decimal value (see fxp::to_string).
template <fixed_point T>
std::ostream& operator<<(std::ostream& os, const T& x) {
  return os << to_string(x);
}

}  // namespace fxp
