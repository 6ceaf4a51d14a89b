// SPDX-License-Identifier: MIT
#pragma once
// A writer of self-contained C headers for embedded and HLS targets: named integer arrays
// (the raw values of fixed-point tensors) with their lengths, shapes and formats as macros,
// float arrays (golden input / output vectors), and scalar constants; C99 with <stdint.h>,
// an include guard, checked identifiers, and an atomic save. The NN layer builds a model's
// export on it.

#include <array>         // keyword list
#include <charconv>      // std::to_chars: shortest round-trip float literals
#include <cmath>         // std::isfinite, std::ldexp
#include <concepts>      // std::same_as
#include <cstddef>       // std::size_t
#include <cstdint>       // element types
#include <filesystem>    // paths
#include <limits>        // range checks
#include <optional>      // an array's optional shape
#include <ranges>        // contiguous ranges of values
#include <set>           // identifiers already used
#include <span>          // byte view of the text
#include <stdexcept>     // std::invalid_argument
#include <string>        // the header text
#include <string_view>   // names
#include <type_traits>   // std::is_signed_v, std::remove_cv_t

#include "../tensor/shape.hpp"
#include "file.hpp"

namespace fxp::io {

/// Integer element types of C arrays, each written as the <stdint.h> type of the same name.
template <class T>
concept c_integer = std::same_as<T, std::int8_t> || std::same_as<T, std::uint8_t> ||
                    std::same_as<T, std::int16_t> || std::same_as<T, std::uint16_t> ||
                    std::same_as<T, std::int32_t> || std::same_as<T, std::uint32_t>;

/// The format of a fixed-point array: total bits (sign included), fractional bits (value =
/// raw * 2^-frac_bits; may be negative or exceed bits), signedness.
struct c_fixed_format {
  int bits = 8;
  int frac_bits = 0;
  bool is_signed = true;
};

namespace detail {

inline constexpr std::array<std::string_view, 44> c_keywords = {
    "auto",     "break",    "case",     "char",   "const",    "continue", "default",
    "do",       "double",   "else",     "enum",   "extern",   "float",    "for",
    "goto",     "if",       "inline",   "int",    "long",     "register", "restrict",
    "return",   "short",    "signed",   "sizeof", "static",   "struct",   "switch",
    "typedef",  "union",    "unsigned", "void",   "volatile", "while",    "bool",
    "true",     "false",    "nullptr",  "alignas", "alignof", "static_assert",
    "thread_local", "typeof", "constexpr"};

[[nodiscard]] constexpr bool c_letter(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
[[nodiscard]] constexpr bool c_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// Why `name` is not usable as a file-scope C identifier, or empty if it is.
[[nodiscard]] inline std::string c_identifier_problem(std::string_view name) {
  if (name.empty()) return "it is empty";
  if (!c_letter(name[0])) return "it does not start with a letter";
  for (const char c : name)
    if (!c_letter(c) && !c_digit(c)) return "it holds a character other than A-Z, a-z, 0-9, _";
  if (name[0] == '_') return "names starting with '_' are reserved at file scope in C";
  for (const std::string_view k : c_keywords)
    if (name == k) return "it is a C keyword";
  const auto ends = [&](std::string_view s) { return name.ends_with(s); };
  if ((name.starts_with("int") || name.starts_with("uint")) && ends("_t"))
    return "it is a <stdint.h> type name";
  if ((name.starts_with("INT") || name.starts_with("UINT")) &&
      (ends("_MAX") || ends("_MIN") || ends("_C")))
    return "it is a <stdint.h> macro name";
  return {};
}

template <class T>
[[nodiscard]] constexpr const char* c_type_name() noexcept {
  if constexpr (std::same_as<T, std::int8_t>) return "int8_t";
  else if constexpr (std::same_as<T, std::uint8_t>) return "uint8_t";
  else if constexpr (std::same_as<T, std::int16_t>) return "int16_t";
  else if constexpr (std::same_as<T, std::uint16_t>) return "uint16_t";
  else if constexpr (std::same_as<T, std::int32_t>) return "int32_t";
  else return "uint32_t";
}

/// A C literal of an integer of up to 64 bits, valid whatever the target's int width.
[[nodiscard]] inline std::string c_int_literal(std::int64_t v) {
  if (v == std::numeric_limits<std::int64_t>::min()) return "(-INT64_C(9223372036854775807) - 1)";
  if (v == std::int64_t{-2147483647} - 1) return "(-2147483647 - 1)";
  if (v < std::int64_t{-2147483647} - 1 || v > 2147483647) return "INT64_C(" + std::to_string(v) + ")";
  return std::to_string(v);
}

/// The shortest C float literal that reads back as exactly `x` ("0.33333334f", "1.0f").
[[nodiscard]] inline std::string c_float_literal(float x) {
  char text[64];
  const auto result = std::to_chars(text, text + sizeof text, x);
  std::string s(text, result.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s + "f";
}

}  // namespace detail

/// Whether `name` can name a C array or macro at file scope: [A-Za-z][A-Za-z0-9_]*, not a
/// keyword, not reserved (leading underscore), not a <stdint.h> name.
[[nodiscard]] inline bool is_c_identifier(std::string_view name) {
  return detail::c_identifier_problem(name).empty();
}

/// A valid C identifier made from any text: characters other than letters, digits and '_'
/// become '_', a name that does not start with a letter gets the prefix "v_", and a keyword
/// or other reserved name gets a trailing '_' ("conv1.weights" -> "conv1_weights").
[[nodiscard]] inline std::string to_c_identifier(std::string_view text) {
  std::string out;
  for (const char c : text) out += detail::c_letter(c) || detail::c_digit(c) ? c : '_';
  if (out.empty() || !(detail::c_letter(out[0]) && out[0] != '_')) out = "v_" + out;
  while (!is_c_identifier(out)) out += '_';
  return out;
}

/// Builds a self-contained C99 header: an include guard, `#include <stdint.h>`, then the
/// entries in the order they are added. Every name is checked (`is_c_identifier`) and must
/// be unique among all the header's names, the macros derived from array names included;
/// a bad name, an empty array, a non-finite float or a raw value outside its format is a
/// std::invalid_argument naming it.
///
/// An array `w` of n values is written as
/// \code
/// #define W_LENGTH n
/// static const int8_t w[n] = { ... };
/// \endcode
/// so the header can be included by several translation units of one program.
class c_header {
 public:
  /// A header whose guard is the upper-cased `name` followed by `_H` (`name` is checked as
  /// an identifier; e.g. "fxp_model" -> FXP_MODEL_H).
  explicit c_header(std::string_view name) : guard_(upper(checked(name)) + "_H") {
    claim(guard_);
  }

  /// A C comment line (or lines) at this point; "*/" inside is written as "* /".
  c_header& comment(std::string_view text) {
    std::string line;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') {
        body_ += "/* " + line + " */\n";
        line.clear();
      } else {
        line += text[i];
        if (text[i] == '*' && i + 1 < text.size() && text[i + 1] == '/') line += ' ';
      }
    }
    body_ += "/* " + line + " */\n";
    return *this;
  }

  /// `#define name value`, an integer constant.
  c_header& define(std::string_view name, std::int64_t value) {
    claim(std::string(checked(name)));
    body_ += "#define " + std::string(name) + " " + detail::c_int_literal(value) + "\n";
    return *this;
  }

  /// `#define name value`, a float constant written so it reads back exactly.
  c_header& define_float(std::string_view name, float value) {
    claim(std::string(checked(name)));
    body_ += "#define " + std::string(name) + " " + finite(name, value) + "\n";
    return *this;
  }

  /// An integer array with its `NAME_LENGTH` macro; with a shape (whose size must be the
  /// number of values), also `NAME_RANK` and `NAME_DIM0` ... (outermost first).
  template <std::ranges::contiguous_range R>
    requires c_integer<std::remove_cv_t<std::ranges::range_value_t<R>>>
  c_header& array(std::string_view name, const R& values,
                  std::optional<fxp::shape> shape = std::nullopt) {
    using T = std::remove_cv_t<std::ranges::range_value_t<R>>;
    std::string items;
    items.reserve(std::ranges::size(values) * 6);
    for (const T v : values) {
      if constexpr (std::is_signed_v<T>) {
        items += detail::c_int_literal(v);
      } else {
        items += std::to_string(v) + (sizeof(T) == 4 ? "u" : "");  // no sign: no minimum trick
      }
      items += ',';
    }
    return add_array(name, detail::c_type_name<T>(), std::ranges::size(values), items, shape);
  }

  /// A float array (e.g. a golden input or output vector), every value exact.
  template <std::ranges::contiguous_range R>
    requires std::same_as<std::remove_cv_t<std::ranges::range_value_t<R>>, float>
  c_header& array(std::string_view name, const R& values,
                  std::optional<fxp::shape> shape = std::nullopt) {
    std::string items;
    for (const float v : values) items += finite(name, v) + ",";
    return add_array(name, "float", std::ranges::size(values), items, shape);
  }

  /// The raw values of a fixed-point tensor, with its format as macros: `NAME_BITS`,
  /// `NAME_FRAC_BITS`, `NAME_SIGNED` (1 or 0) and `NAME_SCALE` (2^-frac_bits as a float, so
  /// value = raw * NAME_SCALE), besides the array's own. Each raw value must fit the format
  /// (bits from 1 to the element type's width, at least 2 when signed, a signed format in a
  /// signed type; signed values within [-2^(bits-1), 2^(bits-1)), unsigned within
  /// [0, 2^bits)), and -126 <= frac_bits <= 126.
  template <std::ranges::contiguous_range R>
    requires c_integer<std::remove_cv_t<std::ranges::range_value_t<R>>>
  c_header& fixed_array(std::string_view name, const R& raw, const c_fixed_format& format,
                        std::optional<fxp::shape> shape = std::nullopt) {
    using T = std::remove_cv_t<std::ranges::range_value_t<R>>;
    const std::string id(checked(name));
    const int width = static_cast<int>(sizeof(T) * 8);
    if (format.bits < (format.is_signed ? 2 : 1) || format.bits > width ||
        (format.is_signed && !std::is_signed_v<T>) ||
        (!format.is_signed && std::is_signed_v<T> && format.bits > width - 1) ||
        format.frac_bits < -126 || format.frac_bits > 126) {
      throw std::invalid_argument("fxp::io::c_header: array '" + id + "': format of " +
                                  std::to_string(format.bits) + " bits (" +
                                  std::to_string(format.frac_bits) + " fractional, " +
                                  (format.is_signed ? "signed" : "unsigned") + ") does not fit " +
                                  detail::c_type_name<T>());
    }
    const std::int64_t lo = format.is_signed ? -(std::int64_t{1} << (format.bits - 1)) : 0;
    const std::int64_t hi = format.is_signed ? (std::int64_t{1} << (format.bits - 1)) - 1
                                             : (std::int64_t{1} << format.bits) - 1;
    std::size_t index = 0;
    for (const T v : raw) {
      if (static_cast<std::int64_t>(v) < lo || static_cast<std::int64_t>(v) > hi) {
        throw std::invalid_argument("fxp::io::c_header: array '" + id + "': raw value " +
                                    std::to_string(v) + " at index " + std::to_string(index) +
                                    " is outside [" + std::to_string(lo) + ", " +
                                    std::to_string(hi) + "] of its " + std::to_string(format.bits) +
                                    "-bit format");
      }
      ++index;
    }
    const std::string macro = upper(id);
    constexpr std::array<const char*, 4> suffixes{"_BITS", "_FRAC_BITS", "_SIGNED", "_SCALE"};
    for (const char* suffix : suffixes) {
      if (names_.count(macro + suffix) != 0) claim(macro + suffix);  // throws: name taken
    }
    array(id, raw, shape);  // checks its own names, and adds nothing if it throws
    for (const char* suffix : suffixes) claim(macro + suffix);
    body_ += "#define " + macro + "_BITS " + std::to_string(format.bits) + "\n";
    body_ += "#define " + macro + "_FRAC_BITS " + detail::c_int_literal(format.frac_bits) + "\n";
    body_ += "#define " + macro + "_SIGNED " + (format.is_signed ? "1" : "0") + "\n";
    body_ += "#define " + macro + "_SCALE " +
             detail::c_float_literal(std::ldexp(1.0f, -format.frac_bits)) + "\n";
    return *this;
  }

  /// The header's text.
  [[nodiscard]] std::string str() const {
    return "/* Generated by fxp (fxp::io::c_header). Do not edit. */\n#ifndef " + guard_ +
           "\n#define " + guard_ + "\n\n#include <stdint.h>\n\n" + body_ + "\n#endif /* " +
           guard_ + " */\n";
  }

  /// Writes the header to `file` atomically (see write_file_atomically).
  void save(const std::filesystem::path& file) const {
    const std::string text = str();
    write_file_atomically(file, std::as_bytes(std::span(text.data(), text.size())));
  }

 private:
  [[nodiscard]] static std::string_view checked(std::string_view name) {
    if (const std::string why = detail::c_identifier_problem(name); !why.empty()) {
      throw std::invalid_argument("fxp::io::c_header: '" + std::string(name) +
                                  "' is not a valid C identifier: " + why);
    }
    return name;
  }

  [[nodiscard]] static std::string upper(std::string_view name) {
    std::string out(name);
    for (char& c : out)
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
  }

  void claim(const std::string& name) {
    if (!names_.insert(name).second) {
      throw std::invalid_argument("fxp::io::c_header: the name '" + name +
                                  "' is already used in this header");
    }
  }

  [[nodiscard]] static std::string finite(std::string_view name, float v) {
    if (!std::isfinite(v)) {
      throw std::invalid_argument("fxp::io::c_header: '" + std::string(name) +
                                  "': C has no literal for a non-finite value");
    }
    return detail::c_float_literal(v);
  }

  c_header& add_array(std::string_view name, const char* type, std::size_t n,
                      const std::string& items, const std::optional<fxp::shape>& shape) {
    const std::string id(checked(name));
    if (n == 0) throw std::invalid_argument("fxp::io::c_header: array '" + id + "' is empty (C has no empty arrays)");
    if (shape && shape->size() != n) {
      throw std::invalid_argument("fxp::io::c_header: array '" + id + "' has " + std::to_string(n) +
                                  " values but shape " + to_string(*shape));
    }
    const std::string macro = upper(id);
    // Claim every name before writing anything, so a clash leaves the header unchanged.
    std::set<std::string> wanted{id, macro + "_LENGTH"};
    if (shape) {
      wanted.insert(macro + "_RANK");
      for (std::size_t axis = 0; axis < shape->rank(); ++axis) wanted.insert(macro + "_DIM" + std::to_string(axis));
    }
    for (const auto& w : wanted) {
      if (names_.count(w) != 0) claim(w);  // throws
    }
    names_.insert(wanted.begin(), wanted.end());

    std::string text = "\n#define " + macro + "_LENGTH " + std::to_string(n) + "\n";
    if (shape) {
      text += "#define " + macro + "_RANK " + std::to_string(shape->rank()) + "\n";
      for (std::size_t axis = 0; axis < shape->rank(); ++axis)
        text += "#define " + macro + "_DIM" + std::to_string(axis) + " " + std::to_string((*shape)[axis]) + "\n";
    }
    text += "static const " + std::string(type) + " " + id + "[" + std::to_string(n) + "] = {\n";
    // Items are "v," each; lines of at most ~100 columns.
    std::string line = "   ";
    std::size_t start = 0;
    while (start < items.size()) {
      const std::size_t comma = items.find(',', start);
      const std::string item = items.substr(start, comma - start + 1);
      if (line.size() + 1 + item.size() > 99) {
        text += line + "\n";
        line = "   ";
      }
      line += " " + item;
      start = comma + 1;
    }
    text += line + "\n};\n";
    body_ += text;
    return *this;
  }

  std::string guard_;
  std::string body_;
  std::set<std::string> names_;
};

}  // namespace fxp::io
