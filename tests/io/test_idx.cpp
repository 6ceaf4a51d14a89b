// SPDX-License-Identifier: MIT
// Tests of fxp/io/idx.hpp: round trips of IDX files (plain and gzip'd) written by the test,
// slices, and every kind of bad file: truncated, corrupt, wrong magic, wrong dimensions,
// trailing bytes, mismatched pairs, missing files. Each error names the file and the problem.

#include <fxp/io/idx.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "support.hpp"

namespace {

using Catch::Matchers::Contains;
using fxp::io::format_error;
using fxp::io::idx_compression;
using fxp_test::read_bytes;
using fxp_test::temp_dir;
using fxp_test::thrown;
using fxp_test::write_bytes;

// Bytes that differ from image to image and pixel to pixel.
std::vector<std::uint8_t> pattern(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>((i * 37 + i / 7) & 0xFF);
  return v;
}

// A plain IDX image file written byte by byte, independently of the writer under test.
std::vector<unsigned char> handmade_images(std::uint32_t count, std::uint32_t rows,
                                           std::uint32_t cols) {
  std::vector<unsigned char> b{0, 0, 8, 3};
  for (std::uint32_t d : {count, rows, cols})
    for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<unsigned char>(d >> shift));
  for (std::uint8_t p : pattern(std::size_t{count} * rows * cols)) b.push_back(p);
  return b;
}

}  // namespace

TEST_CASE("IDX images and labels round-trip, plain and gzip'd", "[io][idx]") {
  temp_dir dir;
  const auto pixels = pattern(5 * 3 * 4);
  const std::vector<std::uint8_t> labels{9, 0, 3, 3, 7};
  for (auto compression : {idx_compression::none, idx_compression::gzip}) {
    const bool gz = compression == idx_compression::gzip;
    const auto images_file = dir / (gz ? "images.gz" : "images");
    const auto labels_file = dir / (gz ? "labels.gz" : "labels");
    fxp::io::write_idx_images(images_file, 5, 3, 4, pixels, compression);
    fxp::io::write_idx_labels(labels_file, labels, compression);

    const auto bytes = read_bytes(images_file);
    if (gz) {
      REQUIRE(bytes.size() > 2);
      CHECK((bytes[0] == 0x1F && bytes[1] == 0x8B));  // the gzip magic
    } else {
      CHECK(bytes == handmade_images(5, 3, 4));  // big-endian header, then the pixels
    }

    const auto images = fxp::io::read_idx_images(images_file);
    CHECK(images.count == 5);
    CHECK(images.file_count == 5);
    CHECK(images.rows == 3);
    CHECK(images.cols == 4);
    CHECK(images.pixels == pixels);
    const auto read_labels = fxp::io::read_idx_labels(labels_file);
    CHECK(read_labels.values == labels);
    CHECK(read_labels.file_count == 5);

    const auto pair = fxp::io::read_idx_pair(images_file, labels_file);
    CHECK(pair.images.pixels == pixels);
    CHECK(pair.labels.values == labels);
  }
}

TEST_CASE("IDX reads a slice of the first items", "[io][idx]") {
  temp_dir dir;
  const auto pixels = pattern(5 * 3 * 4);
  fxp::io::write_idx_images(dir / "i.gz", 5, 3, 4, pixels);
  const auto two = fxp::io::read_idx_images(dir / "i.gz", 2);
  CHECK(two.count == 2);
  CHECK(two.file_count == 5);
  CHECK(two.pixels == std::vector<std::uint8_t>(pixels.begin(), pixels.begin() + 24));
  const auto more = fxp::io::read_idx_images(dir / "i.gz", 99);  // a limit above the count
  CHECK(more.count == 5);
  CHECK(more.pixels == pixels);
  const auto none = fxp::io::read_idx_images(dir / "i.gz", 0);
  CHECK(none.count == 0);
  CHECK(none.pixels.empty());
}

TEST_CASE("IDX truncated headers are reported", "[io][idx][errors]") {
  temp_dir dir;
  const auto file = dir / "short";
  write_bytes(file, {0, 0});
  auto msg = thrown<format_error>([&] { (void)fxp::io::read_idx_labels(file); });
  CHECK_THAT(msg, Contains(file.string()) && Contains("truncated header") && Contains("2 bytes"));

  write_bytes(file, {});
  msg = thrown<format_error>([&] { (void)fxp::io::read_idx_images(file); });
  CHECK_THAT(msg, Contains(file.string()) && Contains("truncated header") && Contains("0 bytes"));

  // The magic number of a 3-dimensional file, then only one and a half extents.
  write_bytes(file, {0, 0, 8, 3, 0, 0, 0, 5, 0, 0});
  msg = thrown<format_error>([&] { (void)fxp::io::read_idx_images(file); });
  CHECK_THAT(msg, Contains(file.string()) && Contains("truncated header") &&
                      Contains("need 12 bytes") && Contains("found 6"));
}

TEST_CASE("IDX truncated data is reported, plain and gzip'd", "[io][idx][errors]") {
  temp_dir dir;
  auto bytes = handmade_images(5, 3, 4);
  bytes.erase(bytes.end() - 13, bytes.end());  // the last image and one byte of the one before
  const auto plain = dir / "cut";
  write_bytes(plain, bytes);
  auto msg = thrown<format_error>([&] { (void)fxp::io::read_idx_images(plain); });
  CHECK_THAT(msg, Contains(plain.string()) && Contains("truncated data") &&
                      Contains("declares 5 images of 12 bytes") && Contains("after 47 bytes") &&
                      Contains("3 whole images"));
  // A slice that the file does hold reads fine.
  CHECK(fxp::io::read_idx_images(plain, 3).count == 3);

  // A gzip file cut in the middle of its stream.
  const auto gz = dir / "images.gz";
  const auto pixels = pattern(50 * 28 * 28);
  fxp::io::write_idx_images(gz, 50, 28, 28, pixels);
  auto zipped = read_bytes(gz);
  for (std::size_t keep : {zipped.size() - 1, zipped.size() - 8, zipped.size() / 2, std::size_t{20}}) {
    const auto cut_gz = dir / "cut.gz";
    write_bytes(cut_gz, std::vector<unsigned char>(zipped.begin(), zipped.begin() + static_cast<std::ptrdiff_t>(keep)));
    INFO("kept " << keep << " of " << zipped.size() << " bytes");
    msg = thrown<format_error>([&] { (void)fxp::io::read_idx_images(cut_gz); });
    CHECK_THAT(msg, Contains(cut_gz.string()) && Contains("cut short"));
  }
}

TEST_CASE("IDX wrong magic numbers and dimension counts are reported", "[io][idx][errors]") {
  temp_dir dir;
  const auto file = dir / "f";
  write_bytes(file, {0, 0, 9, 1, 0, 0, 0, 0});  // signed bytes
  auto msg = thrown<format_error>([&] { (void)fxp::io::read_idx_labels(file); });
  CHECK_THAT(msg, Contains(file.string()) && Contains("wrong magic number") &&
                      Contains("expected 0x00000801") && Contains("found 0x00000901") &&
                      Contains("signed bytes"));

  write_bytes(file, {0x89, 'P', 'N', 'G', 0, 0, 0, 0});
  msg = thrown<format_error>([&] { (void)fxp::io::read_idx_images(file); });
  CHECK_THAT(msg, Contains("wrong magic number") && Contains("expected 0x00000803") &&
                      Contains("found 0x89504E47") && Contains("not an IDX file"));

  // An image file (3 dimensions) read as labels, and labels read as images.
  fxp::io::write_idx_images(dir / "images.gz", 2, 2, 2, pattern(8));
  fxp::io::write_idx_labels(dir / "labels.gz", pattern(2));
  msg = thrown<format_error>([&] { (void)fxp::io::read_idx_labels(dir / "images.gz"); });
  CHECK_THAT(msg, Contains("images.gz") && Contains("wrong number of dimensions") &&
                      Contains("expected 0x00000801 (unsigned bytes, 1 dimension)") &&
                      Contains("found 0x00000803 (unsigned bytes, 3 dimensions)"));
  msg = thrown<format_error>([&] { (void)fxp::io::read_idx_images(dir / "labels.gz"); });
  CHECK_THAT(msg, Contains("labels.gz") && Contains("wrong number of dimensions"));

  // Images of zero columns.
  write_bytes(file, handmade_images(3, 28, 0));
  msg = thrown<format_error>([&] { (void)fxp::io::read_idx_images(file); });
  CHECK_THAT(msg, Contains(file.string()) && Contains("wrong dimensions"));
}

TEST_CASE("IDX files longer than their header declares are reported", "[io][idx][errors]") {
  temp_dir dir;
  auto bytes = handmade_images(2, 2, 2);
  bytes.push_back(0);
  write_bytes(dir / "long", bytes);
  const auto msg = thrown<format_error>([&] { (void)fxp::io::read_idx_images(dir / "long"); });
  CHECK_THAT(msg, Contains("long") && Contains("trailing bytes") && Contains("declares 8 bytes"));
}

TEST_CASE("IDX corrupt gzip streams are reported", "[io][idx][errors]") {
  temp_dir dir;
  const auto good = dir / "good.gz";
  const auto pixels = pattern(20 * 6 * 6);
  fxp::io::write_idx_images(good, 20, 6, 6, pixels);
  const auto zipped = read_bytes(good);
  const auto bad = dir / "bad.gz";

  // The CRC-32 in the trailer (bytes -8..-5) and the length (bytes -4..-1).
  for (std::size_t back : {8u, 5u, 4u, 1u}) {
    auto copy = zipped;
    copy[copy.size() - back] ^= 0x01;
    write_bytes(bad, copy);
    const auto msg = thrown<format_error>([&] { (void)fxp::io::read_idx_images(bad); });
    INFO("byte " << copy.size() - back);
    CHECK_THAT(msg, Contains(bad.string()) && Contains("corrupt gzip stream") &&
                        (Contains("incorrect data check") || Contains("incorrect length check")));
  }
  // Every byte after the gzip header's unchecked fields (MTIME, XFL, OS end at byte 10):
  // the compressed data and the trailer. No damaged file reads as valid.
  for (std::size_t at = 10; at < zipped.size(); ++at) {
    auto copy = zipped;
    copy[at] ^= 0xFF;
    write_bytes(bad, copy);
    INFO("byte " << at << " of " << zipped.size());
    const auto msg = thrown<format_error>([&] { (void)fxp::io::read_idx_images(bad); });
    CHECK_THAT(msg, Contains(bad.string()));
  }
  // The original still reads.
  CHECK(fxp::io::read_idx_images(good).pixels == pixels);
}

TEST_CASE("IDX image and label files with different counts are reported", "[io][idx][errors]") {
  temp_dir dir;
  fxp::io::write_idx_images(dir / "images.gz", 5, 2, 2, pattern(20));
  fxp::io::write_idx_labels(dir / "labels.gz", pattern(4));
  for (std::size_t max_items : {fxp::io::all_items, std::size_t{2}}) {
    const auto msg = thrown<format_error>(
        [&] { (void)fxp::io::read_idx_pair(dir / "images.gz", dir / "labels.gz", max_items); });
    CHECK_THAT(msg, Contains((dir / "images.gz").string()) &&
                        Contains((dir / "labels.gz").string()) && Contains("mismatched") &&
                        Contains("4 labels") && Contains("5 images"));
  }
}

TEST_CASE("IDX missing files are file errors naming the path", "[io][idx][errors]") {
  temp_dir dir;
  const auto missing = dir / "no-such-file.gz";
  const auto msg =
      thrown<fxp::io::file_error>([&] { (void)fxp::io::read_idx_labels(missing); });
  CHECK_THAT(msg, Contains(missing.string()) && Contains("No such file or directory"));
  // The same exception is also a std::runtime_error carrying the path.
  try {
    (void)fxp::io::read_idx_images(missing);
    FAIL("no exception");
  } catch (const std::runtime_error& e) {
    const auto* io = dynamic_cast<const fxp::io::error*>(&e);
    REQUIRE(io != nullptr);
    CHECK(io->path() == missing);
  }
}

TEST_CASE("IDX writer rejects data that does not match its extents", "[io][idx]") {
  temp_dir dir;
  CHECK_THROWS_AS(fxp::io::write_idx_images(dir / "x", 2, 2, 2, pattern(7)), std::invalid_argument);
  CHECK(dir.files().empty());  // nothing written
}
