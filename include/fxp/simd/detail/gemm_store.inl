// SPDX-License-Identifier: MIT
// The GEMM driver's store callbacks: each finished tile of exact sums rounded into C (fixed
// point), or copied (float). Included once per instruction set, inside that set's namespace
// and target region (gemm_impl.hpp), so that the rounding loops (round_row, always inlined)
// are vectorized for the set whose kernels produced the tile: no include guard, and not a
// header of its own.

/// The random words of a tile of C for a random policy (nothing for a deterministic one):
/// the Philox blocks covering every row of the tile, drawn in one batch, C(i, j) taking word
/// first + i * n + j of the key.
template <std::size_t MR, std::size_t NR, bool NeedsWord>
struct tile_words {
  tile_words(const random_key&, std::uint64_t, std::size_t, std::size_t, std::size_t, std::size_t,
             std::size_t) noexcept {}
  [[nodiscard]] static const std::uint32_t* row(std::size_t) noexcept { return nullptr; }
};

template <std::size_t MR, std::size_t NR>
struct tile_words<MR, NR, true> {
  static constexpr std::size_t max_blocks = MR * (NR / philox::words_per_block + 1);
  std::uint32_t words[philox::words_per_block * max_blocks];
  std::size_t row_start[MR];  // the first word of row r in `words`

  tile_words(const random_key& key, std::uint64_t first, std::size_t n, std::size_t i0,
             std::size_t j0, std::size_t rows, std::size_t cols) noexcept {
    std::uint64_t ids[max_blocks];
    std::size_t count = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      const std::uint64_t at = first + (i0 + r) * n + j0;
      row_start[r] = count * philox::words_per_block + at % philox::words_per_block;
      for (std::uint64_t b = at / philox::words_per_block; b <= (at + cols - 1) / philox::words_per_block; ++b) {
        ids[count++] = b;
      }
    }
    if constexpr (words_by_block_loop) {
      philox_blocks_by_core(key, ids, count, words);
    } else {
      philox_blocks(key, ids, count, words);
    }
  }
  [[nodiscard]] const std::uint32_t* row(std::size_t r) const noexcept { return words + row_start[r]; }
};

/// The store callbacks of one instruction set.
struct gemm_store {
  /// The driver's store callback for fixed point: each exact sum (raw units of format Sum,
  /// held in T) rounded into C by Round and C's overflow policy.
  template <class C, class Round, class Sum, std::size_t MR, std::size_t NR, class T>
  static void rounded(const void* context, std::size_t i0, std::size_t j0, std::size_t rows,
                      std::size_t cols, const T* tile) {
    using rounding = sum_rounding<C, Round, Sum, T>;
    const auto& out = *static_cast<const output_view<C>*>(context);
    [[maybe_unused]] tile_words<MR, NR, rounding::needs_word> words(out.key, out.first, out.n,
                                                                    i0, j0, rows, cols);
    for (std::size_t r = 0; r < rows; ++r) {
      C* dst = out.c + (i0 + r) * out.ldc + j0;
      round_row<C, Round, Sum>(tile + r * NR, words.row(r), dst, cols);
    }
  }

  /// The driver's store callback for a run-time output format (run_time_output): each
  /// exact sum plus its row's and column's bias, rounded by Round with the run-time shift
  /// and clamped into the format's raw range, the clamps counted. The same decision as the
  /// run-time epilogue of the tensor kernels (fxp::detail::round_chunk), element for element.
  template <class Round, std::size_t MR, std::size_t NR, class T>
  static void rounded_at_run_time(const void* context, std::size_t i0, std::size_t j0,
                                  std::size_t rows, std::size_t cols, const T* tile) {
    const auto& out = *static_cast<const run_time_output*>(context);
    constexpr bool needs_word = !deterministic_rounding<Round>;
    [[maybe_unused]] tile_words<MR, NR, needs_word> words(out.key, out.first, out.n, i0, j0,
                                                          rows, cols);
    if constexpr (std::is_same_v<T, std::int32_t>) {
      if (rounded_in_32_bits<Round, MR, NR>(out, i0, j0, rows, cols, tile, words)) return;
    }
    const int shift = out.shift;
    const std::int64_t lo = out.lo;
    const std::int64_t hi = out.hi;
    std::int64_t q[MR * NR];
    std::uint64_t clamped = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      const T* sums = tile + r * NR;
      std::int64_t* row = q + r * NR;
      const std::int64_t row_bias = out.row_bias != nullptr ? out.row_bias[i0 + r] : 0;
      const std::uint32_t* row_words = words.row(r);
      const auto round_one = [&](std::size_t j, std::int64_t v) {
        std::uint32_t word = 0;
        if constexpr (needs_word) word = row_words[j];
        const std::int64_t x = fxp::detail::round_down_or_up<Round, std::int64_t, std::uint64_t>(v, shift, word);
        const std::int64_t kept = x < lo ? lo : x > hi ? hi : x;
        clamped += kept != x ? 1 : 0;
        row[j] = kept;
      };
      if (out.col_bias != nullptr) {
        const std::int64_t* col_bias = out.col_bias + j0;
        for (std::size_t j = 0; j < cols; ++j) round_one(j, static_cast<std::int64_t>(sums[j]) + row_bias + col_bias[j]);
      } else {
        for (std::size_t j = 0; j < cols; ++j) round_one(j, static_cast<std::int64_t>(sums[j]) + row_bias);
      }
    }
    switch (out.carrier) {
      case raw_carrier::int8: narrow_tile<std::int8_t, NR>(out, i0, j0, rows, cols, q); break;
      case raw_carrier::uint8: narrow_tile<std::uint8_t, NR>(out, i0, j0, rows, cols, q); break;
      case raw_carrier::int16: narrow_tile<std::int16_t, NR>(out, i0, j0, rows, cols, q); break;
      case raw_carrier::uint16: narrow_tile<std::uint16_t, NR>(out, i0, j0, rows, cols, q); break;
      case raw_carrier::int32: narrow_tile<std::int32_t, NR>(out, i0, j0, rows, cols, q); break;
    }
    if (clamped != 0) out.clamped->fetch_add(clamped, std::memory_order_relaxed);
  }

  /// rounded_at_run_time on 32-bit lanes, for 32-bit sums and a bias per row or per column
  /// (not both): false, with nothing stored, when some value could leave 32 bits.
  ///
  /// Rounding v / 2^shift and clamping into [lo, hi] gives the same value, and the same
  /// clamp, for every v at or below L = (lo - 1) 2^shift (it rounds to at most lo - 1), and
  /// for every v at or above H = (hi + 1) 2^shift. So v = sum + bias may be clamped into
  /// [L, H] first, and that is a clamp of the sum into [L - bias, H - bias], which is taken
  /// within 32 bits: when L and H fit 32 bits and that interval meets the 32-bit range, the
  /// clamped sum plus the bias lies in [L, H], and a wrapping 32-bit addition gives it.
  template <class Round, std::size_t MR, std::size_t NR, class Words>
  [[nodiscard]] static bool rounded_in_32_bits(const run_time_output& out, std::size_t i0,
                                               std::size_t j0, std::size_t rows,
                                               std::size_t cols, const std::int32_t* tile,
                                               const Words& words) noexcept {
    constexpr std::int64_t min32 = std::numeric_limits<std::int32_t>::min();
    constexpr std::int64_t max32 = std::numeric_limits<std::int32_t>::max();
    const int shift = out.shift;
    if (shift > 30 || (out.row_bias != nullptr && out.col_bias != nullptr)) return false;
    const std::int64_t low_edge = (out.lo - 1) * (std::int64_t{1} << shift);
    const std::int64_t high_edge = (out.hi + 1) * (std::int64_t{1} << shift);
    if (low_edge < min32 || high_edge > max32) return false;
    // The sum's clamp interval and the bias (as a 32-bit pattern) of each row or column.
    const auto interval = [&](std::int64_t bias, std::int32_t& lo, std::int32_t& hi,
                              std::uint32_t& bias32) {
      const std::int64_t from = low_edge - bias;
      const std::int64_t to = high_edge - bias;
      if (from > max32 || to < min32) return false;
      lo = static_cast<std::int32_t>(from < min32 ? min32 : from);
      hi = static_cast<std::int32_t>(to > max32 ? max32 : to);
      bias32 = static_cast<std::uint32_t>(bias);
      return true;
    };
    std::int32_t col_lo[NR];
    std::int32_t col_hi[NR];
    std::uint32_t col_bias[NR];
    std::int32_t row_lo[MR];
    std::int32_t row_hi[MR];
    std::uint32_t row_bias[MR];
    const bool by_row = out.col_bias == nullptr;
    if (!by_row) {
      for (std::size_t j = 0; j < NR; ++j) {
        if (!interval(j < cols ? out.col_bias[j0 + j] : 0, col_lo[j], col_hi[j], col_bias[j])) {
          return false;
        }
      }
    }
    for (std::size_t r = 0; r < rows; ++r) {
      const std::int64_t bias = out.row_bias != nullptr ? out.row_bias[i0 + r] : 0;
      if (!interval(bias, row_lo[r], row_hi[r], row_bias[r])) return false;
    }
    const auto lo = static_cast<std::int32_t>(out.lo);
    const auto hi = static_cast<std::int32_t>(out.hi);
    // Counted per column, summed once per tile (a sum per row would be a horizontal add).
    std::uint32_t clamped_in[NR] = {};
    // With one bias per row the clamp is the row's; with one per column, the column's.
    const auto store = [&]<bool ByRow, class Raw>(Raw* c) {
      for (std::size_t r = 0; r < rows; ++r) {
        const std::int32_t* sums = tile + r * NR;
        [[maybe_unused]] const std::uint32_t* row_words = words.row(r);
        Raw* dst = c + (i0 + r) * out.ldc + j0;
        const auto round_one = [&](std::size_t j) {
          const std::int32_t from = ByRow ? row_lo[r] : col_lo[j];
          const std::int32_t to = ByRow ? row_hi[r] : col_hi[j];
          const std::uint32_t bias = ByRow ? row_bias[r] : col_bias[j];
          const std::int32_t sum = sums[j] < from ? from : sums[j] > to ? to : sums[j];
          const auto v = static_cast<std::int32_t>(static_cast<std::uint32_t>(sum) + bias);
          std::uint32_t word = 0;
          if constexpr (!deterministic_rounding<Round>) word = row_words[j];
          const std::int32_t x =
              fxp::detail::round_down_or_up<Round, std::int32_t, std::uint32_t>(v, shift, word);
          const std::int32_t kept = x < lo ? lo : x > hi ? hi : x;
          clamped_in[j] += kept != x ? 1u : 0u;
          dst[j] = static_cast<Raw>(kept);
        };
        if (cols == NR) {
          for (std::size_t j = 0; j < NR; ++j) round_one(j);  // a constant count: unrolled
        } else {
          for (std::size_t j = 0; j < cols; ++j) round_one(j);
        }
      }
    };
    const auto store_as = [&]<class Raw>(Raw* c) {
      if (by_row) {
        store.template operator()<true>(c);
      } else {
        store.template operator()<false>(c);
      }
    };
    switch (out.carrier) {
      case raw_carrier::int8: store_as(static_cast<std::int8_t*>(out.c)); break;
      case raw_carrier::uint8: store_as(static_cast<std::uint8_t*>(out.c)); break;
      case raw_carrier::int16: store_as(static_cast<std::int16_t*>(out.c)); break;
      case raw_carrier::uint16: store_as(static_cast<std::uint16_t*>(out.c)); break;
      case raw_carrier::int32: store_as(static_cast<std::int32_t*>(out.c)); break;
    }
    std::uint32_t clamped = 0;
    for (const std::uint32_t n : clamped_in) clamped += n;
    if (clamped != 0) out.clamped->fetch_add(clamped, std::memory_order_relaxed);
    return true;
  }

  /// Raw values q (rows of stride NR, each within Raw's range) stored at C(i0, j0) as Raw.
  template <class Raw, std::size_t NR>
  static void narrow_tile(const run_time_output& out, std::size_t i0, std::size_t j0,
                          std::size_t rows, std::size_t cols, const std::int64_t* q) noexcept {
    for (std::size_t r = 0; r < rows; ++r) {
      Raw* dst = static_cast<Raw*>(out.c) + (i0 + r) * out.ldc + j0;
      for (std::size_t j = 0; j < cols; ++j) dst[j] = static_cast<Raw>(q[r * NR + j]);
    }
  }

  /// The driver's store callback for offset_sums: each sum added to its place, in int64.
  template <std::size_t NR, class T>
  static void added(const void* context, std::size_t i0, std::size_t j0, std::size_t rows,
                    std::size_t cols, const T* tile) {
    const auto& out = *static_cast<const offset_sums*>(context);
    const std::size_t step = out.column_step;
    for (std::size_t r = 0; r < rows; ++r) {
      std::int64_t* __restrict dst = out.sums + out.row_offset[i0 + r] + j0 * step;
      const T* __restrict sums = tile + r * NR;
      if (step == 1 && cols == NR) {
        for (std::size_t j = 0; j < NR; ++j) dst[j] += sums[j];  // a constant count: unrolled
      } else {
        for (std::size_t j = 0; j < cols; ++j) dst[j * step] += sums[j];
      }
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
