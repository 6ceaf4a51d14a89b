// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// Checkpoints of a training run: an fxp::nn::training_state (parameters, optimizer
/// buffers, counters, the model's mode and precision plan) in an fxp::io::archive, so a run
/// resumed from the file continues bit for bit. The archive is versioned, checksummed and
/// written atomically (temporary file, fsync, rename); reading checks all of it, and
/// restore_training() checks the state against the trainer's before anything changes.
///
/// Sections: "fxp.kind" (text "training_state"), then per tensor "tensor/<name>" (float
/// values, or a qtensor's raw integers) and, for a qtensor, "format/<name>" (its format as
/// text, "s16.8"); "counter/<name>" (uint64) per counter; "string/<name>" (text) per string.

#include <cstdint>     // counters
#include <filesystem>  // paths
#include <string>      // names
#include <variant>     // float or fixed-point tensors
#include <vector>      // raw values

#include "../nn/state.hpp"
#include "../nn/trainer.hpp"
#include "../simd/detail/isa_namespace.hpp"
#include "../tensor/qtensor.hpp"
#include "checkpoint.hpp"
#include "error.hpp"

namespace fxp::io {

namespace detail {
FXP_BEGIN_ISA_NAMESPACE
inline constexpr const char* training_kind = "training_state";
FXP_END_ISA_NAMESPACE
}  // namespace detail
FXP_BEGIN_ISA_NAMESPACE

/// The archive holding `state`.
[[nodiscard]] inline archive to_archive(const nn::training_state& state) {
  archive a;
  a.put_text("fxp.kind", detail::training_kind);
  for (const auto& t : state.tensors) {
    if (const auto* f = std::get_if<tensor<float>>(&t.value)) {
      a.put("tensor/" + t.name, *f);
    } else {
      const auto& q = std::get<qtensor>(t.value);
      q.visit_view([&](auto view) { a.put("tensor/" + t.name, view); });
      a.put_text("format/" + t.name, q.format().to_string());
    }
  }
  for (const auto& [name, value] : state.counters) a.put_scalar("counter/" + name, value);
  for (const auto& [name, text] : state.strings) a.put_text("string/" + name, text);
  return a;
}

/// The training state an archive holds.
/// \throws fxp::io::format_error naming the file and the section when the archive is not a
///         training state, or a tensor's values do not fit its recorded format
[[nodiscard]] inline nn::training_state to_training_state(const archive& a) {
  const auto fail = [&](const std::string& what) {
    return format_error(a.source(), what);
  };
  if (!a.contains("fxp.kind") || a.get_text("fxp.kind") != detail::training_kind) {
    throw fail("not a training checkpoint (section fxp.kind is missing or not '" +
               std::string(detail::training_kind) + "')");
  }
  nn::training_state s;
  for (const section_info& info : a.sections()) {
    const std::string& name = info.name;
    const auto suffix = [&](std::string_view prefix) { return name.substr(prefix.size()); };
    if (name.starts_with("tensor/")) {
      const std::string tname = suffix("tensor/");
      const std::string format_section = "format/" + tname;
      if (!a.contains(format_section)) {
        s.tensors.push_back({tname, a.get_tensor<float>(name)});
        continue;
      }
      dynamic_format f;
      try {
        f = dynamic_format::parse(a.get_text(format_section));
      } catch (const std::invalid_argument& e) {
        throw fail("section '" + format_section + "': " + e.what());
      }
      qtensor q(info.shape, f);
      q.visit([&](auto* dst) {
        using carrier = std::remove_cvref_t<decltype(*dst)>;
        const tensor<carrier> raw = a.get_tensor<carrier>(name);
        for (std::size_t i = 0; i < raw.size(); ++i) {
          const auto r = static_cast<std::int64_t>(raw[i].raw());
          if (r < f.raw_min() || r > f.raw_max()) {
            throw fail("section '" + name + "' holds the raw value " + std::to_string(r) +
                       " at index " + std::to_string(i) + ", outside format " + f.to_string());
          }
          dst[i] = raw[i];
        }
      });
      s.tensors.push_back({tname, std::move(q)});
    } else if (name.starts_with("counter/")) {
      s.counters.emplace_back(suffix("counter/"), a.get_scalar<std::uint64_t>(name));
    } else if (name.starts_with("string/")) {
      s.strings.emplace_back(suffix("string/"), a.get_text(name));
    } else if (!name.starts_with("format/") && name != "fxp.kind") {
      throw fail("unexpected section '" + name + "' in a training checkpoint");
    }
  }
  return s;
}

/// Saves the trainer's whole state (model, optimizer, step) to `file`, atomically.
inline void save_training(const std::filesystem::path& file, const nn::trainer& t) {
  to_archive(t.state()).save(file);
}

/// Restores a state saved by save_training into `t`. Everything is checked before anything
/// changes: the file (magic, version, checksum, sections), then that it holds every tensor
/// of the trainer's own state with the same name, kind (float or fixed) and shape, and no
/// other tensor but buffers of the same optimizer; on any error the model and optimizer in
/// memory are untouched.
/// \throws fxp::io::file_error, fxp::io::format_error naming the file and the problem
inline void restore_training(const std::filesystem::path& file, nn::trainer& t) {
  const archive a = archive::load(file);
  const nn::training_state loaded = to_training_state(a);
  const nn::training_state current = t.state();
  const auto fail = [&](const std::string& what) {
    return format_error(file, "does not match this model: " + what);
  };
  // Optimizer buffers appear on a parameter's first update, so a fresh trainer may lack
  // some the file has: those must belong to this trainer's optimizer; all else must match.
  const std::string buffers = t.optim().name() + ".";
  for (const auto& theirs : loaded.tensors) {
    if (current.find_tensor(theirs.name) == nullptr && !theirs.name.starts_with(buffers)) {
      throw fail("it holds tensor '" + theirs.name + "', which neither the model nor its " +
                 t.optim().name() + " optimizer has");
    }
  }
  for (const auto& mine : current.tensors) {
    const nn::named_tensor* theirs = loaded.find_tensor(mine.name);
    if (theirs == nullptr) throw fail("tensor '" + mine.name + "' is missing");
    if (theirs->value.index() != mine.value.index()) {
      throw fail("tensor '" + mine.name + "' is " +
                 (theirs->value.index() == 0 ? "float" : "fixed point") + ", the model's is not");
    }
    const auto shape_of = [](const nn::named_tensor& n) {
      return std::visit([](const auto& v) { return v.shape(); }, n.value);
    };
    if (!(shape_of(*theirs) == shape_of(mine))) {
      throw fail("tensor '" + mine.name + "' has shape " + to_string(shape_of(*theirs)) +
                 ", the model's " + to_string(shape_of(mine)));
    }
  }
  try {
    t.load_state(loaded);
  } catch (const std::invalid_argument& e) {
    throw fail(e.what());
  }
}

FXP_END_ISA_NAMESPACE
}  // namespace fxp::io
