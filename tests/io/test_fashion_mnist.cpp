// SPDX-License-Identifier: MIT
// Tests of fxp/io/fashion_mnist.hpp and dataset.hpp: the real Fashion-MNIST files of Debian's
// dataset-fashion-mnist package (counts, shapes, labels, class balance, pixel statistics),
// normalisations, slices, and the errors for a missing or malformed data set.

#include <fxp/io/fashion_mnist.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "support.hpp"

namespace {

using Catch::Matchers::Contains;
using fxp::io::normalization;
using fxp_test::temp_dir;
using fxp_test::thrown;

// The full set, loaded once for the test cases that need it.
const fxp::io::fashion_mnist& full_set() {
  static const fxp::io::fashion_mnist set = fxp::io::load_fashion_mnist();
  return set;
}

// A synthetic data set of n items of rows x cols in `dir`, plain or gzip'd.
void write_synthetic(const std::filesystem::path& dir, std::size_t n, std::size_t rows,
                     std::size_t cols, fxp::io::idx_compression compression,
                     std::uint8_t label_cap = 10) {
  std::vector<std::uint8_t> pixels(n * rows * cols), labels(n);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i % 251);
  for (std::size_t i = 0; i < n; ++i) labels[i] = static_cast<std::uint8_t>(i % label_cap);
  const std::string ext = compression == fxp::io::idx_compression::gzip ? ".gz" : "";
  for (const char* split : {"train", "t10k"}) {
    fxp::io::write_idx_images(dir / (std::string(split) + "-images-idx3-ubyte" + ext), n, rows,
                              cols, pixels, compression);
    fxp::io::write_idx_labels(dir / (std::string(split) + "-labels-idx1-ubyte" + ext), labels,
                              compression);
  }
}

}  // namespace

TEST_CASE("Fashion-MNIST: counts, shapes, labels and class balance", "[io][fashion_mnist]") {
  const auto& set = full_set();
  REQUIRE(set.train.size() == 60000);
  REQUIRE(set.test.size() == 10000);
  CHECK(set.train.images().shape() == fxp::shape{60000, 1, 28, 28});
  CHECK(set.test.images().shape() == fxp::shape{10000, 1, 28, 28});

  // Both splits are balanced: 6000 and 1000 items per class.
  for (const auto* split : {&set.train, &set.test}) {
    std::array<std::size_t, 10> per_class{};
    for (const std::uint8_t label : split->labels()) {
      REQUIRE(label < 10);
      ++per_class[label];
    }
    for (const std::size_t count : per_class) CHECK(count == split->size() / 10);
  }
  // The files are not sorted by class.
  CHECK(std::adjacent_find(set.train.labels().begin(), set.train.labels().end(),
                           std::not_equal_to<>()) - set.train.labels().begin() < 10);
}

TEST_CASE("Fashion-MNIST: pixels in [0, 1] with the known statistics", "[io][fashion_mnist]") {
  const auto& set = full_set();
  const auto [lo, hi] = std::minmax_element(set.train.images().begin(), set.train.images().end());
  CHECK(*lo == 0.0f);
  CHECK(*hi == 1.0f);
  // Fashion-MNIST's published training statistics: mean 0.2860, stddev 0.3530.
  CHECK(set.train_stats.mean == Approx(0.2860).margin(0.0005));
  CHECK(set.train_stats.stddev == Approx(0.3530).margin(0.0005));
  // Every value is a byte divided by 255, correctly rounded.
  for (std::size_t i = 0; i < 28 * 28 * 10; ++i) {
    const float x = set.test.images()[i];
    const float k = std::round(x * 255.0f);
    REQUIRE(x == k / 255.0f);
  }
  // An image has structure: the centre of item 0 is brighter than its corners.
  const auto& img = set.train.images();
  CHECK(img(0, 0, 14, 14) > img(0, 0, 0, 0));
}

TEST_CASE("Fashion-MNIST: a limited load is the head of the full one", "[io][fashion_mnist]") {
  const auto& full = full_set();
  fxp::io::fashion_mnist_options options;
  options.max_train = 300;
  options.max_test = 7;
  const auto part = fxp::io::load_fashion_mnist(fxp::io::fashion_mnist_default_dir, options);
  REQUIRE(part.train.size() == 300);
  REQUIRE(part.test.size() == 7);
  CHECK(std::equal(part.train.images().begin(), part.train.images().end(),
                   full.train.images().begin()));
  CHECK(std::equal(part.train.labels().begin(), part.train.labels().end(),
                   full.train.labels().begin()));
  CHECK(std::equal(part.test.labels().begin(), part.test.labels().end(),
                   full.test.labels().begin()));

  // A view of the first items shares the data; a labelled_set copies it.
  const auto head = full.train.head(300);
  CHECK(head.size() == 300);
  CHECK(head.images().data() == full.train.images().data());
  CHECK(head.images().shape() == fxp::shape{300, 1, 28, 28});
  const auto tail = full.test.slice(9990, 10000);
  CHECK(tail.labels().data() == full.test.labels().data() + 9990);
  CHECK(tail.images().data() == full.test.images().data() + 9990 * 784);
  const fxp::io::labelled_set copy(head);
  CHECK(copy.images().data() != full.train.images().data());
  CHECK(std::equal(copy.images().begin(), copy.images().end(), part.train.images().begin()));
  CHECK_THROWS_AS(full.test.head(10001), std::out_of_range);
}

TEST_CASE("Fashion-MNIST: standardisation uses the training statistics for both splits",
          "[io][fashion_mnist]") {
  fxp::io::fashion_mnist_options options;
  options.max_train = 2000;
  options.max_test = 500;
  options.normalize = normalization::standardize;
  const auto std_set = fxp::io::load_fashion_mnist(fxp::io::fashion_mnist_default_dir, options);
  options.normalize = normalization::unit;
  const auto unit_set = fxp::io::load_fashion_mnist(fxp::io::fashion_mnist_default_dir, options);
  options.normalize = normalization::none;
  const auto byte_set = fxp::io::load_fashion_mnist(fxp::io::fashion_mnist_default_dir, options);

  // Same statistics (of the loaded training slice, on the [0, 1] scale) in every mode.
  CHECK(std_set.train_stats.mean == Approx(unit_set.train_stats.mean).epsilon(1e-12));
  CHECK(byte_set.train_stats.mean == Approx(unit_set.train_stats.mean).epsilon(1e-12));
  CHECK(byte_set.train_stats.stddev == Approx(unit_set.train_stats.stddev).epsilon(1e-12));

  const auto train_stats = fxp::io::compute_pixel_stats(std_set.train.images().view());
  CHECK(train_stats.mean == Approx(0.0).margin(1e-5));
  CHECK(train_stats.stddev == Approx(1.0).epsilon(1e-5));
  // The test split is shifted by the training mean, not by its own.
  const auto stats = unit_set.train_stats;
  for (std::size_t i : {0u, 400u, 783u, 200000u}) {
    const float expected = static_cast<float>((unit_set.test.images()[i] - static_cast<float>(stats.mean)) *
                                              static_cast<float>(1.0 / stats.stddev));
    CHECK(std_set.test.images()[i] == Approx(expected).epsilon(1e-6));
    CHECK(byte_set.test.images()[i] == std::round(byte_set.test.images()[i]));
    CHECK(unit_set.test.images()[i] == byte_set.test.images()[i] / 255.0f);
  }
}

TEST_CASE("Fashion-MNIST: a missing data set names the Debian package and the directory",
          "[io][fashion_mnist][errors]") {
  temp_dir dir;
  const auto nowhere = dir / "not-here";
  auto msg = thrown<fxp::io::dataset_not_found>([&] { (void)fxp::io::load_fashion_mnist(nowhere); });
  CHECK_THAT(msg, Contains(nowhere.string()) && Contains("dataset-fashion-mnist") &&
                      Contains("no such directory"));

  // A directory with only the training files names the first missing file.
  write_synthetic(dir.path(), 4, 28, 28, fxp::io::idx_compression::gzip);
  std::filesystem::remove(dir / "t10k-labels-idx1-ubyte.gz");
  msg = thrown<fxp::io::dataset_not_found>([&] { (void)fxp::io::load_fashion_mnist(dir.path()); });
  CHECK_THAT(msg, Contains(dir.path().string()) && Contains("dataset-fashion-mnist") &&
                      Contains("t10k-labels-idx1-ubyte.gz"));
  // It is a file_error, and an fxp::io::error carrying the directory.
  try {
    (void)fxp::io::load_fashion_mnist(dir.path());
  } catch (const fxp::io::file_error& e) {
    CHECK(e.path() == dir.path());
  }
}

TEST_CASE("Fashion-MNIST: unzipped files are accepted; bad ones rejected", "[io][fashion_mnist]") {
  temp_dir dir;
  write_synthetic(dir.path(), 12, 28, 28, fxp::io::idx_compression::none);
  const auto set = fxp::io::load_fashion_mnist(dir.path());
  CHECK(set.train.size() == 12);
  CHECK(set.test.size() == 12);
  CHECK(set.train.labels()[11] == 1);
  CHECK(set.train.images()[1] == 1.0f / 255.0f);

  temp_dir wrong_size;
  write_synthetic(wrong_size.path(), 3, 27, 28, fxp::io::idx_compression::gzip);
  auto msg = thrown<fxp::io::format_error>([&] { (void)fxp::io::load_fashion_mnist(wrong_size.path()); });
  CHECK_THAT(msg, Contains("train-images-idx3-ubyte.gz") && Contains("expected 28x28") &&
                      Contains("found 27x28"));

  temp_dir bad_label;
  write_synthetic(bad_label.path(), 12, 28, 28, fxp::io::idx_compression::gzip, 11);
  msg = thrown<fxp::io::format_error>([&] { (void)fxp::io::load_fashion_mnist(bad_label.path()); });
  CHECK_THAT(msg, Contains("train-labels-idx1-ubyte.gz") && Contains("label 10 of item 10") &&
                      Contains("outside 0..9"));
}
