// SPDX-License-Identifier: MIT
#pragma once
// The kernels on tensors: quantize / requantize / dequantize, matmul and conv2d (forward and
// the two products of its backward pass). They check shapes, allocate the result and run
// the raw-array kernels of fxp/simd on the thread pool (fxp::set_num_threads). Element i of
// a result (its row-major flat index) rounds with random word i of `key` under a random
// rounding policy, so no result depends on the thread count or the SIMD width. Called
// without a key, a random policy draws one (fxp::draw_key) from the calling thread's
// default generator, once per call and before the work is split, so fxp::seed makes the
// run reproducible and the thread count still changes nothing.

#include <algorithm>    // std::min
#include <concepts>     // std::same_as
#include <cstddef>      // std::size_t
#include <cstdint>      // element indices
#include <stdexcept>    // std::invalid_argument
#include <string>       // error messages
#include <type_traits>  // std::remove_const_t

#include "../core/random.hpp"
#include "../simd/conv.hpp"
#include "../simd/detail/isa_namespace.hpp"
#include "../simd/gemm.hpp"
#include "../core/thread_pool.hpp"
#include "../simd/quantize.hpp"
#include "cast.hpp"
#include "container.hpp"
#include "expression.hpp"

namespace fxp {

namespace detail {
FXP_BEGIN_ISA_NAMESPACE

/// The element type of a tensor or view, without const.
template <class T>
using element_t = std::remove_const_t<typename T::value_type>;

/// A read-only view of a tensor or view.
template <class T>
[[nodiscard]] tensor_view<const element_t<T>> read_view(const T& t) noexcept {
  return tensor_view<const element_t<T>>(t);
}

inline void require_rank(const char* who, const char* what, const shape& s, std::size_t rank) {
  if (s.rank() != rank) {
    throw std::invalid_argument(std::string(who) + ": " + what + " must have rank " +
                                std::to_string(rank) + ", got shape " + to_string(s));
  }
}

FXP_END_ISA_NAMESPACE
}  // namespace detail
FXP_BEGIN_ISA_NAMESPACE

/// A tensor or a view of one.
template <class T>
concept tensor_like = expr::is_tensor_like<std::remove_cvref_t<T>>::value;

// ---- element-wise conversions ----------------------------------------------------------

/// `x` quantized into T: element i is `fxp::fixed_cast<T, Round>(x[i], gen)` with gen at
/// counter i of `key` (without a key, a random policy draws a fresh one from
/// fxp::default_generator(): see fxp::draw_key). Errors as the scalar core's (NaN:
/// std::domain_error; overflow under fxp::checked: fxp::overflow_error); the result is then
/// discarded.
template <fixed_point T, rounding_policy Round = typename T::rounding_policy, tensor_like X>
  requires std::same_as<detail::element_t<X>, float>
[[nodiscard]] tensor<T> quantize(const X& x, optional_key key = {}) {
  const auto in = detail::read_view(x);
  tensor<T> out(in.shape());
  const random_key resolved = resolve_key<Round>(key);  // once, not per piece
  detail::for_each_piece(in.size(), [&](std::size_t first, std::size_t count) {
    quantize<T, Round>(in.data() + first, out.data() + first, count, resolved, first);
  });
  return out;
}

/// `x` requantized into To: element i is `fxp::fixed_cast<To, Round>(x[i], gen)` with gen at
/// counter i of `key` (without a key, a random policy draws one, as fxp::quantize does).
template <fixed_point To, rounding_policy Round = typename To::rounding_policy, tensor_like X>
  requires fixed_point<detail::element_t<X>>
[[nodiscard]] tensor<To> requantize(const X& x, optional_key key = {}) {
  const auto in = detail::read_view(x);
  tensor<To> out(in.shape());
  const random_key resolved = resolve_key<Round>(key);  // once, not per piece
  detail::for_each_piece(in.size(), [&](std::size_t first, std::size_t count) {
    requantize<To, Round>(in.data() + first, out.data() + first, count, resolved, first);
  });
  return out;
}

/// `x` as floats, each `static_cast<float>(x[i])`.
template <tensor_like X>
  requires fixed_point<detail::element_t<X>>
[[nodiscard]] tensor<float> dequantize(const X& x) {
  const auto in = detail::read_view(x);
  tensor<float> out(in.shape());
  detail::for_each_piece(in.size(), [&](std::size_t first, std::size_t count) {
    dequantize(in.data() + first, out.data() + first, count);
  });
  return out;
}

// ---- matrix products --------------------------------------------------------------------

FXP_END_ISA_NAMESPACE
namespace detail {
FXP_BEGIN_ISA_NAMESPACE

/// The sizes of op(A) (m x k) and op(B) (k x n).
struct product_dims {
  std::size_t m, k, n;
};

/// m, k and n of op(A) op(B) for A and B of shapes a and b.
/// \throws std::invalid_argument unless both are matrices with matching inner dimensions
[[nodiscard]] inline product_dims matmul_dims(const shape& a, const shape& b, transpose ta,
                                              transpose tb) {
  require_rank("fxp::matmul", "A", a, 2);
  require_rank("fxp::matmul", "B", b, 2);
  const bool ta_yes = ta == transpose::yes;
  const bool tb_yes = tb == transpose::yes;
  const std::size_t m = a[ta_yes ? 1 : 0];
  const std::size_t k = a[ta_yes ? 0 : 1];
  const std::size_t kb = b[tb_yes ? 1 : 0];
  const std::size_t n = b[tb_yes ? 0 : 1];
  if (k != kb) {
    throw std::invalid_argument("fxp::matmul: op(A) is " + std::to_string(m) + " x " +
                                std::to_string(k) + " (A of shape " + to_string(a) +
                                ") but op(B) is " + std::to_string(kb) + " x " +
                                std::to_string(n) + " (B of shape " + to_string(b) + ")");
  }
  return {m, k, n};
}

FXP_END_ISA_NAMESPACE
}  // namespace detail
FXP_BEGIN_ISA_NAMESPACE

/// C = op(A) op(B) for rank-2 tensors: op(A) is m x k, op(B) k x n. Fixed point: each element
/// is the exact sum of its k products rounded once into C (by Round and C's overflow
/// policy); float: summed in float in a fixed order (see fxp::gemm). Random rounding of
/// C(i, j) draws word i * n + j of `key`; without a key, of a fresh one drawn once per call
/// from fxp::default_generator() (see fxp::draw_key).
/// \tparam C the result's element type (float for float operands)
/// \tparam MaxK the largest k accepted; it sizes the exact accumulator (gemm_accumulator_t).
///         To raise it and keep C's own rounding, write `fxp::matmul<C, fxp::max_k<N>>(a, b)`
/// \throws std::invalid_argument when a rank or an inner dimension does not match, or k > MaxK
template <class C, rounding_policy Round = typename expr::default_rounding<C>::type,
          std::size_t MaxK = gemm_default_max_k, tensor_like A, tensor_like B>
[[nodiscard]] tensor<C> matmul(const A& a, const B& b, transpose ta = transpose::no,
                               transpose tb = transpose::no, optional_key key = {}) {
  const auto va = detail::read_view(a);
  const auto vb = detail::read_view(b);
  const auto [m, k, n] = detail::matmul_dims(va.shape(), vb.shape(), ta, tb);
  tensor<C> c(shape{m, n}, for_overwrite);  // the GEMM writes every element
  if constexpr (fixed_point<C>) {
    gemm<C, Round, MaxK>(ta, tb, m, n, k, va.data(), va.shape()[1], vb.data(), vb.shape()[1],
                         c.data(), n, key);
  } else {
    static_assert(std::same_as<C, float> && std::same_as<detail::element_t<A>, float> &&
                      std::same_as<detail::element_t<B>, float>,
                  "fxp::matmul<C>: C is float only for float operands");
    gemm(ta, tb, m, n, k, va.data(), va.shape()[1], vb.data(), vb.shape()[1], c.data(), n);
  }
  return c;
}

/// fxp::matmul<C, C's own rounding, MaxK>: a larger bound without naming the policy, as
/// `fxp::matmul<C, fxp::max_k<N>>(a, b)` or `fxp::matmul<C, N>(a, b)`.
template <class C, std::size_t MaxK, tensor_like A, tensor_like B>
[[nodiscard]] tensor<C> matmul(const A& a, const B& b, transpose ta = transpose::no,
                               transpose tb = transpose::no, optional_key key = {}) {
  return matmul<C, typename expr::default_rounding<C>::type, MaxK>(a, b, ta, tb, key);
}

// ---- convolution ------------------------------------------------------------------------

FXP_END_ISA_NAMESPACE

/// Stride and zero padding of a 2-D convolution (a vocabulary type: outside the
/// instruction-set namespace).
struct conv2d_params {
  std::size_t stride_height = 1;
  std::size_t stride_width = 1;
  std::size_t pad_height = 0;
  std::size_t pad_width = 0;

  /// The same stride and padding in both directions.
  [[nodiscard]] static constexpr conv2d_params square(std::size_t stride, std::size_t pad) noexcept {
    return {stride, stride, pad, pad};
  }
};

namespace detail {
FXP_BEGIN_ISA_NAMESPACE

/// The raw kernels' description of a convolution of input x (N, C, H, W) with weights w
/// (O, C, KH, KW), after checking that the shapes agree.
inline conv2d_shape conv_shape(const char* who, const shape& x, const shape& w,
                               const conv2d_params& p) {
  require_rank(who, "the input (N, C, H, W)", x, 4);
  require_rank(who, "the weights (O, C, KH, KW)", w, 4);
  if (x[1] != w[1]) {
    throw std::invalid_argument(std::string(who) + ": the input has " + std::to_string(x[1]) +
                                " channels (shape " + to_string(x) + ") but the weights expect " +
                                std::to_string(w[1]) + " (shape " + to_string(w) + ")");
  }
  conv2d_shape s{x[0], x[1], x[2], x[3], w[0], w[2], w[3], p.stride_height, p.stride_width,
                 p.pad_height, p.pad_width};
  s.validate(who);
  return s;
}

inline void require_shape(const char* who, const char* what, const shape& got, const shape& want) {
  if (!(got == want)) {
    throw std::invalid_argument(std::string(who) + ": " + what + " has shape " + to_string(got) +
                                ", expected " + to_string(want));
  }
}

FXP_END_ISA_NAMESPACE
}  // namespace detail
FXP_BEGIN_ISA_NAMESPACE

/// The output shape (N, O, OH, OW) of conv2d(x, w, p) for an input of shape x = (N, C, H, W)
/// and weights w = (O, C, KH, KW): OH = (H + 2 pad_height - KH) / stride_height + 1 (rounded
/// down), OW likewise.
/// \throws std::invalid_argument when the shapes do not fit together (as conv2d would)
[[nodiscard]] inline shape conv2d_output_shape(const shape& x, const shape& w,
                                               const conv2d_params& p = {}) {
  const conv2d_shape s = detail::conv_shape("fxp::conv2d_output_shape", x, w, p);
  return shape{s.batch, s.out_channels, s.out_height(), s.out_width()};
}

/// y = conv2d(x, w): input (N, C, H, W), weights (O, C, KH, KW), output (N, O, OH, OW); no
/// bias. Fixed point: each output is the exact sum of its C * KH * KW products rounded once
/// into Y; float: summed in float in a fixed order. Random rounding of output element i
/// draws word i of `key`; without a key, of a fresh one drawn once per call from
/// fxp::default_generator() (see fxp::draw_key).
/// \throws std::invalid_argument on shapes that do not fit together (naming them)
template <class Y, rounding_policy Round = typename expr::default_rounding<Y>::type,
          std::size_t MaxK = gemm_default_max_k, tensor_like X, tensor_like W>
[[nodiscard]] tensor<Y> conv2d(const X& x, const W& w, const conv2d_params& p = {},
                               optional_key key = {}) {
  const auto vx = detail::read_view(x);
  const auto vw = detail::read_view(w);
  const conv2d_shape s = detail::conv_shape("fxp::conv2d", vx.shape(), vw.shape(), p);
  tensor<Y> y(shape{s.batch, s.out_channels, s.out_height(), s.out_width()}, for_overwrite);
  if constexpr (fixed_point<Y>) {
    conv2d<Y, Round, MaxK>(s, vx.data(), vw.data(), y.data(), key);
  } else {
    conv2d(s, vx.data(), vw.data(), y.data());
  }
  return y;
}

/// The input gradient of y = conv2d(x, w): dx (shape `input`) from w and dy. Fixed point:
/// each element the exact sum of its products, rounded once into DX (a keyless random
/// policy draws a key as fxp::conv2d does).
template <class DX, rounding_policy Round = typename expr::default_rounding<DX>::type,
          std::size_t MaxK = gemm_default_max_k, tensor_like W, tensor_like DY>
[[nodiscard]] tensor<DX> conv2d_backward_data(const W& w, const DY& dy, const shape& input,
                                              const conv2d_params& p = {},
                                              optional_key key = {}) {
  const auto vw = detail::read_view(w);
  const auto vdy = detail::read_view(dy);
  const conv2d_shape s = detail::conv_shape("fxp::conv2d_backward_data", input, vw.shape(), p);
  detail::require_shape("fxp::conv2d_backward_data", "dy", vdy.shape(),
                        shape{s.batch, s.out_channels, s.out_height(), s.out_width()});
  tensor<DX> dx(input, for_overwrite);  // each image written whole
  if constexpr (fixed_point<DX>) {
    conv2d_backward_data<DX, Round, MaxK>(s, vw.data(), vdy.data(), dx.data(), key);
  } else {
    conv2d_backward_data(s, vw.data(), vdy.data(), dx.data());
  }
  return dx;
}

/// The weight gradient of y = conv2d(x, w): dw (shape `weights`) from x and dy, summed over
/// the batch. Fixed point: each element the exact sum of its N * OH * OW products, rounded
/// once into DW (a keyless random policy draws a key as fxp::conv2d does).
template <class DW, rounding_policy Round = typename expr::default_rounding<DW>::type,
          std::size_t MaxK = gemm_default_max_k, tensor_like X, tensor_like DY>
[[nodiscard]] tensor<DW> conv2d_backward_weights(const X& x, const DY& dy, const shape& weights,
                                                 const conv2d_params& p = {},
                                                 optional_key key = {}) {
  const auto vx = detail::read_view(x);
  const auto vdy = detail::read_view(dy);
  const conv2d_shape s = detail::conv_shape("fxp::conv2d_backward_weights", vx.shape(), weights, p);
  detail::require_shape("fxp::conv2d_backward_weights", "dy", vdy.shape(),
                        shape{s.batch, s.out_channels, s.out_height(), s.out_width()});
  tensor<DW> dw(weights, for_overwrite);
  if constexpr (fixed_point<DW>) {
    conv2d_backward_weights<DW, Round, MaxK>(s, vx.data(), vdy.data(), dw.data(), key);
  } else {
    conv2d_backward_weights(s, vx.data(), vdy.data(), dw.data());
  }
  return dw;
}

/// The three convolutions with the output's own rounding and a bound MaxK, without naming
/// the policy: `fxp::conv2d<Y, fxp::max_k<N>>(x, w, p)` (or a plain N), likewise the
/// backward products.
template <class Y, std::size_t MaxK, tensor_like X, tensor_like W>
[[nodiscard]] tensor<Y> conv2d(const X& x, const W& w, const conv2d_params& p = {},
                               optional_key key = {}) {
  return conv2d<Y, typename expr::default_rounding<Y>::type, MaxK>(x, w, p, key);
}
template <class DX, std::size_t MaxK, tensor_like W, tensor_like DY>
[[nodiscard]] tensor<DX> conv2d_backward_data(const W& w, const DY& dy, const shape& input,
                                              const conv2d_params& p = {},
                                              optional_key key = {}) {
  return conv2d_backward_data<DX, typename expr::default_rounding<DX>::type, MaxK>(w, dy, input,
                                                                                   p, key);
}
template <class DW, std::size_t MaxK, tensor_like X, tensor_like DY>
[[nodiscard]] tensor<DW> conv2d_backward_weights(const X& x, const DY& dy, const shape& weights,
                                                 const conv2d_params& p = {},
                                                 optional_key key = {}) {
  return conv2d_backward_weights<DW, typename expr::default_rounding<DW>::type, MaxK>(
      x, dy, weights, p, key);
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp
