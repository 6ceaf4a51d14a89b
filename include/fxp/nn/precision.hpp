// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// Run-time per-layer precision: which format (or float) each role of a layer uses, with
/// one rounding policy per layer, and a plan of them for a whole model, parsed from a small
/// text format (one line per layer) with line-numbered errors.

#include <array>        // the formats of a layer, one per role
#include <cstddef>      // std::size_t
#include <cstdint>      // std::uint8_t
#include <fstream>      // precision_plan::read_file
#include <optional>     // a role's format or float
#include <sstream>      // reading a file whole
#include <stdexcept>    // std::invalid_argument
#include <string>       // names, messages
#include <string_view>  // parsing
#include <utility>      // std::pair
#include <vector>       // the lines of a plan

#include "../simd/detail/isa_namespace.hpp"
#include "../tensor/dynamic.hpp"

namespace fxp::nn {
FXP_BEGIN_ISA_NAMESPACE

/// What a value of a layer is; each role has its own format (or float).
enum class role : std::uint8_t {
  weights,      ///< the weights the forward pass uses
  biases,       ///< the biases the forward pass uses
  activations,  ///< the layer's output
  errors,       ///< the error the layer sends back to its input (dL/dx)
  grads,        ///< the weight and bias gradients (dL/dw, dL/db)
  updates,      ///< the step the optimizer subtracts from a parameter
  state,        ///< optimizer state: SGD's velocity, Adam's first moment
  state2,       ///< Adam's second moment
  master,       ///< wide fixed-point master weights (training_mode::fixed_master)
};

/// The number of roles.
inline constexpr std::size_t role_count = 9;

/// The name of a role in the text format: "weights", "biases", "acts", "errors", "grads",
/// "updates", "state", "state2", "master".
[[nodiscard]] inline std::string_view to_string(role r) noexcept {
  constexpr std::array<std::string_view, role_count> names = {
      "weights", "biases", "acts", "errors", "grads", "updates", "state", "state2", "master"};
  return names[static_cast<std::size_t>(r)];
}

/// The role named `s` ("acts" or "activations", "grads" or "gradients", and the other
/// names of to_string(role)); std::nullopt for an unknown name.
[[nodiscard]] inline std::optional<role> parse_role(std::string_view s) noexcept {
  for (std::size_t i = 0; i < role_count; ++i) {
    if (to_string(static_cast<role>(i)) == s) return static_cast<role>(i);
  }
  if (s == "activations") return role::activations;
  if (s == "gradients") return role::grads;
  return std::nullopt;
}

/// The precision of one layer: a format or float (std::nullopt) per role, and the rounding
/// policy of every narrowing the layer does.
struct layer_precision {
  std::array<std::optional<dynamic_format>, role_count> formats{};
  rounding_mode rounding = rounding_mode::nearest;

  [[nodiscard]] std::optional<dynamic_format>& operator[](role r) noexcept {
    return formats[static_cast<std::size_t>(r)];
  }
  [[nodiscard]] const std::optional<dynamic_format>& operator[](role r) const noexcept {
    return formats[static_cast<std::size_t>(r)];
  }
  /// The role is float (no format set).
  [[nodiscard]] bool is_float(role r) const noexcept { return !(*this)[r].has_value(); }

  /// "weights=s8.7 acts=u8.4 rounding=nearest": the fixed roles and the rounding, the
  /// fields of one line of the text format.
  [[nodiscard]] std::string to_string() const {
    std::string out;
    for (std::size_t i = 0; i < role_count; ++i) {
      if (!formats[i]) continue;
      out += std::string(nn::to_string(static_cast<role>(i))) + "=" + formats[i]->to_string() + " ";
    }
    return out + "rounding=" + std::string(fxp::to_string(rounding));
  }

  /// Applies the fields "role=format", "role=float" and "rounding=policy" of `fields`
  /// (separated by spaces, tabs or commas) on top of this precision.
  /// \throws std::invalid_argument naming the bad field
  void apply_fields(std::string_view fields);

  friend bool operator==(const layer_precision&, const layer_precision&) = default;
};

FXP_END_ISA_NAMESPACE
namespace detail {
FXP_BEGIN_ISA_NAMESPACE
[[nodiscard]] inline bool is_separator(char c) noexcept {
  return c == ' ' || c == '\t' || c == ',' || c == '\r';
}
/// The next token of `s` starting at `pos` (empty at the end).
[[nodiscard]] inline std::string_view next_token(std::string_view s, std::size_t& pos) noexcept {
  while (pos < s.size() && is_separator(s[pos])) ++pos;
  const std::size_t first = pos;
  while (pos < s.size() && !is_separator(s[pos])) ++pos;
  return s.substr(first, pos - first);
}
FXP_END_ISA_NAMESPACE
}  // namespace detail
FXP_BEGIN_ISA_NAMESPACE

inline void layer_precision::apply_fields(std::string_view fields) {
  std::size_t pos = 0;
  for (std::string_view field = detail::next_token(fields, pos); !field.empty();
       field = detail::next_token(fields, pos)) {
    const std::size_t eq = field.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == field.size()) {
      throw std::invalid_argument("expected key=value, got '" + std::string(field) + "'");
    }
    const std::string_view key = field.substr(0, eq);
    const std::string_view val = field.substr(eq + 1);
    if (key == "rounding") {
      try {
        rounding = parse_rounding_mode(val);
      } catch (const std::invalid_argument&) {
        throw std::invalid_argument("unknown rounding '" + std::string(val) +
                                    "' (truncate, toward_zero, nearest, nearest_even, "
                                    "stochastic)");
      }
      continue;
    }
    const std::optional<role> r = parse_role(key);
    if (!r) {
      throw std::invalid_argument("unknown role '" + std::string(key) +
                                  "' (weights, biases, acts, errors, grads, updates, state, "
                                  "state2, master, rounding)");
    }
    if (val == "float") {
      (*this)[*r] = std::nullopt;
      continue;
    }
    try {
      (*this)[*r] = dynamic_format::parse(val);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("bad format '" + std::string(val) + "' for " +
                                  std::string(key) + " (expected s<bits>.<frac>, " +
                                  "u<bits>.<frac> or float): " + e.what());
    }
  }
}

/// The precision of a whole model: lines of (layer name, fields) applied in order. The name
/// "*" applies to every layer, "input" to the model's input (its `acts` format is what a
/// fixed-point model quantizes its float input into).
///
/// Text format, one line per layer, `#` starts a comment, blank lines are skipped:
/// ```
/// # layer  role=format ...                          rounding=policy
/// *        errors=s16.12 grads=s16.14               rounding=stochastic
/// input    acts=u8.8
/// conv1    weights=s8.7 biases=s16.12 acts=u8.4
/// ```
/// A format is `s<bits>.<frac>` (signed) or `u<bits>.<frac>` (unsigned), value = raw *
/// 2^-frac; `float` resets a role to float. Each line sets only the roles it names.
class precision_plan {
 public:
  struct line {
    std::string layer;     ///< a layer name, "*" or "input"
    std::string fields;    ///< "weights=s8.7 acts=u8.4 rounding=nearest"
    std::size_t line_number = 0;
  };

  precision_plan() = default;

  /// Parses `text`; errors throw std::invalid_argument "<source>:<line>: <what>".
  [[nodiscard]] static precision_plan parse(std::string_view text,
                                            std::string_view source = "precision plan") {
    precision_plan plan;
    std::size_t number = 0;
    std::size_t start = 0;
    while (start <= text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      ++number;
      std::string_view l = text.substr(start, end - start);
      if (const std::size_t hash = l.find('#'); hash != std::string_view::npos) {
        l = l.substr(0, hash);
      }
      std::size_t pos = 0;
      const std::string_view name = detail::next_token(l, pos);
      if (!name.empty()) {
        const std::string_view rest = l.substr(pos);
        try {
          if (name.find('=') != std::string_view::npos) {
            throw std::invalid_argument("a line starts with a layer name, got '" +
                                        std::string(name) + "'");
          }
          layer_precision check;
          check.apply_fields(rest);  // validate now, so errors carry the line number
        } catch (const std::invalid_argument& e) {
          throw std::invalid_argument(std::string(source) + ":" + std::to_string(number) +
                                      ": " + e.what());
        }
        plan.lines_.push_back({std::string(name), std::string(rest), number});
      }
      if (end == text.size()) break;
      start = end + 1;
    }
    return plan;
  }

  /// Parses one string per line (e.g. command-line values "conv1 weights=s8.7").
  [[nodiscard]] static precision_plan parse_lines(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    return parse(text, "command line");
  }

  /// Reads and parses a plan file; errors name the file and the line.
  [[nodiscard]] static precision_plan read_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::invalid_argument("fxp::nn::precision_plan: cannot open '" + path + "'");
    std::ostringstream text;
    text << in.rdbuf();
    return parse(text.str(), path);
  }

  /// Adds a line: `layer` ("*", "input" or a layer name) gets `fields`.
  precision_plan& set(std::string layer, std::string fields) {
    layer_precision check;
    check.apply_fields(fields);
    lines_.push_back({std::move(layer), std::move(fields), 0});
    return *this;
  }

  [[nodiscard]] const std::vector<line>& lines() const noexcept { return lines_; }

  /// The precision this plan gives layer `name`, starting from `base`: every "*" line and
  /// every line of that name, in order.
  [[nodiscard]] layer_precision precision_of(std::string_view name,
                                             layer_precision base = {}) const {
    for (const line& l : lines_) {
      if (l.layer == name || (l.layer == "*" && name != "input")) base.apply_fields(l.fields);
    }
    return base;
  }

  /// Whether some line names `name` (other than "*").
  [[nodiscard]] bool names(std::string_view name) const noexcept {
    for (const line& l : lines_)
      if (l.layer == name) return true;
    return false;
  }

  /// The plan as text, one line per entry.
  [[nodiscard]] std::string to_string() const {
    std::string out;
    for (const line& l : lines_) out += l.layer + " " + l.fields + "\n";
    return out;
  }

 private:
  std::vector<line> lines_;
};

FXP_END_ISA_NAMESPACE
}  // namespace fxp::nn
