// `ablate run --devices`: several workers share a sweep's queue. Tested with CPU workers
// (`--devices cpu,cpu`), whose runs must equal a sequential run's at the same threads per run:
// every run done once, each summary naming its device, whole progress lines, the tune stage's
// halving as a sequential run decides it, a failing run failing only itself, and the flag's errors.
// The GPU side (one worker per cuda:N) needs a GPU machine.
//
//   ./build/tests/test_engine "[devices]"
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli_helpers.h"

namespace fs = std::filesystem;
using ablate::test::Output;
using ablate::test::run_ablate;
using ablate::test::summaries;
using ablate::test::write_temp;
using nlohmann::json;

namespace {

const fs::path kDir = fs::temp_directory_path() / "ablate_test_cli_devices";

/// `ablate run SWEEP --out kDir/TEST/OUT --cache kDir/TEST/cache EXTRA` (each test case its own
/// directory: ctest runs them side by side).
Output run_sweep(const std::string& sweep, const std::string& test, const std::string& out, const std::string& extra) {
  return run_ablate("run " + sweep + " --out " + (kDir / test / out).string() + " --cache " +
                    (kDir / test / "cache").string() + " " + extra);
}

/// Trains `sweep` twice: sequentially with 1 thread into kDir/<test>/seq, then with two CPU workers
/// sharing 2 threads (1 each) into kDir/<test>/par; returns the second's output.
Output sequential_then_two_workers(const std::string& sweep, const std::string& test) {
  fs::remove_all(kDir / test);
  const Output seq = run_sweep(sweep, test, "seq", "--device cpu --threads 1");  // not auto: a GPU if there is one
  INFO(seq.text);
  REQUIRE(seq.status == 0);
  const Output par = run_sweep(sweep, test, "par", "--devices cpu,cpu --threads 2");
  INFO(par.text);
  REQUIRE(par.status == 0);
  return par;
}

/// The val_loss column of a run's metrics.jsonl.
std::vector<double> val_curve(const fs::path& run_dir) {
  std::vector<double> out;
  std::ifstream in(run_dir / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line).at("val_loss").get<double>());
  return out;
}

/// Every progress line of a run is whole: it starts with its label and holds no other run's.
void check_whole_lines(const std::string& text) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    CAPTURE(line);
    const auto first = line.find("[run ");
    if (first == std::string::npos) continue;
    CHECK(first == 0);
    CHECK(line.find("[run ", first + 1) == std::string::npos);
  }
}

/// The dense arm of sweeps/debug.yaml and an MoE arm whose router adds no noise: nothing draws
/// random numbers while training, so two CPU workers must give the sequential results exactly.
const char* kQuietSweep = R"(
name: quiet
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 32}
model:
  d_model: 32
  n_layers: 1
  attention: {plugin: mha, n_heads: 2}
  ffn: {plugin: swiglu, d_ff: 64}
train: {steps: 20, batch_size: 4, eval_every: 10, eval_tokens: 256, log_every: 5}
seeds: [0, 1]
arms:
  dense: {}
  moe:
    model.ffn: {plugin: topk, n_experts: 4, top_k: 2, noise_std: 0, expert: {plugin: silu, d_ff: 32}}
)";

}  // namespace

TEST_CASE("run --devices cpu,cpu trains debug.yaml's 4 runs on two workers and writes the report", "[cli][devices]") {
  const Output par = sequential_then_two_workers(std::string(ABLATE_SOURCE_DIR) + "/sweeps/debug.yaml", "debug");
  INFO(par.text);
  CHECK_THAT(par.text, Catch::Contains("trained 4, skipped 0"));
  CHECK_THAT(par.text, Catch::Contains("2 CPU workers share 2 thread(s): 1 intra-op thread(s) each"));
  CHECK_THAT(par.text, Catch::Contains("(worker 1/2)") && Catch::Contains("(worker 2/2)"));
  // The MoE router's noise draws from the CPU generator both workers share: said, not hidden.
  CHECK_THAT(par.text, Catch::Contains("warning: runs that draw random numbers while training "
                                       "(model.ffn.noise_std = 0.1) share a device's generator"));
  check_whole_lines(par.text);

  const fs::path dir = kDir / "debug" / "par" / "debug";
  CHECK(fs::file_size(dir / "report.md") > 0);
  CHECK(fs::exists(dir / "results.json"));
  const auto parallel = summaries(dir / "runs");
  const auto sequential = summaries(kDir / "debug" / "seq" / "debug" / "runs");
  REQUIRE(parallel.size() == 4);
  for (const auto& [id, summary] : parallel) {
    CAPTURE(id);
    CHECK(summary.at("status") == "done");
    CHECK(summary.at("device") == "cpu (1 threads)");  // 2 threads shared by 2 workers
    CHECK(summary.at("shared_device") == true);         // two workers on one CPU: the report flags their times
    CHECK(sequential.at(id).at("shared_device") == false);
    CHECK(summary.at("warmup_steps") == 1);             // the first step, timed apart from training
    CHECK(summary.at("mfu").is_null());
    CHECK(summary.at("mfu_reason") == "no peak known for cpu");
    // The dense runs draw nothing while training: the sequential run's numbers exactly.
    if (summary.at("arm") == "dense") {
      CHECK(summary.at("val_loss") == sequential.at(id).at("val_loss"));
      CHECK(val_curve(dir / "runs" / id) == val_curve(kDir / "debug" / "seq" / "debug" / "runs" / id));
    }
  }
}

TEST_CASE("two CPU workers give a sequential run's results when no run draws while training", "[cli][devices]") {
  const Output par = sequential_then_two_workers(write_temp("quiet.yaml", kQuietSweep).string(), "quiet");
  INFO(par.text);
  CHECK_THAT(par.text, !Catch::Contains("warning"));
  const auto parallel = summaries(kDir / "quiet" / "par" / "quiet" / "runs");
  const auto sequential = summaries(kDir / "quiet" / "seq" / "quiet" / "runs");
  REQUIRE(parallel.size() == 4);
  REQUIRE(sequential.size() == 4);
  for (const auto& [id, summary] : parallel) {
    CAPTURE(id);
    CHECK(summary.at("val_loss") == sequential.at(id).at("val_loss"));
    CHECK(summary.at("train_loss") == sequential.at(id).at("train_loss"));
    CHECK(val_curve(kDir / "quiet" / "par" / "quiet" / "runs" / id) ==
          val_curve(kDir / "quiet" / "seq" / "quiet" / "runs" / id));
  }
}

TEST_CASE("a tune stage on two workers halves and chooses as a sequential run does", "[cli][devices]") {
  // The first point (d 128) is slow, the second (d 16) fast and worse: it reaches the rung first, and
  // must wait for the first point to rank there, as it would have after it sequentially.
  const auto sweep = write_temp("tunerace.yaml", R"(
name: tunerace
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 32}
model: {n_layers: 1, attention: {plugin: mha, n_heads: 2}, ffn: {plugin: swiglu, d_ff: 64}}
train: {steps: 60, batch_size: 4, eval_every: 10, eval_tokens: 256, log_every: 20}
seeds: [0]
tune:
  axes: {model.d_model: [128, 16]}
  seeds: [100]
  halving: {rungs: [0.3], keep: 0.5}
arms:
  only: {}
)").string();
  const Output par = sequential_then_two_workers(sweep, "tune");
  INFO(par.text);
  const auto read = [](const fs::path& file) {
    std::ifstream in(file);
    return json::parse(in);
  };
  const json tune = read(kDir / "tune" / "par" / "tunerace" / "tune.json");
  CHECK(tune == read(kDir / "tune" / "seq" / "tunerace" / "tune.json"));
  REQUIRE(tune.at("groups").size() == 1);
  CHECK(tune["groups"][0]["points"][1]["runs"][0]["status"] == "stopped");
  CHECK(tune["groups"][0]["chosen"] == 0);
  const auto parallel = summaries(kDir / "tune" / "par" / "tunerace" / "runs");
  REQUIRE(parallel.size() == 1);
  for (const auto& [id, summary] : parallel)
    CHECK(summary.at("val_loss") == summaries(kDir / "tune" / "seq" / "tunerace" / "runs").at(id).at("val_loss"));
}

TEST_CASE("a run failing on one worker fails only itself", "[cli][devices]") {
  const auto sweep = write_temp("throwing_devices.yaml", R"(
name: throwing_devices
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 16}
model: {d_model: 16, n_layers: 1, attention: {plugin: mha, n_heads: 2}, ffn: {plugin: swiglu, d_ff: 32}}
train: {steps: 3, batch_size: 2, eval_every: 3, eval_tokens: 32}
seeds: [0, 1]
arms:
  broken: {model.norm: {plugin: fixture_throwing, when: training}}
  fine: {}
)");
  fs::remove_all(kDir / "throwing");
  const Output run = run_ablate("--plugin-dir " + std::string(ABLATE_TEST_PLUGIN_DIR) + "/throwing run " +
                                sweep.string() + " --out " + (kDir / "throwing").string() + " --cache " +
                                (kDir / "throwing" / "cache").string() + " --devices cpu,cpu --threads 2");
  INFO(run.text);
  CHECK(run.status == 1);  // runs failed
  CHECK_THAT(run.text, Catch::Contains("trained 2, skipped 0 (already done), failed 2"));
  const auto runs = summaries(kDir / "throwing" / "throwing_devices" / "runs");
  REQUIRE(runs.size() == 4);
  for (const auto& [id, summary] : runs) {
    CAPTURE(id);
    CHECK(summary.at("status") == (summary.at("arm") == "broken" ? "failed" : "done"));
  }
}

TEST_CASE("run refuses --devices with --device, an empty device entry and --runs-per-device 0", "[cli][devices]") {
  const std::string sweep = std::string(ABLATE_SOURCE_DIR) + "/sweeps/debug.yaml";
  const auto out = (kDir / "errors").string();
  const Output both = run_ablate("run " + sweep + " --out " + out + " --devices cpu,cpu --device cpu");
  CHECK(both.status == 2);
  CHECK_THAT(both.text, Catch::Contains("--devices") && Catch::Contains("excludes"));
  const Output empty = run_ablate("run " + sweep + " --out " + out + " --devices cpu,,cpu");
  CHECK(empty.status == 2);
  CHECK_THAT(empty.text, Catch::Contains("--devices 'cpu,,cpu' has an empty entry"));
  const Output zero = run_ablate("run " + sweep + " --out " + out + " --runs-per-device 0");
  CHECK(zero.status == 2);
  CHECK_THAT(zero.text, Catch::Contains("--runs-per-device"));
  CHECK_FALSE(fs::exists(kDir / "errors" / "debug" / "runs"));  // nothing trained
}
