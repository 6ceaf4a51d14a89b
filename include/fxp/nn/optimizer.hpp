// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// Optimizers for float and fixed-point parameters: fxp::nn::sgd (momentum, weight decay)
/// and fxp::nn::adam, with learning-rate schedules (fxp::nn::lr_schedule).
///
/// Which value is stored in which format (fixed modes; role names of layer_precision):
/// - gradient g: `grads` (the layer's backward products round into it);
/// - SGD velocity v, Adam first moment m: `state` (default: the `grads` format);
/// - Adam second moment: `state2` (default: unsigned, 2 * grads.frac + 10 fractional bits,
///   min(31, 2 * grads.bits - 1) bits);
/// - the step u subtracted from a parameter: `updates` (default: the parameter's format);
/// - the parameter: `weights` / `biases` (fixed), or for the weights in fixed_master mode the
///   `master` format, from which the forward `weights` are requantized at every step.
/// Each value is rounded once, by the layer's rounding policy, when it is stored.

#include <array>      // the saturation counts of a step
#include <atomic>     // added to by the pieces on the pool
#include <bit>        // std::bit_width of the hyperparameters
#include <cmath>      // std::cos, std::sqrt, std::pow, std::ldexp
#include <algorithm>  // std::min
#include <cstddef>    // std::size_t
#include <cstdint>    // steps
#include <map>        // per-parameter buffers by name
#include <numbers>    // std::numbers::pi
#include <stdexcept>  // std::invalid_argument
#include <string>     // names
#include <type_traits>  // std::is_same_v choosing the working integer
#include <variant>    // state tensors
#include <vector>     // raw arrays

#include "../simd/detail/array_dispatch.hpp"  // the step on active_isa()'s path
#include "../simd/detail/isa_namespace.hpp"
#include "../simd/philox.hpp"  // fill_words: the random words of consecutive elements
#include "detail/raw_ops.hpp"
#include "detail/rounding.hpp"
#include "model.hpp"
#include "state.hpp"

namespace fxp::nn {
FXP_BEGIN_ISA_NAMESPACE

/// A learning rate per step: constant, step decay or cosine, after an optional linear
/// warm-up.
struct lr_schedule {
  enum class kind : std::uint8_t { constant, step, cosine };
  double base = 0.01;              ///< the learning rate after warm-up
  kind shape = kind::constant;
  std::uint64_t warmup_steps = 0;  ///< linear warm-up from base / warmup_steps to base
                                   ///< (Goyal et al., arXiv:1706.02677)
  std::uint64_t step_size = 1;     ///< kind::step: lr = base * gamma^floor(t / step_size)
  double gamma = 0.1;
  std::uint64_t total_steps = 1;   ///< kind::cosine: steps of the cosine after warm-up
  double min_lr = 0.0;             ///< kind::cosine: lr = min + (base - min)(1 + cos(pi t / T)) / 2
                                   ///< (Loshchilov & Hutter, SGDR, arXiv:1608.03983, one cycle)

  [[nodiscard]] static lr_schedule constant(double lr) { return {lr, kind::constant}; }
  [[nodiscard]] static lr_schedule step_decay(double lr, std::uint64_t every, double factor) {
    lr_schedule s{lr, kind::step};
    s.step_size = every;
    s.gamma = factor;
    return s;
  }
  [[nodiscard]] static lr_schedule cosine(double lr, std::uint64_t total, double min = 0.0) {
    lr_schedule s{lr, kind::cosine};
    s.total_steps = total;
    s.min_lr = min;
    return s;
  }
  [[nodiscard]] lr_schedule with_warmup(std::uint64_t steps) const {
    lr_schedule s = *this;
    s.warmup_steps = steps;
    return s;
  }

  /// The learning rate of step `t` (0-based).
  [[nodiscard]] double at(std::uint64_t t) const {
    if (t < warmup_steps) return base * static_cast<double>(t + 1) / static_cast<double>(warmup_steps);
    const std::uint64_t u = t - warmup_steps;
    switch (shape) {
      case kind::constant: return base;
      case kind::step: return base * std::pow(gamma, static_cast<double>(u / (step_size == 0 ? 1 : step_size)));
      case kind::cosine: {
        const double x = static_cast<double>(u < total_steps ? u : total_steps) / static_cast<double>(total_steps);
        return min_lr + (base - min_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * x));
      }
    }
    return base;
  }
};

/// Fractional bits of the hyperparameters (learning rate, momentum, weight decay) in the
/// exact integer updates of fixed-point SGD: each is rounded to a multiple of 2^-24.
inline constexpr int hyper_frac = 24;

/// The base of the optimizers: a step over every trainable parameter of a model.
class optimizer {
 public:
  virtual ~optimizer() = default;
  /// Applies one update (training step `t`, 0-based) from the gradients of the last backward
  /// pass to every parameter of every trainable layer.
  virtual void step(sequential& model, std::uint64_t t) = 0;
  /// Appends every buffer and counter, named "<name()>.<parameter>.<buffer>".
  virtual void append_state(training_state& s) const = 0;
  /// Throws std::invalid_argument when load_state(s) would (a counter is missing).
  virtual void check_state(const training_state& s) const { (void)s; }
  /// Restores what append_state wrote (std::invalid_argument, and no change, on a mismatch).
  virtual void load_state(const training_state& s) = 0;
  /// Forgets every buffer (e.g. after a mode change; buffers of the old representation are
  /// also dropped when a parameter's representation changes).
  virtual void reset() = 0;
  [[nodiscard]] virtual std::string name() const = 0;

  lr_schedule schedule;
};

FXP_END_ISA_NAMESPACE
namespace detail {
FXP_BEGIN_ISA_NAMESPACE

/// One optimizer buffer: float, or a qtensor.
struct buffer {
  tensor<float> f;
  qtensor q;
};

/// The buffer `b` for parameter values of `s` elements: float (zeros) in a float mode, a
/// qtensor in `fmt` (zeros) in a fixed one; an existing buffer of the other kind is dropped.
inline void prepare(buffer& b, const fxp::shape& s, bool fixed, const dynamic_format& fmt) {
  if (fixed) {
    if (b.q.size() != s.size() || !(b.q.format() == fmt)) b.q = b.q.size() == s.size() ? requantize(b.q, fmt, rounding_mode::nearest) : qtensor(s, fmt);
    b.f = tensor<float>();
  } else {
    if (b.f.size() != s.size()) b.f = tensor<float>(s);
    b.q = qtensor();
  }
}

inline void append_buffer(training_state& s, const std::string& name, const buffer& b) {
  if (b.q.size() != 0) s.tensors.push_back({name, b.q});
  else if (b.f.size() != 0) s.tensors.push_back({name, b.f});
}

inline void load_buffer(const training_state& s, const std::string& name, buffer& b) {
  b = buffer{};
  if (const named_tensor* t = s.find_tensor(name)) {
    if (std::holds_alternative<qtensor>(t->value)) b.q = std::get<qtensor>(t->value);
    else b.f = std::get<tensor<float>>(t->value);
  }
}

/// After an update of the master weights (fixed_master): the forward weights requantized
/// from them into the `weights` format by the layer's policy (key slot weights, step t).
inline void refresh_forward_weights(layer& l, parameter& p, training_mode m, std::uint64_t seed,
                                    std::uint64_t t) {
  if (m != training_mode::fixed_master || p.kind != role::weights || p.qmaster.size() == 0) return;
  const auto& f = l.precision()[role::weights];
  if (!f) throw std::invalid_argument("fxp::nn: layer " + l.name() + " needs a 'weights' format");
  p.qvalue = requantize(p.qmaster, *f, l.precision().rounding, make_key(seed, l.index(), slot::weights, t));
  l.saturations()[role::weights] += p.qvalue.saturations();
}

/// The role whose format default `updates` takes: the stored value's.
[[nodiscard]] inline dynamic_format state_format(const layer& l, role r, const dynamic_format& grads) {
  if (const auto& f = l.precision()[r]) return *f;
  if (r == role::state2) {
    dynamic_format g;
    g.is_signed = false;
    g.frac = 2 * grads.frac + 10;  // (1 - beta2) g^2 with beta2 = 0.999 is ~2^-10 g^2
    g.bits = 2 * grads.bits - 1 < 31 ? 2 * grads.bits - 1 : 31;
    return g;
  }
  return grads;
}

[[nodiscard]] inline int128 hyper(double x) {
  return round_double(std::ldexp(x, hyper_frac), rounding_mode::nearest);
}

/// The stored value of `p` replaced by value - u (u raw with frac fu), rounded into the
/// value's format by `rnd` (words of `k`).
inline void subtract_update(qtensor& value_q, const std::vector<std::int64_t>& u, int fu,
                            rounding_mode rnd, const random_key& k, std::uint64_t& saturations) {
  const std::vector<std::int64_t> w = load_raw(value_q);
  const dynamic_format f = value_q.format();
  const int c = f.frac > fu ? f.frac : fu;
  std::vector<int128> exact(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) {
    exact[i] = (int128{w[i]} << (c - f.frac)) - (int128{u[i]} << (c - fu));
  }
  value_q = round_into(value_q.shape(), exact, c, f, rnd, k, saturations);
}

FXP_END_ISA_NAMESPACE
}  // namespace detail
FXP_BEGIN_ISA_NAMESPACE

/// Stochastic gradient descent with momentum and weight decay, as PyTorch's SGD (dampening
/// 0): g' = g + weight_decay * w, v = momentum * v + g', w = w - lr * v (Polyak's heavy ball,
/// in the form of Sutskever et al., ICML 2013).
///
/// Fixed point: lr, momentum and weight_decay are rounded to multiples of 2^-24; g' and
/// momentum * v + g' are exact integer sums, rounded once into `state` (the velocity); lr * v
/// is exact and rounded once into `updates`; w - u is exact and rounded once into the
/// parameter's format (saturating). Every rounding uses the layer's policy; stochastic ones
/// draw element i's word from (seed, tensor id of the role, step). Gupta et al.
/// (arXiv:1502.02551) show why it matters: with round to nearest an update below half a
/// step of the parameter's format is lost.
class sgd final : public optimizer {
 public:
  explicit sgd(lr_schedule s, double momentum = 0.0, double weight_decay = 0.0)
      : momentum_(momentum), weight_decay_(weight_decay) {
    schedule = s;
  }
  [[nodiscard]] std::string name() const override { return "sgd"; }

  void step(sequential& model, std::uint64_t t) override {
    const double lr = schedule.at(t);
    const training_mode mode = model.mode();
    for (std::size_t li = 0; li < model.size(); ++li) {
      layer& l = model[li];
      if (!l.trainable) continue;
      for (parameter& p : l.parameters()) {
        detail::buffer& v = buffers_[p.name];
        if (!is_fixed(mode)) {
          step_float(p, v, lr);
        } else {
          step_fixed(l, p, v, lr, model, t);
        }
      }
    }
  }

  void append_state(training_state& s) const override {
    for (const auto& [name, b] : buffers_) detail::append_buffer(s, "sgd." + name + ".velocity", b);
  }
  void load_state(const training_state& s) override {
    std::map<std::string, detail::buffer> next;
    for (const auto& t : s.tensors) {
      const std::string prefix = "sgd.";
      const std::string suffix = ".velocity";
      if (t.name.size() > prefix.size() + suffix.size() && t.name.compare(0, prefix.size(), prefix) == 0 &&
          t.name.compare(t.name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        detail::load_buffer(s, t.name, next[t.name.substr(prefix.size(), t.name.size() - prefix.size() - suffix.size())]);
      }
    }
    buffers_ = std::move(next);
  }
  void reset() override { buffers_.clear(); }

 private:
  void step_float(parameter& p, detail::buffer& v, double lr) {
    const auto n = p.value.size();
    const auto mu = static_cast<float>(momentum_);
    const auto wd = static_cast<float>(weight_decay_);
    const auto rate = static_cast<float>(lr);
    float* w = p.value.data();
    const float* g = p.grad.data();
    if (momentum_ != 0.0) {
      detail::prepare(v, p.value.shape(), false, {});
      float* vel = v.f.data();
      for (std::size_t i = 0; i < n; ++i) {
        vel[i] = mu * vel[i] + (g[i] + wd * w[i]);
        w[i] -= rate * vel[i];
      }
    } else {
      for (std::size_t i = 0; i < n; ++i) w[i] -= rate * (g[i] + wd * w[i]);
    }
  }

  void step_fixed(layer& l, parameter& p, detail::buffer& v, double lr, sequential& model, std::uint64_t t) {
    using detail::int128;
    const training_mode mode = model.mode();
    const bool is_w = p.kind == role::weights;
    qtensor& target = (mode == training_mode::fixed_master && is_w) ? p.qmaster : p.qvalue;
    const dynamic_format fw = target.format();
    const dynamic_format fg = p.qgrad.format();
    const rounding_mode rnd = l.precision().rounding;
    const std::uint64_t seed = model.seed();
    const bool use_state = momentum_ != 0.0;
    const dynamic_format fs = detail::state_format(l, role::state, fg);
    if (use_state) detail::prepare(v, target.shape(), true, fs);
    const dynamic_format fu = l.precision()[role::updates].value_or(fw);
    const std::size_t size = target.size();
    const int128 wd = detail::hyper(weight_decay_);
    const int128 mu = detail::hyper(momentum_);
    const int128 rate = detail::hyper(lr);
    // g' = g + wd * w, exact with a = max(fg, fw + 24) fractional bits; v = mu v + g' exact
    // with b = max(a, fs + 24); u = lr * v (or lr * g') exact with 24 + its frac; w - u exact
    // with c = max(fw, fu). Each rounded once, as the class comment says.
    const int a = fg.frac > fw.frac + hyper_frac ? fg.frac : fw.frac + hyper_frac;
    const int b = a > fs.frac + hyper_frac ? a : fs.frac + hyper_frac;
    const int src_frac = use_state ? fs.frac : a;
    const int c = fw.frac > fu.frac ? fw.frac : fu.frac;
    const random_key ks = make_key(seed, l.index(), is_w ? slot::weight_state : slot::bias_state, t);
    const random_key ku = make_key(seed, l.index(), is_w ? slot::weight_updates : slot::bias_updates, t);
    const random_key kw = make_key(seed, l.index(), is_w ? slot::weight_store : slot::bias_store, t);
    // Independent elements, in pieces on the thread pool; each piece adds its saturation
    // counts once (integer sums: nothing depends on threads or on how the pieces fall).
    std::array<std::atomic<std::uint64_t>, 3> sat{};
    // The same exact arithmetic in int64 wherever every intermediate fits 62 bits, which
    // the formats bound (16-bit formats and the usual hyperparameters always do): about half
    // the work of int128 per element.
    // (The hyperparameters are in [0, 2^62]: hyper() caps them.)
    const auto magnitude_bits = [](int128 x) {
      return static_cast<int>(std::bit_width(static_cast<std::uint64_t>(x)));
    };
    const int gp_bits = 1 + std::max(fg.bits + (a - fg.frac),
                                     magnitude_bits(wd) + fw.bits + (a - fw.frac - hyper_frac));
    const int state_bits =
        1 + std::max(magnitude_bits(mu) + fs.bits + (b - fs.frac - hyper_frac), gp_bits + (b - a));
    const int update_shift = src_frac + hyper_frac - fu.frac;
    const int update_bits = magnitude_bits(rate) + (use_state ? fs.bits : gp_bits) +
                            (update_shift < 0 ? -update_shift : 0);
    const int diff_bits = 1 + std::max(fw.bits + (c - fw.frac), fu.bits + (c - fu.frac));
    const bool in_int64 = std::max({gp_bits, use_state ? state_bits : 0, update_bits, diff_bits}) <= 62 &&
                          b - fs.frac <= 62 && update_shift <= 62 && c - fw.frac <= 62;
    // The loop is instantiated per rounding mode, so that each rounding's rule is a constant
    // in it rather than a switch per element (the step was 17% of a fixed16 training step),
    // and per working integer.
    const int s_down = b - fs.frac;
    const int w_down = c - fw.frac;
    // Every rounding a right shift (or none): the 64-bit rounding without a branch on the
    // shift's sign, which vectorizes.
    const bool right_shifts = s_down >= 0 && update_shift >= 0 && w_down >= 0;
    // The step in stages over chunks of elements, each stage a loop the compiler vectorizes
    // (in one loop per element, the three roundings and clamps kept it scalar: 10 ns per
    // element). Instantiated per rounding mode (its rule a constant in the loops), working
    // integer and rounding function.
    const auto piece = [&]<rounding_mode Mode, class Wide>(std::size_t first, std::size_t count,
                                                           auto round_shift) {
      constexpr bool random_words = Mode == rounding_mode::stochastic;
      const auto wd_w = static_cast<Wide>(wd);
      const auto mu_w = static_cast<Wide>(mu);
      const auto rate_w = static_cast<Wide>(rate);
      const int g_up = a - fg.frac, wd_up = a - fw.frac - hyper_frac;
      const int s_up = b - fs.frac - hyper_frac, gp_up = b - a;
      const int w_up = c - fw.frac, u_up = c - fu.frac;
      const std::int64_t s_lo = fs.raw_min(), s_hi = fs.raw_max();
      const std::int64_t u_lo = fu.raw_min(), u_hi = fu.raw_max();
      const std::int64_t w_lo = fw.raw_min(), w_hi = fw.raw_max();
      std::uint64_t sat_s = 0, sat_u = 0, sat_w = 0;
      const auto clamp = [](Wide x, std::int64_t lo, std::int64_t hi, std::uint64_t& clamped) {
        const Wide kept = x < Wide{lo} ? Wide{lo} : x > Wide{hi} ? Wide{hi} : x;
        clamped += kept != x ? 1 : 0;
        return static_cast<std::int64_t>(kept);
      };
      constexpr std::size_t chunk = 256;
      std::array<std::uint32_t, chunk> bs{}, bu{}, bw{};
      std::array<Wide, chunk> src{};
      std::array<std::int64_t, chunk> u{}, gc{}, wc{}, vc{};
      // The raw values in and out of their carriers a chunk at a time, the parameter and
      // its velocity updated in place (each element read before it is written).
      for (std::size_t at = first; at < first + count; at += chunk) {
        const std::size_t len = std::min(chunk, first + count - at);
        if constexpr (random_words) {
          simd::detail::fill_words(ks, at, len, bs.data());
          simd::detail::fill_words(ku, at, len, bu.data());
          simd::detail::fill_words(kw, at, len, bw.data());
        }
        detail::load_raw_chunk(p.qgrad, at, len, gc.data());
        detail::load_raw_chunk(target, at, len, wc.data());
        if (use_state) detail::load_raw_chunk(v.q, at, len, vc.data());
        const std::int64_t* gi = gc.data();
        const std::int64_t* wi = wc.data();
        std::int64_t* wo = wc.data();
        for (std::size_t j = 0; j < len; ++j) {  // g' = g + wd w
          src[j] = (Wide{gi[j]} << g_up) + ((wd_w * wi[j]) << wd_up);
        }
        if (use_state) {  // v = mu v + g'
          std::int64_t* vi = vc.data();
          for (std::size_t j = 0; j < len; ++j) {
            const Wide exact = ((mu_w * vi[j]) << s_up) + (src[j] << gp_up);
            vi[j] = clamp(round_shift(exact, s_down, bs[j]), s_lo, s_hi, sat_s);
            src[j] = vi[j];
          }
        }
        for (std::size_t j = 0; j < len; ++j) {  // u = lr v
          u[j] = clamp(round_shift(rate_w * src[j], update_shift, bu[j]), u_lo, u_hi, sat_u);
        }
        for (std::size_t j = 0; j < len; ++j) {  // w - u
          const Wide diff = (Wide{wi[j]} << w_up) - (Wide{u[j]} << u_up);
          wo[j] = clamp(round_shift(diff, w_down, bw[j]), w_lo, w_hi, sat_w);
        }
        if (use_state) detail::store_raw_chunk(v.q, at, len, vc.data());
        detail::store_raw_chunk(target, at, len, wc.data());
      }
      sat[0] += sat_s;
      sat[1] += sat_u;
      sat[2] += sat_w;
    };
    fxp::detail::for_each_piece(size, [&](std::size_t first, std::size_t count) {
      with_rounding(rnd, [&]<class Round>() {
        constexpr rounding_mode m = rounding_mode_of<Round>;
        if (in_int64 && right_shifts) {
          // On active_isa()'s path: in a build without -march, the stage loops vectorize
          // in the AVX2 or AVX-512 region (SSE2 has no 64-bit multiply or arithmetic shift).
          simd::detail::run_array_kernel([&](auto) {
            piece.template operator()<m, std::int64_t>(first, count, [](std::int64_t x, int shift, std::uint32_t word) {
              return detail::round_right_shift64(x, shift, rounding_mode_of<Round>, word);
            });
          });
        } else if (in_int64) {
          piece.template operator()<m, std::int64_t>(first, count, [](std::int64_t x, int shift, std::uint32_t word) {
            return detail::round_shift64(x, shift, m, word);
          });
        } else {
          piece.template operator()<m, int128>(first, count, [](int128 x, int shift, std::uint32_t word) {
            return detail::round_shift(x, shift, m, word);
          });
        }
      });
    });
    auto& counts = l.saturations();
    counts[role::state] += sat[0].load();
    counts[role::updates] += sat[1].load();
    counts[mode == training_mode::fixed_master && is_w ? role::master : p.kind] += sat[2].load();
    detail::refresh_forward_weights(l, p, mode, seed, t);
  }

  double momentum_;
  double weight_decay_;
  std::map<std::string, detail::buffer> buffers_;  // velocity per parameter name
};

/// Adam (Kingma & Ba, arXiv:1412.6980) with L2 weight decay added to the gradient (as
/// PyTorch's Adam): m = b1 m + (1 - b1) g', v = b2 v + (1 - b2) g'^2,
/// w = w - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
///
/// Fixed point: m is stored in `state`, v in `state2`; each new m, v and the step u are
/// computed in double from the exact stored values (a square root and a quotient have no
/// exact fixed-point form) and rounded once, by the layer's policy, into `state`, `state2`
/// and `updates`; w - u is exact and rounded once into the parameter's format.
class adam final : public optimizer {
 public:
  explicit adam(lr_schedule s, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
                double weight_decay = 0.0)
      : beta1_(beta1), beta2_(beta2), eps_(eps), weight_decay_(weight_decay) {
    schedule = s;
  }
  [[nodiscard]] std::string name() const override { return "adam"; }

  void step(sequential& model, std::uint64_t t) override {
    ++steps_;
    const double lr = schedule.at(t);
    const double c1 = 1.0 - std::pow(beta1_, static_cast<double>(steps_));
    const double c2 = 1.0 - std::pow(beta2_, static_cast<double>(steps_));
    const training_mode mode = model.mode();
    for (std::size_t li = 0; li < model.size(); ++li) {
      layer& l = model[li];
      if (!l.trainable) continue;
      for (parameter& p : l.parameters()) {
        moments& mv = buffers_[p.name];
        if (!is_fixed(mode)) {
          detail::prepare(mv.m, p.value.shape(), false, {});
          detail::prepare(mv.v, p.value.shape(), false, {});
          float* w = p.value.data();
          const float* g = p.grad.data();
          float* m = mv.m.f.data();
          float* v = mv.v.f.data();
          const auto b1 = static_cast<float>(beta1_);
          const auto b2 = static_cast<float>(beta2_);
          for (std::size_t i = 0, n = p.value.size(); i < n; ++i) {
            const float gi = g[i] + static_cast<float>(weight_decay_) * w[i];
            m[i] = b1 * m[i] + (1.0f - b1) * gi;
            v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
            const double mh = static_cast<double>(m[i]) / c1;
            const double vh = static_cast<double>(v[i]) / c2;
            w[i] = static_cast<float>(static_cast<double>(w[i]) - lr * mh / (std::sqrt(vh) + eps_));
          }
        } else {
          step_fixed(l, p, mv, lr, c1, c2, model, t);
        }
      }
    }
  }

  void append_state(training_state& s) const override {
    s.counters.emplace_back("adam.t", steps_);
    for (const auto& [name, b] : buffers_) {
      detail::append_buffer(s, "adam." + name + ".m", b.m);
      detail::append_buffer(s, "adam." + name + ".v", b.v);
    }
  }
  void check_state(const training_state& s) const override {
    if (!s.find_counter("adam.t")) throw std::invalid_argument("fxp::nn::adam::load_state: counter adam.t missing");
  }
  void load_state(const training_state& s) override {
    check_state(s);
    const std::uint64_t* t = s.find_counter("adam.t");
    std::map<std::string, moments> next;
    for (const auto& e : s.tensors) {
      if (e.name.size() > 7 && e.name.compare(0, 5, "adam.") == 0 && e.name.compare(e.name.size() - 2, 2, ".m") == 0) {
        const std::string pname = e.name.substr(5, e.name.size() - 7);
        detail::load_buffer(s, e.name, next[pname].m);
        detail::load_buffer(s, "adam." + pname + ".v", next[pname].v);
      }
    }
    steps_ = *t;
    buffers_ = std::move(next);
  }
  void reset() override {
    buffers_.clear();
    steps_ = 0;
  }

 private:
  struct moments {
    detail::buffer m;
    detail::buffer v;
  };

  void step_fixed(layer& l, parameter& p, moments& mv, double lr, double c1, double c2, sequential& model,
                  std::uint64_t t) {
    using detail::int128;
    const bool is_w = p.kind == role::weights;
    qtensor& target = (model.mode() == training_mode::fixed_master && is_w) ? p.qmaster : p.qvalue;
    const dynamic_format fw = target.format();
    const dynamic_format fg = p.qgrad.format();
    const dynamic_format fm = detail::state_format(l, role::state, fg);
    const dynamic_format fv = detail::state_format(l, role::state2, fg);
    const dynamic_format fu = l.precision()[role::updates].value_or(fw);
    detail::prepare(mv.m, target.shape(), true, fm);
    detail::prepare(mv.v, target.shape(), true, fv);
    const rounding_mode rnd = l.precision().rounding;
    const bool random = rnd == rounding_mode::stochastic;
    const std::uint64_t seed = model.seed();
    auto& sat = l.saturations();
    const random_key km = make_key(seed, l.index(), is_w ? slot::weight_state : slot::bias_state, t);
    const random_key kv = make_key(seed, l.index(), is_w ? slot::weight_state2 : slot::bias_state2, t);
    const random_key ku = make_key(seed, l.index(), is_w ? slot::weight_updates : slot::bias_updates, t);
    const std::vector<std::int64_t> w = detail::load_raw(target);
    const std::vector<std::int64_t> g = detail::load_raw(p.qgrad);
    std::vector<std::int64_t> m = detail::load_raw(mv.m.q);
    std::vector<std::int64_t> v = detail::load_raw(mv.v.q);
    std::vector<std::int64_t> u(w.size());
    constexpr std::size_t chunk = 256;
    std::array<std::uint32_t, chunk> wm{}, wv{}, wu{};
    for (std::size_t i = 0; i < w.size(); ++i) {
      const std::size_t lane = i % chunk;
      if (random && lane == 0) {
        const std::size_t len = std::min(chunk, w.size() - i);
        simd::detail::fill_words(km, i, len, wm.data());
        simd::detail::fill_words(kv, i, len, wv.data());
        simd::detail::fill_words(ku, i, len, wu.data());
      }
      const double gi = std::ldexp(static_cast<double>(g[i]), -fg.frac) +
                        weight_decay_ * std::ldexp(static_cast<double>(w[i]), -fw.frac);
      const double mi = beta1_ * std::ldexp(static_cast<double>(m[i]), -fm.frac) + (1.0 - beta1_) * gi;
      const double vi = beta2_ * std::ldexp(static_cast<double>(v[i]), -fv.frac) + (1.0 - beta2_) * gi * gi;
      m[i] = detail::saturate(detail::round_double(std::ldexp(mi, fm.frac), rnd, wm[lane]), fm, sat[role::state]);
      v[i] = detail::saturate(detail::round_double(std::ldexp(vi, fv.frac), rnd, wv[lane]), fv, sat[role::state2]);
      const double mh = std::ldexp(static_cast<double>(m[i]), -fm.frac) / c1;
      // v is taken as at least one step of its format: a second moment that rounded to
      // zero must not blow the step up to lr * m / eps.
      const double vh = std::ldexp(static_cast<double>(v[i] > 0 ? v[i] : 1), -fv.frac) / c2;
      const double step = lr * mh / (std::sqrt(vh) + eps_);
      u[i] = detail::saturate(detail::round_double(std::ldexp(step, fu.frac), rnd, wu[lane]), fu, sat[role::updates]);
    }
    mv.m.q = detail::store_raw(target.shape(), fm, m);
    mv.v.q = detail::store_raw(target.shape(), fv, v);
    detail::subtract_update(target, u, fu.frac, rnd,
                            make_key(seed, l.index(), is_w ? slot::weight_store : slot::bias_store, t),
                            sat[model.mode() == training_mode::fixed_master && is_w ? role::master : p.kind]);
    detail::refresh_forward_weights(l, p, model.mode(), seed, t);
  }

  double beta1_;
  double beta2_;
  double eps_;
  double weight_decay_;
  std::uint64_t steps_ = 0;
  std::map<std::string, moments> buffers_;
};

FXP_END_ISA_NAMESPACE
}  // namespace fxp::nn
