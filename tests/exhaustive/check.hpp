// SPDX-License-Identifier: MIT
#pragma once
// The checking side of the exhaustive tests: calling a thunk and recording what it gave,
// the stochastic words to try, and the bookkeeping of checks and mismatches. Included by
// the checking sources only (test_*.cpp), with the reference.

#include <array>                  // the stochastic words
#include <cstddef>                // std::size_t
#include <cstdint>                // raw values, random words
#include <exception>              // catching whatever a thunk throws
#include <fxp/core/overflow.hpp>  // fxp::overflow_error, the exception of `checked`
#include <stdexcept>              // std::domain_error, the exception of a division by zero
#include <string>                 // failure messages
#include <vector>                 // the first failures

#include "plan.hpp"
#include "reference.hpp"

namespace fxp_exhaustive {

using reference::event;
using reference::int128;
using reference::outcome;

/// Runs one call of a thunk and records what it gave: its value, or the exception.
template <class Call>
[[nodiscard]] outcome observe(Call&& call) {
  try {
    return {event::value, static_cast<std::int64_t>(call())};
  } catch (const fxp::overflow_error&) {
    return {event::overflow_error, 0};
  } catch (const std::domain_error&) {
    return {event::domain_error, 0};
  } catch (...) {
    return {event::other, 0};
  }
}

/// The words tried for one stochastic rounding of x: the two on either side of the
/// threshold t = floor(fraction * 2^32), t - 1 (must round up) and t (must not), so the
/// comparison word < t is checked exactly at its boundary; when x is exact (t = 0), the
/// word 0, which must not round up either.
struct word_set {
  std::array<std::uint32_t, 2> words{};
  std::size_t size = 0;
};

[[nodiscard]] inline word_set stochastic_words(reference::ratio x) {
  const std::uint32_t t = reference::stochastic_threshold(x);
  if (t == 0) return {{0, 0}, 1};
  return {{t - 1, t}, 2};
}

/// The words to try for rounding `r` of x: the stochastic ones, or a single (unused) word.
[[nodiscard]] inline word_set words_for(rounding r, reference::ratio x) {
  return r == rounding::stochastic ? stochastic_words(x) : word_set{{0, 0}, 1};
}

/// Counts every check and keeps the first failures for the report.
class mismatch_log {
 public:
  static constexpr std::size_t kept = 12;

  /// Records one check; `describe` (only called on a mismatch) says what went wrong.
  template <class Describe>
  void check(bool ok, Describe&& describe) {
    ++checks_;
    if (ok) return;
    ++mismatches_;
    if (examples_.size() < kept) examples_.push_back(describe());
  }

  /// Notes that a check expected an exception (counted in the report because they
  /// dominate the run time).
  void expected_exception() noexcept { ++exceptions_; }

  [[nodiscard]] std::uint64_t checks() const noexcept { return checks_; }
  [[nodiscard]] std::uint64_t mismatches() const noexcept { return mismatches_; }

  /// The counts and the first mismatches, one per line.
  [[nodiscard]] std::string report() const {
    std::string s = std::to_string(checks_) + " checks (" + std::to_string(exceptions_) +
                    " of them expecting an exception), " + std::to_string(mismatches_) +
                    " mismatches";
    for (const auto& e : examples_) s += "\n  " + e;
    if (mismatches_ > examples_.size()) s += "\n  ...";
    return s;
  }

 private:
  std::uint64_t checks_ = 0;
  std::uint64_t mismatches_ = 0;
  std::uint64_t exceptions_ = 0;
  std::vector<std::string> examples_;
};

/// "0x%08X" of a random word.
[[nodiscard]] inline std::string hex(std::uint32_t w) {
  constexpr char digits[] = "0123456789ABCDEF";
  std::string s = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) s += digits[(w >> shift) & 0xFu];
  return s;
}

[[nodiscard]] inline std::string policies(rounding r, overflow o) {
  return "[" + reference::to_string(r) + "/" + reference::to_string(o) + "]";
}

/// Every raw value of format t, in increasing order.
template <class Body>
void for_each_raw(format t, Body&& body) {
  const auto lo = static_cast<std::int64_t>(reference::raw_min(t));
  const auto hi = static_cast<std::int64_t>(reference::raw_max(t));
  for (std::int64_t r = lo; r <= hi; ++r) body(r);
}

}  // namespace fxp_exhaustive

/// A Catch2 check that a log (evaluated once) saw checks and no mismatch, with its report
/// on failure.
#define FXP_EXHAUSTIVE_REQUIRE_CLEAN(...)                           \
  do {                                                              \
    const ::fxp_exhaustive::mismatch_log& fxp_log_ = (__VA_ARGS__); \
    INFO(fxp_log_.report());                                        \
    CHECK(fxp_log_.checks() > 0);                                   \
    CHECK(fxp_log_.mismatches() == 0);                              \
  } while (false)
