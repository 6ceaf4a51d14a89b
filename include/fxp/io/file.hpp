// SPDX-License-Identifier: MIT
#pragma once
// Whole-file reads, and atomic whole-file writes: the content goes to a temporary file in the
// target's directory, is flushed to the disk (fsync), and then renamed over the target, so a
// crash or an exception never leaves a half-written file and an existing file is replaced in
// one step. POSIX (open, write, fsync, rename), like the rest of the io layer.

#include <atomic>        // a process-wide counter for unique temporary names
#include <cerrno>        // errno after a failed system call
#include <cstddef>       // std::byte, std::size_t
#include <filesystem>    // paths
#include <functional>    // std::function: the caller's writer
#include <span>          // byte ranges
#include <string>        // messages, temporary names
#include <string_view>   // text writes
#include <system_error>  // std::system_category for errno messages
#include <utility>       // std::exchange
#include <vector>        // read_file's result

#include <fcntl.h>   // open and its flags
#include <unistd.h>  // write, fsync, close, getpid, unlink

#include "error.hpp"

namespace fxp::io {

namespace detail {

/// The message of an errno value, e.g. "No such file or directory".
[[nodiscard]] inline std::string errno_message(int code) {
  return std::system_category().message(code);
}

/// Closes a file descriptor on scope exit unless released.
class unique_fd {
 public:
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const noexcept { return fd_; }
  /// Closes now and reports close()'s result (0 or an errno value).
  [[nodiscard]] int close() noexcept {
    const int fd = std::exchange(fd_, -1);
    return fd >= 0 && ::close(fd) != 0 ? errno : 0;
  }

 private:
  int fd_;
};

/// Writes all of [data, data + size) to fd, retrying partial writes and EINTR; returns 0 or
/// the errno value of the failure.
[[nodiscard]] inline int write_all(int fd, const std::byte* data, std::size_t size) noexcept {
  while (size > 0) {
    const ::ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return 0;
}

/// Makes a completed rename durable by syncing the directory that holds the new name.
/// Best effort: some file systems do not support syncing a directory.
inline void sync_directory(const std::filesystem::path& dir) noexcept {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

}  // namespace detail

class output_file;
inline void write_file_atomically(const std::filesystem::path& target,
                                  const std::function<void(output_file&)>& writer);

/// Where an atomic write puts its bytes: a temporary file beside the target. Only
/// `write_file_atomically` makes one.
class output_file {
 public:
  output_file(const output_file&) = delete;
  output_file& operator=(const output_file&) = delete;

  /// Appends bytes; throws `file_error` (naming the target) if the system refuses them.
  void write(std::span<const std::byte> bytes) {
    if (const int code = detail::write_all(fd_, bytes.data(), bytes.size()); code != 0) {
      throw file_error(target_, "cannot write (temporary file '" + temporary_.string() +
                                    "'): " + detail::errno_message(code));
    }
    written_ += bytes.size();
  }
  /// Appends text.
  void write(std::string_view text) { write(std::as_bytes(std::span(text.data(), text.size()))); }

  /// The file that will be replaced once the writer returns.
  [[nodiscard]] const std::filesystem::path& target() const noexcept { return target_; }
  /// Bytes written so far.
  [[nodiscard]] std::size_t bytes_written() const noexcept { return written_; }

 private:
  friend void write_file_atomically(const std::filesystem::path&,
                                    const std::function<void(output_file&)>&);
  output_file(int fd, std::filesystem::path target, std::filesystem::path temporary)
      : fd_(fd), target_(std::move(target)), temporary_(std::move(temporary)) {}

  int fd_;
  std::filesystem::path target_;
  std::filesystem::path temporary_;
  std::size_t written_ = 0;
};

/// Replaces (or creates) `target` with what `writer` writes, atomically: the bytes go to a
/// new temporary file in the same directory (named ".<name>.tmp.<pid>.<n>"), which is
/// fsync'ed, closed and renamed over `target`, and the directory is synced. If `writer` or
/// any step throws, the temporary file is removed, `target` is left exactly as it was, and
/// the exception propagates. System failures are `file_error`s naming `target`.
/// The new file's permissions are 0666 minus the process's umask.
inline void write_file_atomically(const std::filesystem::path& target,
                                  const std::function<void(output_file&)>& writer) {
  static std::atomic<unsigned long> serial{0};
  const std::filesystem::path dir =
      target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  const std::string base = target.filename().string();
  if (base.empty() || base == "." || base == "..") {
    throw file_error(target, "not a file name");
  }

  // O_EXCL: a name another process or thread already uses is skipped, never shared.
  std::filesystem::path temporary;
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    temporary = dir / ("." + base + ".tmp." + std::to_string(::getpid()) + "." +
                       std::to_string(serial.fetch_add(1)));
    fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && (errno != EEXIST || attempt >= 100)) {
      throw file_error(target, "cannot create a temporary file in '" + dir.string() +
                                   "': " + detail::errno_message(errno));
    }
  }
  detail::unique_fd file(fd);
  try {
    output_file out(fd, target, temporary);
    writer(out);
    if (::fsync(fd) != 0) {
      throw file_error(target, "cannot flush to disk: " + detail::errno_message(errno));
    }
    if (const int code = file.close(); code != 0) {
      throw file_error(target, "cannot close: " + detail::errno_message(code));
    }
    if (::rename(temporary.c_str(), target.c_str()) != 0) {
      throw file_error(target, "cannot rename '" + temporary.string() +
                                   "' to it: " + detail::errno_message(errno));
    }
  } catch (...) {
    (void)file.close();
    ::unlink(temporary.c_str());
    throw;
  }
  detail::sync_directory(dir);
}

/// Replaces (or creates) `target` with `bytes`, atomically (see the writer overload).
inline void write_file_atomically(const std::filesystem::path& target,
                                  std::span<const std::byte> bytes) {
  write_file_atomically(target, [bytes](output_file& out) { out.write(bytes); });
}

/// The whole content of a file. Throws `file_error` naming the file if it cannot be opened
/// (the message says e.g. "No such file or directory") or read.
[[nodiscard]] inline std::vector<std::byte> read_file(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw file_error(file, "cannot open: " + detail::errno_message(errno));
  detail::unique_fd guard(fd);
  std::vector<std::byte> content;
  std::size_t size = 0;
  for (;;) {
    if (content.size() - size < 65536) content.resize(size + 65536 + size / 2);
    const ::ssize_t n = ::read(fd, content.data() + size, content.size() - size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw file_error(file, "cannot read: " + detail::errno_message(errno));
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  content.resize(size);
  return content;
}

}  // namespace fxp::io
