// SPDX-License-Identifier: MIT
// The GEMM driver's store callbacks: each finished tile of exact sums rounded into C (fixed
// point), or copied (float). Included once per instruction set, inside that set's namespace
// and target region (gemm_impl.hpp), so that the rounding loops (round_row, always inlined)
// are vectorized for the set whose kernels produced the tile: no include guard, and not a
// header of its own.

/// The store callbacks of one instruction set.
struct gemm_store {
  /// The driver's store callback for fixed point: each exact sum (raw units of format Sum,
  /// held in T) rounded into C by Round and C's overflow policy.
  template <class C, class Round, class Sum, std::size_t MR, std::size_t NR, class T>
  static void rounded(const void* context, std::size_t i0, std::size_t j0, std::size_t rows,
                      std::size_t cols, const T* tile) {
    using rounding = sum_rounding<C, Round, Sum, T>;
    const auto& out = *static_cast<const output_view<C>*>(context);
    // A random policy: the Philox blocks of every row of the tile in one batch.
    constexpr std::size_t max_blocks = MR * (NR / philox::words_per_block + 1);
    [[maybe_unused]] std::uint64_t ids[rounding::needs_word ? max_blocks : 1] = {};
    [[maybe_unused]] std::uint32_t words[rounding::needs_word ? 4 * max_blocks : 1];
    if constexpr (rounding::needs_word) {
      std::size_t count = 0;
      for (std::size_t r = 0; r < rows; ++r) {
        const std::uint64_t first = out.first + (i0 + r) * out.n + j0;
        for (std::uint64_t b = first / philox::words_per_block;
             b <= (first + cols - 1) / philox::words_per_block; ++b) {
          ids[count++] = b;
        }
      }
      if constexpr (words_by_block_loop) {
        philox_blocks_by_core(out.key, ids, count, words);
      } else {
        philox_blocks(out.key, ids, count, words);
      }
    }
    std::size_t row_block = 0;  // the first block of row r in `words`
    for (std::size_t r = 0; r < rows; ++r) {
      C* dst = out.c + (i0 + r) * out.ldc + j0;
      const T* sums = tile + r * NR;
      const std::uint32_t* row_words = nullptr;
      if constexpr (rounding::needs_word) {
        const std::uint64_t first = out.first + (i0 + r) * out.n + j0;
        row_words = words + row_block * philox::words_per_block + first % philox::words_per_block;
        row_block += static_cast<std::size_t>((first + cols - 1) / philox::words_per_block -
                                              first / philox::words_per_block + 1);
      }
      round_row<C, Round, Sum>(sums, row_words, dst, cols);
    }
  }

  /// The driver's store callback for float: a copy.
  template <std::size_t NR>
  static void copy(const void* context, std::size_t i0, std::size_t j0, std::size_t rows,
                   std::size_t cols, const float* tile) {
    const auto& out = *static_cast<const output_view<float>*>(context);
    for (std::size_t r = 0; r < rows; ++r) {
      float* dst = out.c + (i0 + r) * out.ldc + j0;
      for (std::size_t j = 0; j < cols; ++j) dst[j] = tile[r * NR + j];
    }
  }
};
