// SPDX-License-Identifier: MIT
#pragma once
// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a 4-byte
// magic number 0x0000TTDD (TT = element type, 0x08 for unsigned bytes; DD = number of
// dimensions), DD big-endian 32-bit extents, then the elements in row-major order. Files may
// be gzip'd or plain; both are read the same way. Every malformed file is a format_error
// naming the file and what was expected and found.

#include <algorithm>   // std::min
#include <array>       // the header bytes
#include <cstddef>     // std::size_t, std::byte
#include <cstdint>     // 32-bit header words, byte elements
#include <cstdio>      // std::snprintf for hexadecimal magic numbers
#include <filesystem>  // paths
#include <limits>      // all_items
#include <span>        // data to write
#include <stdexcept>   // std::invalid_argument for a bad write request
#include <string>      // messages
#include <utility>     // std::move
#include <vector>      // the data read

#include "detail/gzip.hpp"
#include "error.hpp"
#include "file.hpp"

namespace fxp::io {

/// Magic number of an IDX file of unsigned bytes with one dimension: labels.
inline constexpr std::uint32_t idx_labels_magic = 0x00000801;
/// Magic number of an IDX file of unsigned bytes with three dimensions: images.
inline constexpr std::uint32_t idx_images_magic = 0x00000803;
/// A `max_items` that reads every item of a file.
inline constexpr std::size_t all_items = std::numeric_limits<std::size_t>::max();

/// Images read from an IDX file: `count` images of `rows` x `cols` bytes, row-major.
struct idx_images {
  std::size_t count = 0;       ///< images read (the file's count, or `max_items` if fewer)
  std::size_t rows = 0;        ///< rows of each image
  std::size_t cols = 0;        ///< columns of each image
  std::size_t file_count = 0;  ///< images the file holds
  std::vector<std::uint8_t> pixels;  ///< count * rows * cols bytes, image by image
};

/// Labels read from an IDX file.
struct idx_labels {
  std::size_t file_count = 0;        ///< labels the file holds
  std::vector<std::uint8_t> values;  ///< the labels read (at most `max_items`)
};

/// An image file and its label file, checked against each other.
struct idx_pair {
  idx_images images;
  idx_labels labels;
};

namespace detail {

[[nodiscard]] inline std::string hex32(std::uint32_t v) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08X", static_cast<unsigned>(v));
  return text;
}

[[nodiscard]] inline std::string dimensions(std::size_t n) {
  return std::to_string(n) + (n == 1 ? " dimension" : " dimensions");
}

/// What an IDX magic number means, e.g. "(unsigned bytes, 3 dimensions)".
[[nodiscard]] inline std::string describe_magic(std::uint32_t magic) {
  if ((magic >> 16) != 0) return "(not an IDX file: its first two bytes must be zero)";
  const unsigned type = (magic >> 8) & 0xFFu;
  const char* name = type == 0x08   ? "unsigned bytes"
                     : type == 0x09 ? "signed bytes"
                     : type == 0x0B ? "16-bit integers"
                     : type == 0x0C ? "32-bit integers"
                     : type == 0x0D ? "floats"
                     : type == 0x0E ? "doubles"
                                    : "an unknown element type";
  return std::string("(") + name + ", " + dimensions(magic & 0xFFu) + ")";
}

[[nodiscard]] inline std::uint32_t big_endian32(const unsigned char* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

/// An IDX file of unsigned bytes with `Rank` dimensions.
template <std::size_t Rank>
struct idx_bytes {
  std::array<std::size_t, Rank> dims{};  ///< extents as the file declares them
  std::size_t items = 0;                 ///< outer indices read
  std::vector<std::uint8_t> data;        ///< items * (product of the inner extents) bytes
};

/// Reads the first min(max_items, dims[0]) items of an IDX file of unsigned bytes with
/// `Rank` dimensions; `kind` ("labels", "images") goes into messages. The whole file is
/// read (and its gzip checksum verified, and trailing bytes rejected) unless `max_items`
/// stops the read early.
template <std::size_t Rank>
[[nodiscard]] idx_bytes<Rank> read_idx_bytes(const std::filesystem::path& file, const char* kind,
                                             std::size_t max_items) {
  gz_reader in(file);
  const auto cut = [&] { return in.cut_short() ? " (the gzip stream is cut short)" : ""; };

  std::array<unsigned char, 4 + 4 * Rank> header{};
  const std::size_t got = in.read(header.data(), 4);
  if (got < 4) {
    throw format_error(file, "truncated header: " + std::to_string(got) +
                                 " bytes, but an IDX magic number takes 4" + cut());
  }
  const std::uint32_t magic = big_endian32(header.data());
  const std::uint32_t expected = 0x0800u | static_cast<std::uint32_t>(Rank);
  if (magic != expected) {
    const bool same_type = (magic & 0xFFFFFF00u) == 0x0800u;
    throw format_error(file, std::string(same_type ? "wrong number of dimensions" : "wrong magic number") +
                                 " for IDX " + kind + ": expected " + hex32(expected) + " " +
                                 describe_magic(expected) + ", found " + hex32(magic) + " " +
                                 describe_magic(magic));
  }
  const std::size_t dims_got = in.read(header.data() + 4, 4 * Rank);
  if (dims_got < 4 * Rank) {
    throw format_error(file, "truncated header: " + dimensions(Rank) + " need " +
                                 std::to_string(4 * Rank) + " bytes after the magic number, found " +
                                 std::to_string(dims_got) + cut());
  }

  idx_bytes<Rank> out;
  std::size_t item_bytes = 1;
  for (std::size_t axis = 0; axis < Rank; ++axis) {
    out.dims[axis] = big_endian32(header.data() + 4 + 4 * axis);
    if (axis > 0) item_bytes *= out.dims[axis];  // two 32-bit extents: no overflow
  }
  if (Rank > 1 && item_bytes == 0) {
    throw format_error(file, std::string("wrong dimensions for IDX ") + kind +
                                 ": an item of zero bytes (an inner extent is 0)");
  }
  out.items = std::min(out.dims[0], max_items);
  std::size_t total = 0;
  if (__builtin_mul_overflow(out.items, item_bytes, &total)) {
    throw format_error(file, "dimensions too large for this machine");
  }

  // Grow the buffer as data arrives, so a header that declares more than the file holds
  // costs no more memory than the file's real content.
  constexpr std::size_t chunk = std::size_t{1} << 24;
  while (out.data.size() < total) {
    const std::size_t before = out.data.size();
    const std::size_t want = std::min(total - before, chunk);
    out.data.resize(before + want);
    const std::size_t n = in.read(out.data.data() + before, want);
    if (n < want) {
      const std::size_t have = before + n;
      throw format_error(file, "truncated data: the header declares " +
                                   std::to_string(out.dims[0]) + " " + kind + " of " +
                                   std::to_string(item_bytes) + " bytes (" +
                                   std::to_string(total) + " bytes to read), but the file ends after " +
                                   std::to_string(have) + " bytes of data (" +
                                   std::to_string(have / item_bytes) + " whole " + kind + ")" + cut());
    }
  }
  if (out.items == out.dims[0]) {
    // Reading past the end verifies a gzip stream's CRC-32 and length, and finds extra bytes.
    unsigned char extra[64];
    const std::size_t n = in.read(extra, sizeof extra);
    if (n > 0) {
      throw format_error(file, "trailing bytes: the header declares " + std::to_string(total) +
                                   " bytes of data, but the file holds more");
    }
    if (in.cut_short()) {
      throw format_error(file, "truncated gzip trailer: the data is complete, but the gzip"
                               " stream is cut short before its checksum and length");
    }
  }
  return out;
}

}  // namespace detail

/// Reads IDX images (magic 0x00000803, unsigned bytes, dimensions count x rows x cols), gzip'd
/// or plain, the first `max_items` of them at most. Throws `file_error` if the file cannot be
/// opened or read, `format_error` (naming the file, and what was expected and found) if it is
/// truncated, corrupt, has the wrong magic number or dimensions, or trailing bytes. Without a
/// `max_items` limit the whole gzip stream is verified (CRC-32 and length); with one, the rest
/// of the file is not read.
[[nodiscard]] inline idx_images read_idx_images(const std::filesystem::path& file,
                                                std::size_t max_items = all_items) {
  auto raw = detail::read_idx_bytes<3>(file, "images", max_items);
  return idx_images{raw.items, raw.dims[1], raw.dims[2], raw.dims[0], std::move(raw.data)};
}

/// Reads IDX labels (magic 0x00000801, unsigned bytes, one dimension), gzip'd or plain, the
/// first `max_items` of them at most; errors as for `read_idx_images`.
[[nodiscard]] inline idx_labels read_idx_labels(const std::filesystem::path& file,
                                                std::size_t max_items = all_items) {
  auto raw = detail::read_idx_bytes<1>(file, "labels", max_items);
  return idx_labels{raw.dims[0], std::move(raw.data)};
}

/// Reads an image file and its label file (the first `max_items` of each at most) and checks
/// that they hold the same number of items; a mismatch is a `format_error` naming both files
/// and both counts, and also reported when only a slice is read.
[[nodiscard]] inline idx_pair read_idx_pair(const std::filesystem::path& images,
                                            const std::filesystem::path& labels,
                                            std::size_t max_items = all_items) {
  idx_pair out{read_idx_images(images, max_items), read_idx_labels(labels, max_items)};
  if (out.images.file_count != out.labels.file_count) {
    throw format_error(labels, "mismatched files: it holds " +
                                   std::to_string(out.labels.file_count) + " labels, but '" +
                                   images.string() + "' holds " +
                                   std::to_string(out.images.file_count) + " images");
  }
  return out;
}

/// Whether `write_idx` compresses.
enum class idx_compression { none, gzip };

/// Writes an IDX file of unsigned bytes with the given extents (1 to 255 of them, each below
/// 2^32) atomically (see `write_file_atomically`), gzip'd or plain. `data` must hold the
/// product of the extents; otherwise std::invalid_argument.
inline void write_idx(const std::filesystem::path& file, std::span<const std::size_t> dims,
                      std::span<const std::uint8_t> data,
                      idx_compression compression = idx_compression::gzip) {
  if (dims.empty() || dims.size() > 255) {
    throw std::invalid_argument("fxp::io::write_idx: 1 to 255 dimensions; got " +
                                std::to_string(dims.size()));
  }
  std::size_t count = 1;
  std::vector<std::byte> bytes;
  bytes.reserve(4 + 4 * dims.size() + data.size());
  const auto put32 = [&](std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(static_cast<std::byte>((v >> shift) & 0xFFu));
  };
  put32(0x0800u | static_cast<std::uint32_t>(dims.size()));
  for (const std::size_t d : dims) {
    if (d > 0xFFFFFFFFu) {
      throw std::invalid_argument("fxp::io::write_idx: extent " + std::to_string(d) +
                                  " does not fit in 32 bits");
    }
    put32(static_cast<std::uint32_t>(d));
    count *= d;
  }
  if (count != data.size()) {
    throw std::invalid_argument("fxp::io::write_idx: the extents hold " + std::to_string(count) +
                                " bytes, but " + std::to_string(data.size()) + " were given");
  }
  const auto* first = reinterpret_cast<const std::byte*>(data.data());
  bytes.insert(bytes.end(), first, first + data.size());
  if (compression == idx_compression::gzip) bytes = detail::gzip_compress(bytes);
  write_file_atomically(file, std::span<const std::byte>(bytes));
}

/// Writes `count` images of rows x cols bytes as an IDX image file (magic 0x00000803).
inline void write_idx_images(const std::filesystem::path& file, std::size_t count,
                             std::size_t rows, std::size_t cols,
                             std::span<const std::uint8_t> pixels,
                             idx_compression compression = idx_compression::gzip) {
  const std::array<std::size_t, 3> dims{count, rows, cols};
  write_idx(file, dims, pixels, compression);
}

/// Writes labels as an IDX label file (magic 0x00000801).
inline void write_idx_labels(const std::filesystem::path& file,
                             std::span<const std::uint8_t> labels,
                             idx_compression compression = idx_compression::gzip) {
  const std::array<std::size_t, 1> dims{labels.size()};
  write_idx(file, dims, labels, compression);
}

}  // namespace fxp::io
