// SPDX-License-Identifier: MIT
// train: trains the reference CNN (fxp::nn::reference_cnn) on Fashion-MNIST in float,
// quantization-aware, fully fixed point, or fixed point with wide master weights, and
// reports the test accuracy and the training throughput.
//
//   train --mode fixed --weight-bits 16 --act-bits 16 --grad-bits 16 --rounding stochastic
//   train --mode fixed --weight-bits 8 --act-bits 8 --master-bits 16 --rounding stochastic
//   train --mode qat --precision formats.txt --epochs 2 --save run.fxpc
//
// Fixed-point formats: each role's fractional bits come from a float calibration pass of
// the freshly initialised network (max-range formats with headroom, see
// fxp::quant::range_plan); a --precision file (one line per layer, e.g.
// `conv1 weights=s8.7 acts=u8.4 rounding=nearest`) is applied on top of them. During
// training, formats that saturate too often gain a bit of range (--adapt-every).

#include <fxp/io/batches.hpp>
#include <fxp/io/fashion_mnist.hpp>
#include <fxp/io/training_checkpoint.hpp>
#include <fxp/nn/nn.hpp>
#include <fxp/quant/adapt.hpp>
#include <fxp/quant/calibration.hpp>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <unistd.h>

namespace {

struct options {
  std::string mode = "float";
  int weight_bits = 16;
  int act_bits = 16;
  int grad_bits = 16;
  int master_bits = 0;
  int input_bits = 8;
  std::string precision_file;
  std::string rounding = "nearest";
  int epochs = 10;
  std::size_t batch = 32;
  double lr = 0.02;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  std::string optimizer = "sgd";
  std::string schedule = "cosine";
  std::size_t warmup = 0;
  std::uint64_t seed = 1;
  std::size_t threads = 2;
  std::string data = fxp::io::fashion_mnist_default_dir;
  std::size_t train_limit = 0;
  std::size_t test_limit = 0;
  std::string save;
  std::string load;
  std::string csv;
  std::string print_plan;
  double progress_seconds = 1.0;
  std::size_t adapt_every = 100;
};

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

std::unique_ptr<fxp::nn::optimizer> make_optimizer(const options& o, std::uint64_t total_steps) {
  fxp::nn::lr_schedule s = fxp::nn::lr_schedule::constant(o.lr);
  if (o.schedule == "cosine") s = fxp::nn::lr_schedule::cosine(o.lr, total_steps - o.warmup);
  if (o.schedule == "step") s = fxp::nn::lr_schedule::step_decay(o.lr, total_steps / 3 + 1, 0.1);
  s = s.with_warmup(o.warmup);
  if (o.optimizer == "adam") {
    return std::make_unique<fxp::nn::adam>(s, 0.9, 0.999, 1e-8, o.weight_decay);
  }
  return std::make_unique<fxp::nn::sgd>(s, o.momentum, o.weight_decay);
}

/// The precision of a fixed-point or QAT run: calibrated max-range formats for the flags'
/// bit-widths, then the --precision file on top.
fxp::nn::precision_plan make_plan(const options& o, fxp::nn::sequential& model,
                                  const fxp::io::labelled_set& train) {
  fxp::quant::plan_bits bits;
  bits.weights = o.weight_bits;
  bits.biases = std::max(o.weight_bits, o.grad_bits);
  bits.activations = o.act_bits;
  bits.errors = o.grad_bits;
  bits.grads = o.grad_bits;
  bits.updates = o.grad_bits;
  bits.state = o.grad_bits;
  bits.master = o.master_bits;
  bits.input = o.input_bits;
  bits.rounding = fxp::parse_rounding_mode(o.rounding);
  bits.learning_rate = o.lr;
  bits.momentum = o.momentum;
  // Errors and gradients scale with 1 / batch size: calibrate at the training batch size.
  const std::size_t n = std::min<std::size_t>(train.size(), 1024);
  const fxp::tensor<float> images(train.images().slice(0, n));
  const auto stats = fxp::quant::calibrate(model, images, std::span(train.labels()).first(n),
                                           o.batch, (n + o.batch - 1) / o.batch);
  fxp::nn::precision_plan plan = fxp::quant::range_plan(stats, bits);
  if (!o.precision_file.empty()) {
    const fxp::nn::precision_plan file = fxp::nn::precision_plan::read_file(o.precision_file);
    for (const auto& line : file.lines()) plan.set(line.layer, line.fields);
  }
  return plan;
}

struct epoch_report {
  double loss = 0;
  double train_accuracy = 0;
  double test_accuracy = 0;
  double images_per_second = 0;
  std::uint64_t saturations = 0;
};

int run(const options& o) {
  fxp::set_num_threads(o.threads);
  fxp::io::fashion_mnist_options data_options;
  if (o.train_limit > 0) data_options.max_train = o.train_limit;
  if (o.test_limit > 0) data_options.max_test = o.test_limit;
  const fxp::io::fashion_mnist data = fxp::io::load_fashion_mnist(o.data, data_options);
  const auto& train = data.train;
  const auto& test = data.test;

  fxp::nn::sequential model = fxp::nn::reference_cnn(o.seed);
  const fxp::io::batch_plan batches(train.size(), o.batch, fxp::io::last_batch::drop);
  const std::uint64_t per_epoch = batches.batch_count();
  const std::uint64_t total_steps = per_epoch * static_cast<std::uint64_t>(o.epochs);
  auto opt = make_optimizer(o, total_steps);
  fxp::nn::trainer trainer(model, *opt);

  const bool mode_flag = o.mode != "float";
  if (!o.load.empty()) {
    fxp::io::restore_training(o.load, trainer);
    std::cout << "resumed " << o.load << " at step " << trainer.step_count() << " (mode "
              << fxp::nn::to_string(model.mode()) << ")\n";
  } else if (mode_flag) {
    model.apply(make_plan(o, model, train));
    fxp::nn::training_mode mode = fxp::nn::parse_training_mode(o.mode);
    if (mode == fxp::nn::training_mode::fixed && o.master_bits > 0) {
      mode = fxp::nn::training_mode::fixed_master;
    }
    model.set_mode(mode);
  }
  if (!o.print_plan.empty()) {
    std::ofstream out(o.print_plan);
    out << model.plan().to_string();
  }

  std::ofstream csv;
  if (!o.csv.empty()) {
    csv.open(o.csv);
    if (!csv) throw std::runtime_error("train: cannot write " + o.csv);
    csv << "epoch,mode,train_loss,train_accuracy,test_accuracy,img_per_s,saturations\n";
  }
  std::cout << "mode " << fxp::nn::to_string(model.mode()) << ", " << train.size()
            << " training and " << test.size() << " test images, batch " << o.batch << ", "
            << o.threads << " threads, " << per_epoch << " steps per epoch\n";

  const bool tty = isatty(fileno(stdout)) != 0;
  fxp::io::batch batch;
  double total_images = 0;
  double total_seconds = 0;
  epoch_report last;
  for (std::uint64_t epoch = trainer.step_count() / per_epoch;
       epoch < static_cast<std::uint64_t>(o.epochs); ++epoch) {
    const fxp::io::epoch_batches order(batches, o.seed, static_cast<std::uint32_t>(epoch));
    model.reset_saturations();
    std::uint64_t epoch_saturations = 0;
    std::size_t widened = 0;
    const auto total_saturations = [&] {
      std::uint64_t n = model.input_saturations();
      for (const auto& [name, counts] : model.saturations()) n += counts.total();
      return n;
    };
    double loss_sum = 0;
    std::size_t correct = 0, seen = 0;
    const auto start = clock_type::now();
    auto last_print = start;
    for (std::uint64_t b = trainer.step_count() % per_epoch; b < per_epoch; ++b) {
      fxp::io::gather(train.view(), order[static_cast<std::size_t>(b)], batch);
      const fxp::nn::step_result r = trainer.step(batch.images, batch.labels);
      // Dynamic fixed point: windows of adapt_every steps counted from the epoch's start,
      // so a run resumed at an epoch boundary takes the same decisions.
      if (o.adapt_every > 0 && fxp::nn::is_fixed(model.mode()) && (b + 1) % o.adapt_every == 0) {
        epoch_saturations += total_saturations();
        widened += fxp::quant::widen_saturated_formats(model, o.adapt_every).size();
      }
      loss_sum += r.loss * static_cast<double>(r.count);
      correct += r.correct;
      seen += r.count;
      if (std::chrono::duration<double>(clock_type::now() - last_print).count() >=
              o.progress_seconds || b + 1 == per_epoch) {
        last_print = clock_type::now();
        std::printf("%sepoch %llu/%d batch %llu/%llu loss %.4f accuracy %.2f%% %.0f img/s%s",
                    tty ? "\r" : "", static_cast<unsigned long long>(epoch + 1), o.epochs,
                    static_cast<unsigned long long>(b + 1),
                    static_cast<unsigned long long>(per_epoch),
                    loss_sum / static_cast<double>(seen),
                    100.0 * static_cast<double>(correct) / static_cast<double>(seen),
                    static_cast<double>(seen) / seconds_since(start), tty ? "" : "\n");
        std::fflush(stdout);
      }
    }
    const double seconds = seconds_since(start);
    total_images += static_cast<double>(seen);
    total_seconds += seconds;
    last.loss = loss_sum / static_cast<double>(seen);
    last.train_accuracy = static_cast<double>(correct) / static_cast<double>(seen);
    last.images_per_second = static_cast<double>(seen) / seconds;
    last.test_accuracy = fxp::nn::accuracy(model, test.images(), std::span(test.labels()));
    last.saturations = epoch_saturations + total_saturations();
    if (tty) std::printf("\n");
    std::printf("epoch %llu: loss %.4f, train accuracy %.2f%%, test accuracy %.2f%%, %.0f img/s, "
                "%llu saturations, %zu formats widened\n",
                static_cast<unsigned long long>(epoch + 1), last.loss, 100 * last.train_accuracy,
                100 * last.test_accuracy, last.images_per_second,
                static_cast<unsigned long long>(last.saturations), widened);
    if (csv) {
      csv << epoch + 1 << ',' << fxp::nn::to_string(model.mode()) << ',' << last.loss << ','
          << last.train_accuracy << ',' << last.test_accuracy << ',' << last.images_per_second
          << ',' << last.saturations << '\n'
          << std::flush;
    }
    if (!o.save.empty()) fxp::io::save_training(o.save, trainer);
  }
  if (total_images == 0) {  // a resumed run that had nothing left to do
    last.test_accuracy = fxp::nn::accuracy(model, test.images(), std::span(test.labels()));
  }
  std::printf("test accuracy %.2f%%\n", 100 * last.test_accuracy);
  if (total_seconds > 0) std::printf("%.0f img/s\n", total_images / total_seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"Trains the reference CNN on Fashion-MNIST in float or fixed point (fxp)"};
  app.add_option("--mode", o.mode, "float, qat (quantization-aware) or fixed")
      ->check(CLI::IsMember({"float", "qat", "fixed"}))
      ->capture_default_str();
  app.add_option("--weight-bits", o.weight_bits, "bits of the weights in the forward pass")
      ->check(CLI::Range(2, 16))
      ->capture_default_str();
  app.add_option("--act-bits", o.act_bits, "bits of the activations")
      ->check(CLI::Range(2, 16))
      ->capture_default_str();
  app.add_option("--grad-bits", o.grad_bits,
                 "bits of the errors, gradients, updates and optimizer state")
      ->check(CLI::Range(2, 16))
      ->capture_default_str();
  app.add_option("--master-bits", o.master_bits,
                 "fixed mode: wide fixed-point master weights of this many bits (0: none)")
      ->check(CLI::Range(0, 32))
      ->capture_default_str();
  app.add_option("--input-bits", o.input_bits, "bits of the input pixels (unsigned)")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  app.add_option("--precision", o.precision_file,
                 "per-layer formats, one line per layer, e.g. 'conv1 weights=s8.7 acts=u8.4'")
      ->check(CLI::ExistingFile);
  app.add_option("--rounding", o.rounding, "rounding of every fixed-point narrowing")
      ->check(CLI::IsMember({"nearest", "stochastic", "nearest_even", "truncate", "toward_zero"}))
      ->capture_default_str();
  app.add_option("--epochs", o.epochs, "epochs")->check(CLI::Range(0, 1000))->capture_default_str();
  app.add_option("--batch", o.batch, "mini-batch size")->check(CLI::Range(1, 65536))->capture_default_str();
  app.add_option("--lr", o.lr, "learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--momentum", o.momentum, "SGD momentum")->check(CLI::Range(0.0, 0.999))->capture_default_str();
  app.add_option("--weight-decay", o.weight_decay, "L2 weight decay")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--optimizer", o.optimizer, "sgd or adam")->check(CLI::IsMember({"sgd", "adam"}))->capture_default_str();
  app.add_option("--schedule", o.schedule, "learning-rate schedule: cosine, step or constant")
      ->check(CLI::IsMember({"cosine", "step", "constant"}))
      ->capture_default_str();
  app.add_option("--warmup", o.warmup, "linear warm-up steps")->capture_default_str();
  app.add_option("--seed", o.seed, "seed of the initialisation, the batches and the rounding")->capture_default_str();
  app.add_option("--threads", o.threads, "threads")->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("--data", o.data, "folder of the Fashion-MNIST IDX files")->capture_default_str();
  app.add_option("--train-limit", o.train_limit, "use only the first N training images (0: all)");
  app.add_option("--test-limit", o.test_limit, "use only the first N test images (0: all)");
  app.add_option("--save", o.save, "checkpoint written (atomically) after every epoch");
  app.add_option("--load", o.load, "checkpoint to resume from (model, formats, optimizer, step)")
      ->check(CLI::ExistingFile);
  app.add_option("--csv", o.csv, "CSV log, one row per epoch");
  app.add_option("--print-plan", o.print_plan, "write the layers' formats to this file");
  app.add_option("--progress", o.progress_seconds, "seconds between progress lines")->capture_default_str();
  app.add_option("--adapt-every", o.adapt_every,
                 "fixed modes: every N steps, widen the range of formats that saturated on more "
                 "than 1e-4 of their values (0: static formats)")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::cerr << "train: " << e.what() << "\n\n" << app.help();
    return 2;
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::cerr << "train: " << e.what() << '\n';
    return 1;
  }
}
