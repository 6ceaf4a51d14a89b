// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// The kernels on qtensors, whose formats are run-time values: quantize, dequantize,
/// requantize, fake_quantize, matmul, conv2d and its two backward products.
///
/// How a run-time format reaches the arithmetic: the products run on the carriers (raw
/// integers as fixed<8, 0>, ufixed<8, 0>, fixed<16, 0>) through the compile-time kernels of
/// that storage width, which return the exact integer sums; the format enters only in the
/// epilogue, as a shift (the sums' fractional bits minus the output's) and the output's raw
/// bounds. So the code instantiated depends on the storage widths and the five rounding
/// policies, never on a format, and the bits are those of the compile-time kernels for the
/// same formats: the same policy tags decide from the same discarded bits, and element i of
/// a random result draws word i of its key.
///
/// Run-time formats saturate (no wrap, no checked): every result counts the elements it
/// clamped (qtensor::saturations), the telemetry of a fixed-point layer.

#include <algorithm>  // std::min, std::max
#include <atomic>     // saturation counts summed over the pool's tasks
#include <cmath>      // std::isnan, std::isinf on inputs
#include <cstddef>    // std::size_t
#include <cstdint>    // raw values, sums, words
#include <cstring>    // std::memcpy of float bits
#include <limits>     // the smallest normal float
#include <stdexcept>  // std::invalid_argument, std::domain_error
#include <string>     // messages
#include <vector>     // the exact sums

#include "../core/detail/raw_array.hpp"
#include "../core/dynamic_format.hpp"
#include "../core/random.hpp"
#include "../simd/conv.hpp"
#include "../simd/detail/gemm_round.hpp"
#include "../simd/detail/isa_namespace.hpp"
#include "../simd/gemm.hpp"
#include "container.hpp"
#include "expression.hpp"
#include "kernels.hpp"
#include "qtensor.hpp"

namespace fxp {

namespace detail {
FXP_BEGIN_ISA_NAMESPACE

/// An exact value v * 2^-shift, v an integer.
struct scaled_value {
  std::int64_t v;
  int shift;
};

/// No fast form: every chunk goes through the exact path.
struct no_fast_chunk {
  bool operator()(rounding_mode, std::size_t, std::size_t, std::int64_t*) const noexcept {
    return false;
  }
};

/// The elements the epilogue handles at a time: its buffers live on the stack.
inline constexpr std::size_t epilogue_chunk = 1024;

/// q[j] = round(v[j] * 2^-shift) by `mode` (shift = `uniform` when it is 1..62, shifts[j]
/// otherwise), word j of `words` for stochastic rounding, clamped into [lo, hi]; returns
/// the number clamped. A plain function: its five policy loops are compiled once, whatever
/// the carriers and inputs of the kernels calling it.
inline std::uint64_t round_chunk(rounding_mode mode, const std::int64_t* v, const int* shifts,
                                 int uniform, const std::uint32_t* words, std::size_t n,
                                 std::int64_t lo, std::int64_t hi, std::int64_t* q) {
  std::uint64_t clamped = 0;
  if (uniform >= 1 && uniform <= 62) {
    // 64-bit code the compiler vectorizes; on active_isa()'s path, so that a build without
    // -march runs it in AVX2 or AVX-512 lanes (SSE2 has no 64-bit multiply or arithmetic
    // shift: the epilogue of a training step's convolution gradients ran 1.4x slower).
    simd::detail::run_array_kernel([&](auto) {
      with_rounding(mode, [&]<class Round>() {
        for (std::size_t j = 0; j < n; ++j) {
          const std::uint32_t word = deterministic_rounding<Round> ? 0 : words[j];
          const std::int64_t r =
              round_down_or_up<Round, std::int64_t, std::uint64_t>(v[j], uniform, word);
          q[j] = std::clamp(r, lo, hi);
          clamped += q[j] != r;
        }
      });
    });
    return clamped;
  }
  with_rounding(mode, [&]<class Round>() {
    for (std::size_t j = 0; j < n; ++j) {
      const std::uint32_t word = deterministic_rounding<Round> ? 0 : words[j];
      const int128 r = round_shifted<Round>(v[j], shifts[j], word);
      q[j] = r < lo ? lo : r > hi ? hi : static_cast<std::int64_t>(r);
      clamped += r < lo || r > hi;
    }
  });
  return clamped;
}

/// q[j] clamped into [lo, hi] in place; returns the number clamped.
inline std::uint64_t clamp_chunk(std::int64_t* q, std::size_t n, std::int64_t lo,
                                 std::int64_t hi) noexcept {
  std::uint64_t clamped = 0;
  for (std::size_t j = 0; j < n; ++j) {
    const std::int64_t kept = std::clamp(q[j], lo, hi);
    clamped += kept != q[j];
    q[j] = kept;
  }
  return clamped;
}

/// Raw values q[0, n) (within out's bounds) stored at elements [first, first + n) of out.
inline void store_chunk(qtensor& out, std::size_t first, const std::int64_t* q,
                        std::size_t n) noexcept {
  out.visit([&](auto* dst) {
    using carrier = std::remove_cvref_t<decltype(*dst)>;
    using raw_type = typename carrier::raw_type;
    for (std::size_t j = 0; j < n; ++j) {
      dst[first + j] = carrier::from_raw(static_cast<raw_type>(q[j]));
    }
  });
}

/// Elements [first, first + count) of `out`: element i the exact value input(i) rounded by
/// `mode` into out's format with word i of `key` (see round_all), on the calling thread.
/// Returns the number of clamped elements.
template <class Input, class Fast = no_fast_chunk>
std::uint64_t round_range(qtensor& out, std::size_t first, std::size_t count, rounding_mode mode,
                          const random_key& key, const Input& input, const Fast& fast = {},
                          int uniform_shift = 0) {
  const dynamic_format f = out.format();
  const std::int64_t lo = f.raw_min();
  const std::int64_t hi = f.raw_max();
  const bool uniform = uniform_shift >= 1 && uniform_shift <= 62;
  std::int64_t v[epilogue_chunk];
  int shifts[epilogue_chunk];
  std::uint32_t words[epilogue_chunk];
  std::int64_t q[epilogue_chunk];
  std::uint64_t clamped = 0;
  for (std::size_t c = 0; c < count; c += epilogue_chunk) {
    const std::size_t n = std::min(epilogue_chunk, count - c);
    const std::size_t at = first + c;
    if (fast(mode, at, n, q)) {
      clamped += clamp_chunk(q, n, lo, hi);
    } else {
      for (std::size_t j = 0; j < n; ++j) {
        const scaled_value x = input(at + j);
        v[j] = x.v;
        if (!uniform) shifts[j] = x.shift;
      }
      if (mode == rounding_mode::stochastic) simd::detail::fill_words(key, at, n, words);
      clamped += round_chunk(mode, v, shifts, uniform ? uniform_shift : 0, words, n, lo, hi, q);
    }
    store_chunk(out, at, q, n);
  }
  return clamped;
}

/// The epilogue of every run-time kernel: element i of `out` is the exact value input(i)
/// rounded by `mode` into out's format, with word i of `key` for stochastic rounding, on the
/// pool. Without a key, stochastic rounding draws one here, before the pool splits the work
/// (fxp::resolve_key). Returns the number of clamped elements.
///
/// It runs in three stages per chunk — read the exact values (per input), round them in
/// int64 (per policy), store them (per carrier) — so the code compiled grows with inputs +
/// policies + carriers, not with their product.
/// \param input a function of the flat index giving its scaled_value
/// \param fast `fast(mode, first, n, q)` may round elements [first, first + n) itself into
///        q (saturating at int32's bounds only) and return true; out's bounds and the
///        count are then applied here
/// \param uniform_shift when every input has this shift, 1..62: the 64-bit loop (0: the
///        inputs' own shifts, any)
template <class Input, class Fast = no_fast_chunk>
std::uint64_t round_all(qtensor& out, rounding_mode mode, const optional_key& given_key,
                        const Input& input, const Fast& fast = {}, int uniform_shift = 0) {
  const random_key key = resolve_key(given_key, mode == rounding_mode::stochastic);
  std::atomic<std::uint64_t> total{0};
  for_each_piece(out.size(), [&](std::size_t first, std::size_t count) {
    total += round_range(out, first, count, mode, key, input, fast, uniform_shift);
  });
  return total.load();
}

/// A float as m * 2^e with m a signed integer of at most 24 bits (exact; x finite).
struct float_parts {
  std::int64_t m;
  int e;
};
[[nodiscard]] inline float_parts split_float(float x) noexcept {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  const int biased = static_cast<int>((bits >> 23) & 0xFFu);
  std::int64_t m = bits & 0x7FFFFFu;
  int e = -149;  // subnormals: m * 2^-149
  if (biased != 0) {
    m |= 0x800000;
    e = biased - 150;
  }
  return {(bits >> 31) != 0 ? -m : m, e};
}

/// Throws unless a run-time kernel may multiply operands of format f: at most 16 bits
/// (15 unsigned), so that the exact sums fit the carriers' integer kernels.
inline void require_operand(const char* who, const char* what, dynamic_format f) {
  if (f.bits > (f.is_signed ? 16 : 15)) {
    throw std::invalid_argument(std::string(who) + ": " + what + " has format " + f.to_string() +
                                "; products take operands of at most 16 bits (15 unsigned)");
  }
}

/// Calls f(view) with a read-only view of t's raw values as a GEMM operand carrier:
/// fixed<8, 0>, ufixed<8, 0> or fixed<16, 0> (an unsigned format of 9 to 15 bits has the
/// same bits as its int16 twin, so it is seen as one: one kernel less per operand).
template <class F>
decltype(auto) visit_operand(const qtensor& t, F&& f) {
  return t.visit_view([&](auto view) -> decltype(auto) {
    using carrier = typename decltype(view)::value_type;
    if constexpr (std::is_same_v<carrier, ufixed<16, 0>>) {
      const auto* p = reinterpret_cast<const fixed<16, 0>*>(view.data());
      return f(tensor_view<const fixed<16, 0>>(p, view.shape()));
    } else if constexpr (std::is_same_v<carrier, fixed<32, 0>>) {
      // require_operand rejected these; keep the instantiations to the three carriers.
      return f(tensor_view<const fixed<16, 0>>(nullptr, fxp::shape{0}));
    } else {
      return f(view);
    }
  });
}

/// The exact integer sums of a product kernel, as raw values of fixed<64, 0>.
using exact_sum = fixed<64, 0>;

/// The exact sums of product(a, b) on the carriers of a and b, after checking both operands
/// and the output format: the common front of every run-time product kernel.
template <class Product>
[[nodiscard]] tensor<exact_sum> exact_product(const char* who, const char* what_a, const qtensor& a,
                                              const char* what_b, const qtensor& b,
                                              dynamic_format out, const Product& product) {
  require_operand(who, what_a, a.format());
  require_operand(who, what_b, b.format());
  out.validate(who);
  return visit_operand(a, [&](auto va) {
    return visit_operand(b, [&](auto vb) { return product(va, vb); });
  });
}

/// bias[c] * 2^(sum_frac - bias.frac) for each of the `channels` elements of the bias: the
/// bias in units of the products' sums, to join an exact sum before its one rounding.
[[nodiscard]] inline std::vector<std::int64_t> aligned_bias(const char* who, int sum_frac,
                                                            const qtensor& bias,
                                                            std::size_t channels) {
  if (bias.size() != channels) {
    throw std::invalid_argument(std::string(who) + ": the bias has " +
                                std::to_string(bias.size()) + " elements, expected " +
                                std::to_string(channels));
  }
  const int up = sum_frac - bias.format().frac;
  if (up < 0 || up > 30) {
    throw std::invalid_argument(std::string(who) + ": the bias format " +
                                bias.format().to_string() + " needs 0 to 30 fractional bits " +
                                "fewer than the products' " + std::to_string(sum_frac));
  }
  std::vector<std::int64_t> aligned(channels);
  for (std::size_t c = 0; c < channels; ++c) aligned[c] = bias.raw(c) * (std::int64_t{1} << up);
  return aligned;
}

/// Adds the aligned bias (aligned_bias) of channel c to the sums of channel c, where the
/// sums are blocks of `channels` runs of `inner` elements (conv2d: images of channel planes;
/// matmul: rows, inner = 1).
inline void add_bias(const char* who, tensor<exact_sum>& sums, int sum_frac, const qtensor& bias,
                     std::size_t channels, std::size_t inner) {
  const std::vector<std::int64_t> aligned = aligned_bias(who, sum_frac, bias, channels);
  std::int64_t* v = fxp::detail::raw_pointer(sums.data());
  const std::size_t block = channels * inner;
  for (std::size_t first = 0; first + block <= sums.size(); first += block) {
    for (std::size_t c = 0; c < channels; ++c) {
      std::int64_t* run = v + first + c * inner;
      for (std::size_t k = 0; k < inner; ++k) run[k] += aligned[c];
    }
  }
}

/// Whether a product kernel rounds in its GEMM's store (simd::detail::run_time_output):
/// for shifts 1 to 62, which cover the formats of every usual layer. Other shifts (an
/// output with as many fractional bits as the products, or more) go through the exact sums.
[[nodiscard]] constexpr bool rounds_in_store(int shift) noexcept { return shift >= 1 && shift <= 62; }

/// The raw carrier of a run-time output.
template <class Raw>
inline constexpr simd::detail::raw_carrier carrier_of = [] {
  using simd::detail::raw_carrier;
  if constexpr (std::is_same_v<Raw, std::int8_t>) return raw_carrier::int8;
  else if constexpr (std::is_same_v<Raw, std::uint8_t>) return raw_carrier::uint8;
  else if constexpr (std::is_same_v<Raw, std::int16_t>) return raw_carrier::int16;
  else if constexpr (std::is_same_v<Raw, std::uint16_t>) return raw_carrier::uint16;
  else return raw_carrier::int32;
}();

/// Runs product(out, a_view, b_view) on the carriers of a and b with `out` the store of
/// y's raw values (rounding by `mode` with `shift`, rows n apart, the given biases): the
/// product kernels' GEMMs round each tile as they finish it, with no array of exact sums.
/// Sets y's saturation count; a random mode without a key draws one here, as round_all.
template <class Product>
void product_into(qtensor& y, const qtensor& a, const qtensor& b, int shift, rounding_mode mode,
                  const optional_key& given_key, std::size_t n, const std::int64_t* row_bias,
                  const std::int64_t* col_bias, const Product& product) {
  const random_key key = resolve_key(given_key, mode == rounding_mode::stochastic);
  const dynamic_format f = y.format();
  std::atomic<std::uint64_t> clamped{0};
  y.visit([&](auto* data) {
    auto* raw = fxp::detail::raw_pointer(data);
    using raw_type = std::remove_pointer_t<decltype(raw)>;
    const simd::detail::run_time_output out{raw, n, carrier_of<raw_type>, key, 0, n, shift,
                                            f.raw_min(), f.raw_max(), row_bias, col_bias, &clamped};
    visit_operand(a, [&](auto va) { visit_operand(b, [&](auto vb) { product(out, va, vb); }); });
  });
  y.set_saturations(clamped.load());
}

/// out = sums * 2^-shift rounded into `f` (the epilogue of the product kernels).
[[nodiscard]] inline qtensor round_sums(const tensor<exact_sum>& sums, const fxp::shape& s,
                                        int sum_frac, dynamic_format f, rounding_mode mode,
                                        const optional_key& key) {
  qtensor out(s, f);
  const exact_sum* v = sums.data();
  const int shift = sum_frac - f.frac;
  out.set_saturations(round_all(
      out, mode, key, [v, shift](std::size_t i) { return scaled_value{v[i].raw(), shift}; },
      no_fast_chunk{}, shift));
  return out;
}

FXP_END_ISA_NAMESPACE
}  // namespace detail
FXP_BEGIN_ISA_NAMESPACE

// ---- element-wise conversions ----------------------------------------------------------

/// `x` quantized into format f: element i is `fxp::fixed_cast<T, R>(x[i], gen)` bit for bit
/// for T the compile-time format of f (saturating) and R the policy of `mode`, gen at
/// counter i of `key`. Saturated elements are counted (qtensor::saturations). Without a
/// key, rounding_mode::stochastic draws a fresh one from fxp::default_generator(), once per
/// call (see fxp::draw_key), and the other modes draw nothing; so do all the run-time kernels.
/// \throws std::domain_error for a NaN; std::invalid_argument for a format out of range
template <tensor_like X>
  requires std::same_as<detail::element_t<X>, float>
[[nodiscard]] qtensor quantize(const X& x, dynamic_format f, rounding_mode mode,
                               optional_key key = {}) {
  const auto in = detail::read_view(x);
  qtensor out(in.shape(), f);
  const float* v = in.data();
  // Whether any is NaN in a loop without an exit (which vectorizes; the search with its
  // throw inside was a third of the run-time quantize), then which one.
  bool any_nan = false;
  const std::size_t count = in.size();  // read once: the shape's product is not hoisted
  for (std::size_t i = 0; i < count; ++i) any_nan |= v[i] != v[i];
  if (any_nan) {
    std::size_t i = 0;
    while (!std::isnan(v[i])) ++i;
    throw std::domain_error("fxp::quantize: element " + std::to_string(i) + " is NaN");
  }
  // Resolved here, not in round_all: the fast path below rounds with the same key.
  const random_key resolved = resolve_key(key, mode == rounding_mode::stochastic);
  const std::int64_t big = std::int64_t{1} << 40;  // beyond every run-time format
  const auto exact = [&](std::size_t i) {
    if (std::isinf(v[i])) return detail::scaled_value{v[i] < 0 ? -big : big, 0};
    const detail::float_parts p = detail::split_float(v[i]);
    return detail::scaled_value{p.m, -(p.e + f.frac)};  // x * 2^frac = m * 2^-shift
  };
  // Fast form: x * 2^frac is exact in float unless it lands below the normal range, and the
  // compile-time kernel rounds it into int32 (fixed<32, 0>) by the same rule and word.
  // Chunks holding such a tiny product, and 32-bit formats (whose bounds are int32's, so
  // a saturation would go uncounted), take the exact path.
  const float scale = static_cast<float>(1.0 / f.step());  // 2^frac, exact: |frac| <= 64
  const auto fast = [&](rounding_mode m, std::size_t first, std::size_t n, std::int64_t* q) {
    if (f.bits >= 32) return false;
    float scaled[detail::epilogue_chunk];
    bool tiny = false;
    for (std::size_t j = 0; j < n; ++j) {
      scaled[j] = v[first + j] * scale;
      tiny |= std::abs(scaled[j]) < std::numeric_limits<float>::min() && v[first + j] != 0.0f;
    }
    if (tiny) return false;
    fixed<32, 0> rounded[detail::epilogue_chunk];
    with_rounding(m, [&]<class Round>() {
      fxp::quantize<fixed<32, 0>, Round>(scaled, rounded, n, resolved, first);
    });
    for (std::size_t j = 0; j < n; ++j) q[j] = rounded[j].raw();
    return true;
  };
  out.set_saturations(detail::round_all(out, mode, resolved, exact, fast));
  return out;
}

/// The values of q as floats, each correctly rounded (exact for formats of up to 24 bits).
[[nodiscard]] inline tensor<float> dequantize(const qtensor& q) {
  tensor<float> out(q.shape());
  const double step = q.format().step();
  q.visit([&](const auto* src) {
    float* dst = out.data();
    detail::for_each_piece(q.size(), [&](std::size_t first, std::size_t count) {
      // raw * 2^-frac is exact in double (32 bits, |frac| <= 64): one rounding to float.
      for (std::size_t i = first; i < first + count; ++i) {
        dst[i] = static_cast<float>(static_cast<double>(src[i].raw()) * step);
      }
    });
  });
  return out;
}

/// q requantized into format f: element i is `fxp::fixed_cast<To, R>(q[i], gen)` bit for
/// bit (To the compile-time twin of f, saturating), gen at counter i of `key`.
[[nodiscard]] inline qtensor requantize(const qtensor& q, dynamic_format f, rounding_mode mode,
                                        optional_key key = {}) {
  qtensor out(q.shape(), f);
  q.visit([&](const auto* src) {
    const int shift = q.format().frac - f.frac;
    out.set_saturations(detail::round_all(
        out, mode, key,
        [src, shift](std::size_t i) {
          return detail::scaled_value{static_cast<std::int64_t>(src[i].raw()), shift};
        },
        detail::no_fast_chunk{}, shift));
  });
  return out;
}

/// dequantize(quantize(x, f, mode, key)) in float: the forward pass of quantization-aware
/// training. Adds the clamped elements to *saturations when given.
template <tensor_like X>
  requires std::same_as<detail::element_t<X>, float>
[[nodiscard]] tensor<float> fake_quantize(const X& x, dynamic_format f, rounding_mode mode,
                                          optional_key key = {},
                                          std::uint64_t* saturations = nullptr) {
  const qtensor q = quantize(x, f, mode, key);
  if (saturations != nullptr) *saturations += q.saturations();
  return dequantize(q);
}

// ---- products ---------------------------------------------------------------------------

/// C = op(A) op(B) for run-time formats, as fxp::matmul: the exact sums of products (plus
/// bias[j] on column j when given, aligned exactly), rounded once into `out` by `mode`;
/// C(i, j) draws word i * n + j of `key`.
/// \throws std::invalid_argument on ranks or inner dimensions that do not match, an operand
///         wider than 16 bits, or a bias of the wrong size or format
[[nodiscard]] inline qtensor matmul(const qtensor& a, const qtensor& b, transpose ta,
                                    transpose tb, dynamic_format out, rounding_mode mode,
                                    optional_key key = {},
                                    const qtensor* bias_per_column = nullptr) {
  constexpr const char* who = "fxp::matmul";
  const int sum_frac = a.format().frac + b.format().frac;
  if (detail::rounds_in_store(sum_frac - out.frac)) {
    detail::require_operand(who, "A", a.format());
    detail::require_operand(who, "B", b.format());
    out.validate(who);
    const auto [m, k, n] = detail::matmul_dims(a.shape(), b.shape(), ta, tb);
    std::vector<std::int64_t> bias;
    if (bias_per_column != nullptr) bias = detail::aligned_bias(who, sum_frac, *bias_per_column, n);
    qtensor c(fxp::shape{m, n}, out, for_overwrite);  // the GEMM stores every element
    detail::product_into(c, a, b, sum_frac - out.frac, mode, key, n, nullptr,
                         bias.empty() ? nullptr : bias.data(), [&](const auto& store, auto va, auto vb) {
      simd::detail::gemm_run_time<gemm_default_max_k>(ta, tb, m, n, k, va.data(), va.shape()[1],
                                                      vb.data(), vb.shape()[1], store, mode);
    });
    return c;
  }
  tensor<detail::exact_sum> sums =
      detail::exact_product(who, "A", a, "B", b, out, [&](auto va, auto vb) {
        return matmul<detail::exact_sum, fxp::truncate>(va, vb, ta, tb);
      });
  const fxp::shape s = sums.shape();
  if (bias_per_column != nullptr) {
    const std::size_t n = s[1];
    detail::add_bias(who, sums, sum_frac, *bias_per_column, n, 1);
  }
  return detail::round_sums(sums, s, sum_frac, out, mode, key);
}

/// y = conv2d(x, w) (+ bias[c] on output channel c) for run-time formats, as fxp::conv2d:
/// each output the exact sum of its products rounded once into `out`.
/// \throws std::invalid_argument on shapes that do not fit, an operand wider than 16 bits,
///         or a bias of the wrong size or format
[[nodiscard]] inline qtensor conv2d(const qtensor& x, const qtensor& w, const conv2d_params& p,
                                    dynamic_format out, rounding_mode mode,
                                    optional_key key = {},
                                    const qtensor* bias_per_channel = nullptr) {
  constexpr const char* who = "fxp::conv2d";
  const int sum_frac = x.format().frac + w.format().frac;
  if (detail::rounds_in_store(sum_frac - out.frac)) {
    detail::require_operand(who, "the input", x.format());
    detail::require_operand(who, "the weights", w.format());
    out.validate(who);
    const conv2d_shape cs = detail::conv_shape(who, x.shape(), w.shape(), p);
    simd::detail::check_reduction(who, "in_channels * kernel_height * kernel_width",
                                  cs.patch_size(), gemm_default_max_k);
    std::vector<std::int64_t> bias;
    if (bias_per_channel != nullptr) bias = detail::aligned_bias(who, sum_frac, *bias_per_channel, cs.out_channels);
    qtensor y(fxp::shape{cs.batch, cs.out_channels, cs.out_height(), cs.out_width()}, out,
              for_overwrite);  // the GEMMs store every element
    detail::product_into(y, x, w, sum_frac - out.frac, mode, key, cs.out_pixels(),
                         bias.empty() ? nullptr : bias.data(), nullptr, [&](const auto& store, auto vx, auto vw) {
      simd::detail::conv2d_run_time<gemm_default_max_k>(cs, vx.data(), vw.data(), store, mode);
    });
    return y;
  }
  tensor<detail::exact_sum> sums =
      detail::exact_product(who, "the input", x, "the weights", w, out, [&](auto vx, auto vw) {
        return conv2d<detail::exact_sum, fxp::truncate>(vx, vw, p);
      });
  const fxp::shape s = sums.shape();
  if (bias_per_channel != nullptr) {
    const std::size_t channels = s[1];
    const std::size_t pixels = s[2] * s[3];
    detail::add_bias(who, sums, sum_frac, *bias_per_channel, channels, pixels);
  }
  return detail::round_sums(sums, s, sum_frac, out, mode, key);
}

/// The input gradient of y = conv2d(x, w) for run-time formats: dx (shape `input`) from w
/// and dy, each element's exact sum rounded once into `out`.
[[nodiscard]] inline qtensor conv2d_backward_data(const qtensor& w, const qtensor& dy,
                                                  const shape& input, const conv2d_params& p,
                                                  dynamic_format out, rounding_mode mode,
                                                  optional_key key = {}) {
  constexpr const char* who = "fxp::conv2d_backward_data";
  detail::require_operand(who, "the weights", w.format());
  detail::require_operand(who, "dy", dy.format());
  out.validate(who);
  const conv2d_shape cs = detail::conv_shape(who, input, w.shape(), p);
  detail::require_shape(who, "dy", dy.shape(),
                        fxp::shape{cs.batch, cs.out_channels, cs.out_height(), cs.out_width()});
  const int shift = w.format().frac + dy.format().frac - out.frac;
  const random_key resolved = resolve_key(key, mode == rounding_mode::stochastic);
  const std::size_t image = cs.image_size();
  qtensor dx(input, out, for_overwrite);  // every image rounded into it
  std::atomic<std::uint64_t> clamped{0};
  // Each image's exact sums rounded into dx as its task finishes them: no tensor of sums.
  detail::visit_operand(w, [&](auto vw) {
    detail::visit_operand(dy, [&](auto vdy) {
      simd::detail::backward_data_sums<gemm_default_max_k>(
          cs, vw.data(), vdy.data(), [&](std::size_t b, const std::int64_t* sums) {
            const auto exact = [sums, shift, first = b * image](std::size_t i) {
              return detail::scaled_value{sums[i - first], shift};
            };
            clamped += detail::round_range(dx, b * image, image, mode, resolved, exact,
                                           detail::no_fast_chunk{}, shift);
          });
    });
  });
  dx.set_saturations(clamped.load());
  return dx;
}

/// The weight gradient of y = conv2d(x, w) for run-time formats: dw (shape `weights`) from
/// x and dy, summed over the batch, each element's exact sum rounded once into `out`.
[[nodiscard]] inline qtensor conv2d_backward_weights(const qtensor& x, const qtensor& dy,
                                                     const shape& weights,
                                                     const conv2d_params& p, dynamic_format out,
                                                     rounding_mode mode,
                                                     optional_key key = {}) {
  tensor<detail::exact_sum> sums = detail::exact_product(
      "fxp::conv2d_backward_weights", "the input", x, "dy", dy, out, [&](auto vx, auto vdy) {
        return conv2d_backward_weights<detail::exact_sum, fxp::truncate>(vx, vdy, weights, p);
      });
  return detail::round_sums(sums, weights, x.format().frac + dy.format().frac, out, mode, key);
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp
