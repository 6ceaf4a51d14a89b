// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// Which instruction set fxp's kernels run: GEMM, convolution, and the array kernels
/// (quantize, requantize, dequantize, the random words of stochastic rounding).
///
/// A build whose compiler flags guarantee an instruction set fxp has kernels for (say
/// -mavx2 -mfma, or -march=native on such a machine) runs those kernels and never asks the
/// processor (`fxp::simd::dispatches` is false). A build that guarantees none, which is
/// what the compiler's default flags give on x86-64, carries the AVX-512 and AVX2 kernels
/// too (compiled inside target regions; fxp never adds a flag to the build) and picks the
/// best this processor runs, once, at the first call: AVX-512 (F, BW, DQ, VL and VNNI),
/// else AVX2 with FMA, else the portable C++ loops. Every path gives the same bits for
/// fixed-point operands; float products round per path (FMA or not).
///
/// The environment variable FXP_ISA (`portable`, `avx2` or `avx512`) or force_isa() picks
/// the path of a dispatching build instead, so one binary can run and compare every path.

#include <atomic>       // the forced choice, read by every kernel call
#include <cstdlib>      // std::getenv
#include <optional>     // parse_isa of an unknown name
#include <stdexcept>    // a choice this build or processor cannot run
#include <string>       // error messages
#include <string_view>  // names
#include <type_traits>  // std::is_same_v

#include "detail/gemm_kernels.hpp"
#include "detail/isa_namespace.hpp"

namespace fxp::simd {

/// The instruction sets fxp has kernels for, from the most portable to the fastest.
enum class isa { portable, avx2, avx512 };

/// "portable", "avx2" or "avx512": the names FXP_ISA takes.
[[nodiscard]] constexpr std::string_view isa_name(isa i) noexcept {
  switch (i) {
    case isa::avx512:
      return "avx512";
    case isa::avx2:
      return "avx2";
    default:
      return "portable";
  }
}

/// The instruction set called `name` (isa_name's spelling), or nothing.
[[nodiscard]] constexpr std::optional<isa> parse_isa(std::string_view name) noexcept {
  for (const isa i : {isa::portable, isa::avx2, isa::avx512}) {
    if (name == isa_name(i)) return i;
  }
  return std::nullopt;
}

// What follows depends on the kernels this build carries (see isa_namespace.hpp).
FXP_BEGIN_ISA_NAMESPACE

/// Whether this build chooses the kernels at run time: its flags guarantee no instruction
/// set that fxp has kernels for.
inline constexpr bool dispatches = std::is_same_v<detail::native_isa, detail::portable_isa>;

/// Whether the kernels of `i` are in this build and this processor runs them.
[[nodiscard]] inline bool isa_supported(isa i) noexcept {
  switch (i) {
    case isa::portable:
      return true;
    case isa::avx2:
#if defined(FXP_GEMM_HAVE_AVX2)
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
      return false;
#endif
    case isa::avx512:
#if defined(FXP_GEMM_HAVE_AVX512)
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("fma");
#else
      return false;
#endif
  }
  return false;
}

/// The fastest instruction set that isa_supported.
[[nodiscard]] inline isa best_isa() noexcept {
  for (const isa i : {isa::avx512, isa::avx2}) {
    if (isa_supported(i)) return i;
  }
  return isa::portable;
}

FXP_END_ISA_NAMESPACE
namespace detail {
FXP_BEGIN_ISA_NAMESPACE

/// The isa of a kernel tag (vpdpwssd on 256-bit registers counts as avx2).
template <class Tag>
inline constexpr isa isa_of = std::is_same_v<Tag, avx512_isa>     ? isa::avx512
                              : std::is_same_v<Tag, portable_isa> ? isa::portable
                                                                  : isa::avx2;

/// The path the flags guarantee.
[[nodiscard]] constexpr isa native_path() noexcept { return isa_of<native_isa>; }

/// "avx2, portable": the supported sets, for messages.
[[nodiscard]] inline std::string supported_names() {
  std::string names;
  for (const isa i : {isa::avx512, isa::avx2, isa::portable}) {
    if (!isa_supported(i)) continue;
    if (!names.empty()) names += ", ";
    names += isa_name(i);
  }
  return names;
}

/// FXP_ISA's choice, or the best supported set when it is unset or empty.
/// \throws std::invalid_argument when FXP_ISA names no set, or one that does not run here
[[nodiscard]] inline isa isa_from_environment() {
  const char* value = std::getenv("FXP_ISA");
  if (value == nullptr || *value == '\0') return best_isa();
  const std::optional<isa> named = parse_isa(value);
  if (!named) {
    throw std::invalid_argument(std::string("fxp: FXP_ISA=") + value +
                                " names no instruction set (portable, avx2 or avx512)");
  }
  if (!isa_supported(*named)) {
    throw std::invalid_argument(std::string("fxp: FXP_ISA=") + value +
                                ", but this processor or build cannot run it; it can run: " +
                                supported_names());
  }
  return *named;
}

FXP_END_ISA_NAMESPACE

/// force_isa's choice (an isa as int), or -1: one for the whole program, whatever flags
/// each of its translation units was built with.
[[nodiscard]] inline std::atomic<int>& forced_isa() noexcept {
  static std::atomic<int> forced{-1};
  return forced;
}

}  // namespace detail
FXP_BEGIN_ISA_NAMESPACE

/// The instruction set whose kernels fxp::gemm, fxp::conv2d and the array kernels run (the
/// tensor expressions run the flags' own): what the flags
/// guarantee, or in a dispatching build force_isa's choice, else FXP_ISA's, else best_isa(),
/// read once at the first call.
/// \throws std::invalid_argument (dispatching builds) when FXP_ISA names no instruction set
///         or one this processor cannot run; the message says which it can
[[nodiscard]] inline isa active_isa() {
  if constexpr (!dispatches) {
    return detail::native_path();
  } else {
    const int forced = detail::forced_isa().load(std::memory_order_relaxed);
    if (forced >= 0) return static_cast<isa>(forced);
    static const isa from_environment = detail::isa_from_environment();
    return from_environment;
  }
}

/// Makes the kernels of a dispatching build run `i` from now on, in every thread (a build
/// whose flags fix the instruction set accepts only that one).
/// \throws std::invalid_argument when this processor or build cannot run `i`
inline void force_isa(isa i) {
  if constexpr (!dispatches) {
    if (i != detail::native_path()) {
      throw std::invalid_argument(
          "fxp::simd::force_isa(" + std::string(isa_name(i)) + "): this build's compiler flags " +
          "fix the kernels to " + std::string(isa_name(detail::native_path())) +
          "; a build without -march flags chooses at run time");
    }
  } else {
    if (!isa_supported(i)) {
      throw std::invalid_argument("fxp::simd::force_isa(" + std::string(isa_name(i)) +
                                  "): this processor or build cannot run it; it can run: " +
                                  detail::supported_names());
    }
    detail::forced_isa().store(static_cast<int>(i), std::memory_order_relaxed);
  }
}

FXP_END_ISA_NAMESPACE
namespace detail {
FXP_BEGIN_ISA_NAMESPACE

/// Whether the kernels of tag Isa are compiled in and this processor runs them (vpdpwssd on
/// 256-bit registers is compiled in only where the flags guarantee it).
template <class Isa>
[[nodiscard]] bool isa_runs() noexcept {
  if constexpr (!isa_available<Isa>) {
    return false;
  } else if constexpr (std::is_same_v<Isa, avx2_vnni_isa>) {
    return true;  // compiled in only where the flags guarantee it
  } else {
    return isa_supported(isa_of<Isa>);
  }
}

/// f(Tag{}) for the kernel tag of active_isa(): one instantiation per path compiled in when
/// the build dispatches, the native one alone otherwise.
template <class F>
decltype(auto) on_active_isa(F&& f) {
  if constexpr (!dispatches) {
    return f(native_isa{});
  } else {
    switch (active_isa()) {
#if defined(FXP_GEMM_HAVE_AVX512)
      case isa::avx512:
        return f(avx512_isa{});
#endif
#if defined(FXP_GEMM_HAVE_AVX2)
      case isa::avx2:
        return f(avx2_isa{});
#endif
      default:
        return f(portable_isa{});
    }
  }
}

FXP_END_ISA_NAMESPACE
}  // namespace detail
}  // namespace fxp::simd
