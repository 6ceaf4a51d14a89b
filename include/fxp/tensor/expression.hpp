// SPDX-License-Identifier: MIT
#pragma once
// Lazy element-wise expressions over tensors. `a * b + c` builds a small tree of nodes;
// nothing is computed until the tree is assigned (fxp::assign, fxp::eval) or reduced
// (fxp::sum, fxp::max), and then in one pass: SIMD batches of the raw integer lanes (float
// lanes for float tensors) for the body, the scalar core for the tail. Fixed-point nodes
// have the exact result types of the scalar core, so nothing rounds inside an expression.
// The nodes are templates on the lanes' architecture: a pass runs on that of
// fxp::simd::active_isa() (simd/detail/array_dispatch.hpp), the same bits on every one.

#include <algorithm>    // std::max over widths
#include <concepts>     // std::same_as
#include <cstddef>      // std::size_t
#include <cstdint>      // lane integers
#include <stdexcept>    // std::invalid_argument for mismatched shapes
#include <tuple>        // the operands of a node
#include <type_traits>  // std::remove_cvref_t, std::conditional_t
#include <utility>      // std::declval, std::index_sequence

#include "../simd/detail/array_dispatch.hpp"
#include "../simd/detail/isa_namespace.hpp"
#include "../simd/detail/lane_ops.hpp"
#include "../simd/lanes.hpp"  // xsimd, with GCC 12's AVX-512 false warnings silenced

#include "../core/arithmetic.hpp"
#include "../core/compare.hpp"
#include "../core/detail/raw_array.hpp"
#include "../core/thread_pool.hpp"
#include "container.hpp"

namespace fxp {

namespace detail {
FXP_BEGIN_ISA_NAMESPACE

/// Elements per task of the element-wise kernels: large enough that a task's start-up
/// (and a stochastic cast's first Philox tile) is noise, small enough to balance threads.
/// A multiple of every batch width and Philox tile, so pieces split no batch.
inline constexpr std::size_t elements_per_task = std::size_t{1} << 16;

/// Pieces are whole multiples of this many elements (a multiple of every batch width), and
/// a tensor is split for the pool only into pieces at least this long.
inline constexpr std::size_t min_elements_per_task = std::size_t{1} << 12;

/// Runs body(first, count) over [0, n) in pieces on the pool (inline when n is one piece):
/// at most elements_per_task each, whole multiples of min_elements_per_task, and as many as
/// threads when n allows (the 102,400 weights of a dense layer in pieces of 65,536 and
/// 36,864 left one of two threads idle for 44% of the time).
template <class Body>
void for_each_piece(std::size_t n, Body body) {
  const auto ceil_div = [](std::size_t a, std::size_t b) { return (a + b - 1) / b; };
  const std::size_t wanted = std::max(ceil_div(n, elements_per_task),
                                      std::min(fxp::num_threads(), ceil_div(n, min_elements_per_task)));
  if (wanted <= 1) {
    body(std::size_t{0}, n);
    return;
  }
  const std::size_t size = ceil_div(ceil_div(n, wanted), min_elements_per_task) * min_elements_per_task;
  fxp::detail::parallel_for(ceil_div(n, size), [&](std::size_t t) {
    const std::size_t first = t * size;
    body(first, std::min(size, n - first));
  });
}

FXP_END_ISA_NAMESPACE
}  // namespace detail

namespace expr {
FXP_BEGIN_ISA_NAMESPACE

/// The bits a signed integer lane needs to hold every raw value of T (one more than the
/// width for unsigned formats), 0 for float.
template <class T>
inline constexpr int width_of = 0;
template <fixed_point T>
inline constexpr int width_of<T> = T::width + (T::is_signed ? 0 : 1);

/// The raw representation of an element: float itself, or the fixed type's raw integer.
template <class T>
struct raw_of {
  using type = T;
};
template <fixed_point T>
struct raw_of<T> {
  using type = typename T::raw_type;
};
template <class T>
using raw_t = typename raw_of<T>::type;

using fxp::detail::raw_pointer;

/// The raw value of one element.
template <class T>
[[nodiscard]] constexpr raw_t<T> raw_value(const T& x) noexcept {
  if constexpr (fixed_point<T>) {
    return x.raw();
  } else {
    return x;
  }
}

/// A batch of lanes holding raw values (float lanes, or 32- or 64-bit integers) on
/// architecture Arch.
template <class Lane, class Arch>
using lanes = xsimd::batch<Lane, Arch>;

/// Raw lanes of format From rescaled to format To (To has at least From's fractional
/// bits); the identity for float.
template <class To, class From, class Lane, class Arch>
[[nodiscard]] lanes<Lane, Arch> align(const lanes<Lane, Arch>& x) noexcept {
  if constexpr (fixed_point<To>) {
    constexpr int shift = To::fraction_bits - From::fraction_bits;
    static_assert(shift >= 0);
    if constexpr (shift == 0) {
      return x;
    } else {
      return x << shift;
    }
  } else {
    return x;
  }
}

/// The lane type that holds every raw value of a subtree whose widest value has `Width` bits.
template <class Value, int Width>
using lane_for = std::conditional_t<!fixed_point<Value>, Value,
                                    std::conditional_t<(Width <= 32), std::int32_t, std::int64_t>>;

// ---- leaves ---------------------------------------------------------------------------

/// A read-only tensor operand.
template <class T>
class leaf {
 public:
  using value_type = T;
  static constexpr int max_width = width_of<T>;

  explicit leaf(tensor_view<const T> v) noexcept : view_(v) {}

  [[nodiscard]] const fxp::shape* shape() const noexcept { return &view_.shape(); }
  [[nodiscard]] T at(std::size_t i) const noexcept { return view_[i]; }
  template <class Lane, class Arch>
  [[nodiscard]] lanes<Lane, Arch> load(std::size_t i) const noexcept {
    return simd::detail::load_converted<Lane, Arch>(raw_pointer(view_.data()) + i);
  }

 private:
  tensor_view<const T> view_;
};

/// A scalar operand, the same for every element.
template <class T>
class constant {
 public:
  using value_type = T;
  static constexpr int max_width = width_of<T>;

  explicit constant(const T& value) noexcept : value_(value) {}

  [[nodiscard]] const fxp::shape* shape() const noexcept { return nullptr; }  // broadcasts
  [[nodiscard]] T at(std::size_t) const noexcept { return value_; }
  template <class Lane, class Arch>
  [[nodiscard]] lanes<Lane, Arch> load(std::size_t) const noexcept {
    return lanes<Lane, Arch>(static_cast<Lane>(raw_value(value_)));
  }

 private:
  T value_;
};

// ---- operations: one functor each, with a scalar and a lane form ------------------------

/// a + b, exact.
struct add {
  template <class A, class B>
  using result = decltype(std::declval<A>() + std::declval<B>());
  template <class A, class B>
  [[nodiscard]] constexpr auto operator()(const A& a, const B& b) const noexcept {
    return a + b;
  }
  template <class R, class A, class B, class Lane, class Arch>
  [[nodiscard]] lanes<Lane, Arch> operator()(const lanes<Lane, Arch>& a,
                                             const lanes<Lane, Arch>& b) const noexcept {
    return align<R, A>(a) + align<R, B>(b);
  }
};

/// a - b, exact.
struct subtract {
  template <class A, class B>
  using result = decltype(std::declval<A>() - std::declval<B>());
  template <class A, class B>
  [[nodiscard]] constexpr auto operator()(const A& a, const B& b) const noexcept {
    return a - b;
  }
  template <class R, class A, class B, class Lane, class Arch>
  [[nodiscard]] lanes<Lane, Arch> operator()(const lanes<Lane, Arch>& a,
                                             const lanes<Lane, Arch>& b) const noexcept {
    return align<R, A>(a) - align<R, B>(b);
  }
};

/// a * b, exact: the raw product is the raw value of the product's format.
struct multiply {
  template <class A, class B>
  using result = decltype(std::declval<A>() * std::declval<B>());
  template <class A, class B>
  [[nodiscard]] constexpr auto operator()(const A& a, const B& b) const noexcept {
#if defined(__GNUC__) && !defined(__clang__)
    if constexpr (std::is_floating_point_v<A> && std::is_floating_point_v<B>) {
      // Rounded on its own, here and in the lanes: an evaluation inlined into a region
      // with FMA would otherwise fuse it with a following sum (g++'s C++ default is
      // -ffp-contract=fast), unlike the same expression on another path.
      if (!std::is_constant_evaluated()) return __builtin_assoc_barrier(a * b);
    }
#endif
    return a * b;
  }
  template <class R, class A, class B, class Lane, class Arch>
  [[nodiscard]] lanes<Lane, Arch> operator()(const lanes<Lane, Arch>& a,
                                             const lanes<Lane, Arch>& b) const noexcept {
#if defined(__GNUC__) && !defined(__clang__)
    if constexpr (std::is_floating_point_v<Lane> && simd::detail::is_vector_arch<Arch>) {
      return lanes<Lane, Arch>::from_native(__builtin_assoc_barrier(a.native() * b.native()));
    }
#endif
    return a * b;
  }
};

/// -a, exact (one more integer bit for fixed point).
struct negate {
  template <class A>
  using result = decltype(-std::declval<A>());
  template <class A>
  [[nodiscard]] constexpr auto operator()(const A& a) const noexcept {
    return -a;
  }
  template <class R, class A, class Lane, class Arch>
  [[nodiscard]] lanes<Lane, Arch> operator()(const lanes<Lane, Arch>& a) const noexcept {
    return align<R, A>(-a);
  }
};

/// max(a, 0), in a's own format.
struct relu {
  template <class A>
  using result = A;
  template <class A>
  [[nodiscard]] constexpr A operator()(const A& a) const noexcept {
    return a < A{} ? A{} : a;
  }
  template <class R, class A, class Lane, class Arch>
  [[nodiscard]] lanes<Lane, Arch> operator()(const lanes<Lane, Arch>& a) const noexcept {
    return simd::detail::lane_max(a, lanes<Lane, Arch>(Lane{0}));
  }
};

/// min(max(a, lo), hi), in a's own format.
template <class T>
struct clamp {
  T lo;
  T hi;
  template <class A>
  using result = A;
  template <class A>
  [[nodiscard]] constexpr A operator()(const A& a) const noexcept {
    return a < lo ? lo : (hi < a ? hi : a);
  }
  template <class R, class A, class Lane, class Arch>
  [[nodiscard]] lanes<Lane, Arch> operator()(const lanes<Lane, Arch>& a) const noexcept {
    return simd::detail::lane_min(
        simd::detail::lane_max(a, lanes<Lane, Arch>(static_cast<Lane>(raw_value(lo)))),
        lanes<Lane, Arch>(static_cast<Lane>(raw_value(hi))));
  }
};

// ---- the node that applies an operation ------------------------------------------------

/// Op applied element-wise to the operands' values.
template <class Op, class... Args>
class apply {
 public:
  using value_type = typename Op::template result<typename Args::value_type...>;
  static_assert((... && (fixed_point<typename Args::value_type> == fixed_point<value_type>)),
                "fxp: an expression cannot mix float and fixed-point tensors; convert one "
                "side first (fxp::cast, fxp::quantize, fxp::dequantize)");
  static constexpr int max_width = std::max({width_of<value_type>, Args::max_width...});

  apply(Op op, Args... args) : op_(op), args_(args...) {
    const fxp::shape* first = nullptr;
    (check_shape(first, args.shape()), ...);
  }

  /// The shape shared by the tensor operands (null when every operand is a scalar).
  [[nodiscard]] const fxp::shape* shape() const noexcept {
    const fxp::shape* s = nullptr;
    std::apply([&](const auto&... arg) { ((s = s ? s : arg.shape()), ...); }, args_);
    return s;
  }

  /// Element i, computed by the scalar core: the reference the lanes must match.
  [[nodiscard]] value_type at(std::size_t i) const noexcept {
    return std::apply([&](const auto&... arg) { return op_(arg.at(i)...); }, args_);
  }

  /// Elements i .. i + lanes - 1 as raw lanes of value_type.
  template <class Lane, class Arch>
  [[nodiscard]] lanes<Lane, Arch> load(std::size_t i) const noexcept {
    return std::apply(
        [&](const auto&... arg) {
          return op_.template operator()<value_type,
                                         typename std::remove_cvref_t<decltype(arg)>::value_type...>(
              arg.template load<Lane, Arch>(i)...);
        },
        args_);
  }

 private:
  static void check_shape(const fxp::shape*& first, const fxp::shape* s) {
    if (s == nullptr) return;
    if (first != nullptr && !(*first == *s)) {
      throw std::invalid_argument("fxp: element-wise operation on tensors of shapes " +
                                  to_string(*first) + " and " + to_string(*s));
    }
    first = s;
  }

  Op op_;
  std::tuple<Args...> args_;
};

template <class T>
struct is_node : std::false_type {};
template <class T>
struct is_node<leaf<T>> : std::true_type {};
template <class T>
struct is_node<constant<T>> : std::true_type {};
template <class Op, class... Args>
struct is_node<apply<Op, Args...>> : std::true_type {};

template <class T>
struct is_tensor_like : std::false_type {};
template <class T>
struct is_tensor_like<tensor<T>> : std::true_type {};
template <class T>
struct is_tensor_like<tensor_view<T>> : std::true_type {};

FXP_END_ISA_NAMESPACE
}  // namespace expr
FXP_BEGIN_ISA_NAMESPACE

/// An expression node, a tensor or a tensor view: something with a shape.
template <class T>
concept tensor_expression = expr::is_node<std::remove_cvref_t<T>>::value ||
                            expr::is_tensor_like<std::remove_cvref_t<T>>::value;

/// What may stand beside a tensor expression: another one, or a scalar.
template <class T>
concept expression_operand =
    tensor_expression<T> || fixed_point<std::remove_cvref_t<T>> ||
    std::same_as<std::remove_cvref_t<T>, float> || std::same_as<std::remove_cvref_t<T>, double>;

FXP_END_ISA_NAMESPACE
namespace expr {
FXP_BEGIN_ISA_NAMESPACE
/// The node for any operand: tensors become leaves, scalars constants, nodes stay.
template <class T>
[[nodiscard]] auto as_node(const T& x) {
  if constexpr (is_node<T>::value) {
    return x;
  } else if constexpr (is_tensor_like<T>::value) {
    using element = std::remove_const_t<typename T::value_type>;
    return leaf<element>(tensor_view<const element>(x));
  } else if constexpr (std::same_as<T, double>) {
    return constant<float>(static_cast<float>(x));  // float tensors compute in float
  } else {
    return constant<T>(x);
  }
}

template <class Op, class... Args>
[[nodiscard]] auto make(Op op, const Args&... args) {
  return apply<Op, decltype(as_node(args))...>(op, as_node(args)...);
}
FXP_END_ISA_NAMESPACE
}  // namespace expr
FXP_BEGIN_ISA_NAMESPACE

/// Exact element-wise sum (fixed point) or float sum; a lazy expression.
template <expression_operand A, expression_operand B>
  requires(tensor_expression<A> || tensor_expression<B>)
[[nodiscard]] auto operator+(const A& a, const B& b) {
  return expr::make(expr::add{}, a, b);
}
/// Exact element-wise difference; a lazy expression.
template <expression_operand A, expression_operand B>
  requires(tensor_expression<A> || tensor_expression<B>)
[[nodiscard]] auto operator-(const A& a, const B& b) {
  return expr::make(expr::subtract{}, a, b);
}
/// Exact element-wise product; a lazy expression.
template <expression_operand A, expression_operand B>
  requires(tensor_expression<A> || tensor_expression<B>)
[[nodiscard]] auto operator*(const A& a, const B& b) {
  return expr::make(expr::multiply{}, a, b);
}
/// Exact element-wise negation; a lazy expression.
template <tensor_expression A>
[[nodiscard]] auto operator-(const A& a) {
  return expr::make(expr::negate{}, a);
}
/// max(a, 0) element-wise, in a's format; a lazy expression.
template <tensor_expression A>
[[nodiscard]] auto relu(const A& a) {
  return expr::make(expr::relu{}, a);
}
/// min(max(a, lo), hi) element-wise, in a's format; a lazy expression.
template <tensor_expression A, class T>
[[nodiscard]] auto clamp(const A& a, const T& lo, const T& hi) {
  using node = decltype(expr::as_node(a));
  using value = typename node::value_type;
  return expr::make(expr::clamp<value>{value(lo), value(hi)}, a);
}

/// The element type of an expression.
template <tensor_expression E>
using value_type_t = typename decltype(expr::as_node(std::declval<E>()))::value_type;

/// Evaluates `e` into `out` in one pass: SIMD lanes for the body, the scalar core for the
/// tail, in pieces of 2^16 elements on the thread pool (fxp::set_num_threads; the bits do
/// not depend on it). The element type of `out` must hold every value of `e` exactly
/// (narrow with fxp::cast); throws std::invalid_argument when the shapes differ. When an
/// element throws (a cast under fxp::checked, a NaN), the exception reaches the caller and
/// `out` holds some elements' results, not all.
template <class T, tensor_expression E>
void assign(tensor_view<T> out, const E& e) {
  // The node's type is spelled out, not `auto`: g++ 12 confuses a deduced local type named
  // inside a generic lambda (the kernel below) with the lambda's own parameter.
  using node_t = decltype(expr::as_node(e));
  const node_t node = expr::as_node(e);
  using value = typename node_t::value_type;
  if constexpr (fixed_point<T>) {
    static_assert(detail::is_lossless(value::integer_bits, value::fraction_bits, value::is_signed,
                                      T::integer_bits, T::fraction_bits, T::is_signed),
                  "fxp::assign: the target format cannot hold every value of the expression; "
                  "narrow it with fxp::cast<T, Round>(expression)");
  } else {
    static_assert(std::same_as<T, value>, "fxp::assign: a float expression needs a float target");
  }
  const fxp::shape* s = node.shape();
  if (s != nullptr && !(*s == out.shape())) {
    throw std::invalid_argument("fxp::assign: expression of shape " + to_string(*s) +
                                " into a tensor of shape " + to_string(out.shape()));
  }
  using lane = expr::lane_for<value, std::max(node_t::max_width, expr::width_of<T>)>;
  auto* dst = expr::raw_pointer(out.data());
  detail::for_each_piece(out.size(), [&](std::size_t first, std::size_t count) {
    const node_t piece = node;  // nodes may cache (random words): one copy per thread
    const std::size_t end = first + count;
    simd::detail::run_array_kernel([&]<class Arch>(Arch) {
      std::size_t i = first;
      if constexpr (simd::simd_arch<Arch>) {
        constexpr std::size_t width = expr::lanes<lane, Arch>::size;
        for (; i + width <= end; i += width) {
          simd::detail::store_converted(
              dst + i, expr::align<T, value>(piece.template load<lane, Arch>(i)));
        }
      }
      for (; i < end; ++i) out[i] = T(piece.at(i));
    });
  });
}

/// Evaluates `e` into a new tensor of its exact element type.
template <tensor_expression E>
[[nodiscard]] auto eval(const E& e) {
  const auto node = expr::as_node(e);
  using value = typename decltype(node)::value_type;
  const fxp::shape* s = node.shape();
  tensor<value> out(s ? *s : fxp::shape{1});
  assign(out.view(), node);
  return out;
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp
