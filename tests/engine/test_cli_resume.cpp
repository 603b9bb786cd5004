// `ablate run` under real signals and with --shard, as a child process: SIGINT after the first
// checkpoint leaves the run "interrupted" with a checkpoint and exits 130; running again resumes
// from that step and finishes; with two workers (--devices cpu,cpu) both runs are checkpointed.
// --shard takes its share of the runs and rejects bad values.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_helpers.h"

namespace {

using ablate::test::exit_status;
using ablate::test::read_text;
using ablate::test::spawn_ablate;

const auto kDir = std::filesystem::temp_directory_path() / "ablate_test_cli_resume";

std::string fmt_step(std::int64_t step) {
  char name[32];
  std::snprintf(name, sizeof name, "step-%010lld.ckpt", static_cast<long long>(step));
  return name;
}

std::filesystem::path write_sweep(const std::string& name, const std::string& steps, const std::string& seeds) {
  std::filesystem::create_directories(kDir);
  const auto file = kDir / (name + ".yaml");
  std::ofstream(file) << "name: " << name << R"(
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 16}
model: {d_model: 16, n_layers: 1, attention: {plugin: mha, n_heads: 2}, ffn: {plugin: swiglu, d_ff: 32}}
train: {steps: )" << steps << R"(, batch_size: 2, eval_every: 1000, eval_tokens: 32, log_every: 500}
seeds: )" << seeds << "\n";
  return file;
}

// On the CPU (`--device cpu`) or the CPU workers of `devices` (`--devices cpu,cpu`), never the
// default auto: a resumed run must equal the one trained straight through, whatever the machine.
std::vector<std::string> run_args(const std::filesystem::path& sweep, const std::string& threads = "1",
                                  const std::string& devices = "") {
  return {"run", sweep.string(), "--out", (kDir / "out").string(), devices.empty() ? "--device" : "--devices",
          devices.empty() ? "cpu" : devices, "--threads", threads, "--cache", (kDir / "cache").string()};
}

// True once `runs` run directories under `sweep_dir` hold a checkpoint JSON (waits up to `limit`).
bool wait_for_checkpoint(const std::filesystem::path& sweep_dir, pid_t child, std::chrono::seconds limit,
                         int runs = 1) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    int checkpointed = 0;
    if (std::filesystem::exists(sweep_dir / "runs", ec))
      for (const auto& run : std::filesystem::directory_iterator(sweep_dir / "runs", ec))
        for (const auto& f : std::filesystem::directory_iterator(run.path() / "checkpoints", ec))
          if (f.path().extension() == ".json") {
            ++checkpointed;
            break;
          }
    if (checkpointed >= runs) return true;
    if (::waitpid(child, nullptr, WNOHANG) == child) return false;  // ended before any checkpoint
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

}  // namespace

TEST_CASE("SIGINT checkpoints the run and exits 130, and running again resumes and finishes", "[cli][signal]") {
  std::filesystem::remove_all(kDir / "out" / "sigint");
  const auto sweep = write_sweep("sigint", "3000", "[0]");
  auto args = run_args(sweep);
  args.insert(args.end(), {"--checkpoint-every", "20"});
  const auto sweep_dir = kDir / "out" / "sigint";

  const pid_t child = spawn_ablate(args, kDir / "sigint-1.log");
  const bool checkpointed = wait_for_checkpoint(sweep_dir, child, std::chrono::seconds(300));
  INFO(read_text(kDir / "sigint-1.log"));
  REQUIRE(checkpointed);
  ::kill(child, SIGINT);
  CHECK(exit_status(child) == 130);
  const std::string first = read_text(kDir / "sigint-1.log");
  CHECK_THAT(first, Catch::Contains("stopped by SIGINT") && Catch::Contains("run the same command again"));

  const auto sweep_json = nlohmann::json::parse(std::ifstream(sweep_dir / "sweep.json"));
  const std::string id = sweep_json.at("runs").at(0).at("id");
  const auto run_dir = sweep_dir / "runs" / id;
  const auto summary = nlohmann::json::parse(std::ifstream(run_dir / "summary.json"));
  CHECK(summary.at("status") == "interrupted");
  const std::int64_t stopped_at = summary.at("steps");
  CHECK(stopped_at > 0);
  CHECK(stopped_at < 3000);
  CHECK(std::filesystem::exists(run_dir / "checkpoints" / fmt_step(stopped_at)));
  CHECK_FALSE(std::filesystem::exists(run_dir / "lock"));  // released on the way out
  CHECK(std::filesystem::exists(sweep_dir / "report.md"));  // the report of what is done

  const pid_t again = spawn_ablate(run_args(sweep), kDir / "sigint-2.log");
  CHECK(exit_status(again) == 0);
  const std::string second = read_text(kDir / "sigint-2.log");
  INFO(second);
  CHECK_THAT(second, Catch::Contains("resuming from step " + std::to_string(stopped_at)));
  const auto final_summary = nlohmann::json::parse(std::ifstream(run_dir / "summary.json"));
  CHECK(final_summary.at("status") == "done");
  CHECK(final_summary.at("steps") == 3000);
  CHECK(final_summary.at("resumed_from_step") == stopped_at);
}

TEST_CASE("SIGINT stops every worker: each checkpoints its run, and running again resumes them all", "[cli][signal]") {
  std::filesystem::remove_all(kDir / "out" / "sigint2");
  const auto sweep = write_sweep("sigint2", "3000", "[0, 1]");
  auto args = run_args(sweep, "2", "cpu,cpu");  // one thread for each worker
  args.insert(args.end(), {"--checkpoint-every", "20"});
  const auto sweep_dir = kDir / "out" / "sigint2";

  const pid_t child = spawn_ablate(args, kDir / "sigint2-1.log");
  const bool checkpointed = wait_for_checkpoint(sweep_dir, child, std::chrono::seconds(300), 2);
  INFO(read_text(kDir / "sigint2-1.log"));
  REQUIRE(checkpointed);
  ::kill(child, SIGINT);
  CHECK(exit_status(child) == 130);
  const std::string first = read_text(kDir / "sigint2-1.log");
  INFO(first);
  const auto sweep_json = nlohmann::json::parse(std::ifstream(sweep_dir / "sweep.json"));
  std::map<std::string, std::int64_t> stopped_at;
  for (const auto& run : sweep_json.at("runs")) {
    const std::string id = run.at("id");
    const auto run_dir = sweep_dir / "runs" / id;
    const auto summary = nlohmann::json::parse(std::ifstream(run_dir / "summary.json"));
    CHECK(summary.at("status") == "interrupted");
    stopped_at[id] = summary.at("steps");
    CHECK(std::filesystem::exists(run_dir / "checkpoints" / fmt_step(stopped_at[id])));
    CHECK_FALSE(std::filesystem::exists(run_dir / "lock"));
    CHECK_THAT(first, Catch::Contains("run " + id + " checkpointed at step " + std::to_string(stopped_at[id])));
  }
  CHECK_THAT(first, Catch::Contains("stopped by SIGINT"));

  const pid_t again = spawn_ablate(run_args(sweep, "2", "cpu,cpu"), kDir / "sigint2-2.log");
  CHECK(exit_status(again) == 0);
  const std::string second = read_text(kDir / "sigint2-2.log");
  INFO(second);
  for (const auto& [id, step] : stopped_at) {
    CHECK_THAT(second, Catch::Contains("resuming from step " + std::to_string(step)));
    const auto summary = nlohmann::json::parse(std::ifstream(sweep_dir / "runs" / id / "summary.json"));
    CHECK(summary.at("status") == "done");
    CHECK(summary.at("resumed_from_step") == step);
  }
}

TEST_CASE("run with a shard i/n trains its share of the runs, and a bad value is an error naming the flag", "[cli][shard]") {
  std::filesystem::remove_all(kDir / "out" / "shards");
  const auto sweep = write_sweep("shards", "2", "[0, 1, 2]");
  auto bad = run_args(sweep);
  bad.insert(bad.end(), {"--shard", "3/2"});
  pid_t child = spawn_ablate(bad, kDir / "shard-bad.log");
  CHECK(exit_status(child) == 2);
  CHECK_THAT(read_text(kDir / "shard-bad.log"), Catch::Contains("--shard '3/2'"));

  auto one = run_args(sweep);
  one.insert(one.end(), {"--shard", "1/2"});
  child = spawn_ablate(one, kDir / "shard-1.log");
  CHECK(exit_status(child) == 0);
  const std::string text = read_text(kDir / "shard-1.log");
  INFO(text);
  CHECK_THAT(text, Catch::Contains("trained 1,") && Catch::Contains("2 left to other shards"));
  // run index 1 (seed 1) is shard 1's; indices 0 and 2 are shard 0's
  const auto sweep_json = nlohmann::json::parse(std::ifstream(kDir / "out" / "shards" / "sweep.json"));
  const auto& runs = sweep_json.at("runs");
  CHECK(std::filesystem::exists(kDir / "out" / "shards" / "runs" / runs.at(1).at("id").get<std::string>() / "summary.json"));
  CHECK_FALSE(std::filesystem::exists(kDir / "out" / "shards" / "runs" / runs.at(0).at("id").get<std::string>()));
  CHECK_FALSE(std::filesystem::exists(kDir / "out" / "shards" / "runs" / runs.at(2).at("id").get<std::string>()));
}
