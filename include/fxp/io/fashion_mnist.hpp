// SPDX-License-Identifier: MIT
#pragma once
// Fashion-MNIST (Xiao, Rasul, Vollgraf 2017): 60000 training and 10000 test images of 28x28
// grey pixels in 10 classes, as installed by Debian's dataset-fashion-mnist package.

#include <array>        // class names
#include <cstddef>      // std::size_t
#include <cstdint>      // label bytes
#include <filesystem>   // the data set's directory
#include <string>       // messages
#include <string_view>  // class names
#include <system_error> // non-throwing filesystem queries
#include <utility>      // std::move
#include <vector>       // labels

#include "dataset.hpp"
#include "error.hpp"
#include "idx.hpp"

namespace fxp::io {

/// Where Debian's `dataset-fashion-mnist` package installs the four IDX files.
inline constexpr const char* fashion_mnist_default_dir = "/usr/share/datasets/fashion-mnist";

/// The Debian package that provides Fashion-MNIST.
inline constexpr const char* fashion_mnist_package = "dataset-fashion-mnist";

/// The names of the ten classes, indexed by label.
inline constexpr std::array<std::string_view, 10> fashion_mnist_classes = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

/// How pixel bytes become floats.
enum class normalization {
  none,         ///< the byte values 0 to 255
  unit,         ///< x / 255, in [0, 1]
  standardize,  ///< (x / 255 - mean) / stddev, with the mean and stddev of the training images
};

/// What `load_fashion_mnist` loads.
struct fashion_mnist_options {
  std::size_t max_train = all_items;  ///< the first this many training items at most
  std::size_t max_test = all_items;   ///< the first this many test items at most
  normalization normalize = normalization::unit;
};

/// Both splits of Fashion-MNIST: images (N, 1, 28, 28) and labels 0 to 9.
struct fashion_mnist {
  labelled_set train;  ///< 60000 items (or `max_train`)
  labelled_set test;   ///< 10000 items (or `max_test`)
  /// Mean and stddev of the loaded training images on the [0, 1] scale, whatever the
  /// normalisation; `normalization::standardize` applies these to both splits.
  pixel_stats train_stats;
};

/// Reads an IDX image file and its label file (the first `max_items` of each at most) as a
/// labelled set of (N, 1, rows, cols) float images, each pixel byte divided by `divisor`
/// (correctly rounded: 255 gives [0, 1], 1 the bytes as they are). Errors as for
/// `read_idx_pair`.
[[nodiscard]] inline labelled_set read_idx_set(const std::filesystem::path& images,
                                               const std::filesystem::path& labels,
                                               std::size_t max_items = all_items,
                                               float divisor = 255.0f) {
  idx_pair raw = read_idx_pair(images, labels, max_items);
  tensor<float> pixels(shape{raw.images.count, 1, raw.images.rows, raw.images.cols});
  float* out = pixels.data();
  for (const std::uint8_t p : raw.images.pixels) *out++ = static_cast<float>(p) / divisor;
  return {std::move(pixels), std::move(raw.labels.values)};
}

namespace detail {

/// `dir/name.gz`, or `dir/name` if only the unzipped file is there; dataset_not_found if
/// neither is.
[[nodiscard]] inline std::filesystem::path find_fashion_mnist_file(const std::filesystem::path& dir,
                                                                   const std::string& name) {
  std::error_code ignored;
  for (const std::filesystem::path& candidate : {dir / (name + ".gz"), dir / name}) {
    if (std::filesystem::is_regular_file(candidate, ignored)) return candidate;
  }
  const bool dir_exists = std::filesystem::is_directory(dir, ignored);
  throw dataset_not_found(
      dir, std::string("Fashion-MNIST not found: ") +
               (dir_exists ? "the directory has no " + name + ".gz (nor " + name + ")"
                           : std::string("no such directory")) +
               ". On Debian, install the package " + fashion_mnist_package +
               " (apt-get install " + fashion_mnist_package + ") or pass the directory that"
               " holds train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,"
               " t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz");
}

[[nodiscard]] inline labelled_set read_fashion_mnist_split(const std::filesystem::path& dir,
                                                           const char* prefix,
                                                           std::size_t max_items,
                                                           float divisor) {
  const auto images = find_fashion_mnist_file(dir, std::string(prefix) + "-images-idx3-ubyte");
  const auto labels = find_fashion_mnist_file(dir, std::string(prefix) + "-labels-idx1-ubyte");
  labelled_set set = read_idx_set(images, labels, max_items, divisor);
  const shape& s = set.images().shape();
  if (s[2] != 28 || s[3] != 28) {
    throw format_error(images, "wrong dimensions for Fashion-MNIST: expected 28x28 images, found " +
                                   std::to_string(s[2]) + "x" + std::to_string(s[3]));
  }
  for (std::size_t i = 0; i < set.size(); ++i) {
    if (set.labels()[i] >= fashion_mnist_classes.size()) {
      throw format_error(labels, "label " + std::to_string(set.labels()[i]) + " of item " +
                                     std::to_string(i) + " is outside 0..9");
    }
  }
  return set;
}

}  // namespace detail

/// Loads Fashion-MNIST from `dir`: train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
/// t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (or the same names without .gz).
/// Images come as (N, 1, 28, 28) floats normalised as `options.normalize` says, labels as
/// bytes 0 to 9. `max_train` / `max_test` read only the first items of each file (cheap: the
/// rest is not decompressed). A missing data set is a `dataset_not_found` naming `dir` and
/// the Debian package dataset-fashion-mnist; bad files are `format_error`s.
[[nodiscard]] inline fashion_mnist load_fashion_mnist(
    const std::filesystem::path& dir = fashion_mnist_default_dir,
    const fashion_mnist_options& options = {}) {
  // Look for all four files first, so a missing one is reported before any decompression.
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    (void)detail::find_fashion_mnist_file(dir, name);
  }
  // Read the byte values, so the statistics are exact and the same in every mode.
  fashion_mnist out{detail::read_fashion_mnist_split(dir, "train", options.max_train, 1.0f),
                    detail::read_fashion_mnist_split(dir, "t10k", options.max_test, 1.0f),
                    {}};
  out.train_stats = compute_pixel_stats(out.train.images().view());
  out.train_stats.mean /= 255.0;  // on the [0, 1] scale
  out.train_stats.stddev /= 255.0;
  if (options.normalize == normalization::none) return out;
  for (labelled_set* set : {&out.train, &out.test})
    for (float& x : set->images_mut()) x /= 255.0f;  // the same value as reading k / 255
  if (options.normalize == normalization::standardize) {
    standardize(out.train.images_mut(), out.train_stats);
    standardize(out.test.images_mut(), out.train_stats);
  }
  return out;
}

}  // namespace fxp::io
