// A tiny model on the default corpus (the King James Bible): its validation loss must fall well
// below its starting point, which is ln(V) for an untrained model. Also the trainer's schedule.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <ATen/Parallel.h>

#include "ablate/data.h"
#include "ablate/sweep.h"
#include "ablate/trainer.h"

TEST_CASE("the learning rate warms up linearly, then follows a cosine down to its floor", "[train]") {
  CHECK(ablate::scheduled_lr(0, 100, 10, 1.0, 0.1) == Approx(0.1));
  CHECK(ablate::scheduled_lr(9, 100, 10, 1.0, 0.1) == Approx(1.0));
  CHECK(ablate::scheduled_lr(10, 100, 10, 1.0, 0.1) == Approx(1.0));
  CHECK(ablate::scheduled_lr(55, 100, 10, 1.0, 0.1) == Approx(0.55));  // halfway: (1 + 0.1) / 2
  CHECK(ablate::scheduled_lr(100, 100, 10, 1.0, 0.1) == Approx(0.1));
}

TEST_CASE("a tiny model's validation loss falls on the King James Bible", "[train][slow]") {
  at::set_num_threads(2);
  ablate::PluginRegistry registry;
  registry.load_directory(ABLATE_PLUGIN_DIR);
  const auto sweep = ablate::parse_sweep(R"(
name: learn
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 64}
model:
  d_model: 64
  n_layers: 2
  attention: {plugin: mha, n_heads: 4}
  ffn: {plugin: swiglu, d_ff: 128}
train: {steps: 150, batch_size: 16, eval_every: 150, eval_batches: 4, log_every: 50, optimizer: {lr: 0.005}}
)",
                                         "learn.yaml", registry);
  REQUIRE(sweep.runs.size() == 1);
  const auto tmp = std::filesystem::temp_directory_path() / "ablate_test_learning";
  std::filesystem::remove_all(tmp);
  const auto data = ablate::prepare_data(sweep.runs[0].config.at("data"), tmp / "cache");
  const auto summary = ablate::train_run(sweep.runs[0], data, registry,
                                         {.device = c10::Device(c10::kCPU), .run_dir = tmp / "run", .label = "learn"});
  std::ifstream metrics(tmp / "run" / "metrics.jsonl");
  std::string first_line;
  std::getline(metrics, first_line);
  const double initial = nlohmann::json::parse(first_line).at("val_loss").get<double>();
  const double final_loss = summary.at("val_loss").get<double>();
  INFO("initial val loss " << initial << ", final " << final_loss);
  CHECK(initial == Approx(std::log(257.0)).margin(0.3));  // untrained: about uniform over bytes
  CHECK(final_loss < initial - 2.0);                         // it learned: well below uniform
  CHECK(summary.at("status") == "done");
  CHECK(summary.at("val_accuracy").get<double>() > 0.25);
  CHECK(summary.at("val_accuracy").get<double>() < 0.9);    // and no sign of seeing its targets
}
