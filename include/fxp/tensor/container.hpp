// SPDX-License-Identifier: MIT
#pragma once
// fxp::tensor<T>: an owning, 64-byte aligned, row-major array of rank 1-4, and
// fxp::tensor_view<T>, the cheap non-owning window that slices and reshapes return.

#include <concepts>     // std::same_as for the element concept
#include <cstddef>      // std::size_t
#include <initializer_list>  // tensors from values
#include <memory>       // unique_ptr owning the aligned block, uninitialized_fill_n / _copy_n
#include <new>          // aligned operator new / delete
#include <ranges>       // tensors from ranges of values
#include <stdexcept>    // std::invalid_argument, std::out_of_range
#include <string>       // messages
#include <type_traits>  // std::remove_const_t, std::is_const_v
#include <utility>      // std::exchange: moved-from tensors are empty

#include "../core/fwd.hpp"
#include "shape.hpp"

namespace fxp {

/// What a tensor holds: float, double, or any fixed-point format.
template <class T>
concept tensor_element =
    std::same_as<T, float> || std::same_as<T, double> || fixed_point<T>;

/// Alignment of every tensor's first element: one cache line, and a full AVX-512 register.
inline constexpr std::size_t tensor_alignment = 64;

/// A non-owning, contiguous, row-major window on tensor data: a pointer and a shape. Slices
/// of the outermost dimension and reshapes are views; views are cheap to copy. A view of
/// `const T` is read-only. The data must outlive the view.
/// \tparam T the element type, possibly const
template <class T>
  requires tensor_element<std::remove_const_t<T>>
class tensor_view {
 public:
  using value_type = std::remove_const_t<T>;

  constexpr tensor_view() noexcept = default;
  constexpr tensor_view(T* data, const fxp::shape& s) noexcept : data_(data), shape_(s) {}
  /// A mutable view converts to a read-only one.
  template <class U>
    requires(std::is_const_v<T> && std::same_as<U, value_type>)
  constexpr tensor_view(const tensor_view<U>& v) noexcept : data_(v.data()), shape_(v.shape()) {}

  [[nodiscard]] constexpr T* data() const noexcept { return data_; }
  [[nodiscard]] constexpr const fxp::shape& shape() const noexcept { return shape_; }
  [[nodiscard]] constexpr std::size_t size() const noexcept { return shape_.size(); }
  [[nodiscard]] constexpr std::size_t rank() const noexcept { return shape_.rank(); }
  [[nodiscard]] constexpr T* begin() const noexcept { return data_; }
  [[nodiscard]] constexpr T* end() const noexcept { return data_ + size(); }

  /// Element at flat index i (no bounds check).
  [[nodiscard]] constexpr T& operator[](std::size_t i) const noexcept { return data_[i]; }

  /// Element at a multi-index, one index per axis (no bounds check; see at()).
  template <std::convertible_to<std::size_t>... Index>
  [[nodiscard]] constexpr T& operator()(Index... index) const noexcept {
    return data_[offset(static_cast<std::size_t>(index)...)];
  }

  /// Element at a multi-index, checked: std::out_of_range names the index and the shape.
  template <std::convertible_to<std::size_t>... Index>
  [[nodiscard]] T& at(Index... index) const {
    const std::size_t indices[] = {static_cast<std::size_t>(index)...};
    if (sizeof...(Index) != shape_.rank()) {
      throw std::out_of_range("fxp::tensor::at: " + std::to_string(sizeof...(Index)) +
                              " indices for a tensor of shape " + to_string(shape_));
    }
    for (std::size_t axis = 0; axis < sizeof...(Index); ++axis) {
      if (indices[axis] >= shape_[axis]) {
        throw std::out_of_range("fxp::tensor::at: index " + std::to_string(indices[axis]) +
                                " on axis " + std::to_string(axis) + " of shape " +
                                to_string(shape_));
      }
    }
    return (*this)(index...);
  }

  /// Rows [first, last) of the outermost dimension.
  [[nodiscard]] tensor_view slice(std::size_t first, std::size_t last) const {
    if (first > last || last > shape_[0]) {
      throw std::out_of_range("fxp::tensor::slice: [" + std::to_string(first) + ", " +
                              std::to_string(last) + ") of the outer extent of shape " +
                              to_string(shape_));
    }
    return tensor_view(data_ + first * shape_.stride(0), shape_.with_outer(last - first));
  }

  /// The same elements under another shape of the same size.
  [[nodiscard]] tensor_view reshape(const fxp::shape& s) const {
    if (s.size() != size()) {
      throw std::invalid_argument("fxp::tensor::reshape: cannot view " + to_string(shape_) +
                                  " (" + std::to_string(size()) + " elements) as " +
                                  to_string(s) + " (" + std::to_string(s.size()) +
                                  " elements)");
    }
    return tensor_view(data_, s);
  }

 private:
  template <class... Index>
  [[nodiscard]] constexpr std::size_t offset(Index... index) const noexcept {
    std::size_t flat = 0;
    std::size_t axis = 0;
    ((flat = flat * shape_[axis++] + index), ...);  // Horner: row-major
    return flat;
  }

  T* data_ = nullptr;
  fxp::shape shape_{};
};

namespace detail {
struct aligned_delete {
  void operator()(void* p) const noexcept {
    ::operator delete(p, std::align_val_t{tensor_alignment});
  }
};
}  // namespace detail

/// The tag of the constructors that leave a tensor's elements to be written:
/// `fxp::tensor<float> t(shape, fxp::for_overwrite)`.
struct for_overwrite_t {
  explicit for_overwrite_t() = default;
};
inline constexpr for_overwrite_t for_overwrite{};

/// An owning, 64-byte aligned, row-major tensor of rank 1-4 (NCHW for images) of float,
/// double or any fixed-point format. Copies are deep; slices and reshapes are views.
/// \tparam T the element type
template <tensor_element T>
class tensor {
 public:
  using value_type = T;

  /// An empty rank-1 tensor.
  tensor() = default;

  /// A tensor of the given shape, every element zero.
  explicit tensor(const fxp::shape& s) : tensor(s, T{}) {}

  /// A tensor of the given shape whose elements are left as allocated, to be written before
  /// they are read (as std::make_unique_for_overwrite): for a result a kernel writes whole,
  /// where zeroing it first would only cost time.
  tensor(const fxp::shape& s, for_overwrite_t)
    requires std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>
      : shape_(s), data_(allocate(s.size())) {}

  /// A tensor of the given shape, every element `value`.
  tensor(const fxp::shape& s, const T& value) : shape_(s), data_(allocate(s.size())) {
    std::uninitialized_fill_n(data_.get(), s.size(), value);
  }

  /// A deep copy of a view's elements.
  explicit tensor(tensor_view<const T> v) : shape_(v.shape()), data_(allocate(v.size())) {
    std::uninitialized_copy_n(v.data(), v.size(), data_.get());
  }

  /// A tensor of the given shape holding `values` in row-major order:
  /// `fxp::tensor<float> m(fxp::shape{2, 2}, {1, 2, 3, 4})`.
  /// \throws std::invalid_argument unless there are exactly s.size() values
  tensor(const fxp::shape& s, std::initializer_list<T> values) : tensor(s, values, 0) {}

  /// A tensor of the given shape holding the elements of `values` (any forward range of elements
  /// convertible to T: a std::vector, an array, a view) in row-major order.
  /// \throws std::invalid_argument unless there are exactly s.size() values
  template <std::ranges::forward_range R>
    requires std::convertible_to<std::ranges::range_reference_t<R>, T> &&
             (!std::same_as<std::remove_cvref_t<R>, T>)
  tensor(const fxp::shape& s, R&& values) : tensor(s, values, 0) {}

  tensor(const tensor& other) : tensor(other.view()) {}
  /// Moves leave `other` empty (shape{}, size 0), never a shape without storage.
  tensor(tensor&& other) noexcept
      : shape_(std::exchange(other.shape_, fxp::shape{})), data_(std::move(other.data_)) {}
  tensor& operator=(const tensor& other) {
    if (this != &other) *this = tensor(other);  // copy first: nothing changes if it throws
    return *this;
  }
  tensor& operator=(tensor&& other) noexcept {
    if (this != &other) {
      shape_ = std::exchange(other.shape_, fxp::shape{});
      data_ = std::move(other.data_);
    }
    return *this;
  }
  ~tensor() = default;

  [[nodiscard]] T* data() noexcept { return data_.get(); }
  [[nodiscard]] const T* data() const noexcept { return data_.get(); }
  [[nodiscard]] const fxp::shape& shape() const noexcept { return shape_; }
  [[nodiscard]] std::size_t size() const noexcept { return shape_.size(); }
  [[nodiscard]] std::size_t rank() const noexcept { return shape_.rank(); }
  [[nodiscard]] T* begin() noexcept { return data(); }
  [[nodiscard]] T* end() noexcept { return data() + size(); }
  [[nodiscard]] const T* begin() const noexcept { return data(); }
  [[nodiscard]] const T* end() const noexcept { return data() + size(); }

  /// The whole tensor as a view.
  [[nodiscard]] tensor_view<T> view() noexcept { return {data(), shape_}; }
  [[nodiscard]] tensor_view<const T> view() const noexcept { return {data(), shape_}; }
  operator tensor_view<T>() noexcept { return view(); }
  operator tensor_view<const T>() const noexcept { return view(); }

  [[nodiscard]] T& operator[](std::size_t i) noexcept { return data_.get()[i]; }
  [[nodiscard]] const T& operator[](std::size_t i) const noexcept { return data_.get()[i]; }

  template <std::convertible_to<std::size_t>... Index>
  [[nodiscard]] T& operator()(Index... index) noexcept {
    return view()(index...);
  }
  template <std::convertible_to<std::size_t>... Index>
  [[nodiscard]] const T& operator()(Index... index) const noexcept {
    return view()(index...);
  }
  template <std::convertible_to<std::size_t>... Index>
  [[nodiscard]] T& at(Index... index) {
    return view().at(index...);
  }
  template <std::convertible_to<std::size_t>... Index>
  [[nodiscard]] const T& at(Index... index) const {
    return view().at(index...);
  }

  /// Rows [first, last) of the outermost dimension, as a view.
  [[nodiscard]] tensor_view<T> slice(std::size_t first, std::size_t last) {
    return view().slice(first, last);
  }
  [[nodiscard]] tensor_view<const T> slice(std::size_t first, std::size_t last) const {
    return view().slice(first, last);
  }
  /// The same elements under another shape of the same size, as a view.
  [[nodiscard]] tensor_view<T> reshape(const fxp::shape& s) { return view().reshape(s); }
  [[nodiscard]] tensor_view<const T> reshape(const fxp::shape& s) const {
    return view().reshape(s);
  }

 private:
  template <class R>
  tensor(const fxp::shape& s, const R& values, int)
      : shape_(s), data_(allocate(checked_count(s, std::ranges::distance(values)))) {
    std::size_t n = 0;
    for (auto&& v : values) std::construct_at(data_.get() + n++, static_cast<T>(v));
  }

  static std::size_t checked_count(const fxp::shape& s, std::ptrdiff_t given) {
    if (given < 0 || static_cast<std::size_t>(given) != s.size()) {
      throw std::invalid_argument("fxp::tensor: " + std::to_string(given) +
                                  " values for a tensor of shape " + to_string(s) + " (" +
                                  std::to_string(s.size()) + " elements)");
    }
    return s.size();
  }

  static std::unique_ptr<T[], detail::aligned_delete> allocate(std::size_t n) {
    // Round the block up to whole cache lines so SIMD code may read a full last vector.
    const std::size_t bytes =
        (n * sizeof(T) + tensor_alignment - 1) / tensor_alignment * tensor_alignment;
    void* raw = ::operator new(bytes == 0 ? tensor_alignment : bytes,
                               std::align_val_t{tensor_alignment});
    return std::unique_ptr<T[], detail::aligned_delete>(static_cast<T*>(raw));
  }

  fxp::shape shape_{};
  std::unique_ptr<T[], detail::aligned_delete> data_ = allocate(0);
};

}  // namespace fxp
