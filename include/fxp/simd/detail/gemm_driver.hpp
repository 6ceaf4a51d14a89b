// SPDX-License-Identifier: MIT
#pragma once
// The blocked, threaded GEMM driver shared by every element type. It cuts C into blocks of
// whole micro-tiles, one task per block on the thread pool; a task packs its rows of op(A)
// and columns of op(B) one reduction block (kc) at a time and runs the micro-kernel on each
// tile. Every element of C is computed by one task, over the same reduction blocks in the
// same order, so neither the thread count nor the task split changes a bit of the result.
//
// The driver is a template of the kernel and the accumulator only; packing (which depends
// on the operand formats) and storing (which depends on the output format and rounding)
// come in as plain function pointers, called once per micro-panel or tile. That keeps one
// driver per kernel instead of one per format and policy combination, which is what
// compile times would otherwise pay for.

#include <algorithm>    // std::min, std::max
#include <cstddef>      // std::size_t, std::byte
#include <memory>       // std::unique_ptr for the scratch buffers
#include <new>          // aligned operator new
#include <type_traits>  // std::is_integral_v for weighing the parts of split operands

#include "../../core/thread_pool.hpp"
#include "isa_namespace.hpp"

namespace fxp::simd::detail {
FXP_BEGIN_ISA_NAMESPACE

/// A growable, 64-byte aligned buffer that keeps its memory for the next call.
class scratch_buffer {
 public:
  [[nodiscard]] std::byte* get(std::size_t bytes) {
    if (bytes > size_) {
      data_.reset();
      data_.reset(static_cast<std::byte*>(::operator new(bytes, std::align_val_t{64})));
      size_ = bytes;
    }
    return data_.get();
  }

 private:
  struct release {
    void operator()(std::byte* p) const noexcept { ::operator delete(p, std::align_val_t{64}); }
  };
  std::unique_ptr<std::byte, release> data_;
  std::size_t size_ = 0;
};

/// Scratch slots, per thread: the GEMM driver's packed operands and accumulators, and the
/// convolutions' column matrices and per-image sums (held while their GEMM runs).
enum class scratch_slot : std::size_t { packed_a, packed_b, accumulators, columns, image_sums, count };

/// The calling thread's scratch memory for `count` values of a trivially copyable T in
/// `slot`; valid until the next request for the same slot on this thread.
template <class T>
[[nodiscard]] T* scratch(scratch_slot slot, std::size_t count) {
  thread_local scratch_buffer buffers[static_cast<std::size_t>(scratch_slot::count)];
  return reinterpret_cast<T*>(buffers[static_cast<std::size_t>(slot)].get(count * sizeof(T)));
}

[[nodiscard]] constexpr std::size_t ceil_div(std::size_t a, std::size_t b) noexcept {
  return (a + b - 1) / b;
}

/// Packs one micro-panel (all parts, part after part) of `lines` rows of op(A) from row
/// `line0`, or columns of op(B) from column `line0`, over reduction range [k0, k0 + kcur).
template <class Packed>
struct pack_callback {
  const void* context;
  void (*pack)(const void* context, std::size_t line0, std::size_t lines, std::size_t k0,
               std::size_t kcur, std::size_t steps, Packed* dst);
};

/// Finishes the tile of C at (i0, j0): `rows` x `cols` values of a row-major tile whose
/// rows are nr apart.
template <class T>
struct store_callback {
  const void* context;
  void (*store)(const void* context, std::size_t i0, std::size_t j0, std::size_t rows,
                std::size_t cols, const T* tile);
};

/// Everything the driver needs besides the kernel and the accumulator type.
template <class Kernel, class Acc>
struct gemm_job {
  using packed_type = typename Kernel::in_type;
  using tile_type = typename Kernel::out_type;
  pack_callback<packed_type> pack_a;
  pack_callback<packed_type> pack_b;
  store_callback<tile_type> store_tile;  // a finished kernel tile (one block, one part pair)
  store_callback<Acc> store_acc;         // a finished accumulator tile
  std::size_t parts_a = 1;               // operand parts (a split operand has two)
  std::size_t parts_b = 1;
  int shift_a[2] = {0, 0};               // each part's weight, as a power of two
  int shift_b[2] = {0, 0};
  std::size_t kc = 256;                  // reduction block, a multiple of Kernel::kstep
  std::size_t mc = 128;                  // rows per task at most (cache blocking)
  std::size_t nc = 512;                  // columns per task at most
};

/// acc (= or +=) the sum of Pairs tiles, tile p weighted by 2^shift[p]: exact for integers,
/// since the plan bounds every partial sum within Acc; float has one pair (shift 0). All
/// part pairs in one pass: the accumulator tile is read and written once per block.
template <std::size_t Pairs, class Acc, class Tile, std::size_t Size>
void lift(Acc* acc, const Tile (&tiles)[4][Size], const int* shift, bool first) noexcept {
  Acc weight[Pairs];
  for (std::size_t p = 0; p < Pairs; ++p) {
    if constexpr (std::is_integral_v<Acc>) {
      weight[p] = static_cast<Acc>(Acc{1} << shift[p]);
    } else {
      weight[p] = Acc{1};
    }
  }
  const auto sum = [&](std::size_t i) {
    Acc s = static_cast<Acc>(static_cast<Acc>(tiles[0][i]) * weight[0]);
    for (std::size_t p = 1; p < Pairs; ++p) {
      s = static_cast<Acc>(s + static_cast<Acc>(tiles[p][i]) * weight[p]);
    }
    return s;
  };
  // Two loops rather than a test per element: both vectorize.
  if (first) {
    for (std::size_t i = 0; i < Size; ++i) acc[i] = sum(i);
  } else {
    for (std::size_t i = 0; i < Size; ++i) acc[i] = static_cast<Acc>(acc[i] + sum(i));
  }
}

/// How many parts of A one kernel call consumes (a split kernel takes both at once).
template <class Kernel>
inline constexpr std::size_t kernel_parts_a = [] {
  if constexpr (requires { Kernel::a_parts; }) {
    return Kernel::a_parts;
  } else {
    return std::size_t{1};
  }
}();

/// One task: rows [ic, ic + mc) and columns [jc, jc + nc) of C, all of k.
template <class Kernel, class Acc>
void run_block(const gemm_job<Kernel, Acc>& job, std::size_t ic, std::size_t mc,
               std::size_t jc, std::size_t nc, std::size_t k) {
  constexpr std::size_t mr = Kernel::mr;
  constexpr std::size_t nr = Kernel::nr;
  constexpr std::size_t kstep = Kernel::kstep;
  using packed_type = typename Kernel::in_type;
  using tile_type = typename Kernel::out_type;

  const std::size_t panels_a = ceil_div(mc, mr);
  const std::size_t panels_b = ceil_div(nc, nr);
  // One kernel tile per part pair (split operands have two parts each at most).
  alignas(64) tile_type tiles[4][mr * nr] = {};
  const tile_type* tile = tiles[0];
  const auto store_tile = [&](std::size_t ip, std::size_t jp, const auto* values,
                              const auto& callback) {
    callback.store(callback.context, ic + ip * mr, jc + jp * nr, std::min(mr, mc - ip * mr),
                   std::min(nr, nc - jp * nr), values);
  };
  if (k == 0) {  // empty sums: every element is the rounding of zero
    for (std::size_t jp = 0; jp < panels_b; ++jp) {
      for (std::size_t ip = 0; ip < panels_a; ++ip) store_tile(ip, jp, tile, job.store_tile);
    }
    return;
  }

  const std::size_t max_steps = ceil_div(std::min(k, job.kc), kstep);
  packed_type* packed_a = scratch<packed_type>(scratch_slot::packed_a,
                                               panels_a * job.parts_a * max_steps * mr * kstep);
  packed_type* packed_b = scratch<packed_type>(scratch_slot::packed_b,
                                               panels_b * job.parts_b * max_steps * nr * kstep);
  // The kernel calls per tile: groups of A's parts (one group for a split kernel, which
  // weighs A's parts itself) times B's parts, each with its weight.
  constexpr std::size_t group_a = kernel_parts_a<Kernel>;
  const std::size_t groups_a = job.parts_a / group_a;
  const std::size_t pairs = groups_a * job.parts_b;
  int shifts[4] = {};
  for (std::size_t ga = 0; ga < groups_a; ++ga) {
    for (std::size_t pb = 0; pb < job.parts_b; ++pb) {
      shifts[ga * job.parts_b + pb] = (group_a == 1 ? job.shift_a[ga] : 0) + job.shift_b[pb];
    }
  }
  // One reduction block and one kernel call: the kernel's tile is the whole sum.
  const bool direct = k <= job.kc && pairs == 1;
  Acc* acc =
      direct ? nullptr : scratch<Acc>(scratch_slot::accumulators, panels_a * panels_b * mr * nr);

  for (std::size_t k0 = 0; k0 < k; k0 += job.kc) {
    const std::size_t kcur = std::min(job.kc, k - k0);
    const std::size_t steps = ceil_div(kcur, kstep);
    const std::size_t part_a = steps * mr * kstep;  // one part of one micro-panel
    const std::size_t part_b = steps * nr * kstep;
    for (std::size_t ip = 0; ip < panels_a; ++ip) {
      job.pack_a.pack(job.pack_a.context, ic + ip * mr, std::min(mr, mc - ip * mr), k0, kcur,
                      steps, packed_a + ip * job.parts_a * part_a);
    }
    for (std::size_t jp = 0; jp < panels_b; ++jp) {
      job.pack_b.pack(job.pack_b.context, jc + jp * nr, std::min(nr, nc - jp * nr), k0, kcur,
                      steps, packed_b + jp * job.parts_b * part_b);
    }
    const bool last = k0 + kcur == k;
    // Columns outside, rows inside: a micro-panel of B stays in L1 across the rows.
    for (std::size_t jp = 0; jp < panels_b; ++jp) {
      for (std::size_t ip = 0; ip < panels_a; ++ip) {
        for (std::size_t ga = 0; ga < groups_a; ++ga) {
          for (std::size_t pb = 0; pb < job.parts_b; ++pb) {
            Kernel::run(steps, packed_a + (ip * job.parts_a + ga * group_a) * part_a,
                        packed_b + (jp * job.parts_b + pb) * part_b,
                        tiles[ga * job.parts_b + pb]);
          }
        }
        if (direct) {
          store_tile(ip, jp, tile, job.store_tile);
          continue;
        }
        Acc* tile_acc = acc + (jp * panels_a + ip) * mr * nr;
        const bool first = k0 == 0;
        switch (pairs) {
          case 1: lift<1>(tile_acc, tiles, shifts, first); break;
          case 2: lift<2>(tile_acc, tiles, shifts, first); break;
          default: lift<4>(tile_acc, tiles, shifts, first); break;
        }
        if (last) store_tile(ip, jp, tile_acc, job.store_acc);
      }
    }
  }
}

/// C (m x n) = op(A) op(B) over k, as `job` describes, on the thread pool.
template <class Kernel, class Acc>
void run_gemm(const gemm_job<Kernel, Acc>& job, std::size_t m, std::size_t n, std::size_t k) {
  if (m == 0 || n == 0) return;
  constexpr std::size_t mr = Kernel::mr;
  constexpr std::size_t nr = Kernel::nr;
  const std::size_t tiles_m = ceil_div(m, mr);
  const std::size_t tiles_n = ceil_div(n, nr);
  // Tiles per task: the cache blocking, cut further until every thread has a task. A task
  // packs its own rows of A and columns of B, so another column block repacks m x k of A
  // and another row block k x n of B: cut the dimension whose repacking costs less.
  std::size_t mt = std::min(tiles_m, std::max<std::size_t>(1, job.mc / mr));
  std::size_t nt = std::min(tiles_n, std::max<std::size_t>(1, job.nc / nr));
  // No more tasks than there is work for: a task below ~1M multiply-adds (an output's
  // rounding and store counted as 64, a split operand's products once per part pair) costs
  // more in packing and hand-over than it saves. (At 2M, the reference CNN's dense layer of
  // 32 x 800 x 128 ran on one thread: 0.12 ms in float, 0.07 ms on two.)
  constexpr std::size_t min_work_per_task = std::size_t{1} << 20;
  const std::size_t work = m * n * (k * job.parts_a * job.parts_b + 64);
  const std::size_t threads =
      std::min(fxp::num_threads(), std::max<std::size_t>(1, work / min_work_per_task));
  while (ceil_div(tiles_m, mt) * ceil_div(tiles_n, nt) < threads && (mt > 1 || nt > 1)) {
    if (nt > 1 && (m <= n || mt == 1)) {
      nt = ceil_div(nt, 2);
    } else {
      mt = ceil_div(mt, 2);
    }
  }
  const std::size_t blocks_m = ceil_div(tiles_m, mt);
  const std::size_t blocks_n = ceil_div(tiles_n, nt);
  fxp::detail::parallel_for(blocks_m * blocks_n, [&](std::size_t task) {
    // Row blocks vary fastest: neighbouring tasks share their columns of B in the cache.
    const std::size_t ic = (task % blocks_m) * mt * mr;
    const std::size_t jc = (task / blocks_m) * nt * nr;
    run_block(job, ic, std::min(mt * mr, m - ic), jc, std::min(nt * nr, n - jc), k);
  });
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp::simd::detail
