// SPDX-License-Identifier: MIT
// Fixed-point forward and backward of each layer against exact references written here with
// 128-bit integers, for deterministic and stochastic rounding; and float vs fixed forward
// within the derived quantization bound.

#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <random>
#include <vector>

#include "nn_test_util.hpp"

namespace nn = fxp::nn;
using fxp::dynamic_format;
using fxp::qtensor;
using fxp::rounding_mode;
using fxp::shape;
using fxp::tensor;

namespace {

__extension__ using wide = __int128;

const nn::context ctx{nn::training_mode::fixed, true, 7, 3};

/// A qtensor of format f with raw values uniform on [lo, hi] (clamped to f's range).
qtensor random_q(const shape& s, dynamic_format f, std::uint64_t seed, std::int64_t lo, std::int64_t hi) {
  std::mt19937_64 gen(seed);
  std::uniform_int_distribution<std::int64_t> u(std::max(lo, f.raw_min()), std::min(hi, f.raw_max()));
  qtensor q(s, f);
  for (std::size_t i = 0; i < q.size(); ++i) q.set_raw(i, u(gen));
  return q;
}
qtensor random_q(const shape& s, dynamic_format f, std::uint64_t seed) {
  return random_q(s, f, seed, f.raw_min(), f.raw_max());
}

/// floor(a / b) for b > 0.
wide floor_div(wide a, wide b) {
  wide q = a / b;
  if ((a % b) != 0 && a < 0) --q;
  return q;
}

/// The reference rounding of the rational num / den (den > 0) to an integer, by the rules of
/// the stochastic policy: it rounds up when word < floor(fraction * 2^32).
wide ref_round(wide num, wide den, rounding_mode m, std::uint32_t word) {
  const wide fl = floor_div(num, den);
  const wide rem = num - fl * den;  // in [0, den)
  switch (m) {
    case rounding_mode::truncate: return fl;
    case rounding_mode::toward_zero: return (num < 0 && rem != 0) ? fl + 1 : fl;
    case rounding_mode::nearest: return 2 * rem >= den ? fl + 1 : fl;
    case rounding_mode::nearest_even:
      if (2 * rem > den) return fl + 1;
      if (2 * rem == den) return (fl % 2 != 0) ? fl + 1 : fl;
      return fl;
    case rounding_mode::stochastic: {
      const wide f32 = floor_div(rem << 32, den);
      return static_cast<wide>(word) < f32 ? fl + 1 : fl;
    }
  }
  return fl;
}

/// A value with `frac` fractional bits rounded into format f.
std::int64_t ref_into(wide raw, int frac, dynamic_format f, rounding_mode m, std::uint32_t word,
                      std::uint64_t* sat = nullptr) {
  const int shift = frac - f.frac;
  wide r = shift >= 0 ? ref_round(raw, wide{1} << shift, m, word) : raw * (wide{1} << -shift);
  if (r < f.raw_min()) {
    if (sat) ++*sat;
    r = f.raw_min();
  }
  if (r > f.raw_max()) {
    if (sat) ++*sat;
    r = f.raw_max();
  }
  return static_cast<std::int64_t>(r);
}

fxp::random_key key_of(nn::slot s) { return nn::make_key(ctx.seed, 0, s, ctx.step); }

const rounding_mode all_modes[] = {rounding_mode::truncate, rounding_mode::toward_zero, rounding_mode::nearest,
                                   rounding_mode::nearest_even, rounding_mode::stochastic};

nn::layer_precision precision(const char* fields, rounding_mode m) {
  nn::layer_precision p;
  p.apply_fields(fields);
  p.rounding = m;
  return p;
}

}  // namespace

TEST_CASE("dense fixed: forward, backward and bias gradient against exact sums") {
  for (rounding_mode m : all_modes) {
    INFO("rounding " << fxp::to_string(m));
    nn::dense d("fc", 9, 4);
    d.set_precision(precision("weights=s8.7 biases=s16.12 acts=s12.6 errors=s16.9 grads=s16.10", m),
                    nn::training_mode::floating);
    d.weights().qvalue = random_q(shape{4, 9}, dynamic_format::parse("s8.7"), 1);
    d.biases().qvalue = random_q(shape{4}, dynamic_format::parse("s16.12"), 2);
    const qtensor x = random_q(shape{3, 9}, dynamic_format::parse("u8.5"), 3);
    const nn::value y = d.forward(nn::value(x), ctx);
    REQUIRE(y.q.format().to_string() == "s12.6");
    // y[n, o] = sum_i x[n, i] w[o, i] (frac 12) + b[o] (frac 12), rounded once into s12.6.
    std::uint64_t sat = 0;
    for (std::size_t n = 0; n < 3; ++n) {
      for (std::size_t o = 0; o < 4; ++o) {
        wide acc = d.biases().qvalue.raw(o);
        for (std::size_t i = 0; i < 9; ++i) acc += wide{x.raw(n * 9 + i)} * d.weights().qvalue.raw(o * 9 + i);
        const std::size_t idx = n * 4 + o;
        CHECK(y.q.raw(idx) == ref_into(acc, 12, y.q.format(), m, key_of(nn::slot::activations).word(idx), &sat));
      }
    }
    CHECK(d.saturations()[nn::role::activations] == sat);
    // Backward: dx = dy w (frac 9 + 7 -> s16.9), dw = dy^T x (frac 9 + 5 -> s16.10), db = sum dy.
    const qtensor dy = random_q(shape{3, 4}, dynamic_format::parse("s16.9"), 4, -3000, 3000);
    const nn::value dx = d.backward(nn::value(x), y, nn::value(dy), ctx, true);
    for (std::size_t n = 0; n < 3; ++n) {
      for (std::size_t i = 0; i < 9; ++i) {
        wide acc = 0;
        for (std::size_t o = 0; o < 4; ++o) acc += wide{dy.raw(n * 4 + o)} * d.weights().qvalue.raw(o * 9 + i);
        CHECK(dx.q.raw(n * 9 + i) == ref_into(acc, 16, dx.q.format(), m, key_of(nn::slot::errors).word(n * 9 + i)));
      }
    }
    const qtensor& dw = d.weights().qgrad;
    REQUIRE(dw.format().to_string() == "s16.10");
    for (std::size_t o = 0; o < 4; ++o) {
      for (std::size_t i = 0; i < 9; ++i) {
        wide acc = 0;
        for (std::size_t n = 0; n < 3; ++n) acc += wide{dy.raw(n * 4 + o)} * x.raw(n * 9 + i);
        CHECK(dw.raw(o * 9 + i) == ref_into(acc, 14, dw.format(), m, key_of(nn::slot::weight_grads).word(o * 9 + i)));
      }
      wide sum = 0;
      for (std::size_t n = 0; n < 3; ++n) sum += dy.raw(n * 4 + o);
      CHECK(d.biases().qgrad.raw(o) == ref_into(sum, 9, dw.format(), m, key_of(nn::slot::bias_grads).word(o)));
    }
  }
}

TEST_CASE("conv2d fixed: forward with stride, padding and a bias wider than the products") {
  for (rounding_mode m : {rounding_mode::nearest, rounding_mode::stochastic}) {
    INFO("rounding " << fxp::to_string(m));
    nn::conv2d c("conv", 2, 3, 3, fxp::conv2d_params::square(2, 1));
    // biases s16.14 have more fractional bits than x * w (4 + 6 = 10): the layer rounds the
    // biases to frac 10 (nearest) before the exact sum.
    c.set_precision(precision("weights=s8.6 biases=s16.14 acts=s16.7 errors=s16.8 grads=s16.8", m),
                    nn::training_mode::floating);
    c.weights().qvalue = random_q(shape{3, 2, 3, 3}, dynamic_format::parse("s8.6"), 11);
    c.biases().qvalue = random_q(shape{3}, dynamic_format::parse("s16.14"), 12);
    const qtensor x = random_q(shape{2, 2, 6, 5}, dynamic_format::parse("s8.4"), 13);
    const nn::value y = c.forward(nn::value(x), ctx);
    REQUIRE(y.shape() == (shape{2, 3, 3, 3}));
    const auto& w = c.weights().qvalue;
    for (std::size_t n = 0; n < 2; ++n)
      for (std::size_t o = 0; o < 3; ++o)
        for (std::size_t oh = 0; oh < 3; ++oh)
          for (std::size_t ow = 0; ow < 3; ++ow) {
            // bias to frac 10 by round to nearest (ties up): floor((b + 8) / 16)
            wide acc = floor_div(wide{c.biases().qvalue.raw(o)} + 8, 16);
            for (std::size_t ch = 0; ch < 2; ++ch)
              for (std::size_t kh = 0; kh < 3; ++kh)
                for (std::size_t kw = 0; kw < 3; ++kw) {
                  const long ih = static_cast<long>(oh * 2 + kh) - 1;
                  const long iw = static_cast<long>(ow * 2 + kw) - 1;
                  if (ih < 0 || iw < 0 || ih >= 6 || iw >= 5) continue;
                  acc += wide{x.raw(((n * 2 + ch) * 6 + static_cast<std::size_t>(ih)) * 5 + static_cast<std::size_t>(iw))} *
                         w.raw(((o * 2 + ch) * 3 + kh) * 3 + kw);
                }
            const std::size_t idx = ((n * 3 + o) * 3 + oh) * 3 + ow;
            CHECK(y.q.raw(idx) == ref_into(acc, 10, y.q.format(), m, key_of(nn::slot::activations).word(idx)));
          }
    // Bias gradient: exact per-channel sums of dy.
    const qtensor dy = random_q(y.shape(), dynamic_format::parse("s16.8"), 14, -500, 500);
    (void)c.backward(nn::value(x), y, nn::value(dy), ctx, true);
    for (std::size_t o = 0; o < 3; ++o) {
      wide sum = 0;
      for (std::size_t n = 0; n < 2; ++n)
        for (std::size_t i = 0; i < 9; ++i) sum += dy.raw((n * 3 + o) * 9 + i);
      CHECK(c.biases().qgrad.raw(o) == ref_into(sum, 8, c.biases().qgrad.format(), m, key_of(nn::slot::bias_grads).word(o)));
    }
    // Weight gradient: exact sums over the batch and positions.
    for (std::size_t o = 0; o < 3; ++o)
      for (std::size_t ch = 0; ch < 2; ++ch)
        for (std::size_t kh = 0; kh < 3; ++kh)
          for (std::size_t kw = 0; kw < 3; ++kw) {
            wide acc = 0;
            for (std::size_t n = 0; n < 2; ++n)
              for (std::size_t oh = 0; oh < 3; ++oh)
                for (std::size_t ow = 0; ow < 3; ++ow) {
                  const long ih = static_cast<long>(oh * 2 + kh) - 1;
                  const long iw = static_cast<long>(ow * 2 + kw) - 1;
                  if (ih < 0 || iw < 0 || ih >= 6 || iw >= 5) continue;
                  acc += wide{x.raw(((n * 2 + ch) * 6 + static_cast<std::size_t>(ih)) * 5 + static_cast<std::size_t>(iw))} *
                         dy.raw(((n * 3 + o) * 3 + oh) * 3 + ow);
                }
            const std::size_t idx = ((o * 2 + ch) * 3 + kh) * 3 + kw;
            CHECK(c.weights().qgrad.raw(idx) ==
                  ref_into(acc, 12, c.weights().qgrad.format(), m, key_of(nn::slot::weight_grads).word(idx)));
          }
  }
}

TEST_CASE("relu fixed: exact, and rounded once into a narrower activation format") {
  const qtensor x = random_q(shape{2, 3, 4, 5}, dynamic_format::parse("s16.8"), 21);
  for (rounding_mode m : all_modes) {
    INFO("rounding " << fxp::to_string(m));
    nn::relu same("relu");
    same.set_precision(precision("", m), nn::training_mode::floating);
    const nn::value y = same.forward(nn::value(x), ctx);
    nn::relu narrow("relu");
    narrow.set_precision(precision("acts=u8.4 errors=s8.3", m), nn::training_mode::floating);
    const nn::value z = narrow.forward(nn::value(x), ctx);
    REQUIRE(z.q.format().to_string() == "u8.4");
    std::uint64_t sat = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::int64_t r = x.raw(i) > 0 ? x.raw(i) : 0;
      CHECK(y.q.raw(i) == r);
      CHECK(z.q.raw(i) == ref_into(r, 8, z.q.format(), m, key_of(nn::slot::activations).word(i), &sat));
    }
    CHECK(sat > 0);  // u8.4 tops out at 15.9375; s16.8 reaches 128
    CHECK(narrow.saturations()[nn::role::activations] == sat);
    const qtensor dy = random_q(x.shape(), dynamic_format::parse("s16.8"), 22);
    const nn::value dx = narrow.backward(nn::value(x), z, nn::value(dy), ctx, true);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::int64_t r = x.raw(i) > 0 ? dy.raw(i) : 0;
      CHECK(dx.q.raw(i) == ref_into(r, 8, dx.q.format(), m, key_of(nn::slot::errors).word(i)));
    }
    // No errors format: dy itself where x > 0, for inputs and errors of other widths than
    // each other (8-bit x, 16-bit dy; 16-bit x, 8-bit dy).
    for (const auto& [xf, df] : {std::pair{"s8.3", "s16.8"}, std::pair{"s16.8", "s8.2"}}) {
      const qtensor xs = random_q(shape{3, 4, 9, 11}, dynamic_format::parse(xf), 23);
      const qtensor ds = random_q(xs.shape(), dynamic_format::parse(df), 24);
      const nn::value ys = same.forward(nn::value(xs), ctx);
      const nn::value dxs = same.backward(nn::value(xs), ys, nn::value(ds), ctx, true);
      REQUIRE(dxs.q.format() == ds.format());
      std::size_t wrong = 0;
      for (std::size_t i = 0; i < xs.size(); ++i) wrong += dxs.q.raw(i) != (xs.raw(i) > 0 ? ds.raw(i) : 0);
      CHECK(wrong == 0);
    }
  }
}

TEST_CASE("max_pool2d fixed: exact maxima and error routing") {
  // Few distinct values (many ties: the first largest in row-major order wins), windows of
  // 2 and of 3 with stride 2 (overlapping: errors of two windows add up), inputs large
  // enough to be split among the pool's tasks, and a backward pass after a training forward
  // (the forward's argmax) or after an inference forward (found again from x).
  struct setup {
    shape x;
    std::size_t k, s;
  };
  // Unsigned and signed 8-bit and 16-bit raws: inference with 2 x 2 windows at stride 2
  // reads each pair of neighbours as one wider integer.
  struct values {
    const char* format;
    std::int64_t lo, hi;
  };
  for (const setup& st : {setup{shape{2, 2, 6, 6}, 2, 2}, setup{shape{3, 9, 31, 29}, 2, 2},
                          setup{shape{2, 3, 9, 8}, 3, 2}, setup{shape{2, 40, 33, 33}, 3, 2},
                          setup{shape{1, 3, 4, 70}, 2, 2}}) {
    for (const values& v : {values{"u8.4", 0, 40}, values{"s8.3", -40, 40}, values{"s16.8", -3000, 3000}})
    for (const bool training : {true, false}) {
      INFO("input " << fxp::to_string(st.x) << ", window " << st.k << ", stride " << st.s << ", training " << training
                    << ", format " << v.format);
      const qtensor x = random_q(st.x, dynamic_format::parse(v.format), 31, v.lo, v.hi);
      nn::max_pool2d p("pool", st.k, st.s);
      p.set_precision(precision("", rounding_mode::nearest), nn::training_mode::floating);
      nn::context c = ctx;
      c.training = training;
      const nn::value y = p.forward(nn::value(x), c);
      const std::size_t h = st.x[2], w = st.x[3], oh_n = (h - st.k) / st.s + 1, ow_n = (w - st.k) / st.s + 1;
      REQUIRE(y.shape() == (shape{st.x[0], st.x[1], oh_n, ow_n}));
      // |dy| small enough that the sums of up to 4 overlapping windows stay within s16.8
      const qtensor dy = random_q(y.shape(), dynamic_format::parse("s16.8"), 32, -8000, 8000);
      const nn::value dx = p.backward(nn::value(x), y, nn::value(dy), c, true);
      std::vector<std::int64_t> expect_dx(x.size(), 0);
      std::size_t wrong_y = 0, wrong_dx = 0;
      for (std::size_t plane = 0; plane < st.x[0] * st.x[1]; ++plane)
        for (std::size_t oh = 0; oh < oh_n; ++oh)
          for (std::size_t ow = 0; ow < ow_n; ++ow) {
            std::int64_t best = std::numeric_limits<std::int64_t>::min();
            std::size_t at = 0;
            for (std::size_t kh = 0; kh < st.k; ++kh)
              for (std::size_t kw = 0; kw < st.k; ++kw) {
                const std::size_t i = plane * h * w + (oh * st.s + kh) * w + ow * st.s + kw;
                if (x.raw(i) > best) {
                  best = x.raw(i);
                  at = i;
                }
              }
            const std::size_t o = (plane * oh_n + oh) * ow_n + ow;
            wrong_y += y.q.raw(o) != best;
            expect_dx[at] += dy.raw(o);
          }
      for (std::size_t i = 0; i < x.size(); ++i) wrong_dx += dx.q.raw(i) != expect_dx[i];
      CHECK(wrong_y == 0);
      CHECK(wrong_dx == 0);
    }
  }
}

TEST_CASE("max_pool2d float inference: the first largest, NaN never larger, zeros by sign") {
  // The same comparisons in the same order as training's argmax: each window's first
  // element, replaced by a later one only when that is larger. So a NaN first stays, a NaN
  // later is skipped, and -0 / +0 keep whichever came first (compared bit for bit).
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float pool[] = {-0.0f, 0.0f, 1.0f, -1.0f, nan, 2.5f, -2.5f};
  std::mt19937_64 rng(9);
  for (const shape& xs : {shape{2, 3, 6, 8}, shape{1, 2, 5, 67}, shape{3, 1, 9, 9}}) {
    tensor<float> x(xs);
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = pool[rng() % std::size(pool)];
    nn::max_pool2d p("pool", 2, 2);
    p.set_precision(precision("", rounding_mode::nearest), nn::training_mode::floating);
    nn::context c{nn::training_mode::floating, false, 7, 3};
    const nn::value y = p.forward(nn::value(x), c);
    const std::size_t h = xs[2], w = xs[3], oh_n = h / 2, ow_n = w / 2;
    std::size_t wrong = 0;
    for (std::size_t plane = 0; plane < xs[0] * xs[1]; ++plane)
      for (std::size_t oh = 0; oh < oh_n; ++oh)
        for (std::size_t ow = 0; ow < ow_n; ++ow) {
          const float* top = x.data() + plane * h * w + 2 * oh * w + 2 * ow;
          float best = top[0];
          for (const float e : {top[1], top[w], top[w + 1]}) best = e > best ? e : best;
          const float got = y.f.data()[(plane * oh_n + oh) * ow_n + ow];
          wrong += std::bit_cast<std::uint32_t>(got) != std::bit_cast<std::uint32_t>(best);
        }
    INFO("input " << fxp::to_string(xs));
    CHECK(wrong == 0);
  }
}

TEST_CASE("avg_pool2d fixed: sum / 9 rounded once") {
  const qtensor x = random_q(shape{1, 2, 7, 7}, dynamic_format::parse("s16.8"), 41);
  for (rounding_mode m : all_modes) {
    INFO("rounding " << fxp::to_string(m));
    nn::avg_pool2d p("pool", 3, 2);
    p.set_precision(precision("acts=s16.6 errors=s16.10", m), nn::training_mode::floating);
    const nn::value y = p.forward(nn::value(x), ctx);
    REQUIRE(y.shape() == (shape{1, 2, 3, 3}));
    for (std::size_t plane = 0; plane < 2; ++plane)
      for (std::size_t oh = 0; oh < 3; ++oh)
        for (std::size_t ow = 0; ow < 3; ++ow) {
          wide sum = 0;
          for (std::size_t kh = 0; kh < 3; ++kh)
            for (std::size_t kw = 0; kw < 3; ++kw) sum += x.raw(plane * 49 + (oh * 2 + kh) * 7 + ow * 2 + kw);
          const std::size_t o = plane * 9 + oh * 3 + ow;
          // value = sum 2^-8 / 9 = raw_out 2^-6  =>  raw_out = sum / 36
          CHECK(y.q.raw(o) == static_cast<std::int64_t>(ref_round(sum, 36, m, key_of(nn::slot::activations).word(o))));
        }
    const qtensor dy = random_q(y.shape(), dynamic_format::parse("s16.8"), 42);
    const nn::value dx = p.backward(nn::value(x), y, nn::value(dy), ctx, true);
    std::vector<wide> sums(x.size(), 0);
    for (std::size_t plane = 0; plane < 2; ++plane)
      for (std::size_t oh = 0; oh < 3; ++oh)
        for (std::size_t ow = 0; ow < 3; ++ow)
          for (std::size_t kh = 0; kh < 3; ++kh)
            for (std::size_t kw = 0; kw < 3; ++kw)
              sums[plane * 49 + (oh * 2 + kh) * 7 + ow * 2 + kw] += dy.raw(plane * 9 + oh * 3 + ow);
    for (std::size_t i = 0; i < x.size(); ++i) {
      // sum 2^-8 / 9 = raw 2^-10  =>  raw = sum * 4 / 9, saturated to s16
      wide r = ref_round(sums[i] * 4, 9, m, key_of(nn::slot::errors).word(i));
      r = std::min<wide>(std::max<wide>(r, -32768), 32767);
      CHECK(dx.q.raw(i) == static_cast<std::int64_t>(r));
    }
  }
}

TEST_CASE("flatten fixed: raw values unchanged") {
  const qtensor x = random_q(shape{2, 3, 2, 2}, dynamic_format::parse("s8.3"), 51);
  nn::flatten f("flatten");
  const nn::value y = f.forward(nn::value(x), ctx);
  REQUIRE(y.shape() == (shape{2, 12}));
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(y.q.raw(i) == x.raw(i));
}

TEST_CASE("float vs fixed forward of the reference CNN's layers within the quantization bound") {
  // A dense layer with inputs x and weights w quantized by round to nearest into steps ex,
  // ew (|dx| <= ex/2, |dw| <= ew/2), biases into eb, and the output rounded into ey:
  //   |y_fixed - y_float| <= sum_i (|w_i| ex/2 + |x_i| ew/2 + ex ew / 4) + eb/2 + ey/2
  // (the products are exact, so only the operands' and the output's roundings count; the
  // float result itself errs by K * 2^-24 relative at most, far below these steps).
  nn::sequential net;
  auto& fc = net.add<nn::dense>("fc", 50, 20);
  net.initialize(61);
  net.apply(nn::precision_plan::parse("input acts=s16.10\nfc weights=s8.9 biases=s16.12 acts=s16.8 errors=s16.10 grads=s16.12\n"));
  const tensor<float> x = fxp_test::uniform(shape{6, 50}, 62);
  const tensor<float> yf = net.forward(x).to_float();
  const tensor<float> wf = fc.weights().value;
  net.set_mode(nn::training_mode::fixed);
  const tensor<float> yq = net.forward(x).to_float();
  const double ex = std::ldexp(1.0, -10), ew = std::ldexp(1.0, -9), eb = std::ldexp(1.0, -12), ey = std::ldexp(1.0, -8);
  double worst_ratio = 0.0;
  for (std::size_t n = 0; n < 6; ++n) {
    for (std::size_t o = 0; o < 20; ++o) {
      double bound = eb / 2 + ey / 2;
      for (std::size_t i = 0; i < 50; ++i) {
        bound += std::abs(static_cast<double>(wf(o, i))) * ex / 2 + std::abs(static_cast<double>(x(n, i))) * ew / 2 + ex * ew / 4;
      }
      const double err = std::abs(static_cast<double>(yq(n, o)) - static_cast<double>(yf(n, o)));
      CHECK(err <= bound);
      worst_ratio = std::max(worst_ratio, err / bound);
    }
  }
  CHECK(worst_ratio > 0.01);  // the fixed path really is a different computation
}

TEST_CASE("fixed modes name a missing format") {
  nn::sequential net;
  net.add<nn::dense>("fc", 3, 2);
  net.apply(nn::precision_plan::parse("input acts=u8.7\nfc weights=s8.6\n"));
  // The biases default to the activations' format, so converting already needs it.
  CHECK_THROWS_WITH(net.set_mode(nn::training_mode::fixed), Catch::Contains("layer fc (dense) needs a 'acts' format"));
  net.apply(nn::precision_plan::parse("fc acts=s16.8\n"));
  net.set_mode(nn::training_mode::fixed);
  const tensor<float> x = fxp_test::uniform(shape{2, 3}, 1, 0.0f, 1.0f);
  (void)net.forward(x);
  CHECK_THROWS_WITH(net.backward(tensor<float>(shape{2, 2})), Catch::Contains("needs an 'errors' format"));
}

TEST_CASE("clip_error zeroes the errors of outputs on their format's bounds") {
  // Outputs drawn from a narrow range around both bounds (many hit them), errors with some
  // zeros; output and error carriers of different widths. Signed formats clip at both
  // bounds, unsigned ones (relu outputs rest at 0) only at the top. Over 2^16 elements, so
  // the count runs over more than one block.
  struct setup {
    const char* y_format;
    const char* dy_format;
  };
  for (const setup& st : {setup{"s8.4", "s16.10"}, setup{"u8.5", "s16.8"}, setup{"s16.9", "s8.3"},
                          setup{"u12.4", "s16.12"}}) {
    INFO("y " << st.y_format << ", dy " << st.dy_format);
    const dynamic_format fy = dynamic_format::parse(st.y_format);
    const dynamic_format fdy = dynamic_format::parse(st.dy_format);
    const shape s{3, 5, 77, 61};
    qtensor y(s, fy);
    std::mt19937_64 gen(77);
    std::uniform_int_distribution<int> pick(0, 5);
    for (std::size_t i = 0; i < y.size(); ++i) {
      const int p = pick(gen);
      y.set_raw(i, p == 0 ? fy.raw_min() : p == 1 ? fy.raw_max() : p == 2 ? fy.raw_max() - 1
                                                                     : p == 3 ? fy.raw_min() + 1 : 0);
    }
    const qtensor dy0 = random_q(s, fdy, 78, -3, 3);  // a seventh of them zero
    nn::value dy{qtensor(dy0)};
    const std::size_t zeroed = nn::detail::clip_error(dy, nn::value(y), fy);
    std::size_t expect_zeroed = 0;
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
      const bool clipped = y.raw(i) == fy.raw_max() || (fy.is_signed && y.raw(i) == fy.raw_min());
      expect_zeroed += clipped && dy0.raw(i) != 0;
      wrong += dy.q.raw(i) != (clipped ? 0 : dy0.raw(i));
    }
    CHECK(wrong == 0);
    CHECK(zeroed == expect_zeroed);
    CHECK(expect_zeroed > 1000);
  }
}
