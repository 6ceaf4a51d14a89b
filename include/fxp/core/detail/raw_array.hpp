// SPDX-License-Identifier: MIT
#pragma once
// Arrays of fixed-point values read and written as arrays of their raw integers, which is
// how every SIMD loop (kernels, expressions) touches them.

#include <concepts>     // std::floating_point
#include <type_traits>  // layout traits

#include "../fwd.hpp"

namespace fxp::detail {

/// Valid because basic_fixed is a standard-layout class whose only non-static member is its
/// raw value: the object and that member are pointer-interconvertible, so a `const T*` cast
/// to `const raw_type*` points at the element's raw value, and with sizeof(T) ==
/// sizeof(raw_type) the elements lie back to back like a raw array. (SIMD loads and stores
/// copy bytes in any case, as memcpy would, which T, being trivially copyable, allows.)
template <fixed_point T>
constexpr bool check_raw_layout() {
  using raw_type = typename T::raw_type;
  static_assert(std::is_standard_layout_v<T> && std::is_trivially_copyable_v<T> &&
                    sizeof(T) == sizeof(raw_type) && alignof(T) == alignof(raw_type),
                "fxp::basic_fixed must be laid out exactly as its raw integer");
  return true;
}

/// The array of raw integers under an array of T.
template <fixed_point T>
[[nodiscard]] inline typename T::raw_type* raw_pointer(T* p) noexcept {
  static_assert(check_raw_layout<T>());
  return reinterpret_cast<typename T::raw_type*>(p);
}
template <fixed_point T>
[[nodiscard]] inline const typename T::raw_type* raw_pointer(const T* p) noexcept {
  static_assert(check_raw_layout<T>());
  return reinterpret_cast<const typename T::raw_type*>(p);
}
/// Floating-point values are their own raw values.
template <std::floating_point T>
[[nodiscard]] inline T* raw_pointer(T* p) noexcept {
  return p;
}
template <std::floating_point T>
[[nodiscard]] inline const T* raw_pointer(const T* p) noexcept {
  return p;
}

}  // namespace fxp::detail
