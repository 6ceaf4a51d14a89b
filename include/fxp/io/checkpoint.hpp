// SPDX-License-Identifier: MIT
#pragma once
// Checkpoint archives: a versioned binary file of named, typed sections (element type,
// shape, little-endian data) with a CRC-32 over the whole content. Saving is atomic (a
// temporary file, fsync, rename); loading validates everything (magic, version, size,
// checksum, section table) before it returns, so a caller gets a complete archive or an
// exception and nothing else changes. Typed accessors check the element type and the count
// or shape the caller expects.
//
// File format, version 1 (all integers little-endian):
//   offset 0   8 bytes  magic "FXPCKPT" followed by a zero byte
//          8   u32      format version (1)
//         12   u32      number of sections
//         16   u64      total file size in bytes, this header and the checksum included
//         24            section table, one entry per section, in order:
//                         u16 name length (1 to 1024), the name's bytes (UTF-8, no NUL),
//                         u8 element type (element_type), u8 rank (1 to 4),
//                         rank x u64 extents (outermost first),
//                         u64 offset of the data from the start of the file (a multiple of 8),
//                         u64 size of the data in bytes (element count x element size)
//                       zero padding to a multiple of 8
//                       each section's data in table order, each padded with zeros to a
//                       multiple of 8
//   size - 4   u32      CRC-32 (IEEE, as zlib's crc32) of every byte before it

#include <algorithm>    // std::find_if
#include <array>        // the magic number
#include <concepts>     // std::same_as
#include <cstddef>      // std::byte, std::size_t
#include <cstdint>      // fixed-width fields and element types
#include <cstdio>       // std::snprintf for hexadecimal checksums
#include <cstring>      // std::memcpy into the header
#include <filesystem>   // paths
#include <functional>   // std::function of the byte sink
#include <ranges>       // contiguous ranges of values to store
#include <span>         // byte ranges
#include <stdexcept>    // std::invalid_argument for bad puts
#include <string>       // names, messages
#include <string_view>  // names
#include <type_traits>  // std::remove_cv_t, std::remove_const_t
#include <utility>      // std::move
#include <vector>       // sections and their bytes

#include "../tensor/container.hpp"
#include "crc32.hpp"
#include "detail/little_endian.hpp"
#include "error.hpp"
#include "file.hpp"

namespace fxp::io {

/// The version of the checkpoint format this build writes and reads.
inline constexpr std::uint32_t checkpoint_version = 1;

/// The first eight bytes of every checkpoint file: "FXPCKPT" and a zero byte.
inline constexpr std::array<unsigned char, 8> checkpoint_magic = {'F', 'X', 'P', 'C',
                                                                  'K', 'P', 'T', 0};

/// The element type of a checkpoint section, as stored in the file (one byte).
enum class element_type : std::uint8_t {
  int8 = 1,
  uint8 = 2,
  int16 = 3,
  uint16 = 4,
  int32 = 5,
  uint32 = 6,
  int64 = 7,
  uint64 = 8,
  float32 = 9,
  float64 = 10,
  text = 11,  ///< UTF-8 bytes, read back as a std::string
};

/// The size in bytes of one element of type t (0 for a value that is not an element_type).
[[nodiscard]] constexpr std::size_t element_size(element_type t) noexcept {
  switch (t) {
    case element_type::int8:
    case element_type::uint8:
    case element_type::text:
      return 1;
    case element_type::int16:
    case element_type::uint16:
      return 2;
    case element_type::int32:
    case element_type::uint32:
    case element_type::float32:
      return 4;
    case element_type::int64:
    case element_type::uint64:
    case element_type::float64:
      return 8;
  }
  return 0;
}

/// The name of an element type, for messages: "int8", "float32", "text", ...
[[nodiscard]] constexpr const char* element_name(element_type t) noexcept {
  switch (t) {
    case element_type::int8: return "int8";
    case element_type::uint8: return "uint8";
    case element_type::int16: return "int16";
    case element_type::uint16: return "uint16";
    case element_type::int32: return "int32";
    case element_type::uint32: return "uint32";
    case element_type::int64: return "int64";
    case element_type::uint64: return "uint64";
    case element_type::float32: return "float32";
    case element_type::float64: return "float64";
    case element_type::text: return "text";
  }
  return "unknown";
}

/// The C++ types a checkpoint section holds: fixed-width integers, float and double.
template <class T>
concept archive_element =
    std::same_as<T, std::int8_t> || std::same_as<T, std::uint8_t> ||
    std::same_as<T, std::int16_t> || std::same_as<T, std::uint16_t> ||
    std::same_as<T, std::int32_t> || std::same_as<T, std::uint32_t> ||
    std::same_as<T, std::int64_t> || std::same_as<T, std::uint64_t> ||
    std::same_as<T, float> || std::same_as<T, double>;

/// The element_type tag of T.
template <archive_element T>
inline constexpr element_type element_type_of =
    std::same_as<T, std::int8_t>     ? element_type::int8
    : std::same_as<T, std::uint8_t>  ? element_type::uint8
    : std::same_as<T, std::int16_t>  ? element_type::int16
    : std::same_as<T, std::uint16_t> ? element_type::uint16
    : std::same_as<T, std::int32_t>  ? element_type::int32
    : std::same_as<T, std::uint32_t> ? element_type::uint32
    : std::same_as<T, std::int64_t>  ? element_type::int64
    : std::same_as<T, std::uint64_t> ? element_type::uint64
    : std::same_as<T, float>         ? element_type::float32
                                     : element_type::float64;

static_assert(sizeof(float) == 4 && sizeof(double) == 8, "checkpoints store IEEE binary32/64");

/// What a section is: its name, element type and shape.
struct section_info {
  std::string name;
  element_type type = element_type::uint8;
  fxp::shape shape{};
  /// The number of elements (the product of the extents).
  [[nodiscard]] std::size_t count() const noexcept { return shape.size(); }
  /// The size of the data in bytes.
  [[nodiscard]] std::size_t bytes() const noexcept { return count() * element_size(type); }
};

/// The in-memory form of a checkpoint: an ordered set of named, typed sections. Build one
/// with put*, save it with `save` (atomic); `archive::load` returns a fully validated
/// archive or throws `format_error` / `file_error` naming the file. Accessors (get*,
/// expect) throw `format_error` naming the file and the section when the type, count or
/// shape is not what the caller expects, so a model can check every section first and
/// only then copy values into itself.
class archive {
 public:
  /// The longest section name, in bytes.
  static constexpr std::size_t max_name_length = 1024;

  /// An empty archive.
  archive() = default;

  // --- building --------------------------------------------------------------------------

  /// Adds section `name` holding `values` with shape {size} (or `s`, whose element count
  /// must equal the number of values). std::invalid_argument for an empty, too long or
  /// duplicate name, or a shape of another size.
  template <std::ranges::contiguous_range R>
    requires archive_element<std::remove_cv_t<std::ranges::range_value_t<R>>>
  archive& put(std::string name, const R& values) {
    const std::size_t n = std::ranges::size(values);
    return put(std::move(name), values, fxp::shape{n});
  }
  template <std::ranges::contiguous_range R>
    requires archive_element<std::remove_cv_t<std::ranges::range_value_t<R>>>
  archive& put(std::string name, const R& values, const fxp::shape& s) {
    using T = std::remove_cv_t<std::ranges::range_value_t<R>>;
    const std::size_t n = std::ranges::size(values);
    if (s.size() != n) {
      throw std::invalid_argument("fxp::io::archive::put: section '" + name + "' has " +
                                  std::to_string(n) + " values but shape " + to_string(s));
    }
    std::vector<std::byte> bytes(n * sizeof(T));
    detail::store_le_array(std::ranges::data(values), n, bytes.data());
    return add({std::move(name), element_type_of<T>, s}, std::move(bytes));
  }
  /// Adds a float or double tensor with its shape.
  template <class T>
    requires(std::same_as<std::remove_const_t<T>, float> ||
             std::same_as<std::remove_const_t<T>, double>)
  archive& put(std::string name, tensor_view<T> t) {
    return put(std::move(name), std::span<const std::remove_const_t<T>>(t.data(), t.size()),
               t.shape());
  }
  template <class T>
    requires(std::same_as<T, float> || std::same_as<T, double>)
  archive& put(std::string name, const tensor<T>& t) {
    return put(std::move(name), t.view());
  }
  /// Adds a fixed-point tensor as its raw integers (element type: T's raw_type, e.g. int8
  /// for fixed<1, 7>) with its shape. The format itself is not recorded: store it beside
  /// (e.g. as a text or integer section), and read back with get_tensor<T>.
  template <class T>
    requires(fixed_point<std::remove_const_t<T>> &&
             archive_element<typename std::remove_const_t<T>::raw_type>)
  archive& put(std::string name, tensor_view<T> t) {
    std::vector<typename std::remove_const_t<T>::raw_type> raw(t.size());
    for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = t[i].raw();
    return put(std::move(name), raw, t.shape());
  }
  template <fixed_point T>
    requires archive_element<typename T::raw_type>
  archive& put(std::string name, const tensor<T>& t) {
    return put(std::move(name), t.view());
  }
  /// Adds a single value (shape {1}).
  template <archive_element T>
  archive& put_scalar(std::string name, T value) {
    return put(std::move(name), std::span<const T>(&value, 1));
  }
  /// Adds a text section (UTF-8 bytes, shape {size}).
  archive& put_text(std::string name, std::string_view text) {
    std::vector<std::byte> bytes(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) bytes[i] = static_cast<std::byte>(text[i]);
    return add({std::move(name), element_type::text, fxp::shape{text.size()}}, std::move(bytes));
  }

  // --- inspecting ------------------------------------------------------------------------

  /// The number of sections.
  [[nodiscard]] std::size_t size() const noexcept { return sections_.size(); }
  /// Whether a section of that name exists.
  [[nodiscard]] bool contains(std::string_view name) const noexcept { return find(name) != nullptr; }
  /// The sections' descriptions, in the order they were added (and stored).
  [[nodiscard]] std::vector<section_info> sections() const {
    std::vector<section_info> out;
    out.reserve(sections_.size());
    for (const auto& s : sections_) out.push_back(s.info);
    return out;
  }
  /// The description of section `name`; `format_error` if there is none.
  [[nodiscard]] const section_info& info(std::string_view name) const { return at(name).info; }
  /// The file the archive was loaded from (empty for one built in memory).
  [[nodiscard]] const std::filesystem::path& source() const noexcept { return source_; }

  // --- typed access ----------------------------------------------------------------------

  /// Checks that section `name` exists and holds `count` values of type T, without copying;
  /// `format_error` otherwise, e.g. "section 'conv1.weights' holds 400 int8 values, expected
  /// 800".
  template <archive_element T>
  void expect(std::string_view name, std::size_t count) const {
    const auto& s = typed<T>(name);
    if (s.info.count() != count) {
      fail("section '" + s.info.name + "' holds " + std::to_string(s.info.count()) + " " +
           element_name(s.info.type) + " values, expected " + std::to_string(count));
    }
  }
  /// Checks that section `name` exists, holds values of type T and has shape `expected`.
  template <archive_element T>
  void expect(std::string_view name, const fxp::shape& expected) const {
    const auto& s = typed<T>(name);
    if (!(s.info.shape == expected)) {
      fail("section '" + s.info.name + "' has shape " + to_string(s.info.shape) + ", expected " +
           to_string(expected));
    }
  }
  /// The values of section `name`, which must hold values of type T.
  template <archive_element T>
  [[nodiscard]] std::vector<T> get(std::string_view name) const {
    const auto& s = typed<T>(name);
    std::vector<T> out(s.info.count());
    detail::load_le_array(s.data.data(), out.size(), out.data());
    return out;
  }
  /// The values of section `name`, which must hold exactly `count` values of type T.
  template <archive_element T>
  [[nodiscard]] std::vector<T> get(std::string_view name, std::size_t count) const {
    expect<T>(name, count);
    return get<T>(name);
  }
  /// Copies section `name` into `out`, which must have exactly as many elements; on any
  /// mismatch `out` is untouched.
  template <archive_element T>
  void get_into(std::string_view name, std::span<T> out) const {
    expect<T>(name, out.size());
    detail::load_le_array(at(name).data.data(), out.size(), out.data());
  }
  /// Section `name` as a tensor of its stored shape: T float or double, or a fixed-point
  /// type whose raw integers the section holds (its element type must be T's raw_type, and
  /// every raw value within T's range, else `format_error`).
  template <tensor_element T>
  [[nodiscard]] tensor<T> get_tensor(std::string_view name) const {
    if constexpr (fixed_point<T>) {
      using raw_type = typename T::raw_type;
      const auto& s = typed<raw_type>(name);
      std::vector<raw_type> raw(s.info.count());
      detail::load_le_array(s.data.data(), raw.size(), raw.data());
      tensor<T> out(s.info.shape);
      for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] < T::raw_min || raw[i] > T::raw_max) {
          fail("section '" + s.info.name + "' holds the raw value " + std::to_string(raw[i]) +
               " at index " + std::to_string(i) + ", outside the format's range [" +
               std::to_string(T::raw_min) + ", " + std::to_string(T::raw_max) + "]");
        }
        out[i] = T::from_raw(raw[i]);
      }
      return out;
    } else {
      const auto& s = typed<T>(name);
      tensor<T> out(s.info.shape);
      detail::load_le_array(s.data.data(), out.size(), out.data());
      return out;
    }
  }
  /// Section `name` as a tensor, which must have shape `expected`.
  template <tensor_element T>
  [[nodiscard]] tensor<T> get_tensor(std::string_view name, const fxp::shape& expected) const {
    if constexpr (fixed_point<T>) {
      expect<typename T::raw_type>(name, expected);
    } else {
      expect<T>(name, expected);
    }
    return get_tensor<T>(name);
  }
  /// The single value of section `name`.
  template <archive_element T>
  [[nodiscard]] T get_scalar(std::string_view name) const {
    expect<T>(name, 1);
    return detail::load_le<T>(at(name).data.data());
  }
  /// The text of section `name`, which must be a text section.
  [[nodiscard]] std::string get_text(std::string_view name) const {
    const auto& s = at(name);
    if (s.info.type != element_type::text) {
      fail("section '" + s.info.name + "' holds " + element_name(s.info.type) +
           " values, expected text");
    }
    std::string out(s.data.size(), '\0');
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(s.data[i]);
    return out;
  }

  // --- files -----------------------------------------------------------------------------

  /// Writes the file format to `sink`, piece by piece (header, table, each section, the
  /// checksum); `sink` may throw, and a throw stops the write.
  void write(const std::function<void(std::span<const std::byte>)>& sink) const {
    const layout plan = make_layout();
    std::uint32_t crc = 0;
    const auto emit = [&](std::span<const std::byte> bytes) {
      crc = crc32(bytes, crc);
      sink(bytes);
    };
    std::vector<std::byte> head = encode_head(plan);
    emit(head);
    static constexpr std::array<std::byte, 8> zeros{};
    for (const auto& s : sections_) {
      emit(s.data);
      emit(std::span<const std::byte>(zeros).first(padding(s.data.size())));
    }
    std::array<std::byte, 4> tail{};
    detail::store_le(crc, tail.data());
    sink(tail);
  }
  /// The file format as bytes.
  [[nodiscard]] std::vector<std::byte> to_bytes() const {
    std::vector<std::byte> out;
    write([&](std::span<const std::byte> b) { out.insert(out.end(), b.begin(), b.end()); });
    return out;
  }
  /// Saves the archive to `file` atomically: a crash or an exception leaves either the old
  /// file or the complete new one, never a mixture, and no temporary file.
  void save(const std::filesystem::path& file) const {
    write_file_atomically(file, [this](output_file& out) {
      write([&out](std::span<const std::byte> b) { out.write(b); });
    });
  }

  /// Parses and validates a whole checkpoint held in memory; `source` names it in messages.
  /// Checks, in this order: size, magic, version, declared size, checksum, then the section
  /// table (names, types, ranks, extents, sizes, offsets inside the data area and in order,
  /// no duplicate names). Throws `format_error` naming `source` and the problem.
  [[nodiscard]] static archive from_bytes(std::span<const std::byte> bytes,
                                          const std::filesystem::path& source) {
    archive out;
    out.source_ = source;
    out.parse(bytes);
    return out;
  }
  /// Reads and validates the checkpoint `file` (see from_bytes); `file_error` if it cannot
  /// be read.
  [[nodiscard]] static archive load(const std::filesystem::path& file) {
    const std::vector<std::byte> bytes = read_file(file);
    return from_bytes(bytes, file);
  }

 private:
  struct section {
    section_info info;
    std::vector<std::byte> data;  // little-endian element bytes
  };
  struct layout {
    std::size_t table_end = 0;  // header + table + padding
    std::size_t total = 0;      // the file size
  };

  static constexpr std::size_t header_size = 24;
  static constexpr std::size_t checksum_size = 4;

  [[nodiscard]] static constexpr std::size_t padding(std::size_t n) noexcept { return (8 - n % 8) % 8; }

  [[nodiscard]] const section* find(std::string_view name) const noexcept {
    const auto it = std::find_if(sections_.begin(), sections_.end(),
                                 [&](const section& s) { return s.info.name == name; });
    return it == sections_.end() ? nullptr : &*it;
  }

  [[noreturn]] void fail(const std::string& problem) const {
    throw format_error(source_.empty() ? std::filesystem::path("(archive in memory)") : source_,
                       problem);
  }

  [[nodiscard]] const section& at(std::string_view name) const {
    const section* s = find(name);
    if (s == nullptr) {
      std::string names;
      for (std::size_t i = 0; i < sections_.size() && i < 8; ++i)
        names += (i == 0 ? "" : ", ") + sections_[i].info.name;
      if (sections_.size() > 8) names += ", ...";
      fail("no section '" + std::string(name) + "' (the archive holds " +
           std::to_string(sections_.size()) + " sections" +
           (sections_.empty() ? std::string() : ": " + names) + ")");
    }
    return *s;
  }

  template <archive_element T>
  [[nodiscard]] const section& typed(std::string_view name) const {
    const section& s = at(name);
    if (s.info.type != element_type_of<T>) {
      fail("section '" + s.info.name + "' holds " + element_name(s.info.type) +
           " values, expected " + element_name(element_type_of<T>));
    }
    return s;
  }

  archive& add(section_info info, std::vector<std::byte> data) {
    if (info.name.empty() || info.name.size() > max_name_length ||
        info.name.find('\0') != std::string::npos) {
      throw std::invalid_argument("fxp::io::archive: a section name has 1 to 1024 bytes and no NUL");
    }
    if (contains(info.name)) {
      throw std::invalid_argument("fxp::io::archive: section '" + info.name + "' already exists");
    }
    sections_.push_back({std::move(info), std::move(data)});
    return *this;
  }

  [[nodiscard]] layout make_layout() const {
    std::size_t table = header_size;
    for (const auto& s : sections_) table += 2 + s.info.name.size() + 2 + 8 * s.info.shape.rank() + 16;
    layout plan;
    plan.table_end = table + padding(table);
    plan.total = plan.table_end;
    for (const auto& s : sections_) plan.total += s.data.size() + padding(s.data.size());
    plan.total += checksum_size;
    return plan;
  }

  [[nodiscard]] std::vector<std::byte> encode_head(const layout& plan) const {
    std::vector<std::byte> head(plan.table_end, std::byte{0});
    std::size_t at_ = 0;
    const auto put_bytes = [&](const void* p, std::size_t n) {
      std::memcpy(head.data() + at_, p, n);
      at_ += n;
    };
    const auto put_le = [&](auto v) {
      detail::store_le(v, head.data() + at_);
      at_ += sizeof(v);
    };
    put_bytes(checkpoint_magic.data(), checkpoint_magic.size());
    put_le(checkpoint_version);
    put_le(static_cast<std::uint32_t>(sections_.size()));
    put_le(static_cast<std::uint64_t>(plan.total));
    std::size_t offset = plan.table_end;
    for (const auto& s : sections_) {
      put_le(static_cast<std::uint16_t>(s.info.name.size()));
      put_bytes(s.info.name.data(), s.info.name.size());
      put_le(static_cast<std::uint8_t>(s.info.type));
      put_le(static_cast<std::uint8_t>(s.info.shape.rank()));
      for (std::size_t axis = 0; axis < s.info.shape.rank(); ++axis)
        put_le(static_cast<std::uint64_t>(s.info.shape[axis]));
      put_le(static_cast<std::uint64_t>(offset));
      put_le(static_cast<std::uint64_t>(s.data.size()));
      offset += s.data.size() + padding(s.data.size());
    }
    return head;
  }

  [[nodiscard]] static std::string hex(std::uint32_t v) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%08X", static_cast<unsigned>(v));
    return text;
  }

  void parse(std::span<const std::byte> bytes) {
    const std::size_t size = bytes.size();
    const std::size_t magic_bytes = std::min(size, checkpoint_magic.size());
    for (std::size_t i = 0; i < magic_bytes; ++i) {
      if (bytes[i] != static_cast<std::byte>(checkpoint_magic[i])) {
        fail("not an fxp checkpoint: its first bytes are not the magic number \"FXPCKPT\\0\"");
      }
    }
    if (size < header_size + checksum_size) {
      fail("truncated: " + std::to_string(size) + " bytes, but a checkpoint has at least " +
           std::to_string(header_size + checksum_size));
    }
    const auto version = detail::load_le<std::uint32_t>(bytes.data() + 8);
    if (version != checkpoint_version) {
      fail("unsupported checkpoint format version " + std::to_string(version) +
           " (this build of fxp reads version " + std::to_string(checkpoint_version) + ")");
    }
    const auto count = detail::load_le<std::uint32_t>(bytes.data() + 12);
    const auto declared = detail::load_le<std::uint64_t>(bytes.data() + 16);
    if (declared != size) {
      fail(declared > size ? "truncated: the header declares " + std::to_string(declared) +
                                 " bytes, the file holds " + std::to_string(size)
                           : "trailing bytes: the header declares " + std::to_string(declared) +
                                 " bytes, the file holds " + std::to_string(size));
    }
    const auto stored = detail::load_le<std::uint32_t>(bytes.data() + size - checksum_size);
    const std::uint32_t computed = crc32(bytes.first(size - checksum_size));
    if (stored != computed) {
      fail("checksum mismatch: stored CRC-32 " + hex(stored) + ", computed " + hex(computed) +
           " (the file is corrupt)");
    }

    // The table. Every field is bounds-checked: the checksum catches accidents, these
    // checks catch files that were written wrongly.
    const std::size_t data_end = size - checksum_size;
    std::size_t pos = header_size;
    const auto need = [&](std::size_t n, const char* what) {
      if (n > data_end - pos) fail(std::string("corrupt section table: ") + what + " runs past the end");
    };
    const auto take_u64 = [&] {
      need(8, "a field");
      const auto v = detail::load_le<std::uint64_t>(bytes.data() + pos);
      pos += 8;
      return v;
    };
    struct pending {
      section_info info;
      std::uint64_t offset;
      std::uint64_t bytes;
    };
    std::vector<pending> table;
    table.reserve(std::min<std::size_t>(count, data_end / 20));
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::string where = "section #" + std::to_string(i);
      need(2, "a name length");
      const auto name_length = detail::load_le<std::uint16_t>(bytes.data() + pos);
      pos += 2;
      if (name_length == 0 || name_length > max_name_length) {
        fail("corrupt section table: " + where + " has a name of " + std::to_string(name_length) +
             " bytes (1 to 1024 allowed)");
      }
      need(name_length, "a name");
      std::string name(name_length, '\0');
      for (std::size_t k = 0; k < name_length; ++k) name[k] = static_cast<char>(bytes[pos + k]);
      pos += name_length;
      need(2, "a type and rank");
      const auto type = static_cast<element_type>(bytes[pos]);
      const auto rank = static_cast<std::size_t>(bytes[pos + 1]);
      pos += 2;
      if (element_size(type) == 0) {
        fail("corrupt section table: section '" + name + "' has the unknown element type " +
             std::to_string(static_cast<unsigned>(type)));
      }
      if (rank == 0 || rank > fxp::shape::max_rank) {
        fail("corrupt section table: section '" + name + "' has rank " + std::to_string(rank) +
             " (1 to 4 allowed)");
      }
      std::array<std::size_t, fxp::shape::max_rank> extents{1, 1, 1, 1};
      std::size_t elements = 1;
      for (std::size_t axis = 0; axis < rank; ++axis) {
        const std::uint64_t e = take_u64();
        extents[axis] = static_cast<std::size_t>(e);
        if (e > data_end || __builtin_mul_overflow(elements, extents[axis], &elements) ||
            elements > data_end) {
          fail("corrupt section table: section '" + name + "' has extents larger than the file");
        }
      }
      const std::uint64_t offset = take_u64();
      const std::uint64_t length = take_u64();
      if (length != elements * element_size(type)) {
        fail("corrupt section table: section '" + name + "' has " + std::to_string(length) +
             " bytes of data, but its shape holds " + std::to_string(elements) + " " +
             element_name(type) + " values");
      }
      for (const auto& other : table) {
        if (other.info.name == name) fail("corrupt section table: two sections named '" + name + "'");
      }
      fxp::shape s = rank == 1   ? fxp::shape{extents[0]}
                     : rank == 2 ? fxp::shape{extents[0], extents[1]}
                     : rank == 3 ? fxp::shape{extents[0], extents[1], extents[2]}
                                 : fxp::shape{extents[0], extents[1], extents[2], extents[3]};
      table.push_back({{std::move(name), type, s}, offset, length});
    }
    // Data areas: after the table, aligned, in order, not overlapping, before the checksum.
    std::size_t end = pos + padding(pos);
    for (const auto& t : table) {
      if (t.offset % 8 != 0 || t.offset < end || t.offset > data_end || t.bytes > data_end - t.offset) {
        fail("corrupt section table: the data of section '" + t.info.name + "' (offset " +
             std::to_string(t.offset) + ", " + std::to_string(t.bytes) +
             " bytes) is not inside the data area");
      }
      end = static_cast<std::size_t>(t.offset + t.bytes);
    }
    std::vector<section> sections;
    sections.reserve(table.size());
    for (auto& t : table) {
      const auto first = bytes.begin() + static_cast<std::ptrdiff_t>(t.offset);
      sections.push_back({std::move(t.info),
                          std::vector<std::byte>(first, first + static_cast<std::ptrdiff_t>(t.bytes))});
    }
    sections_ = std::move(sections);
  }

  std::vector<section> sections_;
  std::filesystem::path source_;
};

/// Saves `a` to `file` atomically (archive::save).
inline void save_checkpoint(const std::filesystem::path& file, const archive& a) { a.save(file); }

/// Loads and validates the checkpoint `file` (archive::load).
[[nodiscard]] inline archive load_checkpoint(const std::filesystem::path& file) {
  return archive::load(file);
}

}  // namespace fxp::io
