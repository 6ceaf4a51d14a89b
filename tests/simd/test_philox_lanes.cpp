// SPDX-License-Identifier: MIT
// Philox4x32-10 on lanes is fxp::philox4x32_10 in every lane, on every architecture and with
// both instruction selections; the word generator gives element j word j % 4 of block j / 4,
// across the 2^32 carry of the block counter and the 2^64 wrap of the element index.
#include "support.hpp"

#include <array>
#include <vector>

namespace {

template <class Arch, class Ops>
void check_block_function() {
  constexpr std::size_t lanes = fxp::simd::lane_count<Arch>;
  using words = fxp::simd::word_lanes<Arch>;
  std::mt19937_64 rng(2024);
  // Random keys and counters, plus the all-zero and all-one corners of the known answers.
  for (int trial = 0; trial < 200; ++trial) {
    fxp::philox_key key{static_cast<std::uint32_t>(rng()), static_cast<std::uint32_t>(rng())};
    if (trial == 0) key = {0, 0};
    if (trial == 1) key = {0xFFFFFFFFu, 0xFFFFFFFFu};
    alignas(64) std::array<std::array<std::uint32_t, lanes>, 4> counter{};
    for (auto& word : counter) {
      for (auto& c : word) c = static_cast<std::uint32_t>(rng());
    }
    if (trial < 2) {
      for (auto& word : counter) word.fill(key[0]);
    }
    std::array<words, 4> c;
    for (std::size_t w = 0; w < 4; ++w) c[w] = words::load_aligned(counter[w].data());
    const auto out = fxp::simd::philox4x32_10<Arch, Ops>(c, fxp::simd::philox_key_schedule<Arch>(key));
    for (std::size_t lane = 0; lane < lanes; ++lane) {
      const fxp::philox_counter expected = fxp::philox4x32_10(
          {counter[0][lane], counter[1][lane], counter[2][lane], counter[3][lane]}, key);
      for (std::size_t w = 0; w < 4; ++w) {
        INFO(Arch::name() << " trial " << trial << " lane " << lane << " word " << w);
        REQUIRE(out[w].get(lane) == expected[w]);
      }
    }
  }
}

template <class Arch, class Ops>
void check_words() {
  using generator = fxp::simd::philox_words<Arch, Ops>;
  std::vector<std::uint32_t> out(generator::words_per_call);
  const fxp::random_key keys[] = {{0, 0, 0}, {0xDEADBEEFCAFEF00Dull, 3, 9}, {1, 0xFFFFFFFFu, 0xFFFFFFFFu}};
  // Blocks at the start, anywhere, just below a 2^32 carry of the counter's low word (the
  // call then crosses it), and just below 2^62 (element indices wrap at 2^64).
  const std::uint64_t blocks[] = {0,
                                  1,
                                  12345678901ull,
                                  0xFFFFFFFFull - 3,
                                  (std::uint64_t{7} << 32) - generator::words_per_call / 8,
                                  (std::uint64_t{1} << 62) - 5,
                                  (std::uint64_t{1} << 62) - 1};
  for (const auto& key : keys) {
    const generator gen(key);
    for (const std::uint64_t block : blocks) {
      gen.generate(block, out.data());
      for (std::size_t t = 0; t < out.size(); ++t) {
        INFO(Arch::name() << " block " << block << " word " << t);
        REQUIRE(out[t] == key.word(4 * block + t));
      }
    }
  }
}

template <class Arch, class Ops>
void check_gathered_blocks() {
  using generator = fxp::simd::philox_words<Arch, Ops>;
  std::mt19937_64 rng(77);
  const fxp::random_key key{0x0F1E2D3C4B5A6978ull, 11, 12};
  const generator gen(key);
  // Fewer, exactly as many and more blocks than one pass of the lanes, in random order,
  // with a repeated id and ids near the 2^32 carry and the 2^62 wrap.
  for (const std::size_t count : {std::size_t{1}, std::size_t{7}, generator::words_per_call / 4,
                                  generator::words_per_call / 4 + 3, std::size_t{301}}) {
    std::vector<std::uint64_t> ids(count);
    for (auto& id : ids) id = rng() >> (rng() % 64);
    ids[0] = 0xFFFFFFFFull;
    if (count > 2) ids[1] = ids[2] = (std::uint64_t{1} << 62) - 1;
    std::vector<std::uint32_t> out(4 * count + 1, 0xA5A5A5A5u);
    gen.blocks(ids.data(), count, out.data());
    for (std::size_t i = 0; i < count; ++i) {
      for (std::size_t w = 0; w < 4; ++w) {
        INFO(Arch::name() << " count " << count << " block " << ids[i] << " word " << w);
        REQUIRE(out[4 * i + w] == key.word(4 * ids[i] + w));
      }
    }
    REQUIRE(out[4 * count] == 0xA5A5A5A5u);  // nothing written past the last block
  }
}

template <class Arch, class Ops>
void check_word_buffer() {
  const fxp::random_key key{0xFEEDFACE12345678ull, 2, 40000};
  using buffer_t = fxp::simd::word_buffer<Arch, Ops>;
  // Reads in order, as the kernels do (a chunk at a time, odd starts, reads that straddle a
  // refill), then backwards and far away (every read must still be right).
  std::mt19937_64 rng(5);
  for (const std::uint64_t start : {std::uint64_t{0}, std::uint64_t{3}, (std::uint64_t{1} << 34) - 7,
                                    ~std::uint64_t{0} - 600}) {
    buffer_t buffer(key);
    std::uint64_t i = start;
    for (int read = 0; read < 60; ++read) {
      const std::size_t n = 1 + rng() % buffer_t::capacity;
      const std::uint64_t ahead = n + rng() % 2000;
      const std::uint32_t* w = buffer.words(i, n, ahead);
      for (std::size_t k = 0; k < n; ++k) {
        INFO(Arch::name() << " read " << read << " element " << i + k);
        REQUIRE(w[k] == key.word(i + k));
      }
      i = read % 10 == 9 ? i - 1000 : i + n - rng() % 4;
    }
    std::vector<std::uint32_t> all(3000);
    buffer.fill(start + 5, all.size(), all.data());
    for (std::size_t k = 0; k < all.size(); ++k) REQUIRE(all[k] == key.word(start + 5 + k));
  }
}

}  // namespace

TEST_CASE("Philox4x32-10 on lanes equals the scalar block function", "[simd][philox]") {
  fxp_test::for_each_arch([]<class Arch>() {
    check_block_function<Arch, fxp::simd::native>();
    check_block_function<Arch, fxp::simd::portable>();
  });
}

TEST_CASE("the lane word generator gives every element its key.word", "[simd][philox]") {
  fxp_test::for_each_arch([]<class Arch>() {
    check_words<Arch, fxp::simd::native>();
    check_words<Arch, fxp::simd::portable>();
  });
}

TEST_CASE("gathered Philox blocks on lanes equal random_key::word", "[simd][philox]") {
  fxp_test::for_each_arch([]<class Arch>() {
    check_gathered_blocks<Arch, fxp::simd::native>();
    check_gathered_blocks<Arch, fxp::simd::portable>();
  });
}

TEST_CASE("the word buffer hands out every element's key.word", "[simd][philox]") {
  fxp_test::for_each_arch([]<class Arch>() {
    check_word_buffer<Arch, fxp::simd::native>();
    check_word_buffer<Arch, fxp::simd::portable>();
  });
}

TEST_CASE("groups of lanes run independent Philox chains", "[simd][philox]") {
  using arch = fxp::simd::default_arch;
  using words = fxp::simd::word_lanes<arch>;
  const fxp::philox_key key{0x01234567u, 0x89ABCDEFu};
  std::array<std::array<words, 4>, 3> counter;
  for (std::size_t g = 0; g < 3; ++g) {
    for (std::size_t w = 0; w < 4; ++w) counter[g][w] = words(static_cast<std::uint32_t>(100 * g + w));
  }
  const auto out = fxp::simd::philox4x32_10<arch, fxp::simd::native, 3>(
      counter, fxp::simd::philox_key_schedule<arch>(key));
  for (std::size_t g = 0; g < 3; ++g) {
    const auto c = static_cast<std::uint32_t>(100 * g);
    const fxp::philox_counter expected = fxp::philox4x32_10({c, c + 1, c + 2, c + 3}, key);
    for (std::size_t w = 0; w < 4; ++w) CHECK(out[g][w].get(0) == expected[w]);
  }
}

TEST_CASE("the portable build runs the SSE2 baseline", "[simd][arch]") {
#if defined(FXP_SIMD_TEST_PORTABLE)
  // test_simd_portable adds -march=x86-64 after the project's -march=native; if the order
  // of flags ever changed, this build would silently test the native path twice.
  STATIC_REQUIRE(std::is_same_v<fxp::simd::default_arch, xsimd::sse2>);
#else
  SUCCEED(fxp::simd::default_arch::name());
#endif
}
