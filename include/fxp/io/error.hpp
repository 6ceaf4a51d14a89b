// SPDX-License-Identifier: MIT
#pragma once
// The exceptions of the io layer. Every one names the file it is about, so a message read in
// a log says which file was missing, unreadable or malformed, and what was wrong with it.

#include <filesystem>  // std::filesystem::path of the file concerned
#include <memory>      // shared_ptr: the path is shared so copying an exception cannot throw
#include <stdexcept>   // std::runtime_error, the base
#include <string>      // messages

namespace fxp::io {

/// The base of every exception of fxp::io: something is wrong with a file, named by `path()`.
/// `what()` reads "fxp::io: '<path>': <problem>".
class error : public std::runtime_error {
 public:
  /// \param file the file concerned
  /// \param problem what is wrong with it, e.g. "wrong magic number: expected ..., found ..."
  error(const std::filesystem::path& file, const std::string& problem)
      : std::runtime_error("fxp::io: '" + file.string() + "': " + problem),
        path_(std::make_shared<const std::filesystem::path>(file)) {}

  /// The file the error is about.
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return *path_; }

 private:
  std::shared_ptr<const std::filesystem::path> path_;
};

/// A file could not be opened, read, written or renamed (missing, permissions, disk full, ...).
class file_error : public error {
 public:
  using error::error;
};

/// A file's content is not what it should be: truncated, corrupt (bad gzip stream or
/// checksum), wrong magic number or version, wrong dimensions, inconsistent with its partner
/// file, or (for a checkpoint section) not of the type or size the caller expects.
class format_error : public error {
 public:
  using error::error;
};

/// A data set is not installed where it was looked for; the message names the directory and
/// the Debian package that provides the data.
class dataset_not_found : public file_error {
 public:
  using file_error::file_error;
};

}  // namespace fxp::io
