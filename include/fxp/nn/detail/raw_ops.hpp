// SPDX-License-Identifier: MIT
#pragma once
// Raw-value helpers of the fixed-point layers: qtensor raws in and out of int64 arrays (one
// typed loop per storage carrier), rounding a role's tensor into its format, exact bias
// gradient sums, and the float-side helpers of QAT.

#include <algorithm>    // std::min
#include <array>        // random words of a chunk
#include <cstddef>      // std::size_t
#include <cstdint>      // raw integers
#include <optional>     // a role's format
#include <type_traits>  // the carrier's raw type
#include <utility>      // std::move
#include <vector>       // int64 raw arrays

#include "../../core/detail/raw_array.hpp"
#include "../../simd/detail/isa_namespace.hpp"
#include "../../simd/philox.hpp"  // fill_words: the random words of consecutive elements
#include "../../tensor/dynamic.hpp"
#include "rounding.hpp"

namespace fxp::nn::detail {
FXP_BEGIN_ISA_NAMESPACE

/// The raw values of `q` as int64.
[[nodiscard]] inline std::vector<std::int64_t> load_raw(const qtensor& q) {
  std::vector<std::int64_t> out(q.size());
  q.visit([&](const auto* data) {
    const auto* raw = fxp::detail::raw_pointer(data);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::int64_t>(raw[i]);
  });
  return out;
}

/// out[0, n) = the raw values of q at [first, first + n).
inline void load_raw_chunk(const qtensor& q, std::size_t first, std::size_t n, std::int64_t* out) {
  q.visit([&](const auto* data) {
    const auto* raw = fxp::detail::raw_pointer(data) + first;
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::int64_t>(raw[i]);
  });
}

/// The raw values of q at [first, first + n) = in[0, n) (each within q's format).
inline void store_raw_chunk(qtensor& q, std::size_t first, std::size_t n, const std::int64_t* in) {
  q.visit([&](auto* data) {
    auto* raw = fxp::detail::raw_pointer(data) + first;
    using raw_type = std::remove_pointer_t<decltype(raw)>;
    for (std::size_t i = 0; i < n; ++i) raw[i] = static_cast<raw_type>(in[i]);
  });
}

/// A qtensor of shape `s` and format `f` holding `raw` (each already within f's range).
[[nodiscard]] inline qtensor store_raw(const fxp::shape& s, const dynamic_format& f,
                                       const std::vector<std::int64_t>& raw) {
  qtensor q(s, f);
  q.visit([&](auto* data) {
    auto* out = fxp::detail::raw_pointer(data);
    using raw_type = std::remove_pointer_t<decltype(out)>;
    for (std::size_t i = 0; i < raw.size(); ++i) out[i] = static_cast<raw_type>(raw[i]);
  });
  return q;
}

/// `out` (any shape, in `in`'s carrier) filled by f(in_raw, out_raw) on the raw integer
/// arrays of both: one instantiation of f per storage carrier.
template <class F>
[[nodiscard]] qtensor map_raw(const qtensor& in, qtensor out, F f) {
  in.visit([&](const auto* src) {
    using carrier = std::remove_cv_t<std::remove_pointer_t<decltype(src)>>;
    out.visit([&](auto* dst) {
      if constexpr (std::is_same_v<std::remove_pointer_t<decltype(dst)>, carrier>) {
        f(fxp::detail::raw_pointer(src), fxp::detail::raw_pointer(dst));
      }
    });
  });
  return out;
}

/// A qtensor of shape `s` in `in`'s format, filled by f(in_raw, out_raw) on the raw integer
/// arrays of both (the same integer type): one instantiation of f per storage carrier. The
/// output starts at zero; with fxp::for_overwrite it is not initialised (f writes it all).
template <class F>
[[nodiscard]] qtensor map_raw(const qtensor& in, const fxp::shape& s, F f) {
  return map_raw(in, qtensor(s, in.format()), f);
}
template <class F>
[[nodiscard]] qtensor map_raw(const qtensor& in, const fxp::shape& s, for_overwrite_t, F f) {
  return map_raw(in, qtensor(s, in.format(), for_overwrite), f);
}

/// Exact raw values `raw` with `frac` fractional bits rounded into `f` by `mode` (element i
/// drawing word i of `key`) and saturated; counts clamps in `saturations`.
[[nodiscard]] inline qtensor round_into(const fxp::shape& s, const std::vector<int128>& raw,
                                        int frac, const dynamic_format& f, rounding_mode mode,
                                        const random_key& key, std::uint64_t& saturations) {
  std::vector<std::int64_t> out(raw.size());
  const int shift = frac - f.frac;
  if (shift == 0) {  // nothing to round: saturate only
    for (std::size_t i = 0; i < raw.size(); ++i) out[i] = saturate(raw[i], f, saturations);
    return store_raw(s, f, out);
  }
  if (mode == rounding_mode::stochastic && shift > 0) {
    // Word i of the key, a chunk at a time.
    constexpr std::size_t chunk = 256;
    std::array<std::uint32_t, chunk> words{};
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (i % chunk == 0) simd::detail::fill_words(key, i, std::min(chunk, raw.size() - i), words.data());
      out[i] = saturate(round_shift(raw[i], shift, mode, words[i % chunk]), f, saturations);
    }
  } else {
    for (std::size_t i = 0; i < raw.size(); ++i) out[i] = saturate(round_shift(raw[i], shift, mode), f, saturations);
  }
  return store_raw(s, f, out);
}

/// `q` in format `f` (requantized by `mode` with `key` when its format differs), counting
/// clamps in `saturations`.
[[nodiscard]] inline qtensor to_format(qtensor q, const std::optional<dynamic_format>& f,
                                       rounding_mode mode, const random_key& key,
                                       std::uint64_t& saturations) {
  if (!f || *f == q.format()) return q;
  qtensor r = requantize(q, *f, mode, key);
  saturations += r.saturations();
  return r;
}

/// `x` fake-quantized into `f` when set (QAT), counting clamps; `x` itself otherwise.
[[nodiscard]] inline tensor<float> fake(tensor<float> x, const std::optional<dynamic_format>& f,
                                        rounding_mode mode, const random_key& key,
                                        std::uint64_t& saturations) {
  if (!f) return x;
  std::uint64_t sat = 0;
  tensor<float> r = fake_quantize(x, *f, mode, key, &sat);
  saturations += sat;
  return r;
}

/// Exact sums of `dy` (shape (N, C, ...) raw values) over every axis but 1: the bias
/// gradient of a dense (N, C) or convolution (N, C, H, W) output.
[[nodiscard]] inline std::vector<int128> channel_sums(const qtensor& dy) {
  const fxp::shape& s = dy.shape();
  const std::size_t n = s[0];
  const std::size_t c = s[1];
  const std::size_t inner = s.size() / (n * c == 0 ? 1 : n * c);
  std::vector<int128> sums(c, 0);
  dy.visit([&](const auto* data) {
    const auto* raw = fxp::detail::raw_pointer(data);
    for (std::size_t b = 0; b < n; ++b) {
      for (std::size_t ch = 0; ch < c; ++ch) {
        std::int64_t acc = 0;  // inner <= 2^32 values of at most 32 bits
        const auto* p = raw + (b * c + ch) * inner;
        for (std::size_t i = 0; i < inner; ++i) acc += static_cast<std::int64_t>(p[i]);
        sums[ch] += acc;
      }
    }
  });
  return sums;
}

/// Float sums of `dy` over every axis but 1, in a fixed order.
[[nodiscard]] inline tensor<float> channel_sums(const tensor<float>& dy) {
  const fxp::shape& s = dy.shape();
  const std::size_t n = s[0];
  const std::size_t c = s[1];
  const std::size_t inner = s.size() / (n * c == 0 ? 1 : n * c);
  tensor<float> sums(fxp::shape{c});
  for (std::size_t b = 0; b < n; ++b) {
    for (std::size_t ch = 0; ch < c; ++ch) {
      float acc = 0.0f;
      const float* p = dy.data() + (b * c + ch) * inner;
      for (std::size_t i = 0; i < inner; ++i) acc += p[i];
      sums[ch] += acc;
    }
  }
  return sums;
}

/// Adds b[channel] to every element of y (shape (N, C, ...)).
inline void add_channel_bias(tensor<float>& y, const tensor<float>& b) {
  const fxp::shape& s = y.shape();
  const std::size_t n = s[0];
  const std::size_t c = s[1];
  const std::size_t inner = s.size() / (n * c == 0 ? 1 : n * c);
  for (std::size_t bi = 0; bi < n; ++bi) {
    for (std::size_t ch = 0; ch < c; ++ch) {
      float* p = y.data() + (bi * c + ch) * inner;
      const float v = b[ch];
      for (std::size_t i = 0; i < inner; ++i) p[i] += v;
    }
  }
}

/// `b` with at most `max_frac` fractional bits (the kernels add the bias exactly at the
/// products' scale): requantized by `mode` (keeping its integer bits) when it has more.
[[nodiscard]] inline qtensor bias_within(const qtensor& b, int max_frac, rounding_mode mode) {
  const dynamic_format f = b.format();
  if (f.frac <= max_frac) return b;
  dynamic_format g = f;
  g.frac = max_frac;
  g.bits = f.bits - (f.frac - max_frac);
  if (g.bits < 2) g.bits = 2;
  return requantize(b, g, mode == rounding_mode::stochastic ? rounding_mode::nearest : mode);
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp::nn::detail
