// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// fxp::qtensor: a tensor of raw integers in one run-time format (fxp::dynamic_format), the
/// storage of layers whose precision is chosen at run time. The raw values live in the
/// smallest carrier of the format's width — fixed<8,0>, ufixed<8,0>, fixed<16,0>,
/// ufixed<16,0> or fixed<32,0> — so the compile-time kernels of that storage width serve
/// every format of it, and no code is instantiated per format.

#include <cstddef>      // std::size_t
#include <cstdint>      // raw values, saturation counts
#include <stdexcept>    // std::out_of_range, std::invalid_argument
#include <string>       // messages
#include <type_traits>  // std::remove_cvref_t
#include <utility>      // std::exchange: moved-from qtensors are empty
#include <variant>      // the carrier tensors

#include "../core/dynamic_format.hpp"
#include "../core/fixed.hpp"
#include "container.hpp"

namespace fxp {

/// A tensor of raw values of one run-time format: value(i) = raw(i) * 2^-frac.
///
/// Every element holds a raw value within the format's bounds (the kernels that produce
/// qtensors saturate into them and count how many they clamped: saturations()).
class qtensor {
 public:
  /// The carriers, one per storage width and signedness: raw integers as fixed<W, 0>.
  using storage = std::variant<tensor<fixed<8, 0>>, tensor<ufixed<8, 0>>, tensor<fixed<16, 0>>,
                               tensor<ufixed<16, 0>>, tensor<fixed<32, 0>>>;

  /// An empty tensor of format s16.8.
  qtensor() : qtensor(fxp::shape{0}, dynamic_format{}) {}

  /// A tensor of shape s, all raw values zero.
  /// \throws std::invalid_argument for a format out of range (dynamic_format::validate)
  qtensor(const fxp::shape& s, dynamic_format f)
      : shape_(s), format_(f), data_(make_storage(s.size(), f)) {}

  /// A tensor of shape s whose raw values are to be written before they are read (see
  /// fxp::for_overwrite): for the result of a kernel that writes every element.
  /// \throws std::invalid_argument for a format out of range (dynamic_format::validate)
  qtensor(const fxp::shape& s, dynamic_format f, for_overwrite_t)
      : shape_(s), format_(f), data_(make_storage(s.size(), f, true)) {}

  qtensor(const qtensor&) = default;
  qtensor& operator=(const qtensor&) = default;
  /// Moves leave `other` empty (shape{0}, no saturations) in its format, like tensor's.
  qtensor(qtensor&& other) noexcept
      : shape_(std::exchange(other.shape_, fxp::shape{0})),
        format_(other.format_),
        data_(std::move(other.data_)),
        saturations_(std::exchange(other.saturations_, 0)) {}
  qtensor& operator=(qtensor&& other) noexcept {
    if (this != &other) {
      shape_ = std::exchange(other.shape_, fxp::shape{0});
      format_ = other.format_;
      data_ = std::move(other.data_);
      saturations_ = std::exchange(other.saturations_, 0);
    }
    return *this;
  }

  [[nodiscard]] const fxp::shape& shape() const noexcept { return shape_; }
  [[nodiscard]] std::size_t size() const noexcept { return shape().size(); }
  [[nodiscard]] dynamic_format format() const noexcept { return format_; }

  /// Elements that left the format's range and were clamped when this tensor was made.
  [[nodiscard]] std::uint64_t saturations() const noexcept { return saturations_; }
  void set_saturations(std::uint64_t n) noexcept { saturations_ = n; }

  /// Calls f(p) with p the carrier pointer of the data (const fixed<8, 0>*, ...).
  template <class F>
  decltype(auto) visit(F&& f) const {
    return std::visit([&](const auto& t) -> decltype(auto) { return f(t.data()); }, data_);
  }
  template <class F>
  decltype(auto) visit(F&& f) {
    return std::visit([&](auto& t) -> decltype(auto) { return f(t.data()); }, data_);
  }

  /// The raw value of element i (flat, row-major).
  [[nodiscard]] std::int64_t raw(std::size_t i) const {
    check_index(i);
    return visit([i](const auto* p) { return static_cast<std::int64_t>(p[i].raw()); });
  }
  /// Sets the raw value of element i.
  /// \throws std::out_of_range when r is not a raw value of the format
  void set_raw(std::size_t i, std::int64_t r) {
    check_index(i);
    if (r < format_.raw_min() || r > format_.raw_max()) {
      throw std::out_of_range("fxp::qtensor::set_raw: " + std::to_string(r) +
                              " is not a raw value of " + format_.to_string());
    }
    visit([i, r](auto* p) {
      using carrier = std::remove_cvref_t<decltype(*p)>;
      p[i] = carrier::from_raw(static_cast<typename carrier::raw_type>(r));
    });
  }
  /// The value of element i, raw(i) * 2^-frac (exact: at most 32 significant bits).
  [[nodiscard]] double value(std::size_t i) const {
    return static_cast<double>(raw(i)) * format_.step();
  }

  /// Calls f(v) with v a read-only view (tensor_view<const fixed<8, 0>>, ...) of the raw
  /// values under this tensor's shape: how the carriers reach the compile-time kernels.
  template <class F>
  decltype(auto) visit_view(F&& f) const {
    return std::visit(
        [&](const auto& t) -> decltype(auto) {
          using carrier = typename std::remove_cvref_t<decltype(t)>::value_type;
          return f(tensor_view<const carrier>(t.data(), shape_));
        },
        data_);
  }

  /// The same values under another shape of as many elements, without a copy (flatten).
  /// \throws std::invalid_argument when the element counts differ
  void reshape(const fxp::shape& s) {
    if (s.size() != size()) {
      throw std::invalid_argument("fxp::qtensor::reshape: shape " + to_string(s) + " has " +
                                  std::to_string(s.size()) + " elements, the tensor " +
                                  std::to_string(size()) + " (shape " + to_string(shape()) + ")");
    }
    shape_ = s;
  }

 private:
  // The carriers are flat; shape_ gives them their shape.
  static storage make_storage(std::size_t n, dynamic_format f, bool overwrite = false) {
    const fxp::shape s{n};
    f.validate("fxp::qtensor");
    const auto make = [&]<class Carrier>() -> storage {
      if (overwrite) return tensor<Carrier>(s, for_overwrite);
      return tensor<Carrier>(s);
    };
    if (f.is_signed) {
      if (f.bits <= 8) return make.template operator()<fixed<8, 0>>();
      if (f.bits <= 16) return make.template operator()<fixed<16, 0>>();
      return make.template operator()<fixed<32, 0>>();
    }
    if (f.bits <= 8) return make.template operator()<ufixed<8, 0>>();
    if (f.bits <= 16) return make.template operator()<ufixed<16, 0>>();
    return make.template operator()<fixed<32, 0>>();
  }
  void check_index(std::size_t i) const {
    if (i >= size()) {
      throw std::out_of_range("fxp::qtensor: index " + std::to_string(i) + " of a tensor of " +
                              std::to_string(size()) + " elements");
    }
  }

  fxp::shape shape_;
  dynamic_format format_;
  storage data_;
  std::uint64_t saturations_ = 0;
};

}  // namespace fxp
