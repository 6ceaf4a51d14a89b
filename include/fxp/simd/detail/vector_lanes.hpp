// SPDX-License-Identifier: MIT
#pragma once
// Lanes of fxp's own on the compilers' generic vectors (the vector_size attribute of g++
// and clang): the lanes of the kernels that a build without -march flags compiles inside
// target regions (simd/isa.hpp). xsimd 8.1 picks its kernels from the compiler flags alone,
// so it cannot give such a build its AVX2 or AVX-512 forms; a generic vector is compiled for
// whatever instruction set encloses the code using it (inside an AVX-512 region, `a << b`
// is vpsllvd on zmm registers and `a < b` a vpcmpud into a mask register). What g++ 12
// does not find on its own (per-lane shifts with x86's rule for large counts, narrowing
// stores, max and min, some mask logic) calls the x86 instructions of vector_x86.hpp, so
// with g++ the lanes of 32 and 64 bytes need an AVX2 and an AVX-512 processor; with clang
// they are plain generic vectors, for any processor. This is as much of xsimd's batch API
// as the lane kernels use, so that the same kernel templates run on either kind of lanes.
//
// Vectors cross into code of another instruction set by reference only: a 32- or 64-byte
// vector passed or returned by value changes the calling convention between a function
// compiled for a region and one compiled for the flags, and g++ does not always warn.

#include <bit>          // std::endian of the low parts of a lane
#include <cstddef>      // std::size_t lane counts
#include <cstdint>      // lane types
#include <type_traits>  // the signed integer of a lane's size
#include <utility>      // index sequences of shuffles

#include "isa_namespace.hpp"
#include "vector_x86.hpp"
#include "x86_intrinsics.hpp"  // before xsimd, as lanes.hpp includes them
#include <xsimd/xsimd.hpp>

namespace fxp::simd {
FXP_BEGIN_ISA_NAMESPACE

/// The architecture of generic vectors of `Bytes` bytes (16, 32 or 64 for kernels): an
/// instruction set is chosen by the code around the kernel (a target region), not by the type.
template <std::size_t Bytes>
struct vector_arch {
  // 4 and 8 are the narrow raws of a batch (its 8-bit values on 16 bytes).
  static_assert(Bytes >= 4 && Bytes <= 64 && (Bytes & (Bytes - 1)) == 0,
                "fxp::simd::vector_arch<Bytes>: Bytes must be a power of two from 4 to 64");
  static constexpr bool supported() noexcept { return true; }
  static constexpr bool available() noexcept { return true; }
  static constexpr unsigned version() noexcept { return static_cast<unsigned>(Bytes); }
  static constexpr std::size_t alignment() noexcept { return Bytes; }
  static constexpr const char* name() noexcept {
    return Bytes == 64 ? "vector512" : Bytes == 32 ? "vector256" : "vector128";
  }
};

FXP_END_ISA_NAMESPACE
namespace detail {
FXP_BEGIN_ISA_NAMESPACE

/// Whether Arch is a vector_arch.
template <class Arch>
inline constexpr bool is_vector_arch = false;
template <std::size_t Bytes>
inline constexpr bool is_vector_arch<vector_arch<Bytes>> = true;

/// The signed integer of `Bytes` bytes (1, 2, 4 or 8).
template <std::size_t Bytes>
using sized_int_t = std::conditional_t<
    Bytes == 1, std::int8_t,
    std::conditional_t<Bytes == 2, std::int16_t,
                       std::conditional_t<Bytes == 4, std::int32_t, std::int64_t>>>;
template <class T>
using signed_lane_t = sized_int_t<sizeof(T)>;

template <class T, std::size_t N>
struct generic_vector {
  typedef T type __attribute__((vector_size(N * sizeof(T))));
};

/// The vector inside a batch or mask. Lane types are laid out outside the target regions,
/// where a 32- or 64-byte vector has no register of its own, so the implicit copy of a
/// class holding one is a block copy, which g++ 12 does in pieces through general
/// registers and the stack even inside an AVX2 region (a 4x slower quantize): copied member
/// by member, it is one register move. Not for 64-byte masks: an AVX-512 region keeps them
/// in mask registers, and a written-out copy forces them into vectors (3.6x slower).
template <class V, bool Memberwise>
struct vector_member {
  V v_;
};
template <class V>
struct vector_member<V, true> {
  vector_member() noexcept = default;
  vector_member(const vector_member& other) noexcept : v_(other.v_) {}
  vector_member& operator=(const vector_member& other) noexcept {
    v_ = other.v_;
    return *this;
  }
  V v_;
};

FXP_END_ISA_NAMESPACE
}  // namespace detail
}  // namespace fxp::simd

// The lanes are xsimd's batch and batch_bool specialised for vector_arch, so that every lane
// kernel written for `xsimd::batch<T, Arch>` deduces Arch from them as from xsimd's own.
namespace xsimd {

/// One truth value per lane, as a lane of all ones or zeros (what a generic comparison
/// gives; inside an AVX-512 region the compiler keeps it in a mask register).
template <class T, std::size_t Bytes>
class batch_bool<T, fxp::simd::FXP_ISA_NAMESPACE::vector_arch<Bytes>>
    : fxp::simd::detail::FXP_ISA_NAMESPACE::vector_member<
          typename fxp::simd::detail::FXP_ISA_NAMESPACE::generic_vector<
              fxp::simd::detail::FXP_ISA_NAMESPACE::signed_lane_t<T>, Bytes / sizeof(T)>::type,
          Bytes != 64> {
 public:
  using arch_type = fxp::simd::FXP_ISA_NAMESPACE::vector_arch<Bytes>;
  static constexpr std::size_t size = Bytes / sizeof(T);
  using native_type = typename fxp::simd::detail::FXP_ISA_NAMESPACE::generic_vector<
      fxp::simd::detail::FXP_ISA_NAMESPACE::signed_lane_t<T>, size>::type;

  batch_bool() noexcept = default;
  /// Every lane `b` (lane by lane, as batch's broadcast).
  batch_bool(bool b) noexcept {  // NOLINT: a broadcast, as xsimd's
    for (std::size_t i = 0; i < size; ++i) this->v_[i] = b ? -1 : 0;
  }

  [[nodiscard]] static batch_bool from_native(const native_type& v) noexcept {
    batch_bool m;
    m.v_ = v;
    return m;
  }
  [[nodiscard]] const native_type& native() const noexcept { return this->v_; }

  /// The mask of p[0 .. size).
  [[nodiscard]] static batch_bool load_unaligned(const bool* p) noexcept {
    native_type v{};
    for (std::size_t i = 0; i < size; ++i) v[i] = p[i] ? -1 : 0;
    return from_native(v);
  }
  /// Lane i.
  [[nodiscard]] bool get(std::size_t i) const noexcept { return this->v_[i] != 0; }

  [[nodiscard]] friend batch_bool operator||(const batch_bool& a, const batch_bool& b) noexcept {
    return from_native(a.v_ | b.v_);
  }
  /// (On AVX-512 as an x86 instruction: g++ 12 does some `&` of generic masks lane by lane
  /// in general registers, nearest_even's tie and parity 4x slower, and through mask
  /// registers it converts back and forth; `|` and `~` it does well.)
  [[nodiscard]] friend batch_bool operator&&(const batch_bool& a, const batch_bool& b) noexcept {
#if defined(FXP_HAVE_X86_VECTOR_FORMS)
    if constexpr (x86_masks) {
      native_type r;
      fxp::simd::detail::FXP_ISA_NAMESPACE::x86::mask_and(r, a.v_, b.v_);
      return from_native(r);
    }
#endif
    return from_native(a.v_ & b.v_);
  }
  [[nodiscard]] friend batch_bool operator!(const batch_bool& a) noexcept {
    return from_native(~a.v_);
  }

 private:
  // Masks of 32-bit lanes on 64 bytes: the AVX-512 region's.
  static constexpr bool x86_masks =
      sizeof(T) == 4 && fxp::simd::detail::FXP_ISA_NAMESPACE::has_x86_vector_forms<Bytes> &&
      Bytes == 64;
};

/// Bytes / sizeof(T) lanes of T on one generic vector.
template <class T, std::size_t Bytes>
class batch<T, fxp::simd::FXP_ISA_NAMESPACE::vector_arch<Bytes>> {
 public:
  using value_type = T;
  using arch_type = fxp::simd::FXP_ISA_NAMESPACE::vector_arch<Bytes>;
  using batch_bool_type = batch_bool<T, arch_type>;
  static constexpr std::size_t size = Bytes / sizeof(T);
  using native_type = typename fxp::simd::detail::FXP_ISA_NAMESPACE::generic_vector<T, size>::type;

  batch() noexcept = default;
  // Member by member: see vector_member.
  batch(const batch& other) noexcept : v_(other.v_) {}
  batch& operator=(const batch& other) noexcept {
    v_ = other.v_;
    return *this;
  }
  /// Every lane `x`. (Lane by lane: g++ 12 recognises that as one broadcast, whereas it
  /// builds `native_type{} + x` from sixteen masked broadcasts inside an AVX-512 region.)
  batch(T x) noexcept {  // NOLINT: a broadcast, as xsimd's
    for (std::size_t i = 0; i < size; ++i) v_[i] = x;
  }

  [[nodiscard]] static batch from_native(const native_type& v) noexcept {
    batch r;
    r.v_ = v;
    return r;
  }
  [[nodiscard]] const native_type& native() const noexcept { return v_; }

  [[nodiscard]] static batch load_unaligned(const T* p) noexcept {
    batch r;
    __builtin_memcpy(&r.v_, p, sizeof(native_type));
    return r;
  }
  [[nodiscard]] static batch load_aligned(const T* p) noexcept { return load_unaligned(p); }
  void store_unaligned(T* p) const noexcept { __builtin_memcpy(p, &v_, sizeof(native_type)); }
  void store_aligned(T* p) const noexcept { store_unaligned(p); }
  /// Lane i.
  [[nodiscard]] T get(std::size_t i) const noexcept { return v_[i]; }

  [[nodiscard]] friend batch operator+(const batch& a, const batch& b) noexcept {
    return from_native(a.v_ + b.v_);
  }
  [[nodiscard]] friend batch operator-(const batch& a, const batch& b) noexcept {
    return from_native(a.v_ - b.v_);
  }
  [[nodiscard]] friend batch operator*(const batch& a, const batch& b) noexcept {
    return from_native(a.v_ * b.v_);
  }
  [[nodiscard]] friend batch operator&(const batch& a, const batch& b) noexcept {
    return from_native(a.v_ & b.v_);
  }
  [[nodiscard]] friend batch operator|(const batch& a, const batch& b) noexcept {
    return from_native(a.v_ | b.v_);
  }
  [[nodiscard]] friend batch operator^(const batch& a, const batch& b) noexcept {
    return from_native(a.v_ ^ b.v_);
  }
  [[nodiscard]] friend batch operator~(const batch& a) noexcept { return from_native(~a.v_); }
  [[nodiscard]] friend batch operator-(const batch& a) noexcept { return from_native(-a.v_); }
  /// Shifts by counts below the lane width (per lane, or one for every lane).
  [[nodiscard]] friend batch operator<<(const batch& a, const batch& count) noexcept {
    return from_native(a.v_ << count.v_);
  }
  [[nodiscard]] friend batch operator>>(const batch& a, const batch& count) noexcept {
    return from_native(a.v_ >> count.v_);
  }
  [[nodiscard]] friend batch operator<<(const batch& a, std::int32_t count) noexcept {
    return from_native(a.v_ << count);
  }
  [[nodiscard]] friend batch operator>>(const batch& a, std::int32_t count) noexcept {
    return from_native(a.v_ >> count);
  }

  [[nodiscard]] friend batch_bool_type operator==(const batch& a, const batch& b) noexcept {
    return batch_bool_type::from_native(a.v_ == b.v_);
  }
  [[nodiscard]] friend batch_bool_type operator!=(const batch& a, const batch& b) noexcept {
    return batch_bool_type::from_native(a.v_ != b.v_);
  }
  [[nodiscard]] friend batch_bool_type operator<(const batch& a, const batch& b) noexcept {
    return batch_bool_type::from_native(a.v_ < b.v_);
  }
  [[nodiscard]] friend batch_bool_type operator>(const batch& a, const batch& b) noexcept {
    return batch_bool_type::from_native(a.v_ > b.v_);
  }
  [[nodiscard]] friend batch_bool_type operator<=(const batch& a, const batch& b) noexcept {
    return batch_bool_type::from_native(a.v_ <= b.v_);
  }
  [[nodiscard]] friend batch_bool_type operator>=(const batch& a, const batch& b) noexcept {
    return batch_bool_type::from_native(a.v_ >= b.v_);
  }

 private:
  native_type v_;
};

}  // namespace xsimd

namespace fxp::simd::detail {
FXP_BEGIN_ISA_NAMESPACE

/// T's lanes and mask on generic vectors of Bytes bytes.
template <class T, std::size_t Bytes>
using vector_lanes = xsimd::batch<T, vector_arch<Bytes>>;
template <class T, std::size_t Bytes>
using vector_mask = xsimd::batch_bool<T, vector_arch<Bytes>>;

/// a where m holds, b elsewhere.
template <class T, std::size_t B>
[[nodiscard]] inline vector_lanes<T, B> select(const vector_mask<T, B>& m,
                                               const vector_lanes<T, B>& a,
                                               const vector_lanes<T, B>& b) noexcept {
  return vector_lanes<T, B>::from_native(m.native() ? a.native() : b.native());
}

/// The larger and the smaller lane of each pair (vpmaxsd and vpminsd for 32-bit lanes in
/// a region: g++ 12 turns the generic forms into compares and blends there).
template <class T, std::size_t B>
[[nodiscard]] inline vector_lanes<T, B> lane_max(const vector_lanes<T, B>& a,
                                                 const vector_lanes<T, B>& b) noexcept {
#if defined(FXP_HAVE_X86_VECTOR_FORMS)
  if constexpr (std::is_same_v<T, std::int32_t> && has_x86_vector_forms<B>) {
    typename vector_lanes<T, B>::native_type r;
    x86::max(r, a.native(), b.native());
    return vector_lanes<T, B>::from_native(r);
  }
#endif
  // maxps's rule (a if a > b, else b), so that float lanes treat NaN as xsimd's do.
  return vector_lanes<T, B>::from_native(a.native() > b.native() ? a.native() : b.native());
}
template <class T, std::size_t B>
[[nodiscard]] inline vector_lanes<T, B> lane_min(const vector_lanes<T, B>& a,
                                                 const vector_lanes<T, B>& b) noexcept {
#if defined(FXP_HAVE_X86_VECTOR_FORMS)
  if constexpr (std::is_same_v<T, std::int32_t> && has_x86_vector_forms<B>) {
    typename vector_lanes<T, B>::native_type r;
    x86::min(r, a.native(), b.native());
    return vector_lanes<T, B>::from_native(r);
  }
#endif
  return vector_lanes<T, B>::from_native(a.native() < b.native() ? a.native() : b.native());
}

/// Whether some lane of m holds: the halves or-ed together down to two 64-bit words (a
/// shuffle and an or per halving; the compilers share no horizontal reduction).
template <std::size_t Offset, class T, std::size_t B, std::size_t... I>
[[nodiscard]] inline vector_mask<T, B / 2> mask_half(const vector_mask<T, B>& m,
                                                     std::index_sequence<I...>) noexcept {
  return vector_mask<T, B / 2>::from_native(
      __builtin_shufflevector(m.native(), m.native(), static_cast<int>(Offset + I)...));
}
template <class T, std::size_t B>
[[nodiscard]] inline bool any_lane(const vector_mask<T, B>& m) noexcept {
#if defined(FXP_HAVE_X86_VECTOR_FORMS)
  if constexpr (sizeof(T) == 4 && has_x86_vector_forms<B>) return x86::any(m.native());
#endif
  if constexpr (B == 16) {
    typedef std::uint64_t words __attribute__((vector_size(16)));
    const words w = reinterpret_cast<const words&>(m.native());
    return (w[0] | w[1]) != 0;
  } else {
    using half_mask = vector_mask<T, B / 2>;
    constexpr std::size_t n = half_mask::size;
    return any_lane(mask_half<0>(m, std::make_index_sequence<n>{}) ||
                    mask_half<n>(m, std::make_index_sequence<n>{}));
  }
}

/// The bits of `x` as lanes of `To` (of the same total size).
template <class To, class T, std::size_t B>
[[nodiscard]] inline To lane_bitcast(const vector_lanes<T, B>& x) noexcept {
  static_assert(sizeof(typename To::native_type) == B);
  return To::from_native(reinterpret_cast<const typename To::native_type&>(x.native()));
}

/// The mask of `m` for lanes of U (of T's size).
template <class U, class T, std::size_t B>
[[nodiscard]] inline vector_mask<U, B> mask_cast(const vector_mask<T, B>& m) noexcept {
  static_assert(sizeof(U) == sizeof(T));
  return vector_mask<U, B>::from_native(m.native());
}

/// Every lane converted to U by value (int32 -> float rounds to nearest even; integers
/// narrow to their low bits): lanes of U on a vector of as many lanes.
///
/// Four-fold (or wider) integer widening goes in steps through the double width, and narrowing
/// picks the low parts with a shuffle: g++ 12 compiles either as one conversion lane by lane
/// (vpmovsxbd and vpmovdb are what it misses).
template <std::size_t Ratio>
[[nodiscard]] constexpr int low_part_index(std::size_t k) noexcept {
  return static_cast<int>(k * Ratio + (std::endian::native == std::endian::little ? 0 : Ratio - 1));
}
template <class U, class T, std::size_t B, std::size_t... K>
[[nodiscard]] inline vector_lanes<U, B / sizeof(T) * sizeof(U)> low_parts(
    const vector_lanes<T, B>& x, std::index_sequence<K...>) noexcept {
  using parts = typename generic_vector<U, B / sizeof(U)>::type;
  const parts p = reinterpret_cast<const parts&>(x.native());
  return vector_lanes<U, B / sizeof(T) * sizeof(U)>::from_native(
      __builtin_shufflevector(p, p, low_part_index<sizeof(T) / sizeof(U)>(K)...));
}
template <class U, class T, std::size_t B>
[[nodiscard]] inline vector_lanes<U, B / sizeof(T) * sizeof(U)> lane_convert(
    const vector_lanes<T, B>& x) noexcept {
  using result = vector_lanes<U, B / sizeof(T) * sizeof(U)>;
  if constexpr (std::is_integral_v<T> && std::is_integral_v<U> && sizeof(U) >= 4 * sizeof(T)) {
    using half_way = std::conditional_t<std::is_signed_v<T>, sized_int_t<2 * sizeof(T)>,
                                        std::make_unsigned_t<sized_int_t<2 * sizeof(T)>>>;
    return lane_convert<U>(lane_convert<half_way>(x));
  } else if constexpr (std::is_integral_v<T> && std::is_integral_v<U> && sizeof(U) < sizeof(T)) {
    return low_parts<U>(x, std::make_index_sequence<B / sizeof(T)>{});
  } else {
    return result::from_native(__builtin_convertvector(x.native(), typename result::native_type));
  }
}

// Interleaves within each 16-byte block, as SSE's unpack and xsimd's zip do on x86: lane i
// of zip_lo is a[4h + j / 2] or b[4h + j / 2] (j = i % 4, h = i / 4) by the parity of j;
// zip_hi takes the upper two of each four.
template <std::size_t N>
[[nodiscard]] constexpr int zip_index(std::size_t i, std::size_t half) noexcept {
  return static_cast<int>(4 * (i / 4) + 2 * half + (i % 4) / 2 + (i % 2 == 1 ? N : 0));
}
template <std::size_t Half, class T, std::size_t B, std::size_t... I>
[[nodiscard]] inline vector_lanes<T, B> zip_half(const vector_lanes<T, B>& a,
                                                 const vector_lanes<T, B>& b,
                                                 std::index_sequence<I...>) noexcept {
  static_assert(sizeof(T) == 4, "zip of 32-bit lanes only");
  return vector_lanes<T, B>::from_native(
      __builtin_shufflevector(a.native(), b.native(), zip_index<sizeof...(I)>(I, Half)...));
}
template <class T, std::size_t B>
[[nodiscard]] inline vector_lanes<T, B> lane_zip_lo(const vector_lanes<T, B>& a,
                                                    const vector_lanes<T, B>& b) noexcept {
  return zip_half<0>(a, b, std::make_index_sequence<B / sizeof(T)>{});
}
template <class T, std::size_t B>
[[nodiscard]] inline vector_lanes<T, B> lane_zip_hi(const vector_lanes<T, B>& a,
                                                    const vector_lanes<T, B>& b) noexcept {
  return zip_half<1>(a, b, std::make_index_sequence<B / sizeof(T)>{});
}

/// Lanes of T from p[0 .. lanes) of another arithmetic type U, converted by value, and
/// lanes stored into such an array (integers keep their low bits): what xsimd's converting
/// loads and stores do, for either kind of lanes.
///
/// Integers convert on generic vectors on every architecture: xsimd 8.1 converts them one
/// element at a time through memory (an 8-bit expression 18x slower on AVX-512).
template <class T, class Arch, class U>
[[nodiscard]] inline xsimd::batch<T, Arch> load_converted(const U* p) noexcept {
  constexpr std::size_t n = xsimd::batch<T, Arch>::size;
  if constexpr (std::is_same_v<T, U>) {
    return xsimd::batch<T, Arch>::load_unaligned(p);
  } else if constexpr (is_vector_arch<Arch>) {
    return lane_convert<T>(vector_lanes<U, n * sizeof(U)>::load_unaligned(p));
  } else if constexpr (std::is_integral_v<T> && std::is_integral_v<U>) {
    const auto converted = lane_convert<T>(vector_lanes<U, n * sizeof(U)>::load_unaligned(p));
    return xsimd::batch<T, Arch>::load_unaligned(reinterpret_cast<const T*>(&converted.native()));
  } else {
    return xsimd::batch<T, Arch>::load_unaligned(p);
  }
}
template <class T, class Arch, class U>
inline void store_converted(U* p, const xsimd::batch<T, Arch>& x) noexcept {
  constexpr std::size_t n = xsimd::batch<T, Arch>::size;
  if constexpr (std::is_same_v<T, U>) {
    x.store_unaligned(p);
  } else if constexpr (is_vector_arch<Arch>) {
#if defined(FXP_HAVE_X86_VECTOR_FORMS)
    // The narrowing instructions (vpmovdb, packs) where g++ 12 shuffles bytes.
    if constexpr (sizeof(T) == 4 && sizeof(U) < 4 && std::is_integral_v<T> &&
                  has_x86_vector_forms<Arch::alignment()>) {
      const auto words = lane_bitcast<xsimd::batch<std::uint32_t, Arch>>(x).native();
      if constexpr (Arch::alignment() == 64) {
        x86::store_narrow<sizeof(U)>(p, words);
      } else {
        x86::store_narrow<sizeof(U), std::is_signed_v<U>>(p, words);
      }
      return;
    }
#endif
    lane_convert<U>(x).store_unaligned(p);
  } else if constexpr (std::is_integral_v<T> && std::is_integral_v<U>) {
    alignas(64) T lanes[n];
    x.store_aligned(lanes);
    lane_convert<U>(vector_lanes<T, n * sizeof(T)>::load_unaligned(lanes)).store_unaligned(p);
  } else {
    x.store_unaligned(p);
  }
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp::simd::detail
