// SPDX-License-Identifier: MIT
#pragma once
// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum of gzip, zlib's crc32()
// and PNG, computed with a table built at compile time.

#include <array>    // the 256-entry table
#include <cstddef>  // std::byte
#include <cstdint>  // 32-bit words
#include <span>     // the bytes to checksum

namespace fxp::io {

namespace detail {
[[nodiscard]] consteval std::array<std::uint32_t, 256> crc32_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
inline constexpr std::array<std::uint32_t, 256> crc32_lookup = crc32_table();
}  // namespace detail

/// The CRC-32 of `bytes`, continuing from the CRC `crc` of the bytes before them (0 for
/// none), so `crc32(b, crc32(a)) == crc32(a then b)`. `crc32("123456789") == 0xCBF43926`.
[[nodiscard]] constexpr std::uint32_t crc32(std::span<const std::byte> bytes,
                                            std::uint32_t crc = 0) noexcept {
  crc = ~crc;
  for (const std::byte b : bytes) {
    crc = detail::crc32_lookup[(crc ^ static_cast<std::uint32_t>(b)) & 0xFFu] ^ (crc >> 8);
  }
  return ~crc;
}

}  // namespace fxp::io
