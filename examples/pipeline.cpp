// SPDX-License-Identifier: MIT
// pipeline: the fixed-point quantization pipeline of Lin, Talathi & Annapureddy, "Fixed Point
// Quantization of Deep Convolutional Networks" (arXiv:1511.06393), end to end on
// Fashion-MNIST with the reference CNN (fxp::nn::reference_cnn):
//
//  1. trains the float network (or resumes / reuses the checkpoint an earlier run saved;
//     --retrain starts afresh);
//  2. calibrates it (per-layer statistics of weights, biases, activations) and builds the
//     allocation problem (fxp::quant::make_layer_terms: one term per weighted layer, cost =
//     its weight count);
//  3. evaluates equal weight bit-widths 2..8 and optimised allocations (fxp::quant::allocate
//     at the predicted SQNR of every equal width, and half-way between up to 6 bits): weight bits per
//     layer, model size, predicted and measured output SQNR (logits of the quantized network
//     against the float network's on the test set), test accuracy before and after a short
//     fixed-point fine-tuning;
//  4. measures each layer's sensitivity (the layer alone quantized) to explain the result;
//  5. prints the tables, writes CSV files and an SVG plot, and says whether the paper's
//     claim reproduced.
//
// The quantized network runs in QAT mode (training_mode::qat): the forward pass uses the
// plan's fixed-point weights and activations exactly (fake_quantize rounds the float master
// weights to the plan's formats), with float accumulation. Fine-tuning runs in the same
// mode: float master weights updated by SGD with straight-through gradients, the forward
// pass always on the quantized weights, so the model it ends with is a fixed-point model of
// the plan's formats. This is the paper's fine-tuning (the network trained through its
// quantizers), and it keeps the run inside the 10-minute budget (the fully fixed mode is
// about twice as slow).

#include <fxp/io/batches.hpp>
#include <fxp/io/fashion_mnist.hpp>
#include <fxp/io/training_checkpoint.hpp>
#include <fxp/nn/nn.hpp>
#include <fxp/quant/calibration.hpp>
#include <fxp/quant/plan.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

namespace nn = fxp::nn;
namespace quant = fxp::quant;

struct options {
  std::string data = fxp::io::fashion_mnist_default_dir;
  std::uint64_t seed = 1;
  int epochs = 2;
  bool retrain = false;
  std::string checkpoint;  // default: <results>/float_seed<seed>.fxpc
  std::string results = "results";
  std::size_t threads = 2;
  bool quick = false;
  std::size_t batch = 32;
  double lr = 0.02;
  std::size_t finetune_steps = 100;
  double finetune_lr = 0.002;
  int act_bits = 16;
  int max_bits = 10;
};

using clock_type = std::chrono::steady_clock;

class progress {
 public:
  progress() : start_(clock_type::now()), tty_(isatty(fileno(stdout)) != 0) {}
  [[nodiscard]] double elapsed() const {
    return std::chrono::duration<double>(clock_type::now() - start_).count();
  }
  /// A progress line: rewritten in place on a terminal, at most one a second otherwise
  /// (always when `force`).
  void show(const std::string& what, bool force = false) {
    const double t = elapsed();
    if (!force && t - last_ < (tty_ ? 0.2 : 2.0)) return;
    last_ = t;
    const int s = static_cast<int>(t);
    std::printf("%s[%2d:%02d] %-70s%s", tty_ ? "\r" : "", s / 60, s % 60, what.c_str(), tty_ ? "" : "\n");
    std::fflush(stdout);
  }
  /// Ends a progress line with a message that stays.
  void done(const std::string& what) {
    show(what, true);
    if (tty_) std::printf("\n");
  }

 private:
  clock_type::time_point start_;
  double last_ = -1e9;
  bool tty_;
};

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

/// One evaluated precision plan.
struct row {
  std::string kind;      // "equal", "optimised", "float"
  double target_db = 0;  // the solver's target (optimised)
  quant::layer_allocation alloc;
  nn::precision_plan plan;
  double accuracy = 0;
  double sqnr_db = 0;
  double accuracy_tuned = 0;
  double sqnr_tuned_db = 0;
  std::uint64_t saturations = 0;
};

std::string bits_string(const quant::layer_allocation& a) {
  std::string s;
  for (const auto& l : a.layers) {
    if (l.kind != nn::role::weights) continue;
    s += (s.empty() ? "" : "/") + std::to_string(l.plan.bits);
  }
  return s;
}

struct context {
  const options& o;
  const fxp::io::fashion_mnist& data;
  nn::sequential& model;
  const nn::training_state& float_state;
  const std::vector<float>& reference;
  progress& bar;
};

/// Fine-tunes `model` in its current mode for o.finetune_steps steps of shuffled batches.
void fine_tune(const context& c, const std::string& label) {
  const auto& o = c.o;
  if (o.finetune_steps == 0) return;
  nn::sgd opt(nn::lr_schedule::cosine(o.finetune_lr, o.finetune_steps), 0.9, 5e-4);
  nn::trainer t(c.model, opt);
  const fxp::io::batch_plan plan(c.data.train.size(), o.batch, fxp::io::last_batch::drop);
  fxp::io::batch b;
  std::size_t step = 0;
  for (std::uint32_t epoch = 1000; step < o.finetune_steps; ++epoch) {
    const fxp::io::epoch_batches order(plan, o.seed, epoch);
    for (std::size_t i = 0; i < plan.batch_count() && step < o.finetune_steps; ++i, ++step) {
      fxp::io::gather(c.data.train.view(), order[i], b);
      (void)t.step(b.images, b.labels);
      c.bar.show(label + ": fine-tuning step " + std::to_string(step + 1) + "/" +
                 std::to_string(o.finetune_steps));
    }
  }
}

/// Evaluates one plan (or the float model when `r.kind` is "float") before and after
/// fine-tuning. The model is reloaded from the float state first.
void evaluate(const context& c, row& r, const std::string& label) {
  c.model.load_state(c.float_state);
  if (r.kind != "float") {
    c.model.apply(r.plan);
    c.model.set_mode(nn::training_mode::qat);
  }
  const auto& test = c.data.test;
  c.bar.show(label + ": evaluating", true);
  c.model.reset_saturations();
  quant::scored_logits s = quant::score_model(c.model, test.images(), std::span(test.labels()));
  for (const auto& [name, counts] : c.model.saturations()) r.saturations += counts.total();
  r.accuracy = s.accuracy;
  r.sqnr_db = quant::measured_sqnr_db(c.reference, s.logits);
  fine_tune(c, label);
  c.bar.show(label + ": evaluating the fine-tuned model", true);
  s = quant::score_model(c.model, test.images(), std::span(test.labels()));
  r.accuracy_tuned = s.accuracy;
  r.sqnr_tuned_db = quant::measured_sqnr_db(c.reference, s.logits);
}

// ---- the plot ----

struct series {
  std::string name;
  std::string color;
  bool dashed;
  std::string marker;  // "circle" or "square"
  std::vector<std::pair<double, double>> points;  // (size kbit, accuracy %)
};

std::string svg_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '<') out += "&lt;";
    else if (ch == '>') out += "&gt;";
    else if (ch == '&') out += "&amp;";
    else out += ch;
  }
  return out;
}

/// A hand-written SVG line plot of accuracy (%) against weight size (kbit).
void write_svg(const std::string& path, std::vector<series> all, double float_accuracy,
               double floor_accuracy, const std::string& title) {
  const double width = 900, height = 600, left = 90, right = 250, top = 60, bottom = 80;
  const double pw = width - left - right, ph = height - top - bottom;
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin;
  double ymax = float_accuracy;
  for (const auto& s : all)
    for (const auto& [x, y] : s.points) {
      xmin = std::min(xmin, x);
      xmax = std::max(xmax, x);
      ymax = std::max(ymax, y);
    }
  const auto nice = [](double span) {
    const double p = std::pow(10.0, std::floor(std::log10(span / 5)));
    for (double m : {1.0, 2.0, 5.0, 10.0})
      if (span / (m * p) <= 8) return m * p;
    return 10 * p;
  };
  const double xstep = nice(xmax - xmin);
  xmin = std::floor(xmin / xstep) * xstep;
  xmax = std::ceil(xmax / xstep) * xstep;
  const double ymin = floor_accuracy;
  ymax = std::ceil(ymax + 0.5);
  const double ystep = nice(ymax - ymin);
  const auto X = [&](double x) { return left + (x - xmin) / (xmax - xmin) * pw; };
  const auto Y = [&](double y) { return top + (ymax - std::max(y, ymin)) / (ymax - ymin) * ph; };
  std::ofstream f(path);
  f << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
    << "\" font-family=\"sans-serif\" font-size=\"14\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << left + pw / 2 << "\" y=\"30\" text-anchor=\"middle\" font-size=\"17\">"
    << svg_escape(title) << "</text>\n";
  for (double x = xmin; x <= xmax + 1e-9; x += xstep) {
    f << "<line x1=\"" << X(x) << "\" y1=\"" << top << "\" x2=\"" << X(x) << "\" y2=\"" << top + ph
      << "\" stroke=\"#e0e0e0\"/>\n<text x=\"" << X(x) << "\" y=\"" << top + ph + 20
      << "\" text-anchor=\"middle\">" << fmt("%g", x) << "</text>\n";
  }
  for (double y = std::ceil(ymin / ystep) * ystep; y <= ymax + 1e-9; y += ystep) {
    f << "<line x1=\"" << left << "\" y1=\"" << Y(y) << "\" x2=\"" << left + pw << "\" y2=\"" << Y(y)
      << "\" stroke=\"#e0e0e0\"/>\n<text x=\"" << left - 8 << "\" y=\"" << Y(y) + 5
      << "\" text-anchor=\"end\">" << fmt("%g", y) << "</text>\n";
  }
  f << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << pw << "\" height=\"" << ph
    << "\" fill=\"none\" stroke=\"black\"/>\n"
    << "<text x=\"" << left + pw / 2 << "\" y=\"" << height - 30
    << "\" text-anchor=\"middle\">model size: weight bits (kbit)</text>\n"
    << "<text transform=\"translate(30," << top + ph / 2
    << ") rotate(-90)\" text-anchor=\"middle\">test accuracy (%)</text>\n";
  // The float accuracy and the 0.2-point band below it.
  f << "<line x1=\"" << left << "\" y1=\"" << Y(float_accuracy) << "\" x2=\"" << left + pw << "\" y2=\""
    << Y(float_accuracy) << "\" stroke=\"black\" stroke-dasharray=\"6,4\"/>\n"
    << "<line x1=\"" << left << "\" y1=\"" << Y(float_accuracy - 0.2) << "\" x2=\"" << left + pw
    << "\" y2=\"" << Y(float_accuracy - 0.2) << "\" stroke=\"gray\" stroke-dasharray=\"2,3\"/>\n";
  double ly = top + 10;
  for (auto& s : all) {
    std::sort(s.points.begin(), s.points.end());
    f << "<polyline fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"2\""
      << (s.dashed ? " stroke-dasharray=\"7,4\"" : "") << " points=\"";
    for (const auto& [x, y] : s.points) f << X(x) << "," << Y(y) << " ";
    f << "\"/>\n";
    for (const auto& [x, y] : s.points) {
      if (s.marker == "circle") {
        f << "<circle cx=\"" << X(x) << "\" cy=\"" << Y(y) << "\" r=\"4\" fill=\"" << s.color << "\"/>\n";
      } else {
        f << "<rect x=\"" << X(x) - 4 << "\" y=\"" << Y(y) - 4 << "\" width=\"8\" height=\"8\" fill=\"white\" stroke=\""
          << s.color << "\" stroke-width=\"2\"/>\n";
      }
    }
    const double lx = left + pw + 15;
    f << "<line x1=\"" << lx << "\" y1=\"" << ly << "\" x2=\"" << lx + 30 << "\" y2=\"" << ly << "\" stroke=\""
      << s.color << "\" stroke-width=\"2\"" << (s.dashed ? " stroke-dasharray=\"7,4\"" : "") << "/>\n";
    if (s.marker == "circle") {
      f << "<circle cx=\"" << lx + 15 << "\" cy=\"" << ly << "\" r=\"4\" fill=\"" << s.color << "\"/>\n";
    } else {
      f << "<rect x=\"" << lx + 11 << "\" y=\"" << ly - 4 << "\" width=\"8\" height=\"8\" fill=\"white\" stroke=\""
        << s.color << "\" stroke-width=\"2\"/>\n";
    }
    f << "<text x=\"" << lx + 38 << "\" y=\"" << ly + 5 << "\">" << svg_escape(s.name) << "</text>\n";
    ly += 24;
  }
  const double lx = left + pw + 15;
  f << "<line x1=\"" << lx << "\" y1=\"" << ly << "\" x2=\"" << lx + 30 << "\" y2=\"" << ly
    << "\" stroke=\"black\" stroke-dasharray=\"6,4\"/>\n<text x=\"" << lx + 38 << "\" y=\"" << ly + 5
    << "\">float (" << fmt("%.2f", float_accuracy) << "%)</text>\n";
  ly += 24;
  f << "<line x1=\"" << lx << "\" y1=\"" << ly << "\" x2=\"" << lx + 30 << "\" y2=\"" << ly
    << "\" stroke=\"gray\" stroke-dasharray=\"2,3\"/>\n<text x=\"" << lx + 38 << "\" y=\"" << ly + 5
    << "\">float - 0.2 points</text>\n";
  ly += 30;
  f << "<text x=\"" << lx << "\" y=\"" << ly << "\" font-size=\"12\">points below " << fmt("%g", ymin)
    << "% drawn</text>\n<text x=\"" << lx << "\" y=\"" << ly + 16 << "\" font-size=\"12\">on the bottom axis</text>\n";
  f << "</svg>\n";
}

// ---- the run ----

int run(const options& o_in) {
  options o = o_in;
  if (o.quick) {
    o.epochs = std::min(o.epochs, 1);
    o.finetune_steps = std::min<std::size_t>(o.finetune_steps, 10);
  }
  fxp::set_num_threads(o.threads);
  progress bar;
  std::filesystem::create_directories(o.results);
  if (o.checkpoint.empty()) {
    o.checkpoint = o.results + "/float_" + (o.quick ? "quick_" : "") + "seed" + std::to_string(o.seed) + ".fxpc";
  }

  fxp::io::fashion_mnist_options data_options;
  if (o.quick) {
    data_options.max_train = 2048;
    data_options.max_test = 1000;
  }
  bar.show("loading Fashion-MNIST from " + o.data, true);
  const fxp::io::fashion_mnist data = fxp::io::load_fashion_mnist(o.data, data_options);
  const auto& train = data.train;
  const auto& test = data.test;

  // 1. The float reference.
  nn::sequential model = nn::reference_cnn(o.seed);
  const fxp::io::batch_plan batches(train.size(), o.batch, fxp::io::last_batch::drop);
  const std::uint64_t per_epoch = batches.batch_count();
  const std::uint64_t total_steps = per_epoch * static_cast<std::uint64_t>(o.epochs);
  nn::sgd opt(nn::lr_schedule::cosine(o.lr, std::max<std::uint64_t>(total_steps, 1)), 0.9, 5e-4);
  nn::trainer trainer(model, opt);
  bool loaded = false;
  if (!o.retrain && std::filesystem::exists(o.checkpoint)) {
    fxp::io::restore_training(o.checkpoint, trainer);
    loaded = true;
    bar.done("loaded " + o.checkpoint + " at step " + std::to_string(trainer.step_count()));
  }
  const double train_start = bar.elapsed();
  fxp::io::batch b;
  for (std::uint64_t epoch = trainer.step_count() / per_epoch; epoch < static_cast<std::uint64_t>(o.epochs); ++epoch) {
    const fxp::io::epoch_batches order(batches, o.seed, static_cast<std::uint32_t>(epoch));
    double loss = 0;
    std::size_t seen = 0;
    for (std::uint64_t i = trainer.step_count() % per_epoch; i < per_epoch; ++i) {
      fxp::io::gather(train.view(), order[static_cast<std::size_t>(i)], b);
      const nn::step_result r = trainer.step(b.images, b.labels);
      loss += r.loss * static_cast<double>(r.count);
      seen += r.count;
      bar.show("float training: epoch " + std::to_string(epoch + 1) + "/" + std::to_string(o.epochs) + " batch " +
               std::to_string(i + 1) + "/" + std::to_string(per_epoch) + " loss " +
               fmt("%.4f", loss / static_cast<double>(seen)));
    }
    fxp::io::save_training(o.checkpoint, trainer);
  }
  const double train_seconds = bar.elapsed() - train_start;
  model.eval();
  const quant::scored_logits reference = quant::score_model(model, test.images(), std::span(test.labels()));
  const double float_accuracy = reference.accuracy;
  bar.done("float model: test accuracy " + fmt("%.2f%%", 100 * float_accuracy) + " after " +
           std::to_string(trainer.step_count()) + " steps (" + fmt("%.1f", static_cast<double>(trainer.step_count()) / static_cast<double>(per_epoch)) +
           " epochs)" + (loaded ? ", from the checkpoint" : "") + ", training took " + fmt("%.0f s", train_seconds));

  // 2. Calibration and the allocation problem.
  bar.show("calibrating", true);
  const std::size_t calib = std::min<std::size_t>(train.size(), 1024);
  const quant::model_statistics stats =
      quant::calibrate(model, fxp::tensor<float>(train.images().slice(0, calib)), std::span(train.labels()).first(calib), 256, 4);
  nn::training_state float_state;
  model.append_state(float_state);
  quant::plan_rule rule;
  rule.min_bits = 2;
  rule.max_bits = o.max_bits;
  rule.activation_bits = o.act_bits;
  const std::vector<quant::layer_term> terms = quant::make_layer_terms(stats, rule);
  double weight_count = 0;
  std::printf("\nLayers (weights: count, best-fitting density, sigma; SQNR line fitted over %d..%d bits)\n",
              rule.min_bits, rule.max_bits);
  std::printf("  %-6s %8s %-10s %10s %8s %8s\n", "layer", "weights", "density", "sigma", "kappa", "offset");
  for (const auto& t : terms) {
    weight_count += t.term.cost;
    std::printf("  %-6s %8zu %-10s %10.5f %8.3f %8.3f\n", t.layer.c_str(), t.count,
                std::string(quant::to_string(t.term.dist)).c_str(), t.term.sigma, t.term.kappa_db, t.term.offset_db);
  }

  // 3. Equal and optimised plans.
  std::vector<row> rows;
  for (int bits = 2; bits <= 8; ++bits) {
    row r{"equal", 0, quant::equal_allocation(terms, bits), {}, 0, 0, 0, 0, 0};
    r.plan = quant::make_precision_plan(stats, r.alloc, rule);
    rows.push_back(std::move(r));
  }
  std::vector<double> targets;
  for (int bits = 2; bits <= 8; ++bits) {
    const double at = quant::equal_allocation(terms, bits).predicted_sqnr_db;
    targets.push_back(at);
    // Half-way targets where accuracy still changes with the bits (the curve is flat above).
    if (bits < 6) targets.push_back((at + quant::equal_allocation(terms, bits + 1).predicted_sqnr_db) / 2);
  }
  std::vector<std::string> seen_bits;
  for (double target : targets) {
    row r{"optimised", target, quant::allocate_layers(terms, target), {}, 0, 0, 0, 0, 0};
    const std::string key = bits_string(r.alloc);
    if (std::find(seen_bits.begin(), seen_bits.end(), key) != seen_bits.end()) continue;
    seen_bits.push_back(key);
    r.plan = quant::make_precision_plan(stats, r.alloc, rule);
    rows.push_back(std::move(r));
  }
  rows.push_back(row{"float", 0, {}, {}, 0, 0, 0, 0, 0});
  {
    std::ofstream plans(o.results + "/plans.txt");
    for (const row& r : rows) {
      if (r.kind == "float") continue;
      plans << "# " << r.kind << " " << bits_string(r.alloc) << "\n" << r.plan.to_string() << "\n";
    }
  }
  const context c{o, data, model, float_state, reference.logits, bar};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    row& r = rows[i];
    const std::string label = "plan " + std::to_string(i + 1) + "/" + std::to_string(rows.size()) + " " + r.kind +
                              (r.kind == "float" ? "" : " " + bits_string(r.alloc));
    // An optimised allocation equal to an equal one has its results already.
    const auto same = std::find_if(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(i), [&](const row& e) {
      return e.kind == "equal" && r.kind == "optimised" && bits_string(e.alloc) == bits_string(r.alloc);
    });
    if (same != rows.begin() + static_cast<std::ptrdiff_t>(i)) {
      const double target = r.target_db;
      const quant::layer_allocation alloc = r.alloc;
      r = *same;
      r.kind = "optimised";
      r.target_db = target;
      r.alloc = alloc;
    } else {
      evaluate(c, r, label);
    }
    bar.show(label + ": " + fmt("%.2f%%", 100 * r.accuracy) + " -> " + fmt("%.2f%%", 100 * r.accuracy_tuned), true);
  }
  const row& float_row = rows.back();
  bar.done("evaluated " + std::to_string(rows.size()) + " plans");

  // 4. Per-layer sensitivity.
  const std::size_t sens_count = o.quick ? 200 : 1000;
  bar.show("per-layer sensitivity", true);
  const std::vector<quant::layer_sensitivity> sens = quant::measure_sensitivity(
      model, float_state, terms, test.images(), std::span(test.labels()), reference.logits, sens_count, 2, 8);
  bar.done("per-layer sensitivity measured on " + std::to_string(std::min(sens_count, test.size())) + " test images");

  // 5. Tables and files.
  std::string layer_names;
  for (const auto& t : terms) layer_names += (layer_names.empty() ? "" : "/") + t.layer;
  std::printf("\nFloat test accuracy %.2f%%; float fine-tuned for the same %zu steps (control): %.2f%%\n",
              100 * float_accuracy, o.finetune_steps, 100 * float_row.accuracy_tuned);
  std::printf("Weight bits per layer (%s), size in weight bits; SQNR of the logits vs float (dB);\n"
              "accuracy before / after %zu steps of QAT fine-tuning at lr %g\n",
              layer_names.c_str(), o.finetune_steps, o.finetune_lr);
  std::printf("  %-9s %-12s %9s %6s %8s %8s %8s %8s %9s\n", "kind", "bits", "size", "avg", "pred dB", "meas dB",
              "acc %", "tuned %", "satur.");
  std::ofstream csv(o.results + "/allocations.csv");
  csv << "kind,target_db";
  for (const auto& t : terms) csv << ",bits_" << t.layer;
  csv << ",size_bits,mean_bits,predicted_sqnr_db,measured_sqnr_db,accuracy,accuracy_finetuned,measured_sqnr_finetuned_db,saturations\n";
  for (const row& r : rows) {
    if (r.kind == "float") continue;
    std::printf("  %-9s %-12s %9.0f %6.2f %8.2f %8.2f %8.2f %8.2f %9llu\n", r.kind.c_str(), bits_string(r.alloc).c_str(),
                r.alloc.total_cost, r.alloc.total_cost / weight_count, r.alloc.predicted_sqnr_db, r.sqnr_db,
                100 * r.accuracy, 100 * r.accuracy_tuned, static_cast<unsigned long long>(r.saturations));
    csv << r.kind << ',' << r.target_db;
    for (const auto& t : terms) csv << ',' << r.alloc.weight_bits(t.layer);
    csv << ',' << r.alloc.total_cost << ',' << r.alloc.total_cost / weight_count << ',' << r.alloc.predicted_sqnr_db
        << ',' << r.sqnr_db << ',' << r.accuracy << ',' << r.accuracy_tuned << ',' << r.sqnr_tuned_db << ','
        << r.saturations << '\n';
  }
  csv << "float,0";
  for (std::size_t i = 0; i < terms.size(); ++i) csv << ",32";
  csv << ',' << 32 * weight_count << ",32,inf,inf," << float_accuracy << ',' << float_row.accuracy_tuned << ",inf,0\n";

  std::printf("\nPer-layer sensitivity: only that layer's weights quantized (dB: predicted by the line, "
              "measured on the weights, measured at the output)\n");
  std::printf("  %-6s %5s %9s %9s %9s\n", "layer", "bits", "pred", "weights", "output");
  std::ofstream scsv(o.results + "/sensitivity.csv");
  scsv << "layer,bits,predicted_sqnr_db,weight_sqnr_db,output_sqnr_db\n";
  for (const auto& s : sens) {
    std::printf("  %-6s %5d %9.2f %9.2f %9.2f\n", s.layer.c_str(), s.bits, s.predicted_db, s.weight_db, s.output_db);
    scsv << s.layer << ',' << s.bits << ',' << s.predicted_db << ',' << s.weight_db << ',' << s.output_db << '\n';
  }

  // The claim.
  const double threshold = float_accuracy - 0.002 - 1e-12;
  const auto smallest = [&](const std::string& kind, bool tuned) -> const row* {
    const row* best = nullptr;
    for (const row& r : rows) {
      if (r.kind != kind || (tuned ? r.accuracy_tuned : r.accuracy) < threshold) continue;
      if (!best || r.alloc.total_cost < best->alloc.total_cost) best = &r;
    }
    return best;
  };
  std::ostringstream verdict;
  bool size_claim = false;
  for (bool tuned : {false, true}) {
    const row* e = smallest("equal", tuned);
    const row* p = smallest("optimised", tuned);
    const char* when = tuned ? "after fine-tuning" : "before fine-tuning";
    if (e && p) {
      const double saving = 1.0 - p->alloc.total_cost / e->alloc.total_cost;
      std::printf("\nWithin 0.2 points of float %s: smallest equal %s (%.0f bits), smallest optimised %s (%.0f bits): "
                  "%.1f%% fewer weight bits\n",
                  when, bits_string(e->alloc).c_str(), e->alloc.total_cost, bits_string(p->alloc).c_str(),
                  p->alloc.total_cost, 100 * saving);
      if (!tuned) size_claim = saving >= 0.2;
      verdict << (tuned ? "; " : "") << when << " " << fmt("%.1f%%", 100 * saving) << " fewer bits";
    } else {
      std::printf("\nWithin 0.2 points of float %s: %s\n", when,
                  !e && !p ? "no plan reaches it" : (!e ? "no equal plan reaches it" : "no optimised plan reaches it"));
      verdict << (tuned ? "; " : "") << when << " no comparison (" << (!e ? "no equal plan" : "no optimised plan")
              << " within 0.2 points)";
    }
  }
  double best_tuned = 0;
  const row* best_row = nullptr;
  for (const row& r : rows)
    if (r.kind != "float" && r.accuracy_tuned > best_tuned) {
      best_tuned = r.accuracy_tuned;
      best_row = &r;
    }
  const bool tune_claim = best_tuned >= float_accuracy;
  std::printf("Best fine-tuned fixed-point accuracy %.2f%% (%s %s) vs float %.2f%% (float fine-tuned as long: %.2f%%)\n",
              100 * best_tuned, best_row ? best_row->kind.c_str() : "-", best_row ? bits_string(best_row->alloc).c_str() : "-",
              100 * float_accuracy, 100 * float_row.accuracy_tuned);

  // Which layer dominates: the noise shares the model predicts at the equal 4-bit plan, and
  // the measured output SQNR per layer at 4 bits.
  std::printf("Noise shares at equal 4 bits (predicted / measured at the output):");
  {
    double pred_total = 0, meas_total = 0;
    for (const auto& s : sens)
      if (s.bits == 4) {
        pred_total += std::pow(10.0, -s.predicted_db / 10);
        meas_total += std::pow(10.0, -s.output_db / 10);
      }
    std::string dominant;
    double worst = 0;
    for (const auto& s : sens)
      if (s.bits == 4) {
        const double m = std::pow(10.0, -s.output_db / 10) / meas_total;
        std::printf(" %s %.0f%%/%.0f%%", s.layer.c_str(), 100 * std::pow(10.0, -s.predicted_db / 10) / pred_total, 100 * m);
        if (m > worst) {
          worst = m;
          dominant = s.layer;
        }
      }
    std::printf("; dominant at the output: %s\n", dominant.c_str());
  }

  // The bound the largest layer sets: among the plans reaching the threshold before
  // fine-tuning, the fewest bits it has; with every other layer at 2 bits, the saving
  // against the smallest equal plan can be at most this.
  {
    const quant::layer_term* largest = &terms.front();
    for (const auto& t : terms)
      if (t.term.cost > largest->term.cost) largest = &t;
    int fewest = 99;
    for (const row& r : rows)
      if (r.kind != "float" && r.accuracy >= threshold) fewest = std::min(fewest, r.alloc.weight_bits(largest->layer));
    const row* e = smallest("equal", false);
    if (e && fewest < 99) {
      const double floor_size = fewest * largest->term.cost + 2 * (weight_count - largest->term.cost);
      std::printf("Largest layer %s holds %.1f%% of the weights; every plan within 0.2 points (before fine-tuning) "
                  "gives it >= %d bits, so no plan of that kind can save more than %.1f%% against equal %s\n",
                  largest->layer.c_str(), 100 * largest->term.cost / weight_count, fewest,
                  100 * (1 - floor_size / e->alloc.total_cost), bits_string(e->alloc).c_str());
    }
  }

  std::vector<series> plot = {
      {"equal bits", "#1f5fbf", false, "circle", {}},
      {"equal, fine-tuned", "#1f5fbf", true, "square", {}},
      {"optimised", "#d62728", false, "circle", {}},
      {"optimised, fine-tuned", "#d62728", true, "square", {}},
  };
  double lowest = 100 * float_accuracy;
  for (const row& r : rows) {
    if (r.kind == "float") continue;
    const std::size_t k = r.kind == "equal" ? 0 : 2;
    plot[k].points.emplace_back(r.alloc.total_cost / 1000, 100 * r.accuracy);
    plot[k + 1].points.emplace_back(r.alloc.total_cost / 1000, 100 * r.accuracy_tuned);
    lowest = std::min(lowest, 100 * std::min(r.accuracy, r.accuracy_tuned));
  }
  const double floor_accuracy = std::max(std::floor(lowest), std::floor(100 * float_accuracy - 10));
  write_svg(o.results + "/accuracy_vs_size.svg", plot, 100 * float_accuracy, floor_accuracy,
            "Reference CNN on Fashion-MNIST: equal vs optimised weight bits (seed " + std::to_string(o.seed) + ")");

  const bool reproduced = size_claim && tune_claim;
  std::printf("\nClaim (arXiv:1511.06393: >= 20%% fewer weight bits within 0.2 points of float; fine-tuning >= float): %s — %s; "
              "fine-tuned %.2f%% vs float %.2f%%\n",
              reproduced ? "REPRODUCED" : "NOT REPRODUCED", verdict.str().c_str(), 100 * best_tuned, 100 * float_accuracy);
  std::printf("Wrote %s/allocations.csv, sensitivity.csv, plans.txt, accuracy_vs_size.svg; total %.0f s\n",
              o.results.c_str(), bar.elapsed());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"The fixed-point quantization pipeline of arXiv:1511.06393 on Fashion-MNIST (fxp)"};
  app.add_option("--data", o.data, "folder of the Fashion-MNIST IDX files")->capture_default_str();
  app.add_option("--seed", o.seed, "seed of the initialisation, the batches and the fine-tuning")->capture_default_str();
  app.add_option("--epochs", o.epochs, "epochs of float training")->check(CLI::Range(1, 1000))->capture_default_str();
  app.add_flag("--retrain", o.retrain, "train the float model even when the checkpoint exists");
  app.add_option("--checkpoint", o.checkpoint, "float checkpoint (default: <results>/float_seed<seed>.fxpc)");
  app.add_option("--results", o.results, "folder of the CSV files, plans and plot")->capture_default_str();
  app.add_option("--threads", o.threads, "threads")->check(CLI::Range(1, 256))->capture_default_str();
  app.add_flag("--quick", o.quick, "smoke run: 2048 training and 1000 test images, 1 epoch, 10 fine-tuning steps");
  app.add_option("--batch", o.batch, "mini-batch size")->check(CLI::Range(1, 65536))->capture_default_str();
  app.add_option("--lr", o.lr, "learning rate of the float training")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--finetune-steps", o.finetune_steps, "QAT fine-tuning steps per plan")->capture_default_str();
  app.add_option("--finetune-lr", o.finetune_lr, "learning rate of the fine-tuning")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--act-bits", o.act_bits, "activation bits (max-range formats; 0: float)")
      ->check(CLI::Range(0, 16))
      ->capture_default_str();
  app.add_option("--max-bits", o.max_bits, "most weight bits the solver may give a layer")
      ->check(CLI::Range(8, 16))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::cerr << "pipeline: " << e.what() << "\n\n" << app.help();
    return 2;
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::cerr << "\npipeline: " << e.what() << '\n';
    return 1;
  }
}
