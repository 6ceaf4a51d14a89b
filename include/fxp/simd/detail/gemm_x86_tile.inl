// SPDX-License-Identifier: MIT
// The x86 tile kernels, generic over the vector type's operations (`Ops`: ymm_int,
// zmm_float, ...) and the two-row multiply-add step (`Rows`). Included once per instruction
// set, inside that set's namespace and target region (gemm_kernels.hpp), so each set gets
// its own copy compiled for it: no include guard, and not a header of its own.

/// The x86 tile kernel: MR rows (even) x two registers of columns.
/// \tparam Ops the vector type's operations (ymm_int, zmm_float, ...)
/// \tparam Rows the two-row multiply-add step
template <class Ops, class Rows, std::size_t MR>
struct x86_kernel {
  static_assert(MR % 2 == 0, "x86_kernel: MR must be even (two rows per step)");
  using vec = typename Ops::vec;
  using in_type = typename Ops::in_type;
  using out_type = typename Ops::out_type;
  static constexpr std::size_t kstep = Ops::kstep;
  static constexpr std::size_t mr = MR;
  static constexpr std::size_t nr = 2 * Ops::width;
  // Not inlined: inside the driver's loops GCC 12 no longer keeps the accumulator array in
  // registers (measured: every step spills all of it); alone, it does. One call per tile.
  [[gnu::noinline]] static void run(std::size_t steps, const typename Ops::in_type* a,
                                    const typename Ops::in_type* b,
                                    typename Ops::out_type* c) noexcept {
    constexpr std::size_t ks = Ops::kstep;
    vec acc[MR][2];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = Ops::zero();
    for (std::size_t s = 0; s < steps; ++s, a += ks * MR, b += ks * nr) {
      const vec b0 = Ops::load(b);
      const vec b1 = Ops::load(b + ks * Ops::width);
#pragma GCC unroll 16
      for (std::size_t r = 0; r < MR; r += 2) {
        Rows::apply(acc[r][0], acc[r][1], acc[r + 1][0], acc[r + 1][1], a + ks * r, b0, b1);
      }
    }
#pragma GCC unroll 16
    for (std::size_t r = 0; r < MR; ++r) {
      Ops::store(c + r * nr, acc[r][0]);
      Ops::store(c + r * nr + Ops::width, acc[r][1]);
    }
  }
};

/// The x86 split kernel (int16_split_kernel): MR rows (even) x two registers of columns,
/// both parts of A per load of B, the int32 sums of the parts combined into int64 at the end.
template <class Ops, class Rows, std::size_t MR>
struct x86_split_kernel {
  static_assert(MR % 2 == 0, "x86_split_kernel: MR must be even (two rows per step)");
  using vec = typename Ops::vec;
  using in_type = std::int16_t;
  using out_type = std::int64_t;
  static constexpr std::size_t kstep = Ops::kstep;
  static constexpr std::size_t mr = MR;
  static constexpr std::size_t nr = 2 * Ops::width;
  static constexpr std::size_t a_parts = 2;
  static constexpr int high_shift = 8;
  [[gnu::noinline]] static void run(std::size_t steps, const std::int16_t* a,
                                    const std::int16_t* b, std::int64_t* c) noexcept {
    const std::int16_t* low = a + steps * MR * kstep;
    vec acc[2][MR][2];  // [part][row][register]
#pragma GCC unroll 16
    for (std::size_t r = 0; r < MR; ++r) {
      acc[0][r][0] = acc[0][r][1] = acc[1][r][0] = acc[1][r][1] = Ops::zero();
    }
    for (std::size_t s = 0; s < steps; ++s, a += kstep * MR, low += kstep * MR, b += kstep * nr) {
      const vec b0 = Ops::load(b);
      const vec b1 = Ops::load(b + kstep * Ops::width);
#pragma GCC unroll 16
      for (std::size_t r = 0; r < MR; r += 2) {
        Rows::apply(acc[0][r][0], acc[0][r][1], acc[0][r + 1][0], acc[0][r + 1][1],
                    a + kstep * r, b0, b1);
        Rows::apply(acc[1][r][0], acc[1][r][1], acc[1][r + 1][0], acc[1][r + 1][1],
                    low + kstep * r, b0, b1);
      }
    }
#pragma GCC unroll 16
    for (std::size_t r = 0; r < MR; ++r) {
      Ops::store_combined(c + r * nr, acc[0][r][0], acc[1][r][0], high_shift);
      Ops::store_combined(c + r * nr + Ops::width, acc[0][r][1], acc[1][r][1], high_shift);
    }
  }
};
