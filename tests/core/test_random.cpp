// SPDX-License-Identifier: MIT
// Tests of fxp/core/random.hpp: Philox4x32-10 against Random123's known answers, the
// (seed, stream, counter) contract of fxp::philox, and the per-thread default generator.

#include <fxp/core/random.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

using fxp::philox;
using fxp::philox_counter;
using fxp::philox_key;

constexpr std::uint64_t u64_max = std::numeric_limits<std::uint64_t>::max();

struct known_answer {
  philox_counter counter;
  philox_key key;
  philox_counter expected;
};

// Philox4x32-10 known-answer vectors of Random123's tests/kat_vectors, as reproduced in
// DEShawResearch/Random123-Boost libs/random/test/test_philox.cpp (test_kat_philox4x32).
constexpr std::array<known_answer, 3> kat{{
    {{0x00000000, 0x00000000, 0x00000000, 0x00000000},
     {0x00000000, 0x00000000},
     {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
     {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
     {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
}};

static_assert(fxp::philox4x32_10(kat[0].counter, kat[0].key) == kat[0].expected);
static_assert(fxp::philox4x32_10(kat[1].counter, kat[1].key) == kat[1].expected);
static_assert(fxp::philox4x32_10(kat[2].counter, kat[2].key) == kat[2].expected);

// philox::block lays the words out as documented: counter in words 0-1, stream in 2-3,
// seed in the key, each least significant half first. The third vector has eight distinct
// halves, so any swap of halves or of roles breaks it.
static_assert(philox::block(0, 0, 0) == kat[0].expected);
static_assert(philox::block(u64_max, u64_max, u64_max) == kat[1].expected);
static_assert(philox::block(0x299f31d0a4093822, 0x0370734413198a2e, 0x85a308d3243f6a88) ==
              kat[2].expected);

static_assert(std::uniform_random_bit_generator<philox>);
static_assert(std::is_same_v<philox::result_type, std::uint32_t>);
static_assert(philox::min() == 0 && philox::max() == 0xFFFFFFFFu);

// The whole stream interface is usable in constant expressions.
static_assert([] {
  philox g(11, 22, 33);
  const std::uint32_t w0 = g();
  const std::uint32_t w1 = g();
  g.discard(5);  // now at word 7 counted from block 33, i.e. block 34 word 3
  const std::uint32_t w7 = g();
  g.set_position(4 * 33 + 2);
  const std::uint32_t w2 = g();
  return w0 == philox::block(11, 22, 33)[0] && w1 == philox::block(11, 22, 33)[1] &&
         w7 == philox::block(11, 22, 34)[3] && w2 == philox::block(11, 22, 33)[2] &&
         g.counter() == 33 && g.word_index() == 3 && g.position() == 4 * 33 + 3;
}());

// Draws n words.
std::vector<std::uint32_t> draw(philox& g, std::size_t n) {
  std::vector<std::uint32_t> out(n);
  for (auto& w : out) w = g();
  return out;
}

}  // namespace

TEST_CASE("philox4x32_10 matches Random123 known-answer vectors at run time", "[random]") {
  for (const auto& v : kat) {
    // Through volatile so that the compiler evaluates the rounds at run time.
    volatile std::uint32_t c[4] = {v.counter[0], v.counter[1], v.counter[2], v.counter[3]};
    volatile std::uint32_t k[2] = {v.key[0], v.key[1]};
    const philox_counter got = fxp::philox4x32_10({c[0], c[1], c[2], c[3]}, {k[0], k[1]});
    CHECK(got == v.expected);
  }
  volatile std::uint64_t s = 0x299f31d0a4093822, st = 0x0370734413198a2e,
                         n = 0x85a308d3243f6a88;
  CHECK(philox::block(s, st, n) == kat[2].expected);
}

TEST_CASE("philox yields words 0..3 of block(counter), then the next block", "[random]") {
  // Start just below 2^32 so that the walk crosses the carry into the counter's high word.
  const std::uint64_t seed = 0x0123456789abcdef, stream = 0xfedcba9876543210;
  const std::uint64_t start = 0xFFFFFFFDull;
  philox g(seed, stream, start);
  for (std::uint64_t b = 0; b < 6; ++b) {
    const philox_counter expected = philox::block(seed, stream, start + b);
    for (unsigned i = 0; i < 4; ++i) {
      REQUIRE(g.counter() == start + b);
      REQUIRE(g.word_index() == i);
      REQUIRE(g() == expected[i]);
    }
  }
  CHECK(g.counter() == start + 6);
  CHECK(g.word_index() == 0);
  CHECK(g.seed() == seed);
  CHECK(g.stream() == stream);
}

TEST_CASE("philox's block counter wraps modulo 2^64", "[random]") {
  philox g(5, 6, u64_max);
  for (unsigned i = 0; i < 4; ++i) CHECK(g() == philox::block(5, 6, u64_max)[i]);
  CHECK(g.counter() == 0);
  CHECK(g() == philox::block(5, 6, 0)[0]);
}

TEST_CASE("philox: the same (seed, stream, counter) reproduce the same words", "[random]") {
  philox a(42, 7, 1000);
  philox b(42, 7, 1000);
  CHECK(draw(a, 37) == draw(b, 37));
  CHECK(a == b);

  // Starting at block c is the same as starting at block 0 and skipping 4c words.
  philox from_zero(42, 7);
  from_zero.discard(4 * 1000);
  philox at_c(42, 7, 1000);
  CHECK(from_zero == at_c);
  CHECK(draw(from_zero, 9) == draw(at_c, 9));
}

TEST_CASE("philox::discard(n) equals n calls", "[random]") {
  for (unsigned offset = 0; offset < 4; ++offset) {
    for (std::uint64_t n = 0; n < 14; ++n) {
      philox stepped(3, 4, 10);
      philox skipped(3, 4, 10);
      for (unsigned i = 0; i < offset; ++i) {
        (void)stepped();
        (void)skipped();
      }
      for (std::uint64_t i = 0; i < n; ++i) (void)stepped();
      skipped.discard(n);
      INFO("offset " << offset << ", n " << n);
      REQUIRE(stepped == skipped);
      REQUIRE(draw(stepped, 9) == draw(skipped, 9));
    }
  }
}

TEST_CASE("philox::discard is O(1) and exact for huge counts", "[random]") {
  // 2^64 - 1 words from word 0: block (2^64 - 1) / 4 = 2^62 - 1, word 3.
  philox g(8, 9);
  g.discard(u64_max);
  CHECK(g.counter() == (std::uint64_t{1} << 62) - 1);
  CHECK(g.word_index() == 3);
  CHECK(g() == philox::block(8, 9, (std::uint64_t{1} << 62) - 1)[3]);

  // From word 1, 2^64 - 1 more words land exactly on word 0 of block 2^62 (no overflow of
  // the word index on the way).
  philox h(8, 9);
  (void)h();
  h.discard(u64_max);
  CHECK(h.counter() == std::uint64_t{1} << 62);
  CHECK(h.word_index() == 0);
  CHECK(h() == philox::block(8, 9, std::uint64_t{1} << 62)[0]);
}

TEST_CASE("philox position save and restore resumes exactly", "[random]") {
  philox g(0xabc, 0xdef);
  (void)draw(g, 7);
  const std::uint64_t saved = g.position();
  CHECK(saved == 7);
  CHECK(g.counter() == 1);
  CHECK(g.word_index() == 3);
  const std::vector<std::uint32_t> continuation = draw(g, 10);

  // set_position on a generator that sits mid-way through another block (block 0, word 2),
  // so the block it has cached is not the one it must resume in.
  philox r(0xabc, 0xdef);
  (void)draw(r, 2);
  r.set_position(saved);
  CHECK(r.position() == saved);
  CHECK(draw(r, 10) == continuation);

  // The recipe for counters beyond 2^62: key + counter() + word_index().
  philox g2(0xabc, 0xdef);
  (void)draw(g2, 7);
  philox restored(g2.seed(), g2.stream(), g2.counter());
  restored.discard(g2.word_index());
  CHECK(restored == g2);
  CHECK(draw(restored, 10) == continuation);

  // A copy taken mid-block carries on identically.
  philox copy = g2;
  CHECK(draw(copy, 10) == draw(g2, 10));
}

TEST_CASE("philox::operator== compares key and position", "[random]") {
  CHECK(philox(1, 2, 3) == philox(1, 2, 3));
  CHECK(philox(1, 2, 3) != philox(9, 2, 3));
  CHECK(philox(1, 2, 3) != philox(1, 9, 3));
  CHECK(philox(1, 2, 3) != philox(1, 2, 9));
  philox a(1, 2, 3);
  const philox b = a;
  (void)a();
  CHECK(a != b);
  CHECK(a.position() == b.position() + 1);
}

TEST_CASE("philox: different seeds and different streams give different words", "[random]") {
  // For unrelated uniform 32-bit words, the chance that any of 1024 aligned pairs coincide
  // is 1024 / 2^32 < 3e-7 per comparison, so a correct generator shows none.
  constexpr std::size_t n = 1024;
  auto coincidences = [](philox a, philox b) {
    std::size_t same = 0;
    for (std::size_t i = 0; i < n; ++i) same += a() == b() ? 1u : 0u;
    return same;
  };
  CHECK(coincidences(philox(0, 0), philox(1, 0)) == 0);
  CHECK(coincidences(philox(0, 0), philox(0, 1)) == 0);
  // Seed and stream play different roles: swapping them changes the words.
  CHECK(coincidences(philox(1, 0), philox(0, 1)) == 0);
  // Seeds differing only in the high half, and streams likewise.
  CHECK(coincidences(philox(std::uint64_t{1} << 32, 0), philox(0, 0)) == 0);
  CHECK(coincidences(philox(0, std::uint64_t{1} << 32), philox(0, 0)) == 0);
}

TEST_CASE("philox passes simple statistical sanity checks", "[random][statistics]") {
  // The seeds are fixed, so the outcome is deterministic; each bound is one that a uniform,
  // independent source exceeds with probability below about 1e-6, so a correct generator
  // passes and a biased, correlated or too-regular one fails.
  constexpr std::size_t n = std::size_t{1} << 20;
  const double dn = static_cast<double>(n);
  philox g0(0x5eed5eed5eed5eed, 0);
  philox g1(0x5eed5eed5eed5eed, 1);
  const std::vector<std::uint32_t> s0 = draw(g0, n);
  const std::vector<std::uint32_t> s1 = draw(g1, n);

  SECTION("each bit is set half the time") {
    // Count of ones ~ Binomial(n, 1/2): mean n/2, sigma sqrt(n)/2 = 512. Six sigma has a
    // two-sided tail of 2e-9, about 6e-8 over all 32 bits.
    std::array<std::size_t, 32> ones{};
    for (const std::uint32_t w : s0)
      for (unsigned b = 0; b < 32; ++b) ones[b] += (w >> b) & 1u;
    const double sigma = std::sqrt(dn) / 2;
    for (unsigned b = 0; b < 32; ++b) {
      INFO("bit " << b << ": " << ones[b] << " ones");
      CHECK(std::abs(static_cast<double>(ones[b]) - dn / 2) < 6 * sigma);
    }
  }

  SECTION("bytes are uniform over 256 buckets") {
    // Pearson chi-square with 255 degrees of freedom over 4n bytes (expected 16384 per
    // bucket). P(chi2 > 377.08) = 1e-6 and P(chi2 < 161.65) = 1e-6, so the statistic must lie
    // in between: the lower bound rejects outputs that are too regular (e.g. counting).
    std::array<std::size_t, 256> buckets{};
    for (const std::uint32_t w : s0)
      for (unsigned k = 0; k < 4; ++k) ++buckets[(w >> (8 * k)) & 0xFFu];
    const double expected = 4 * dn / 256;
    double chi2 = 0;
    for (const std::size_t c : buckets) {
      const double d = static_cast<double>(c) - expected;
      chi2 += d * d / expected;
    }
    INFO("chi2 = " << chi2);
    CHECK(chi2 > 161.65);
    CHECK(chi2 < 377.08);
  }

  // Pearson correlation of words mapped to (0, 1); for independent sequences it is
  // approximately Normal(0, 1/n), so |r| < 6 / sqrt(n) fails with probability 2e-9.
  auto correlation = [](const std::uint32_t* x, const std::uint32_t* y, std::size_t m) {
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (std::size_t i = 0; i < m; ++i) {
      const double u = (static_cast<double>(x[i]) + 0.5) * 0x1p-32;
      const double v = (static_cast<double>(y[i]) + 0.5) * 0x1p-32;
      sx += u;
      sy += v;
      sxx += u * u;
      syy += v * v;
      sxy += u * v;
    }
    const double dm = static_cast<double>(m);
    const double cov = sxy - sx * sy / dm;
    return cov / std::sqrt((sxx - sx * sx / dm) * (syy - sy * sy / dm));
  };

  SECTION("streams 0 and 1 of one seed are uncorrelated at equal counters") {
    const double r = correlation(s0.data(), s1.data(), n);
    INFO("r = " << r);
    CHECK(std::abs(r) < 6 / std::sqrt(dn));
  }

  SECTION("consecutive words of one stream are uncorrelated") {
    const double r = correlation(s0.data(), s0.data() + 1, n - 1);
    INFO("r = " << r);
    CHECK(std::abs(r) < 6 / std::sqrt(dn - 1));
  }
}

TEST_CASE("fxp::seed resets the calling thread's default generator", "[random][default]") {
  fxp::seed(123);
  CHECK(fxp::default_generator() == philox(123, 0, 0));
  const std::vector<std::uint32_t> first = draw(fxp::default_generator(), 8);
  CHECK(fxp::default_generator().position() == 8);  // the reference is the live state
  fxp::seed(123);
  const std::vector<std::uint32_t> second = draw(fxp::default_generator(), 8);
  CHECK(first == second);
  philox reference(123, 0, 0);
  CHECK(first == draw(reference, 8));
  fxp::seed(124);
  CHECK(draw(fxp::default_generator(), 8) != first);
}

TEST_CASE("each thread has its own default generator", "[random][default]") {
  fxp::seed(99);
  (void)draw(fxp::default_generator(), 3);

  // Catch2 assertions are not thread-safe: the thread records, the main thread checks.
  bool fresh_at_start = false;
  std::vector<std::uint32_t> other_words;
  philox other_state_after;
  std::thread t([&] {
    fresh_at_start = fxp::default_generator() == philox(0, 0, 0);
    fxp::seed(7);
    other_words = draw(fxp::default_generator(), 5);
    other_state_after = fxp::default_generator();
  });
  t.join();

  // The main thread's seed did not reach the new thread, which started at philox(0, 0, 0).
  CHECK(fresh_at_start);
  philox seven(7, 0, 0);
  CHECK(other_words == draw(seven, 5));
  CHECK(other_state_after == seven);

  // The thread's seed(7) and draws did not touch the main thread's generator.
  philox expected(99, 0, 0);
  expected.discard(3);
  CHECK(fxp::default_generator() == expected);
}

TEST_CASE("random_key: element i draws word i of philox(seed, (tensor_id << 32) | step)",
          "[random]") {
  constexpr fxp::random_key key{0x0123456789ABCDEFull, 7, 11};
  static_assert(key.stream() == ((std::uint64_t{7} << 32) | 11));
  fxp::philox stream(key.seed, key.stream());
  for (std::uint64_t i = 0; i < 1000; ++i) {
    const std::uint32_t expected = stream();
    REQUIRE(key.word(i) == expected);
    auto at = key.generator_at(i);
    REQUIRE(at() == expected);
  }
  CHECK(fxp::random_key{1, 7, 11}.word(0) != key.word(0));
  CHECK(fxp::random_key{key.seed, 8, 11}.word(0) != key.word(0));
  CHECK(fxp::random_key{key.seed, 7, 12}.word(0) != key.word(0));
}
