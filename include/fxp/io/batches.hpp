// SPDX-License-Identifier: MIT
#pragma once
// Shuffled mini-batches that depend on nothing but (seed, epoch): the permutation of an epoch
// is a Fisher-Yates shuffle driven by fxp::philox keyed by the seed, on a stream of its own
// for each epoch, so a training run resumed from a checkpoint at epoch e sees exactly the
// batches it would have seen. (std::shuffle and std::uniform_int_distribution are not used:
// their algorithms differ between standard libraries.)

#include <algorithm>  // std::min
#include <cstddef>    // std::size_t
#include <cstdint>    // seeds, epochs, random words
#include <cstring>    // std::memcpy of one image
#include <numeric>    // std::iota for the identity order
#include <span>       // index ranges
#include <stdexcept>  // std::invalid_argument, std::out_of_range, std::length_error
#include <string>     // messages
#include <utility>    // std::swap
#include <vector>     // the permutation, batch labels

#include "../core/random.hpp"
#include "dataset.hpp"

namespace fxp::io {

/// The tensor id of the shuffle's random stream in `fxp::random_key` terms: epoch e of seed s
/// draws its words from `random_key{s, shuffle_tensor_id, e}.generator_at(0)`, i.e.
/// `philox(s, (0xFFFFFFFF << 32) | e)`. Keep this id out of other uses of the same seed.
inline constexpr std::uint32_t shuffle_tensor_id = 0xFFFFFFFFu;

/// A uniform integer in [0, bound), bound >= 1, from 32-bit words of `gen`: Lemire's
/// multiply-and-shift with rejection (arXiv:1805.10941), exactly unbiased. Most draws take
/// one word; the rejection probability is below bound / 2^32.
[[nodiscard]] constexpr std::uint32_t uniform_below(philox& gen, std::uint32_t bound) noexcept {
  std::uint64_t m = std::uint64_t{gen()} * bound;
  auto low = static_cast<std::uint32_t>(m);
  if (low < bound) {
    const std::uint32_t threshold = (0u - bound) % bound;  // 2^32 mod bound
    while (low < threshold) {
      m = std::uint64_t{gen()} * bound;
      low = static_cast<std::uint32_t>(m);
    }
  }
  return static_cast<std::uint32_t>(m >> 32);
}

/// The order in which epoch `epoch` of a run seeded with `seed` visits items 0 to n-1: a
/// permutation that depends only on (n, seed, epoch), the same on every platform. Fisher-Yates
/// from the last position down, position i swapped with `uniform_below(gen, i + 1)`, with
/// gen = philox(seed, (uint64(shuffle_tensor_id) << 32) | epoch). std::length_error if
/// n >= 2^32.
[[nodiscard]] inline std::vector<std::size_t> epoch_permutation(std::size_t n, std::uint64_t seed,
                                                                std::uint32_t epoch) {
  if (n > 0xFFFFFFFFu) {
    throw std::length_error("fxp::io::epoch_permutation: at most 2^32 - 1 items; got " +
                            std::to_string(n));
  }
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  philox gen = random_key{seed, shuffle_tensor_id, epoch}.generator_at(0);
  for (std::size_t i = n; i > 1; --i) {
    const std::size_t j = uniform_below(gen, static_cast<std::uint32_t>(i));
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

/// What happens to the last batch of an epoch when the item count is not a multiple of the
/// batch size.
enum class last_batch {
  keep,  ///< a smaller last batch of the remaining items
  drop,  ///< the remaining items are left out of this epoch (a different set each epoch)
};

/// How an epoch of `items` items splits into batches of `batch_size`.
class batch_plan {
 public:
  /// std::invalid_argument if batch_size is 0.
  batch_plan(std::size_t items, std::size_t batch_size, last_batch last = last_batch::keep)
      : items_(items), batch_size_(batch_size), last_(last) {
    if (batch_size == 0) throw std::invalid_argument("fxp::io::batch_plan: batch size 0");
  }

  [[nodiscard]] std::size_t items() const noexcept { return items_; }
  [[nodiscard]] std::size_t batch_size() const noexcept { return batch_size_; }
  [[nodiscard]] last_batch last() const noexcept { return last_; }
  /// Batches per epoch: ceil(items / batch_size) when keeping the last partial batch,
  /// floor(items / batch_size) when dropping it.
  [[nodiscard]] std::size_t batch_count() const noexcept {
    return last_ == last_batch::keep ? (items_ + batch_size_ - 1) / batch_size_
                                     : items_ / batch_size_;
  }
  /// Positions [first, second) of batch b in the epoch's order; std::out_of_range if
  /// b >= batch_count(). Without shuffling these are the items themselves, so
  /// `data.slice(first, second)` is batch b as a view.
  [[nodiscard]] std::pair<std::size_t, std::size_t> batch_range(std::size_t b) const {
    if (b >= batch_count()) {
      throw std::out_of_range("fxp::io::batch_plan: batch " + std::to_string(b) + " of " +
                              std::to_string(batch_count()));
    }
    const std::size_t first = b * batch_size_;
    return {first, std::min(first + batch_size_, items_)};
  }

 private:
  std::size_t items_;
  std::size_t batch_size_;
  last_batch last_;
};

/// The batches of one epoch: the item indices of each, in the epoch's shuffled order.
class epoch_batches {
 public:
  /// Epoch `epoch` of a run seeded with `seed`: `epoch_permutation(plan.items(), seed, epoch)`
  /// cut into `plan.batch_count()` batches.
  epoch_batches(const batch_plan& plan, std::uint64_t seed, std::uint32_t epoch)
      : plan_(plan), order_(epoch_permutation(plan.items(), seed, epoch)) {}

  /// The items in order 0, 1, 2, ... (for evaluation): batch b is items batch_range(b).
  [[nodiscard]] static epoch_batches sequential(const batch_plan& plan) {
    std::vector<std::size_t> order(plan.items());
    std::iota(order.begin(), order.end(), std::size_t{0});
    return epoch_batches(plan, std::move(order));
  }

  [[nodiscard]] const batch_plan& plan() const noexcept { return plan_; }
  /// Number of batches.
  [[nodiscard]] std::size_t size() const noexcept { return plan_.batch_count(); }
  /// The item indices of batch b; std::out_of_range if b >= size().
  [[nodiscard]] std::span<const std::size_t> operator[](std::size_t b) const {
    const auto [first, last] = plan_.batch_range(b);
    return std::span<const std::size_t>(order_).subspan(first, last - first);
  }
  /// The whole epoch's order (every item once, including any dropped at the end).
  [[nodiscard]] std::span<const std::size_t> order() const noexcept { return order_; }

 private:
  epoch_batches(const batch_plan& plan, std::vector<std::size_t> order)
      : plan_(plan), order_(std::move(order)) {}

  batch_plan plan_;
  std::vector<std::size_t> order_;
};

/// A mini-batch copied out of a labelled set: images (B, C, H, W) and B labels.
struct batch {
  tensor<float> images{shape{0, 1, 1, 1}};
  std::vector<std::uint8_t> labels;
  [[nodiscard]] std::size_t size() const noexcept { return labels.size(); }
};

/// Copies the items `indices` of `data` into `out`, in that order, reusing out's storage
/// when it already has the right shape. std::out_of_range if an index is not below
/// data.size() (then `out` is unchanged).
inline void gather(const labelled_view& data, std::span<const std::size_t> indices, batch& out) {
  for (const std::size_t i : indices) {
    if (i >= data.size()) {
      throw std::out_of_range("fxp::io::gather: item " + std::to_string(i) + " of " +
                              std::to_string(data.size()));
    }
  }
  const shape s = data.images().shape();  // a copy: images() is a temporary view
  const shape want = s.with_outer(indices.size());
  if (!(out.images.shape() == want)) out.images = tensor<float>(want);
  out.labels.resize(indices.size());
  const std::size_t item = s.stride(0);
  for (std::size_t k = 0; k < indices.size(); ++k) {
    out.labels[k] = data.labels()[indices[k]];
    if (item != 0) {  // memcpy may not take the null data of an empty image
      std::memcpy(out.images.data() + k * item, data.images().data() + indices[k] * item,
                  item * sizeof(float));
    }
  }
}

/// The items `indices` of `data`, copied into a new batch.
[[nodiscard]] inline batch gather(const labelled_view& data, std::span<const std::size_t> indices) {
  batch out;
  gather(data, indices, out);
  return out;
}

}  // namespace fxp::io
