// SPDX-License-Identifier: MIT
// Tests of fxp/io/checkpoint.hpp: round trips of typed sections, the documented byte layout
// (checked against zlib's crc32), detection of every single-byte corruption at sampled
// offsets, of truncation, of wrong magic / version and of malformed section tables, typed
// accessors and their messages, and the atomic save (old file intact, no temporary left)
// when writing fails midway.

#include <fxp/io/checkpoint.hpp>

#include <fxp/core/fixed.hpp>

#include <catch2/catch.hpp>

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <csignal>
#include <sys/resource.h>

#include "support.hpp"

namespace {

using Catch::Matchers::Contains;
using fxp::io::archive;
using fxp::io::format_error;
using fxp_test::temp_dir;
using fxp_test::thrown;

std::vector<std::byte> as_bytes(const std::vector<unsigned char>& v) {
  std::vector<std::byte> out(v.size());
  if (!v.empty()) std::memcpy(out.data(), v.data(), v.size());
  return out;
}
std::vector<unsigned char> as_uchars(const std::vector<std::byte>& v) {
  std::vector<unsigned char> out(v.size());
  if (!v.empty()) std::memcpy(out.data(), v.data(), v.size());
  return out;
}

// A small model-like archive: int8 weights, int32 biases, a float tensor, formats, text,
// training position, an empty section.
archive sample() {
  archive a;
  std::vector<std::int8_t> w(2 * 3 * 4);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<std::int8_t>(static_cast<int>(i) * 11 - 128);
  a.put("conv1.weights", w, fxp::shape{2, 3, 4});
  a.put("conv1.bias", std::vector<std::int32_t>{-2147483647 - 1, 0, 2147483647});
  a.put("conv1.format", std::array<std::int16_t, 3>{8, 6, 1});
  fxp::tensor<float> t(fxp::shape{2, 1, 2, 2});
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = 0.25f * static_cast<float>(i) - 1.0f;
  t[3] = std::numeric_limits<float>::denorm_min();
  a.put("dense.master", t);
  a.put("adam.v", std::vector<double>{1e-300, -0.0, 3.141592653589793});
  a.put_scalar("train.step", std::uint64_t{0x0123456789ABCDEFull});
  a.put_scalar("train.epoch", std::uint32_t{7});
  a.put_text("model", "conv 5x5 1->16 pad 2, relu, maxpool 2");
  a.put("empty", std::vector<std::uint8_t>{});
  return a;
}

void check_sample(const archive& a) {
  REQUIRE(a.size() == 9);
  const auto w = a.get<std::int8_t>("conv1.weights", 24);
  for (std::size_t i = 0; i < w.size(); ++i)
    CHECK(w[i] == static_cast<std::int8_t>(static_cast<int>(i) * 11 - 128));
  CHECK(a.info("conv1.weights").shape == fxp::shape{2, 3, 4});
  CHECK(a.get<std::int32_t>("conv1.bias") ==
        std::vector<std::int32_t>{-2147483647 - 1, 0, 2147483647});
  CHECK(a.get<std::int16_t>("conv1.format") == std::vector<std::int16_t>{8, 6, 1});
  const auto t = a.get_tensor<float>("dense.master", fxp::shape{2, 1, 2, 2});
  CHECK(t[0] == -1.0f);
  CHECK(t[3] == std::numeric_limits<float>::denorm_min());
  CHECK(t[7] == 0.75f);
  const auto v = a.get<double>("adam.v");
  CHECK(v[0] == 1e-300);
  CHECK(std::signbit(v[1]));
  CHECK(v[2] == 3.141592653589793);
  CHECK(a.get_scalar<std::uint64_t>("train.step") == 0x0123456789ABCDEFull);
  CHECK(a.get_scalar<std::uint32_t>("train.epoch") == 7);
  CHECK(a.get_text("model") == "conv 5x5 1->16 pad 2, relu, maxpool 2");
  CHECK(a.get<std::uint8_t>("empty").empty());
  const auto infos = a.sections();
  CHECK(infos.front().name == "conv1.weights");  // the order they were added
  CHECK(infos.back().name == "empty");
  CHECK(infos[3].type == fxp::io::element_type::float32);
}

std::uint32_t u32_at(const std::vector<unsigned char>& b, std::size_t at) {
  return std::uint32_t{b[at]} | std::uint32_t{b[at + 1]} << 8 | std::uint32_t{b[at + 2]} << 16 |
         std::uint32_t{b[at + 3]} << 24;
}

// Recomputes the trailing checksum after a deliberate edit, so that the table checks (not
// the checksum) must catch it.
void reseal(std::vector<unsigned char>& b) {
  const auto crc = static_cast<std::uint32_t>(::crc32(0, b.data(), static_cast<uInt>(b.size() - 4)));
  for (int i = 0; i < 4; ++i) b[b.size() - 4 + static_cast<std::size_t>(i)] = static_cast<unsigned char>(crc >> (8 * i));
}

std::string parse_error(const std::vector<unsigned char>& b) {
  return thrown<format_error>([&] { (void)archive::from_bytes(as_bytes(b), "crafted.fxp"); });
}

}  // namespace

TEST_CASE("checkpoint: CRC-32 matches zlib", "[io][checkpoint]") {
  const std::string text = "123456789";
  const auto bytes = std::as_bytes(std::span(text.data(), text.size()));
  static_assert(fxp::io::crc32(std::span<const std::byte>{}) == 0);
  CHECK(fxp::io::crc32(bytes) == 0xCBF43926u);
  std::vector<unsigned char> data(1000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<unsigned char>(i * i + 3);
  const auto span = std::as_bytes(std::span(data));
  const auto zlib = ::crc32(0, data.data(), static_cast<uInt>(data.size()));
  CHECK(fxp::io::crc32(span) == zlib);
  CHECK(fxp::io::crc32(span.subspan(300), fxp::io::crc32(span.first(300))) == zlib);
}

TEST_CASE("checkpoint: sections round-trip through a file", "[io][checkpoint]") {
  temp_dir dir;
  const auto file = dir / "model.fxp";
  const archive a = sample();
  check_sample(a);
  a.save(file);
  const archive b = archive::load(file);
  check_sample(b);
  CHECK(b.source() == file);
  // Deterministic: the same archive gives the same bytes, in memory and on disk.
  CHECK(as_bytes(fxp_test::read_bytes(file)) == a.to_bytes());
  CHECK(b.to_bytes() == a.to_bytes());
  CHECK(dir.files() == std::vector<std::string>{"model.fxp"});
  // save_checkpoint / load_checkpoint are the same operations.
  fxp::io::save_checkpoint(dir / "again.fxp", b);
  check_sample(fxp::io::load_checkpoint(dir / "again.fxp"));
}

TEST_CASE("checkpoint: the byte layout is the documented one", "[io][checkpoint]") {
  archive a;
  a.put("w", std::vector<std::int16_t>{1, -2, 3}, fxp::shape{1, 3});
  const auto b = as_uchars(a.to_bytes());
  // Header: magic, version 1, one section, the total size.
  CHECK(std::equal(b.begin(), b.begin() + 8, std::begin("FXPCKPT")));
  CHECK(u32_at(b, 8) == 1);
  CHECK(u32_at(b, 12) == 1);
  CHECK(u32_at(b, 16) == b.size());
  CHECK(u32_at(b, 20) == 0);
  // Table: name length 1, "w", int16 (3), rank 2, extents 1 and 3, offset, size 6.
  CHECK(b[24] == 1);
  CHECK(b[25] == 0);
  CHECK(b[26] == 'w');
  CHECK(b[27] == 3);
  CHECK(b[28] == 2);
  CHECK(u32_at(b, 29) == 1);
  CHECK(u32_at(b, 37) == 3);
  // The table ends at 24 + 2 + 1 + 2 + 16 + 8 + 8 = 61, padded to 64.
  CHECK(u32_at(b, 45) == 64);
  CHECK(u32_at(b, 53) == 6);
  CHECK(b.size() == 64 + 8 + 4);
  // Data: little-endian int16, zero padding, then zlib's CRC-32 of everything before it.
  CHECK(std::vector<unsigned char>(b.begin() + 61, b.begin() + 64) ==
        std::vector<unsigned char>{0, 0, 0});
  CHECK(std::vector<unsigned char>(b.begin() + 64, b.begin() + 72) ==
        std::vector<unsigned char>{1, 0, 0xFE, 0xFF, 3, 0, 0, 0});
  CHECK(u32_at(b, b.size() - 4) == ::crc32(0, b.data(), static_cast<uInt>(b.size() - 4)));
}

TEST_CASE("checkpoint: every single-byte corruption is detected", "[io][checkpoint][errors]") {
  const auto good = as_uchars(sample().to_bytes());
  REQUIRE_NOTHROW(archive::from_bytes(as_bytes(good), "good.fxp"));
  // Every offset of the header and the table, then every 7th byte of the data and the
  // checksum; each flipped by one bit and by all bits.
  std::vector<std::size_t> offsets;
  for (std::size_t at = 0; at < good.size(); at += (at < 400 ? 1 : 7)) offsets.push_back(at);
  for (std::size_t k = 1; k <= 4; ++k) offsets.push_back(good.size() - k);
  for (const std::size_t at : offsets) {
    for (const unsigned flip : {0x01u, 0x80u, 0xFFu}) {
      auto bad = good;
      bad[at] = static_cast<unsigned char>(bad[at] ^ flip);
      INFO("byte " << at << " of " << good.size() << " xor " << flip);
      const auto msg = parse_error(bad);
      CHECK_THAT(msg, Contains("crafted.fxp"));
      if (at >= 24 && at < good.size() - 4) CHECK_THAT(msg, Contains("checksum mismatch"));
    }
  }
  // Through a file: the message names it.
  temp_dir dir;
  auto bad = good;
  bad[good.size() / 2] ^= 0x10;
  fxp_test::write_bytes(dir / "bad.fxp", bad);
  const auto msg = thrown<format_error>([&] { (void)archive::load(dir / "bad.fxp"); });
  CHECK_THAT(msg, Contains((dir / "bad.fxp").string()) && Contains("checksum mismatch") &&
                      Contains("corrupt"));
}

TEST_CASE("checkpoint: truncation is detected at every length", "[io][checkpoint][errors]") {
  const auto good = as_uchars(sample().to_bytes());
  for (std::size_t length = 0; length < good.size(); length += (length < 64 ? 1 : 13)) {
    INFO("length " << length);
    const auto msg = parse_error(std::vector<unsigned char>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(length)));
    CHECK_THAT(msg, Contains("truncated"));
  }
  const auto msg = parse_error(std::vector<unsigned char>(good.begin(), good.end() - 1));
  CHECK_THAT(msg, Contains("truncated: the header declares " + std::to_string(good.size()) +
                           " bytes, the file holds " + std::to_string(good.size() - 1)));
  auto longer = good;
  longer.push_back(0);
  CHECK_THAT(parse_error(longer), Contains("trailing bytes"));
}

TEST_CASE("checkpoint: wrong magic and wrong version are reported", "[io][checkpoint][errors]") {
  auto b = as_uchars(sample().to_bytes());
  auto wrong_magic = b;
  wrong_magic[6] = 'X';
  reseal(wrong_magic);
  CHECK_THAT(parse_error(wrong_magic), Contains("not an fxp checkpoint"));
  CHECK_THAT(parse_error({'P', 'K', 3, 4}), Contains("not an fxp checkpoint"));

  auto newer = b;
  newer[8] = 2;
  reseal(newer);
  CHECK_THAT(parse_error(newer), Contains("unsupported checkpoint format version 2") &&
                                     Contains("reads version 1"));
}

TEST_CASE("checkpoint: malformed section tables are reported even with a valid checksum",
          "[io][checkpoint][errors]") {
  archive a;
  a.put("a", std::vector<std::int16_t>{1, 2, 3});
  a.put("b", std::vector<std::int16_t>{4, 5});
  const auto good = as_uchars(a.to_bytes());
  // Layout: entry "a" at 24 (name length 2 bytes, name 1, type, rank, extent 8, offset 8,
  // size 8 = 29 bytes), entry "b" at 53.
  REQUIRE(good[26] == 'a');
  REQUIRE(good[55] == 'b');

  auto bad = good;
  bad[27] = 99;  // element type of "a"
  reseal(bad);
  CHECK_THAT(parse_error(bad), Contains("section 'a' has the unknown element type 99"));

  bad = good;
  bad[28] = 5;  // rank of "a"
  reseal(bad);
  CHECK_THAT(parse_error(bad), Contains("section 'a' has rank 5"));

  bad = good;
  bad[29] = 4;  // extent of "a": 4 values, but 6 bytes of data
  reseal(bad);
  CHECK_THAT(parse_error(bad), Contains("section 'a' has 6 bytes of data, but its shape holds 4 int16"));

  bad = good;
  bad[55] = 'a';  // two sections named "a"
  reseal(bad);
  CHECK_THAT(parse_error(bad), Contains("two sections named 'a'"));

  bad = good;
  bad[37] = static_cast<unsigned char>(bad[37] + 200);  // offset of "a" past the end
  reseal(bad);
  CHECK_THAT(parse_error(bad), Contains("data of section 'a'") && Contains("not inside the data area"));

  bad = good;
  bad[12] = 3;  // three sections declared, two in the table
  reseal(bad);
  CHECK_THAT(parse_error(bad), Contains("corrupt section table"));

  bad = good;
  bad[24] = 0;  // a name of zero bytes
  reseal(bad);
  CHECK_THAT(parse_error(bad), Contains("name of 0 bytes"));
}

TEST_CASE("checkpoint: typed accessors check type, count and shape", "[io][checkpoint]") {
  temp_dir dir;
  archive built;
  built.put("conv1.weights", std::vector<std::int8_t>(400, 1), fxp::shape{16, 1, 5, 5});
  built.save(dir / "m.fxp");
  const archive a = archive::load(dir / "m.fxp");
  const std::string file = (dir / "m.fxp").string();

  auto msg = thrown<format_error>([&] { (void)a.get<std::int8_t>("conv1.weights", 800); });
  CHECK_THAT(msg, Contains(file) && Contains("section 'conv1.weights' holds 400 int8 values, expected 800"));
  msg = thrown<format_error>([&] { (void)a.get<std::int16_t>("conv1.weights"); });
  CHECK_THAT(msg, Contains("section 'conv1.weights' holds int8 values, expected int16"));
  msg = thrown<format_error>([&] { a.expect<std::int8_t>("conv1.weights", fxp::shape{32, 16, 5, 5}); });
  CHECK_THAT(msg, Contains("has shape [16, 1, 5, 5], expected [32, 16, 5, 5]"));
  msg = thrown<format_error>([&] { (void)a.get_scalar<std::int8_t>("conv2.weights"); });
  CHECK_THAT(msg, Contains(file) && Contains("no section 'conv2.weights'") && Contains("conv1.weights"));
  msg = thrown<format_error>([&] { (void)a.get_text("conv1.weights"); });
  CHECK_THAT(msg, Contains("holds int8 values, expected text"));
  CHECK_NOTHROW(a.expect<std::int8_t>("conv1.weights", 400));

  // A failed get_into leaves the destination as it was.
  std::vector<std::int8_t> into(800, 7);
  CHECK_THROWS_AS(a.get_into<std::int8_t>("conv1.weights", into), format_error);
  CHECK(std::all_of(into.begin(), into.end(), [](std::int8_t x) { return x == 7; }));
  into.resize(400);
  a.get_into<std::int8_t>("conv1.weights", into);
  CHECK(std::all_of(into.begin(), into.end(), [](std::int8_t x) { return x == 1; }));

  // Building errors are the caller's bugs: std::invalid_argument.
  archive b;
  b.put_scalar("x", 1.0f);
  CHECK_THROWS_AS(b.put_scalar("x", 2.0f), std::invalid_argument);
  CHECK_THROWS_AS(b.put_scalar("", 2.0f), std::invalid_argument);
  CHECK_THROWS_AS(b.put("y", std::vector<float>(5), fxp::shape{2, 2}), std::invalid_argument);
  CHECK(b.size() == 1);
  CHECK_THAT(thrown<format_error>([&] { (void)b.get<float>("z"); }), Contains("(archive in memory)"));
}

TEST_CASE("checkpoint: a save that fails midway leaves the old file and no temporary",
          "[io][checkpoint][atomic]") {
  temp_dir dir;
  const auto file = dir / "run.fxp";
  sample().save(file);
  const auto old_bytes = fxp_test::read_bytes(file);

  archive big;
  big.put("big", std::vector<float>(1u << 18, 0.5f));  // 1 MiB of data

  SECTION("the writer throws after part of the archive") {
    std::size_t pieces = 0;
    const auto msg = thrown<std::runtime_error>([&] {
      fxp::io::write_file_atomically(file, [&](fxp::io::output_file& out) {
        big.write([&](std::span<const std::byte> b) {
          out.write(b);
          if (++pieces == 2) {
            // Midway: the old file and a temporary beside it, in the same directory.
            auto names = dir.files();
            std::sort(names.begin(), names.end());
            REQUIRE(names.size() == 2);
            CHECK(names[0].rfind(".run.fxp.tmp.", 0) == 0);
            CHECK(names[1] == "run.fxp");
            CHECK(out.bytes_written() > 0);
            throw std::runtime_error("injected failure");
          }
        });
      });
    });
    CHECK(msg == "injected failure");
    CHECK(pieces == 2);
  }
  SECTION("the file system refuses the data (file size limit)") {
    // A 64 KiB limit on file size: write() fails with EFBIG in the middle of the data.
    struct sigaction ignore{}, previous{};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGXFSZ, &ignore, &previous);
    rlimit saved{};
    ::getrlimit(RLIMIT_FSIZE, &saved);
    rlimit small = saved;
    small.rlim_cur = 65536;
    ::setrlimit(RLIMIT_FSIZE, &small);
    std::string msg;
    try {
      big.save(file);
    } catch (const fxp::io::file_error& e) {
      msg = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &saved);
    ::sigaction(SIGXFSZ, &previous, nullptr);
    CHECK_THAT(msg, Contains(file.string()) && Contains("cannot write") && Contains("too large"));
  }
  SECTION("the directory does not exist") {
    const auto msg = thrown<fxp::io::file_error>([&] { big.save(dir / "no" / "run.fxp"); });
    CHECK_THAT(msg, Contains((dir / "no" / "run.fxp").string()) &&
                        Contains("cannot create a temporary file"));
  }
  CHECK(fxp_test::read_bytes(file) == old_bytes);
  check_sample(archive::load(file));
  CHECK(dir.files() == std::vector<std::string>{"run.fxp"});

  // And a save that succeeds replaces the file.
  big.save(file);
  CHECK(archive::load(file).get<float>("big", 1u << 18)[12345] == 0.5f);
  CHECK(dir.files() == std::vector<std::string>{"run.fxp"});
}

TEST_CASE("checkpoint: fixed-point tensors are stored as their raw integers", "[io][checkpoint]") {
  using w8 = fxp::fixed<1, 7>;      // raw int8
  using a5 = fxp::ufixed<2, 3>;     // raw uint8, 0 .. 31
  using b20 = fxp::fixed<6, 14>;    // raw int32
  fxp::tensor<w8> w(fxp::shape{2, 3});
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = w8::from_raw(static_cast<std::int8_t>(static_cast<int>(i) * 50 - 128));
  fxp::tensor<a5> a(fxp::shape{4});
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = a5::from_raw(static_cast<std::uint8_t>(i * 10));
  fxp::tensor<b20> b(fxp::shape{1}, b20(-3.25));
  archive ar;
  ar.put("w", w).put("a", a.view()).put("b", b);
  CHECK(ar.info("w").type == fxp::io::element_type::int8);
  CHECK(ar.info("a").type == fxp::io::element_type::uint8);
  CHECK(ar.info("b").type == fxp::io::element_type::int32);
  CHECK(ar.get<std::int8_t>("w") == std::vector<std::int8_t>{-128, -78, -28, 22, 72, 122});

  const archive back = archive::from_bytes(ar.to_bytes(), "fixed.fxp");
  const auto w2 = back.get_tensor<w8>("w", fxp::shape{2, 3});
  for (std::size_t i = 0; i < w.size(); ++i) CHECK(w2[i].raw() == w[i].raw());
  const auto a2 = back.get_tensor<a5>("a");
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a2[i].raw() == a[i].raw());
  CHECK(back.get_tensor<b20>("b")[0].raw() == -3 * 16384 - 4096);  // -3.25 * 2^14

  // The wrong storage type, the wrong shape, and raw values outside the format.
  CHECK_THAT(thrown<format_error>([&] { (void)back.get_tensor<fxp::fixed<4, 12>>("w"); }),
             Contains("holds int8 values, expected int16"));
  CHECK_THAT(thrown<format_error>([&] { (void)back.get_tensor<w8>("w", fxp::shape{3, 2}); }),
             Contains("has shape [2, 3], expected [3, 2]"));
  archive wide;
  wide.put("a", std::vector<std::uint8_t>{0, 31, 32});
  CHECK_THAT(thrown<format_error>([&] { (void)wide.get_tensor<a5>("a"); }),
             Contains("raw value 32 at index 2, outside the format's range [0, 31]"));
}
