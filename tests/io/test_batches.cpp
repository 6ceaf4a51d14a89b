// SPDX-License-Identifier: MIT
// Tests of fxp/io/batches.hpp: epoch permutations as a pure function of (seed, epoch), their
// documented construction, their statistics, batch plans (keep / drop the last partial
// batch), and copying batches out of a labelled set.

#include <fxp/io/batches.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <set>
#include <vector>

namespace {

std::vector<std::size_t> identity(std::size_t n) {
  std::vector<std::size_t> v(n);
  std::iota(v.begin(), v.end(), std::size_t{0});
  return v;
}

bool is_permutation_of_n(std::vector<std::size_t> p) {
  std::sort(p.begin(), p.end());
  return p == identity(p.size());
}

// The permutation as its documentation describes it, written independently: Fisher-Yates
// from the last position down, draws by rejection from the words of
// philox(seed, 0xFFFFFFFF'<epoch>).
std::vector<std::size_t> reference_permutation(std::size_t n, std::uint64_t seed,
                                               std::uint32_t epoch) {
  fxp::philox gen(seed, (std::uint64_t{0xFFFFFFFF} << 32) | epoch);
  auto order = identity(n);
  for (std::size_t i = n; i > 1; --i) {
    const std::uint64_t bound = i;
    const std::uint64_t reject_below = (std::uint64_t{1} << 32) % bound;
    std::uint64_t m = 0;
    do {
      m = std::uint64_t{gen()} * bound;
    } while ((m & 0xFFFFFFFFu) < reject_below);
    std::swap(order[i - 1], order[m >> 32]);
  }
  return order;
}

}  // namespace

TEST_CASE("epoch_permutation depends only on (n, seed, epoch)", "[io][batches]") {
  const auto a = fxp::io::epoch_permutation(1000, 42, 3);
  CHECK(a == fxp::io::epoch_permutation(1000, 42, 3));  // a resumed run: same order
  CHECK(is_permutation_of_n(a));
  CHECK(a != identity(1000));
  CHECK(a != fxp::io::epoch_permutation(1000, 42, 4));  // another epoch
  CHECK(a != fxp::io::epoch_permutation(1000, 43, 3));  // another seed
  CHECK(a == reference_permutation(1000, 42, 3));
  for (std::uint32_t epoch = 0; epoch < 20; ++epoch) {
    const auto p = fxp::io::epoch_permutation(60000, 7, epoch);
    REQUIRE(is_permutation_of_n(p));
    REQUIRE(p == reference_permutation(60000, 7, epoch));
  }
  // Pinned values: a change of algorithm would silently change every run's batches.
  CHECK(fxp::io::epoch_permutation(10, 0, 0) ==
        std::vector<std::size_t>{5, 1, 6, 9, 4, 3, 2, 0, 8, 7});
  CHECK(fxp::io::epoch_permutation(10, 2026, 7) ==
        std::vector<std::size_t>{9, 2, 0, 1, 7, 6, 8, 5, 4, 3});
  CHECK(fxp::io::epoch_permutation(0, 1, 2).empty());
  CHECK(fxp::io::epoch_permutation(1, 1, 2) == std::vector<std::size_t>{0});
}

TEST_CASE("epoch permutations are uniform: every item in every position equally often",
          "[io][batches]") {
  constexpr std::size_t n = 8;
  constexpr std::uint32_t epochs = 16000;
  std::vector<std::vector<double>> count(n, std::vector<double>(n, 0.0));
  std::size_t fixed_points = 0;
  for (std::uint32_t e = 0; e < epochs; ++e) {
    const auto p = fxp::io::epoch_permutation(n, 2026, e);
    for (std::size_t pos = 0; pos < n; ++pos) {
      count[pos][p[pos]] += 1.0;
      fixed_points += p[pos] == pos;
    }
  }
  const double expected = double{epochs} / n;
  double chi2 = 0.0;
  for (const auto& row : count)
    for (const double c : row) chi2 += (c - expected) * (c - expected) / expected;
  // 49 degrees of freedom: the 99.99th percentile is about 94 (mean 49).
  CHECK(chi2 < 94.0);
  CHECK(chi2 > 20.0);  // far too regular would be just as suspicious
  // A uniform permutation has one fixed point on average.
  CHECK(static_cast<double>(fixed_points) / epochs == Approx(1.0).margin(0.05));
}

TEST_CASE("uniform_below is unbiased, including bounds with heavy rejection", "[io][batches]") {
  fxp::philox gen(5, 6);
  std::vector<int> hits(3, 0);
  for (int i = 0; i < 30000; ++i) ++hits[fxp::io::uniform_below(gen, 3)];
  for (const int h : hits) CHECK(std::abs(h - 10000) < 500);  // about 6 sigma

  // bound = 2^31 + 1 rejects almost half the words; the results stay below it and their
  // mean is bound / 2.
  constexpr std::uint32_t bound = 0x80000001u;
  double sum = 0.0;
  for (int i = 0; i < 20000; ++i) {
    const std::uint32_t x = fxp::io::uniform_below(gen, bound);
    REQUIRE(x < bound);
    sum += x;
  }
  CHECK(sum / 20000 / bound == Approx(0.5).margin(0.015));
  for (int i = 0; i < 100; ++i) CHECK(fxp::io::uniform_below(gen, 1) == 0);
}

TEST_CASE("batch plans keep or drop the last partial batch", "[io][batches]") {
  const fxp::io::batch_plan keep(10, 4, fxp::io::last_batch::keep);
  const fxp::io::batch_plan drop(10, 4, fxp::io::last_batch::drop);
  CHECK(keep.batch_count() == 3);
  CHECK(drop.batch_count() == 2);
  CHECK(keep.batch_range(2) == std::pair<std::size_t, std::size_t>{8, 10});
  CHECK_THROWS_AS(drop.batch_range(2), std::out_of_range);
  CHECK(fxp::io::batch_plan(12, 4, fxp::io::last_batch::drop).batch_count() == 3);
  CHECK_THROWS_AS(fxp::io::batch_plan(10, 0), std::invalid_argument);

  const fxp::io::epoch_batches kept(keep, 99, 1);
  REQUIRE(kept.size() == 3);
  CHECK(kept[0].size() == 4);
  CHECK(kept[2].size() == 2);
  std::vector<std::size_t> seen;
  for (std::size_t b = 0; b < kept.size(); ++b) seen.insert(seen.end(), kept[b].begin(), kept[b].end());
  CHECK(seen == fxp::io::epoch_permutation(10, 99, 1));  // batches are the order, cut up

  const fxp::io::epoch_batches dropped(drop, 99, 1);
  REQUIRE(dropped.size() == 2);
  std::set<std::size_t> distinct;
  for (std::size_t b = 0; b < dropped.size(); ++b) distinct.insert(dropped[b].begin(), dropped[b].end());
  CHECK(distinct.size() == 8);
  CHECK_THROWS_AS(dropped[2], std::out_of_range);

  // Without shuffling, batch b is items batch_range(b).
  const auto seq = fxp::io::epoch_batches::sequential(keep);
  CHECK(std::vector<std::size_t>(seq[1].begin(), seq[1].end()) ==
        std::vector<std::size_t>{4, 5, 6, 7});
}

TEST_CASE("gather copies the items of a batch", "[io][batches]") {
  // Item i: an image of 2x3 values 100 i + k, label i.
  constexpr std::size_t n = 10;
  fxp::tensor<float> images(fxp::shape{n, 1, 2, 3});
  for (std::size_t i = 0; i < images.size(); ++i)
    images[i] = static_cast<float>(100 * (i / 6) + i % 6);
  std::vector<std::uint8_t> labels(n);
  std::iota(labels.begin(), labels.end(), std::uint8_t{0});
  const fxp::io::labelled_set data(std::move(images), std::move(labels));

  const fxp::io::epoch_batches epoch(fxp::io::batch_plan(n, 4), 1234, 0);
  fxp::io::batch out;
  for (std::size_t b = 0; b < epoch.size(); ++b) {
    const float* storage = out.images.data();
    fxp::io::gather(data, epoch[b], out);
    REQUIRE(out.size() == epoch[b].size());
    CHECK(out.images.shape() == fxp::shape{epoch[b].size(), 1, 2, 3});
    if (b == 1) CHECK(out.images.data() == storage);  // same shape: storage reused
    for (std::size_t k = 0; k < out.size(); ++k) {
      const std::size_t item = epoch[b][k];
      CHECK(out.labels[k] == item);
      for (std::size_t v = 0; v < 6; ++v)
        CHECK(out.images[k * 6 + v] == static_cast<float>(100 * item + v));
    }
  }
  const std::vector<std::size_t> bad{1, 10};
  const auto before = out.labels;
  CHECK_THROWS_AS(fxp::io::gather(data, bad, out), std::out_of_range);
  CHECK(out.labels == before);
  CHECK(fxp::io::gather(data.head(3), std::vector<std::size_t>{2, 0}).labels ==
        std::vector<std::uint8_t>{2, 0});
}
