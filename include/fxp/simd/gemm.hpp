// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// Matrix products on raw row-major arrays: fxp::gemm for fixed-point operands (exact wide
/// accumulation, one rounding into the output format) and for float.
///
/// Which kernel runs (the instruction set the compiler's flags guarantee, or in a build with
/// the default flags the best this processor has, chosen at run time: simd/isa.hpp):
///  - fixed-point operands of at most 16 bits each: int16 lanes and exact integer
///    multiply-adds into int32 partial sums — vpdpwssd on 512-bit registers with AVX-512
///    BW+VNNI (8 x 32 tiles), vpdpwssd on 256-bit registers with AVX-VNNI, vpmaddwd + vpaddd
///    with AVX2 (4 x 16 tiles; the path of AVX2 + FMA machines), plain C++ loops otherwise.
///    The int32 partial sums run over as many products as provably fit (gemm_plan.hpp) and
///    are then added into the accumulator (gemm_accumulator_t); a 16 x 16-bit product that
///    would overflow them too soon is computed as two 8 x 16-bit ones (the high and the low
///    byte of one operand), so 16-bit operands cost twice the multiply-adds of 8-bit ones.
///    No floating point is involved, so no bound on fp32 exactness is needed.
///  - fixed-point operands wider than 16 bits: int64 lanes, plain loops.
///  - float: FMA on 512- or 256-bit registers, plain loops otherwise.
/// Every path gives the same bits for fixed point; float results depend on the path (FMA or
/// not) but never on the thread count.

#include <algorithm>  // std::min
#include <cstddef>    // std::size_t shapes
#include <cstdint>    // stochastic counters
#include <stdexcept>  // std::invalid_argument on bad shapes
#include <string>     // error messages
#include <type_traits>  // std::conditional_t choosing the kernel

#include "../core/arithmetic.hpp"
#include "../core/random.hpp"
#include "detail/gemm_driver.hpp"
#include "detail/gemm_impl.hpp"
#include "detail/gemm_kernels.hpp"
#include "detail/gemm_plan.hpp"
#include "../core/thread_pool.hpp"
#include "detail/isa_namespace.hpp"
#include "isa.hpp"

namespace fxp {

/// Whether a GEMM operand is used as stored or transposed.
enum class transpose : bool { no, yes };

FXP_BEGIN_ISA_NAMESPACE

/// The largest reduction length fxp::gemm accepts unless told otherwise (its MaxK).
inline constexpr std::size_t gemm_default_max_k = simd::detail::default_max_k;

/// A reduction bound N, spelled so that a product's template arguments say what it is:
/// `fxp::matmul<C, fxp::max_k<N>>(a, b)` (C's own rounding) and `fxp::matmul<C, Round,
/// fxp::max_k<N>>` (the same as a plain N in MaxK's place); fxp::gemm takes it likewise.
template <std::size_t N>
inline constexpr std::size_t max_k = N;

/// The integer type that holds every exact sum of up to MaxK products of A and B: int32_t
/// when it can, else int64_t (a static_assert fires when even int64_t cannot).
/// \tparam A the left operand format
/// \tparam B the right operand format
/// \tparam MaxK the largest reduction length
template <fixed_point A, fixed_point B, std::size_t MaxK = gemm_default_max_k>
using gemm_accumulator_t = simd::detail::accumulator_t<A, B, MaxK>;

/// The exact format of a sum of up to MaxK products of A and B: result_t<op::mul, A, B>
/// with ceil(log2(MaxK)) more integer bits. A GEMM into this format is lossless.
/// \tparam A the left operand format
/// \tparam B the right operand format
/// \tparam MaxK the largest reduction length
template <fixed_point A, fixed_point B, std::size_t MaxK = gemm_default_max_k>
using gemm_sum_t = typename simd::detail::sum_format<A, B, MaxK>::type;

FXP_END_ISA_NAMESPACE
namespace simd::detail {
FXP_BEGIN_ISA_NAMESPACE

/// Throws std::invalid_argument unless the shapes and leading dimensions describe
/// row-major matrices op(A) (m x k), op(B) (k x n) and C (m x n).
inline void check_gemm_shape(const char* who, transpose ta, transpose tb, std::size_t m,
                             std::size_t n, std::size_t k, const void* a, std::size_t lda,
                             const void* b, std::size_t ldb, const void* c, std::size_t ldc) {
  const auto fail = [&](const std::string& what) {
    throw std::invalid_argument(std::string(who) + ": " + what + " (m = " + std::to_string(m) +
                                ", n = " + std::to_string(n) + ", k = " + std::to_string(k) +
                                ")");
  };
  // A stored row-major is m x k (lda >= k); transposed it is stored k x m (lda >= m).
  const std::size_t a_cols = ta == transpose::no ? k : m;
  const std::size_t b_cols = tb == transpose::no ? n : k;
  if (m > 0 && k > 0 && lda < a_cols) {
    fail("lda = " + std::to_string(lda) + " is less than the " + std::to_string(a_cols) +
         " columns of A as stored");
  }
  if (n > 0 && k > 0 && ldb < b_cols) {
    fail("ldb = " + std::to_string(ldb) + " is less than the " + std::to_string(b_cols) +
         " columns of B as stored");
  }
  if (m > 0 && n > 0 && ldc < n) {
    fail("ldc = " + std::to_string(ldc) + " is less than the " + std::to_string(n) +
         " columns of C");
  }
  if ((m > 0 && k > 0 && a == nullptr) || (n > 0 && k > 0 && b == nullptr) ||
      (m > 0 && n > 0 && c == nullptr)) {
    fail("null pointer for a non-empty matrix");
  }
}

/// The operand views of op(A) (lines = rows) and op(B) (lines = columns).
template <class A, class B>
struct operand_views {
  operand_view<A> a;
  operand_view<B> b;
  operand_views(transpose ta, transpose tb, const A* pa, std::size_t lda, const B* pb,
                std::size_t ldb) noexcept
      : a{pa, ta == transpose::no ? lda : 1, ta == transpose::no ? 1 : lda},
        b{pb, tb == transpose::no ? 1 : ldb, tb == transpose::no ? ldb : 1} {}
};

/// The store callbacks of a fixed-point GEMM into a compile-time format C by Round.
template <class C, class Round>
struct compile_time_stores {
  const output_view<C>* out;
  template <class Store, class Sum, std::size_t MR, std::size_t NR, class T>
  [[nodiscard]] store_callback<T> get() const noexcept {
    return {out, &Store::template rounded<C, Round, Sum, MR, NR, T>};
  }
};

/// The store callbacks of a fixed-point GEMM into a run-time format (run_time_output), by
/// the policy of a run-time rounding mode: one product kernel serves every format and mode.
struct run_time_stores {
  const run_time_output* out;
  rounding_mode mode;
  template <class Store, class Sum, std::size_t MR, std::size_t NR, class T>
  [[nodiscard]] store_callback<T> get() const {
    store_callback<T> callback{out, nullptr};
    with_rounding(mode, [&]<class Round>() {
      callback.store = &Store::template rounded_at_run_time<Round, MR, NR, T>;
    });
    return callback;
  }
};

/// The store callbacks of a float GEMM: copies.
struct float_stores {
  const output_view<float>* out;
  template <class Store, class Sum, std::size_t MR, std::size_t NR, class T>
  [[nodiscard]] store_callback<T> get() const noexcept {
    return {out, &Store::template copy<NR>};
  }
};

/// The store callbacks of a fixed-point GEMM that adds its exact sums into offset_sums.
struct added_stores {
  const offset_sums* out;
  template <class Store, class Sum, std::size_t MR, std::size_t NR, class T>
  [[nodiscard]] store_callback<T> get() const noexcept {
    return {out, &Store::template added<NR, T>};
  }
};

/// The store callbacks of one GEMM over the column matrices of several images side by
/// side (`pixels` columns each): a tile is cut where one image's columns end, and each piece
/// goes to that image's own callbacks (its output and its element counters), so the result
/// is that of one GEMM per image. One product for the group packs A once, and its columns
/// fill the kernels' tiles where one image's columns alone would leave most of the last
/// tile empty.
/// \tparam Inner the stores of one image (compile_time_stores, run_time_stores, float_stores)
template <class Inner>
struct image_group_stores {
  const Inner* images;   // the stores of each image of the group
  std::size_t pixels;    // columns per image
  template <class Store, class Sum, std::size_t MR, std::size_t NR, class T>
  [[nodiscard]] store_callback<T> get() const noexcept {
    return {this, &store<Store, Sum, MR, NR, T>};
  }

 private:
  template <class Store, class Sum, std::size_t MR, std::size_t NR, class T>
  static void store(const void* context, std::size_t i0, std::size_t j0, std::size_t rows,
                    std::size_t cols, const T* tile) {
    const auto& group = *static_cast<const image_group_stores*>(context);
    for (std::size_t done = 0; done < cols;) {
      const std::size_t image = (j0 + done) / group.pixels;
      const std::size_t column = (j0 + done) % group.pixels;
      const std::size_t piece = std::min(cols - done, group.pixels - column);
      const store_callback<T> inner =
          group.images[image].template get<Store, Sum, MR, NR, T>();
      inner.store(inner.context, i0, column, rows, piece, tile + done);  // rows stay NR apart
      done += piece;
    }
  }
};

/// The int16 multiply-add GEMM with operands in the given lane layouts, each kernel call
/// summing at most `chunk` products in int32 (the layouts' values guarantee no overflow).
template <class Isa, class LayoutA, class LayoutB, class Acc, class Sum, fixed_point A,
          fixed_point B, class Stores>
void run_int16_gemm(const operand_views<A, B>& views, std::size_t m, std::size_t n,
                    std::size_t k, std::size_t chunk, const Stores& stores) {
  using store = typename store_of<Isa>::type;  // compiled for the kernels' instruction set
  // A split A (16-bit operands) takes both its parts in one kernel call where the
  // instruction set has such a kernel.
  constexpr bool split_kernel = LayoutA::split && !LayoutB::split && has_split_kernel<Isa>;
  using kernel = std::conditional_t<split_kernel, int16_split_kernel<Isa>, int16_kernel<Isa>>;
  if constexpr (split_kernel) {
    static_assert(kernel::high_shift == LayoutA::shift(0) && LayoutA::shift(1) == 0);
  }
  gemm_job<kernel, Acc> job;
  job.pack_a = {&views.a, &pack_operand<kernel::mr, kernel::kstep, LayoutA, A, std::int16_t>};
  job.pack_b = {&views.b, &pack_operand<kernel::nr, kernel::kstep, LayoutB, B, std::int16_t>};
  job.store_tile = stores.template get<store, Sum, kernel::mr, kernel::nr, typename kernel::out_type>();
  job.store_acc = stores.template get<store, Sum, kernel::mr, kernel::nr, Acc>();
  job.parts_a = LayoutA::parts;
  job.parts_b = LayoutB::parts;
  job.shift_a[0] = LayoutA::shift(0);
  job.shift_a[1] = LayoutA::shift(1);
  job.shift_b[0] = LayoutB::shift(0);
  job.shift_b[1] = LayoutB::shift(1);
  // A reduction block never outgrows the int32 chunk, so a kernel call cannot overflow.
  job.kc = std::min(int16_kc, chunk);
  job.mc = int16_mc;
  job.nc = int16_nc;
  run_gemm(job, m, n, k);
}

/// The largest magnitude among the raw values op(X) reads, `lines` x k of a view.
template <class X>
[[nodiscard]] std::int32_t max_magnitude(const operand_view<X>& v, std::size_t lines,
                                         std::size_t k) noexcept {
  return v.k_stride == 1 ? max_magnitude(v.data, lines, k, v.line_stride)
                         : max_magnitude(v.data, k, lines, v.k_stride);
}

/// The fixed-point GEMM on a chosen instruction set, storing its tiles through the
/// callbacks `stores` gives (compile_time_stores or run_time_stores): the product kernels
/// and packing depend on the operands alone.
template <class Isa, std::size_t MaxK, fixed_point A, fixed_point B, class Stores>
void gemm_fixed_into(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k,
                     const A* a, std::size_t lda, const B* b, std::size_t ldb,
                     const Stores& stores) {
  static_assert(check_accumulator<A, B, MaxK>());
  if (k > MaxK) {
    throw std::invalid_argument("fxp::gemm: the reduction length k = " + std::to_string(k) +
                                " exceeds MaxK = " + std::to_string(MaxK) +
                                ", the bound the accumulator was sized for; raise the MaxK "
                                "template argument");
  }
  using acc_type = accumulator_t<A, B, MaxK>;
  using sum_type = typename sum_format<A, B, MaxK>::type;
  const operand_views<A, B> views(ta, tb, a, lda, b, ldb);
  if constexpr (int16_plan<A, B>::usable) {
    using plan = int16_plan<A, B>;
    if constexpr (plan::split_a || plan::split_b) {
      // The formats allow products too large for int32 runs, but the values are often far
      // smaller (errors, the weights of a trained layer): when theirs allow runs of
      // min_chunk products, whole lanes do half the multiply-adds of a byte split. The same
      // exact sums either way.
      const std::int32_t most_a = max_magnitude(views.a, m, k);
      const std::size_t chunk = whole_lanes_chunk(most_a, most_a == 0 ? 0 : max_magnitude(views.b, n, k));
      if (chunk >= min_chunk) {
        run_int16_gemm<Isa, lane_layout<A, false>, lane_layout<B, false>, acc_type, sum_type>(
            views, m, n, k, chunk, stores);
        return;
      }
    }
    run_int16_gemm<Isa, typename plan::layout_a, typename plan::layout_b, acc_type, sum_type>(
        views, m, n, k, plan::chunk, stores);
  } else {
    using store = typename store_of<Isa>::type;
    using kernel = int64_kernel;
    gemm_job<kernel, std::int64_t> job;
    job.pack_a = {&views.a, &pack_operand<kernel::mr, 1, int64_layout<A>, A, std::int64_t>};
    job.pack_b = {&views.b, &pack_operand<kernel::nr, 1, int64_layout<B>, B, std::int64_t>};
    job.store_tile = stores.template get<store, sum_type, kernel::mr, kernel::nr, std::int64_t>();
    job.store_acc = job.store_tile;
    job.kc = int64_kc;
    job.mc = int64_mc;
    job.nc = int64_nc;
    run_gemm(job, m, n, k);
  }
}

/// The fixed-point GEMM on a chosen instruction set (fxp::gemm runs active_isa()'s; tests
/// run every one this processor has).
template <class Isa, fixed_point C, rounding_policy Round, std::size_t MaxK, fixed_point A,
          fixed_point B>
void gemm_fixed(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k,
                const A* a, std::size_t lda, const B* b, std::size_t ldb, C* c, std::size_t ldc,
                const random_key& key, std::uint64_t first_index) {
  check_gemm_shape("fxp::gemm", ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
  const output_view<C> out{c, ldc, key, first_index, n};
  gemm_fixed_into<Isa, MaxK>(ta, tb, m, n, k, a, lda, b, ldb, compile_time_stores<C, Round>{&out});
}

/// The fixed-point GEMM into a run-time output format on active_isa()'s path: the product
/// kernels of A and B (their storage widths), the format and policy entering only in the
/// store (see run_time_output). The caller checks the shapes.
template <std::size_t MaxK, fixed_point A, fixed_point B>
void gemm_run_time(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k,
                   const A* a, std::size_t lda, const B* b, std::size_t ldb,
                   const run_time_output& out, rounding_mode mode) {
  on_active_isa([&]<class Isa>(Isa) {
    gemm_fixed_into<Isa, MaxK>(ta, tb, m, n, k, a, lda, b, ldb, run_time_stores{&out, mode});
  });
}

/// The float GEMM on a chosen instruction set, storing its tiles through the callbacks
/// `stores` gives (float_stores, or image_group_stores of them).
template <class Isa, class Stores>
void gemm_float_into(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k,
                     const float* a, std::size_t lda, const float* b, std::size_t ldb,
                     const Stores& stores) {
  using kernel = float_kernel<Isa>;
  using store = typename store_of<Isa>::type;
  const operand_views<float, float> views(ta, tb, a, lda, b, ldb);
  gemm_job<kernel, float> job;
  job.pack_a = {&views.a, &pack_operand<kernel::mr, 1, float_layout, float, float>};
  job.pack_b = {&views.b, &pack_operand<kernel::nr, 1, float_layout, float, float>};
  job.store_tile = stores.template get<store, float, kernel::mr, kernel::nr, float>();
  job.store_acc = job.store_tile;
  job.kc = float_kc;
  job.mc = float_mc;
  job.nc = float_nc;
  run_gemm(job, m, n, k);
}

/// The float GEMM on a chosen instruction set.
template <class Isa>
void gemm_float(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k,
                const float* a, std::size_t lda, const float* b, std::size_t ldb, float* c,
                std::size_t ldc) {
  check_gemm_shape("fxp::gemm", ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
  const output_view<float> out{c, ldc, {}, 0, n};
  gemm_float_into<Isa>(ta, tb, m, n, k, a, lda, b, ldb, float_stores{&out});
}

FXP_END_ISA_NAMESPACE
}  // namespace simd::detail
FXP_BEGIN_ISA_NAMESPACE

/// C = op(A) op(B) for fixed-point operands, row-major: op(A) is m x k, op(B) is k x n, C is
/// m x n, and op(X) is X or its transpose as `ta` / `tb` say. Each element's sum of products
/// is computed exactly (in gemm_accumulator_t) and rounded once into C: the result is
/// exactly fxp::fixed_cast<C, Round>(s) for s the exact sum as a gemm_sum_t<A, B, MaxK>, so
/// C's overflow policy applies too (`checked` throws fxp::overflow_error; elements of C
/// may then be partly written). The thread count (fxp::set_num_threads) changes no bit.
///
/// A stored without transpose is m x k with row stride lda (>= k); transposed, it is stored
/// k x m (lda >= m). Likewise B: k x n (ldb >= n) or stored n x k (ldb >= k). C must not
/// overlap A or B.
///
/// \tparam C the output format
/// \tparam Round the rounding policy (C's own by default); a random policy draws the word
///         of C(i, j) from `key` at counter first_index + i * n + j, so the result does not
///         depend on threads or blocking. Without a key it draws a fresh one, once per call,
///         from fxp::default_generator() (fxp::draw_key), so fxp::seed makes it reproducible
/// \tparam MaxK the largest k this instantiation accepts; it sizes the accumulator. To raise
///         it and keep C's own rounding, write `fxp::gemm<C, fxp::max_k<N>>(...)`
/// \throws std::invalid_argument when k > MaxK, a leading dimension is too small, or a
///         pointer of a non-empty matrix is null
template <fixed_point C, rounding_policy Round = typename C::rounding_policy,
          std::size_t MaxK = gemm_default_max_k, fixed_point A, fixed_point B>
void gemm(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k, const A* a,
          std::size_t lda, const B* b, std::size_t ldb, C* c, std::size_t ldc,
          optional_key key = {}, std::uint64_t first_index = 0) {
  const random_key resolved = resolve_key<Round>(key);
  simd::detail::on_active_isa([&]<class Isa>(Isa) {
    simd::detail::gemm_fixed<Isa, C, Round, MaxK>(ta, tb, m, n, k, a, lda, b, ldb, c, ldc,
                                                  resolved, first_index);
  });
}

/// fxp::gemm<C, C's own rounding, MaxK>: the bound without naming the policy, as
/// `fxp::gemm<C, fxp::max_k<N>>(...)` or `fxp::gemm<C, N>(...)`.
template <fixed_point C, std::size_t MaxK, fixed_point A, fixed_point B>
void gemm(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k, const A* a,
          std::size_t lda, const B* b, std::size_t ldb, C* c, std::size_t ldc,
          optional_key key = {}, std::uint64_t first_index = 0) {
  gemm<C, typename C::rounding_policy, MaxK>(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, key,
                                             first_index);
}

/// C = op(A) op(B) for float, row-major, with the same shape conventions as the fixed-point
/// gemm. Each element is summed in float by one thread in a fixed order (FMA where the
/// target has it), so the result does not depend on the thread count.
/// \throws std::invalid_argument when a leading dimension is too small or a pointer of a
///         non-empty matrix is null
inline void gemm(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k,
                 const float* a, std::size_t lda, const float* b, std::size_t ldb, float* c,
                 std::size_t ldc) {
  simd::detail::on_active_isa([&]<class Isa>(Isa) {
    simd::detail::gemm_float<Isa>(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
  });
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp
