// SPDX-License-Identifier: MIT
#pragma once
// Overflow policies: what happens when a value does not fit the target format. Each policy
// is called only once a conversion has found the exact value out of range.

#include <concepts>   // std::same_as for the policy concept
#include <cstdint>    // the 64 low bits of the exact value
#include <stdexcept>  // std::overflow_error, base of fxp::overflow_error
#include <string>     // the message of fxp::overflow_error

namespace fxp {

/// Thrown by the `checked` overflow policy when a value does not fit its format.
class overflow_error : public std::overflow_error {
 public:
  using std::overflow_error::overflow_error;
};

// Every policy gets the target's description (`Format::raw_type`, `raw_min`, `raw_max`,
// `width`, `is_signed`, `name()`), the sign of the exact value and its low 64 bits, which
// is all that saturation, two's complement wrapping or an error message needs.

/// Clamp to the largest or smallest value of the format.
struct saturate {
  static constexpr const char* name = "saturate";
  template <class Format>
  [[nodiscard]] static constexpr typename Format::raw_type on_overflow(bool negative,
                                                                       std::uint64_t) noexcept {
    return negative ? Format::raw_min : Format::raw_max;
  }
};

/// Keep the low W bits (two's complement modulo 2^W), as integer hardware does. An infinite
/// input wraps to zero: it is the limit of 2^n, which is 0 modulo 2^W for every n >= W.
struct wrap {
  static constexpr const char* name = "wrap";
  template <class Format>
  [[nodiscard]] static constexpr typename Format::raw_type on_overflow(
      bool, std::uint64_t low_bits) noexcept {
    constexpr int w = Format::width;
    constexpr std::uint64_t mask = w >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << w) - 1;
    std::uint64_t bits = low_bits & mask;
    if constexpr (Format::is_signed) {
      if ((bits >> (w - 1)) & 1u) bits |= ~mask;  // sign-extend
    }
    return static_cast<typename Format::raw_type>(bits);
  }
};

/// Throw fxp::overflow_error; a conversion that overflows is then not a constant expression.
struct checked {
  static constexpr const char* name = "checked";
  template <class Format>
  [[noreturn]] static typename Format::raw_type on_overflow(bool negative, std::uint64_t) {
    throw overflow_error(std::string("fxp: ") + (negative ? "negative" : "positive") +
                         " overflow: value out of the range of " + Format::name());
  }
};

namespace detail {
/// A format description used only to state the shape of a policy's on_overflow.
struct probe_format {
  using raw_type = std::int8_t;
  static constexpr raw_type raw_min = -128;
  static constexpr raw_type raw_max = 127;
  static constexpr int width = 8;
  static constexpr bool is_signed = true;
  static std::string name() { return "probe"; }
};
}  // namespace detail

/// Any overflow policy: fxp::saturate, wrap, checked, or a user tag of the same shape.
template <class O>
concept overflow_policy = requires(bool negative, std::uint64_t low_bits) {
  { O::name } -> std::convertible_to<const char*>;
  { O::template on_overflow<detail::probe_format>(negative, low_bits) } -> std::same_as<std::int8_t>;
};

}  // namespace fxp
