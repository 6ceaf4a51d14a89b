// SPDX-License-Identifier: MIT
#pragma once
// Labelled image sets for training: images as a float tensor (N, C, H, W) beside one label
// byte per image, cheap views of a range of items, and the normalisations applied to them.

#include <cmath>       // std::sqrt for the standard deviation
#include <cstddef>     // std::size_t
#include <cstdint>     // label bytes
#include <span>        // label views
#include <stdexcept>   // std::invalid_argument, std::out_of_range
#include <string>      // messages
#include <utility>     // std::move
#include <vector>      // labels

#include "../tensor/container.hpp"

namespace fxp::io {

/// A read-only window on `size()` consecutive items of a labelled set: their images
/// (N, C, H, W) and labels. Cheap to copy; the set must outlive it.
class labelled_view {
 public:
  labelled_view() = default;
  /// Throws std::invalid_argument unless the images' outer extent equals the label count.
  labelled_view(tensor_view<const float> images, std::span<const std::uint8_t> labels)
      : images_(images), labels_(labels) {
    if (images.shape()[0] != labels.size()) {
      throw std::invalid_argument("fxp::io::labelled_view: " + std::to_string(labels.size()) +
                                  " labels for images of shape " + to_string(images.shape()));
    }
  }

  /// Number of items.
  [[nodiscard]] std::size_t size() const noexcept { return labels_.size(); }
  /// The images, shape (size(), C, H, W).
  [[nodiscard]] tensor_view<const float> images() const noexcept { return images_; }
  /// The labels, one per image.
  [[nodiscard]] std::span<const std::uint8_t> labels() const noexcept { return labels_; }
  /// Items [first, last); std::out_of_range unless first <= last <= size().
  [[nodiscard]] labelled_view slice(std::size_t first, std::size_t last) const {
    if (first > last || last > size()) {
      throw std::out_of_range("fxp::io::labelled_view::slice: [" + std::to_string(first) + ", " +
                              std::to_string(last) + ") of " + std::to_string(size()) + " items");
    }
    return {images_.slice(first, last), labels_.subspan(first, last - first)};
  }
  /// The first n items; std::out_of_range if there are fewer.
  [[nodiscard]] labelled_view head(std::size_t n) const { return slice(0, n); }

 private:
  tensor_view<const float> images_{};
  std::span<const std::uint8_t> labels_{};
};

/// An owning labelled image set: images (N, C, H, W) as floats and N labels.
class labelled_set {
 public:
  labelled_set() = default;
  /// Takes images (N, C, H, W) and their N labels; std::invalid_argument if the counts differ.
  labelled_set(tensor<float> images, std::vector<std::uint8_t> labels)
      : images_(std::move(images)), labels_(std::move(labels)) {
    (void)view();  // checks the counts
  }
  /// A deep copy of a view's items (e.g. a slice kept after the full set is released).
  explicit labelled_set(const labelled_view& v)
      : images_(v.images()), labels_(v.labels().begin(), v.labels().end()) {}

  /// Number of items.
  [[nodiscard]] std::size_t size() const noexcept { return labels_.size(); }
  /// The images, shape (size(), C, H, W).
  [[nodiscard]] const tensor<float>& images() const noexcept { return images_; }
  /// Mutable access to the image values (the shape stays), e.g. for a normalisation.
  [[nodiscard]] tensor_view<float> images_mut() noexcept { return images_.view(); }
  /// The labels, one per image.
  [[nodiscard]] const std::vector<std::uint8_t>& labels() const noexcept { return labels_; }
  /// Every item, as a view.
  [[nodiscard]] labelled_view view() const { return {images_.view(), labels_}; }
  operator labelled_view() const { return view(); }
  /// Items [first, last), as a view (no copy).
  [[nodiscard]] labelled_view slice(std::size_t first, std::size_t last) const {
    return view().slice(first, last);
  }
  /// The first n items, as a view (no copy).
  [[nodiscard]] labelled_view head(std::size_t n) const { return view().head(n); }

 private:
  tensor<float> images_{shape{0, 1, 1, 1}};
  std::vector<std::uint8_t> labels_;
};

/// Mean and standard deviation of pixel values.
struct pixel_stats {
  double mean = 0.0;
  double stddev = 1.0;
};

/// The mean and the (population) standard deviation of every value of `images`, accumulated
/// in double in index order, so the result is the same on every machine. An empty tensor
/// gives {0, 1}; a constant one has stddev 0.
[[nodiscard]] inline pixel_stats compute_pixel_stats(tensor_view<const float> images) {
  if (images.size() == 0) return {};
  double sum = 0.0;
  for (const float x : images) sum += x;
  const double mean = sum / static_cast<double>(images.size());
  double squares = 0.0;
  for (const float x : images) squares += (x - mean) * (x - mean);
  return {mean, std::sqrt(squares / static_cast<double>(images.size()))};
}

/// x -> (x - mean) / stddev for every value; std::invalid_argument if stddev is not positive.
inline void standardize(tensor_view<float> images, const pixel_stats& stats) {
  if (!(stats.stddev > 0.0)) {
    throw std::invalid_argument("fxp::io::standardize: standard deviation must be positive; got " +
                                std::to_string(stats.stddev));
  }
  const auto mean = static_cast<float>(stats.mean);
  const auto scale = static_cast<float>(1.0 / stats.stddev);
  for (float& x : images) x = (x - mean) * scale;
}

}  // namespace fxp::io
