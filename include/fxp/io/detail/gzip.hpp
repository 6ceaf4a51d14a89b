// SPDX-License-Identifier: MIT
#pragma once
// zlib glue for the IDX files: a reader that takes gzip'd and plain files alike (zlib's gz*
// functions read a file without the gzip magic as is) and reports corruption and truncation
// precisely, and an in-memory gzip compressor for the writer.

#include <algorithm>    // std::min
#include <cerrno>       // errno after a failed gzopen
#include <climits>      // INT_MAX: gzread takes an int-sized count
#include <cstddef>      // std::size_t, std::byte
#include <filesystem>   // paths
#include <span>         // byte ranges
#include <string>       // messages
#include <system_error> // errno messages
#include <vector>       // compressed bytes

#include <zlib.h>

#include "../error.hpp"

namespace fxp::io::detail {

/// Reads a file through zlib: gzip'd content is decompressed and checked (its CRC-32 and
/// length are verified when the end of the stream is read), plain content is passed through.
class gz_reader {
 public:
  explicit gz_reader(const std::filesystem::path& file) : path_(file) {
    errno = 0;
    file_ = ::gzopen(file.c_str(), "rb");
    if (file_ == nullptr) {
      const int code = errno;
      throw file_error(file, code != 0 ? "cannot open: " + std::system_category().message(code)
                                       : std::string("cannot open (zlib out of memory)"));
    }
    ::gzbuffer(file_, 1u << 17);  // fewer system calls than the default 8 KiB
  }
  gz_reader(const gz_reader&) = delete;
  gz_reader& operator=(const gz_reader&) = delete;
  ~gz_reader() { ::gzclose(file_); }

  /// Reads up to `size` bytes and returns how many it read; fewer means the content ended
  /// (then `cut_short()` says whether a gzip stream ended before its trailer). Throws
  /// `format_error` for a corrupt gzip stream (bad deflate data, CRC or length mismatch) and
  /// `file_error` when the system cannot read the file.
  [[nodiscard]] std::size_t read(void* buffer, std::size_t size) {
    auto* out = static_cast<unsigned char*>(buffer);
    std::size_t done = 0;
    while (done < size) {
      const auto want = static_cast<unsigned>(std::min<std::size_t>(size - done, INT_MAX / 2));
      const int got = ::gzread(file_, out + done, want);
      if (got < 0) fail();
      done += static_cast<std::size_t>(got);
      if (static_cast<unsigned>(got) < want) {
        int code = Z_OK;
        (void)::gzerror(file_, &code);
        if (code == Z_BUF_ERROR) {
          cut_short_ = true;  // "unexpected end of file": the gzip stream was truncated
        } else if (code != Z_OK) {
          fail();
        }
        break;
      }
    }
    return done;
  }

  /// Whether the content ended because a gzip stream was cut short (a truncated .gz file).
  [[nodiscard]] bool cut_short() const noexcept { return cut_short_; }
  /// Whether the file is read as is (not gzip'd); meaningful after the first read.
  [[nodiscard]] bool plain() const noexcept { return ::gzdirect(file_) == 1; }

 private:
  [[noreturn]] void fail() const {
    int code = Z_OK;
    const char* message = ::gzerror(file_, &code);
    if (code == Z_ERRNO) {
      throw file_error(path_, "cannot read: " + std::system_category().message(errno));
    }
    throw format_error(path_, std::string("corrupt gzip stream (zlib: ") +
                                  (message != nullptr ? message : "unknown error") + ")");
  }

  std::filesystem::path path_;
  gzFile file_ = nullptr;
  bool cut_short_ = false;
};

/// `bytes` compressed as one gzip member (RFC 1952) at zlib's default level.
[[nodiscard]] inline std::vector<std::byte> gzip_compress(std::span<const std::byte> bytes) {
  z_stream stream{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (::deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("fxp::io: zlib deflateInit2 failed");
  }
  std::vector<std::byte> out(::deflateBound(&stream, static_cast<uLong>(bytes.size())) + 64);
  std::size_t in_done = 0;
  int status = Z_OK;
  while (status != Z_STREAM_END) {
    const std::size_t in_chunk = std::min<std::size_t>(bytes.size() - in_done, 1u << 30);
    stream.next_in = const_cast<Bytef*>(reinterpret_cast<const Bytef*>(bytes.data() + in_done));
    stream.avail_in = static_cast<uInt>(in_chunk);
    if (out.size() - stream.total_out < 65536) out.resize(out.size() * 2);
    const std::size_t out_room = std::min<std::size_t>(out.size() - stream.total_out, 1u << 30);
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + stream.total_out);
    stream.avail_out = static_cast<uInt>(out_room);
    const bool last = in_done + in_chunk == bytes.size();
    status = ::deflate(&stream, last ? Z_FINISH : Z_NO_FLUSH);
    in_done += in_chunk - stream.avail_in;
    if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR) {
      ::deflateEnd(&stream);
      throw std::runtime_error("fxp::io: zlib deflate failed");
    }
  }
  out.resize(stream.total_out);
  ::deflateEnd(&stream);
  return out;
}

}  // namespace fxp::io::detail
