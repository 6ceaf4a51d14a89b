// SPDX-License-Identifier: MIT
#pragma once
// The shape of a rank 1-4 row-major tensor (NCHW for images).

#include <array>             // the four extents
#include <cstddef>           // std::size_t
#include <initializer_list>  // shape{2, 3, 4}
#include <stdexcept>         // std::invalid_argument for a bad rank
#include <string>            // to_string for messages

namespace fxp {

/// Extents of a tensor of rank 1 to 4, outermost first; row-major (the last extent varies
/// fastest), so images are NCHW.
class shape {
 public:
  static constexpr std::size_t max_rank = 4;

  /// A rank-1 shape of zero elements.
  constexpr shape() noexcept = default;

  /// shape{n}, shape{rows, cols}, shape{n, c, h, w}. Throws std::invalid_argument for rank 0
  /// or a rank above 4.
  constexpr shape(std::initializer_list<std::size_t> extents) : rank_(extents.size()) {
    if (extents.size() == 0 || extents.size() > max_rank) {
      throw std::invalid_argument("fxp::shape: rank must be between 1 and 4; got " +
                                  std::to_string(extents.size()));
    }
    std::size_t i = 0;
    for (std::size_t e : extents) extents_[i++] = e;
  }

  [[nodiscard]] constexpr std::size_t rank() const noexcept { return rank_; }
  /// Extent `axis` (0 = outermost); no check.
  [[nodiscard]] constexpr std::size_t operator[](std::size_t axis) const noexcept {
    return extents_[axis];
  }
  /// The number of elements: the product of the extents.
  [[nodiscard]] constexpr std::size_t size() const noexcept {
    std::size_t n = 1;
    for (std::size_t i = 0; i < rank_; ++i) n *= extents_[i];
    return n;
  }
  /// Elements between consecutive indices of `axis`: the product of the inner extents.
  [[nodiscard]] constexpr std::size_t stride(std::size_t axis) const noexcept {
    std::size_t s = 1;
    for (std::size_t i = axis + 1; i < rank_; ++i) s *= extents_[i];
    return s;
  }
  /// The same shape with the outermost extent replaced (a slice of the outer dimension).
  [[nodiscard]] constexpr shape with_outer(std::size_t outer) const noexcept {
    shape s = *this;
    s.extents_[0] = outer;
    return s;
  }

  [[nodiscard]] friend constexpr bool operator==(const shape& a, const shape& b) noexcept {
    if (a.rank_ != b.rank_) return false;
    for (std::size_t i = 0; i < a.rank_; ++i)
      if (a.extents_[i] != b.extents_[i]) return false;
    return true;
  }

 private:
  std::array<std::size_t, max_rank> extents_{};
  std::size_t rank_ = 1;
};

/// "[2, 3, 4]", for messages.
[[nodiscard]] inline std::string to_string(const shape& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.rank(); ++i) {
    if (i != 0) out += ", ";
    out += std::to_string(s[i]);
  }
  return out + "]";
}

}  // namespace fxp
