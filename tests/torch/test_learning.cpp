// A tiny model on the default corpus (the King James Bible): its validation loss must fall well
// below its starting point, which is ln(V) for an untrained model; the same in bf16 autocast. Also
// the trainer's schedule, determinism, Muon, and a run that diverges between two sync points.
#include "catch_torch.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include "ablate/engine/data.h"
#include "ablate/train/muon.h"
#include "ablate/train/precision.h"
#include "ablate/engine/sweep.h"
#include "ablate/train/trainer.h"

TEST_CASE("the learning rate warms up linearly, then follows a cosine down to its floor", "[train]") {
  CHECK(ablate::scheduled_lr(0, 100, 10, 1.0, 0.1) == Approx(0.1));
  CHECK(ablate::scheduled_lr(9, 100, 10, 1.0, 0.1) == Approx(1.0));
  CHECK(ablate::scheduled_lr(10, 100, 10, 1.0, 0.1) == Approx(1.0));
  CHECK(ablate::scheduled_lr(55, 100, 10, 1.0, 0.1) == Approx(0.55));  // halfway: (1 + 0.1) / 2
  CHECK(ablate::scheduled_lr(100, 100, 10, 1.0, 0.1) == Approx(0.1));
}

TEST_CASE("a wall-clock budget's schedule follows the fraction of time used", "[train]") {
  CHECK(ablate::scheduled_lr_at(0.05, 0.1, 1.0, 0.1) == Approx(0.5));   // half of the warmup
  CHECK(ablate::scheduled_lr_at(0.1, 0.1, 1.0, 0.1) == Approx(1.0));    // warmup done: the peak
  CHECK(ablate::scheduled_lr_at(0.55, 0.1, 1.0, 0.1) == Approx(0.55));  // halfway through the decay
  CHECK(ablate::scheduled_lr_at(1.0, 0.1, 1.0, 0.1) == Approx(0.1));
  CHECK(ablate::scheduled_lr_at(3.0, 0.1, 1.0, 0.1) == Approx(0.1));    // past the budget: the floor
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
train: {steps: 150, batch_size: 16, eval_every: 150, eval_tokens: 4096, log_every: 50, optimizer: {lr: 0.005}}
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
  CHECK(summary.at("precision") == "fp32");
  CHECK(summary.at("val_accuracy").get<double>() > 0.25);
  CHECK(summary.at("val_accuracy").get<double>() < 0.9);    // and no sign of seeing its targets
}

namespace {
// Trains the one run of `yaml` in `precision` into `dir`/run and returns its summary.
nlohmann::json train_in(const std::string& yaml, const std::filesystem::path& dir,
                        ablate::Precision precision = ablate::Precision::fp32) {
  ablate::PluginRegistry registry;
  registry.load_directory(ABLATE_PLUGIN_DIR);
  const auto sweep = ablate::parse_sweep(yaml, "tiny.yaml", registry);
  std::filesystem::remove_all(dir / "run");
  const auto data = ablate::prepare_data(sweep.runs[0].config.at("data"), dir / "cache");
  return ablate::train_run(sweep.runs[0], data, registry,
                           {.device = c10::Device(c10::kCPU), .precision = precision, .run_dir = dir / "run",
                            .label = "tiny", .print = [](auto&) {}});
}

// Trains the tiny model of `yaml` into `dir` and returns its metrics.jsonl.
std::string train_tiny(const std::string& yaml, const std::filesystem::path& dir) {
  train_in(yaml, dir);
  std::ifstream in(dir / "run" / "metrics.jsonl");
  std::string text, line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    j.erase("seconds");  // wall time differs between runs; everything else must not
    text += j.dump() + "\n";
  }
  return text;
}

const char* kTiny = R"(
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 32}
model: {d_model: 32, n_layers: 1, dropout: 0.1, attention: {plugin: mha, n_heads: 2},
        ffn: {plugin: topk, n_experts: 4, top_k: 2, expert: {plugin: silu, d_ff: 32}}}
train: {steps: 12, batch_size: 4, eval_every: 4, eval_tokens: 256}
)";
}  // namespace

TEST_CASE("training on the CPU is deterministic for a given seed", "[train]") {
  at::set_num_threads(1);
  const auto dir = std::filesystem::temp_directory_path() / "ablate_test_determinism";
  const std::string first = train_tiny(kTiny, dir);
  const std::string second = train_tiny(kTiny, dir);
  CHECK(first.size() > 100);
  CHECK(first == second);
  // and another seed gives another run (the check can fail)
  CHECK(train_tiny(std::string(kTiny) + "seeds: [1]\n", dir) != first);
}

TEST_CASE("Muon's Newton-Schulz output has singular values near 1", "[train][muon]") {
  const auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  for (const auto& shape : {std::vector<std::int64_t>{32, 64}, std::vector<std::int64_t>{96, 48}}) {
    const auto g = at::randn(shape, gen) * 5.0;
    const auto x = ablate::newton_schulz(g, 5);
    CHECK(x.sizes() == g.sizes());
    const auto s = at::linalg_svdvals(x.to(at::kFloat));
    INFO("singular values in [" << s.min().item<double>() << ", " << s.max().item<double>() << "]");
    CHECK(s.min().item<double>() > 0.5);
    CHECK(s.max().item<double>() < 1.3);
    CHECK(at::linalg_svdvals(g).max().item<double>() > 10.0);  // the input was far from orthogonal
  }
}

TEST_CASE("a model trained with Muon for hidden matrices and AdamW for the rest learns", "[train][muon]") {
  at::set_num_threads(2);
  const auto dir = std::filesystem::temp_directory_path() / "ablate_test_muon";
  const std::string metrics = train_tiny(R"(
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 32}
model: {d_model: 32, n_layers: 1, attention: {plugin: mha, n_heads: 2}, ffn: {plugin: swiglu, d_ff: 64}}
train: {steps: 60, batch_size: 8, eval_every: 60, eval_tokens: 512, optimizer: {name: muon, lr: 0.003, muon_lr: 0.02}}
)", dir);
  std::stringstream lines(metrics);
  std::string first, last, line;
  std::getline(lines, first);
  while (std::getline(lines, line)) last = line;
  const double initial = nlohmann::json::parse(first).at("val_loss").get<double>();
  const double final_loss = nlohmann::json::parse(last).at("val_loss").get<double>();
  INFO(initial << " -> " << final_loss);
  CHECK(final_loss < initial - 1.5);
}

namespace {
double first_val_loss(const std::filesystem::path& run_dir) {
  std::ifstream metrics(run_dir / "metrics.jsonl");
  std::string line;
  std::getline(metrics, line);
  return nlohmann::json::parse(line).at("val_loss").get<double>();
}
}  // namespace

TEST_CASE("a tiny model trained in bf16 autocast on the CPU learns, and its summary says bf16", "[train][precision]") {
  at::set_num_threads(2);
  const auto dir = std::filesystem::temp_directory_path() / "ablate_test_bf16";
  const std::string yaml = R"(
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 32}
model: {d_model: 32, n_layers: 1, attention: {plugin: mha, n_heads: 2}, ffn: {plugin: swiglu, d_ff: 64}}
train: {steps: 60, batch_size: 8, eval_every: 60, eval_tokens: 512, optimizer: {lr: 0.01}}
)";
  const auto bf16 = train_in(yaml, dir / "bf16", ablate::Precision::bf16);
  const double initial = first_val_loss(dir / "bf16" / "run");
  INFO(initial << " -> " << bf16.at("val_loss").get<double>());
  CHECK(bf16.at("status") == "done");
  CHECK(bf16.at("precision") == "bf16");
  CHECK(bf16.at("val_loss").get<double>() < initial - 1.0);
  // autocast really ran: the same run in fp32 ends elsewhere
  const auto fp32 = train_in(yaml, dir / "fp32", ablate::Precision::fp32);
  CHECK(fp32.at("precision") == "fp32");
  CHECK(fp32.at("train_loss").get<double>() != bf16.at("train_loss").get<double>());
}

TEST_CASE("precision auto is bf16 on CUDA and fp32 on the CPU, and other names are errors", "[train][precision]") {
  CHECK(ablate::parse_precision("auto", c10::Device(c10::kCPU)) == ablate::Precision::fp32);
  CHECK(ablate::parse_precision("auto", c10::Device(c10::kCUDA, 0)) == ablate::Precision::bf16);
  CHECK(ablate::parse_precision("fp32", c10::Device(c10::kCUDA, 0)) == ablate::Precision::fp32);
  CHECK(ablate::parse_precision("bf16", c10::Device(c10::kCPU)) == ablate::Precision::bf16);
  CHECK_THROWS_WITH(ablate::parse_precision("fp16", c10::Device(c10::kCPU)), Catch::Contains("fp16"));
}

TEST_CASE("a loss that becomes NaN between sync points ends the run 'diverged' there, naming its step",
          "[train]") {
  at::set_num_threads(1);
  const auto dir = std::filesystem::temp_directory_path() / "ablate_test_diverged";
  // An absurd learning rate: the weights overflow within a few steps. Losses are read every 10.
  const auto summary = train_in(R"(
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 16}
model: {d_model: 16, n_layers: 1, attention: {plugin: mha, n_heads: 2}, ffn: {plugin: swiglu, d_ff: 32}}
train: {steps: 40, batch_size: 2, eval_every: 40, eval_tokens: 32, log_every: 10, grad_clip: 0, warmup_fraction: 0,
        optimizer: {lr: 1.0e+30}}
)", dir, ablate::Precision::fp32);
  const std::string error = summary.value("error", "");
  INFO(error);
  CHECK(summary.at("status") == "diverged");
  CHECK(summary.at("stopped_by") == "divergence");
  CHECK(summary.at("steps") == 10);  // the first sync point after the loss went bad
  CHECK(summary.at("train_loss").is_null());
  CHECK_THAT(error, Catch::Contains("training loss became") && Catch::Contains("seen at step 10") &&
                        Catch::Contains("steps 1-10"));
  CHECK_FALSE(std::filesystem::exists(dir / "run" / "model.safetensors"));
}

TEST_CASE("runs with different batch sizes are scored on the same evaluation tokens, recorded with their hash",
          "[train][eval]") {
  at::set_num_threads(1);
  const auto dir = std::filesystem::temp_directory_path() / "ablate_test_eval_set";
  const std::string base = R"(
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 32}
model: {d_model: 16, n_layers: 1, attention: {plugin: mha, n_heads: 2}, ffn: {plugin: silu, d_ff: 32}}
)";
  const auto small = train_in(base + "train: {steps: 2, batch_size: 2, eval_every: 2, eval_tokens: 1000}\n", dir);
  const auto large = train_in(base + "train: {steps: 2, batch_size: 16, eval_every: 2, eval_tokens: 1000}\n", dir);
  // ⌊1000 / 32⌋ = 31 windows of 32 scored tokens, whatever the batch size (it was 8 batches × batch_size windows).
  CHECK(small.at("eval_set").at("windows") == 31);
  CHECK(small.at("eval_set").at("tokens") == 31 * 32);
  CHECK(small.at("eval_set") == large.at("eval_set"));
  CHECK(small.at("eval_set").at("hash").get<std::string>().size() == 16);
  const auto fewer = train_in(base + "train: {steps: 2, batch_size: 2, eval_every: 2, eval_tokens: 500}\n", dir);
  CHECK(fewer.at("eval_set").at("hash") != small.at("eval_set").at("hash"));  // another set: another hash
}
