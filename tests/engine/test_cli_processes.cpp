// `ablate run` as a process among others (running.md): SIGTERM, what schedulers send before a kill,
// stops it cleanly with status 143 and keeps what was computed; two processes started at once on
// one sweep directory share its runs through the run locks, each run trained exactly once.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_helpers.h"

using namespace ablate::test;

namespace {

const auto kDir = std::filesystem::temp_directory_path() / "ablate_test_cli_processes";

std::filesystem::path write_sweep(const std::string& name, int steps, const std::string& seeds) {
  std::filesystem::create_directories(kDir);
  const auto file = kDir / (name + ".yaml");
  std::ofstream(file) << fmt::format(R"(name: {}
data: {{corpus: kjv, tokenizer: {{kind: byte}}, seq_len: 16}}
model: {{d_model: 16, n_layers: 1, attention: {{plugin: mha, n_heads: 2}}, ffn: {{plugin: swiglu, d_ff: 32}}}}
train: {{steps: {}, batch_size: 2, eval_every: {}, eval_tokens: 32, log_every: 100}}
seeds: {}
)",
                                     name, steps, steps, seeds);
  return file;
}

std::vector<std::string> run_argv(const std::filesystem::path& sweep, const std::filesystem::path& out) {
  return {"run", sweep.string(), "--out", out.string(), "--threads", "1", "--cache", (out / "cache").string()};
}

// Waits (up to `limit`) until `log` holds `text`; false when the child ended first or time ran out.
bool wait_for_text(const std::filesystem::path& log, const std::string& text, pid_t child,
                   std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (read_text(log).find(text) != std::string::npos) return true;
    if (::waitpid(child, nullptr, WNOHANG) == child) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// "trained N, skipped S (already done), failed F, diverged D[, L locked by other processes]".
std::map<std::string, int> final_counts(const std::string& log) {
  std::smatch m;
  std::map<std::string, int> counts;
  if (std::regex_search(log, m, std::regex(R"(trained (\d+), skipped (\d+) \(already done\), failed (\d+), diverged (\d+))"))) {
    counts["trained"] = std::stoi(m[1]);
    counts["skipped"] = std::stoi(m[2]);
    counts["failed"] = std::stoi(m[3]);
    counts["diverged"] = std::stoi(m[4]);
  }
  counts["locked"] = std::regex_search(log, m, std::regex(R"((\d+) locked by other processes)")) ? std::stoi(m[1]) : 0;
  return counts;
}

}  // namespace

TEST_CASE("SIGTERM stops the run after its step with a checkpoint, starts no other run and exits 143",
          "[cli][signal]") {
  const auto out = kDir / "sigterm";
  std::filesystem::remove_all(out);
  // Far more steps than the test waits for; no periodic checkpoint, so any checkpoint is the stop's.
  std::filesystem::create_directories(out);
  const auto sweep = write_sweep("sigterm", 1000000, "[0, 1]");
  auto args = run_argv(sweep, out);
  args.insert(args.end(), {"--checkpoint-every", "0", "--checkpoint-minutes", "0"});
  const auto log = out / "sigterm.log";  // in the fresh directory: no earlier log can answer the wait
  const pid_t child = spawn_ablate(args, log);
  const bool training = wait_for_text(log, "step 200/1000000", child, std::chrono::seconds(300));
  INFO(read_text(log));
  REQUIRE(training);
  ::kill(child, SIGTERM);
  CHECK(exit_status(child) == 143);
  const std::string text = read_text(log);
  INFO(text);

  const auto sweep_dir = out / "sigterm";
  const auto meta = nlohmann::json::parse(std::ifstream(sweep_dir / "sweep.json"));
  REQUIRE(meta.at("runs").size() == 2);
  const std::string id = meta["runs"][0].at("id");
  const auto run_dir = sweep_dir / "runs" / id;
  const auto summary = nlohmann::json::parse(std::ifstream(run_dir / "summary.json"));
  CHECK(summary.at("status") == "interrupted");
  CHECK(summary.at("stopped_by") == "interrupt");
  const std::int64_t step = summary.at("steps");
  CHECK(step >= 200);
  CHECK(step < 1000000);
  CHECK_THAT(text, Catch::Contains(fmt::format("stopped by SIGTERM: run {} checkpointed at step {}; run the same "
                                               "command again to resume",
                                               id, step)));
  // What was computed is kept: the stop's checkpoint (the only one), its metrics, no lock left.
  const auto checkpoint = run_dir / "checkpoints" / fmt::format("step-{:010}.json", step);
  REQUIRE(std::filesystem::exists(checkpoint));
  CHECK(nlohmann::json::parse(std::ifstream(checkpoint)).at("step") == step);
  CHECK(std::filesystem::exists(run_dir / "checkpoints" / fmt::format("step-{:010}.ckpt", step)));
  int checkpoint_files = 0;
  for ([[maybe_unused]] const auto& f : std::filesystem::directory_iterator(run_dir / "checkpoints")) ++checkpoint_files;
  CHECK(checkpoint_files == 2);
  CHECK_THAT(read_text(run_dir / "metrics.jsonl"), Catch::StartsWith("{") && Catch::Contains("\"step\":0"));
  CHECK_FALSE(std::filesystem::exists(run_dir / "lock"));
  CHECK(std::filesystem::exists(sweep_dir / "report.md"));
  // The second run never started.
  CHECK_FALSE(std::filesystem::exists(sweep_dir / "runs" / meta["runs"][1].at("id").get<std::string>() / "summary.json"));
}

TEST_CASE("two ablate run processes on one sweep directory train each run exactly once and both succeed",
          "[cli][lock]") {
  const auto out = kDir / "concurrent";
  std::filesystem::remove_all(out);
  const auto sweep = write_sweep("concurrent", 600, "[0, 1, 2, 3, 4, 5]");
  // Started together, on the same output directory and the same (empty) data cache.
  std::filesystem::create_directories(out);
  const pid_t first = spawn_ablate(run_argv(sweep, out), out / "concurrent-1.log");
  const pid_t second = spawn_ablate(run_argv(sweep, out), out / "concurrent-2.log");
  const int first_status = exit_status(first);
  const int second_status = exit_status(second);
  const std::string log1 = read_text(out / "concurrent-1.log");
  const std::string log2 = read_text(out / "concurrent-2.log");
  INFO("first process:\n" << log1 << "\nsecond process:\n" << log2);
  CHECK(first_status == 0);
  CHECK(second_status == 0);

  const auto sweep_dir = out / "concurrent";
  const auto meta = nlohmann::json::parse(std::ifstream(sweep_dir / "sweep.json"));
  REQUIRE(meta.at("runs").size() == 6);
  for (const auto& run : meta["runs"]) {
    const std::string id = run.at("id");
    CAPTURE(id);
    // One "<id> training on ..." line in all: one process trained it, the other skipped it.
    CHECK(count_of(log1, id + " training on") + count_of(log2, id + " training on") == 1);
    const auto summary = nlohmann::json::parse(std::ifstream(sweep_dir / "runs" / id / "summary.json"));
    CHECK(summary.at("status") == "done");
    CHECK(summary.at("steps") == 600);
    CHECK_FALSE(summary.contains("resumed_from_step"));
    CHECK_FALSE(std::filesystem::exists(sweep_dir / "runs" / id / "lock"));
  }
  const auto counts1 = final_counts(log1), counts2 = final_counts(log2);
  CHECK(counts1.at("trained") + counts2.at("trained") == 6);
  CHECK(counts1.at("failed") + counts2.at("failed") == 0);
  // Each process accounts for every run: trained by itself, or found done or locked by the other.
  CHECK(counts1.at("trained") + counts1.at("skipped") + counts1.at("locked") == 6);
  CHECK(counts2.at("trained") + counts2.at("skipped") + counts2.at("locked") == 6);
  // Both took part: six runs of about a second each leave no time for one to finish them before the other starts.
  CHECK(counts1.at("trained") >= 1);
  CHECK(counts2.at("trained") >= 1);

  // The report rebuilt once both have ended holds all six runs.
  const Output report = run_ablate("report " + sweep_dir.string());
  INFO(report.text);
  REQUIRE(report.status == 0);
  const auto results = nlohmann::json::parse(std::ifstream(sweep_dir / "results.json"));
  CHECK(results.at("runs").size() == 6);
}
