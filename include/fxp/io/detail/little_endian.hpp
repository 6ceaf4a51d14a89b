// SPDX-License-Identifier: MIT
#pragma once
// Little-endian encoding of integers and IEEE floats, whatever the host's byte order: the
// byte order of fxp's checkpoint files.

#include <bit>          // std::bit_cast, std::endian
#include <cstddef>      // std::byte, std::size_t
#include <cstdint>      // unsigned words of each width
#include <cstring>      // std::memcpy for the little-endian fast path
#include <type_traits>  // std::is_floating_point_v

namespace fxp::io::detail {

/// The unsigned integer with T's size.
template <class T>
using unsigned_of = std::conditional_t<
    sizeof(T) == 1, std::uint8_t,
    std::conditional_t<sizeof(T) == 2, std::uint16_t,
                       std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>>;

/// Writes `value` as sizeof(T) little-endian bytes at `out`.
template <class T>
void store_le(T value, std::byte* out) noexcept {
  const auto bits = std::bit_cast<unsigned_of<T>>(value);
  for (std::size_t i = 0; i < sizeof(T); ++i)
    out[i] = static_cast<std::byte>((bits >> (8 * i)) & 0xFFu);
}

/// Reads a T from sizeof(T) little-endian bytes at `in`.
template <class T>
[[nodiscard]] T load_le(const std::byte* in) noexcept {
  unsigned_of<T> bits = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i)
    bits = static_cast<unsigned_of<T>>(bits | (static_cast<unsigned_of<T>>(in[i]) << (8 * i)));
  return std::bit_cast<T>(bits);
}

/// Encodes n values as little-endian bytes (a plain copy on little-endian hosts).
template <class T>
void store_le_array(const T* values, std::size_t n, std::byte* out) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    if (n != 0) std::memcpy(out, values, n * sizeof(T));
  } else {
    for (std::size_t i = 0; i < n; ++i) store_le(values[i], out + i * sizeof(T));
  }
}

/// Decodes n values from little-endian bytes (a plain copy on little-endian hosts).
template <class T>
void load_le_array(const std::byte* in, std::size_t n, T* values) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    if (n != 0) std::memcpy(values, in, n * sizeof(T));
  } else {
    for (std::size_t i = 0; i < n; ++i) values[i] = load_le<T>(in + i * sizeof(T));
  }
}

}  // namespace fxp::io::detail
