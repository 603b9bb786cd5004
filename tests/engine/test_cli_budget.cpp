// A wall-clock budget trained end to end (sweep-format.md, "Budget"): `budget: {kind: seconds}`
// stops each run after that much training time, evaluation excluded, with train.steps only a cap,
// and summary.json records why it stopped and the budget.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_helpers.h"

using namespace ablate::test;

TEST_CASE("a seconds budget stops a run by time, evaluation excluded, and a run reaching its cap first by steps",
          "[cli][budget]") {
  const auto out = std::filesystem::temp_directory_path() / "ablate_test_cli_seconds_budget";
  std::filesystem::remove_all(out);
  // `timed` could run a million steps: time stops it. Its evaluations (every 50 steps, 4096 tokens)
  // take about as long as its training, so a budget that counted them would stop it early. `capped`
  // reaches its 5 steps long before the budget.
  const auto sweep = write_temp("seconds_budget.yaml", R"(name: seconds_budget
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 16}
model: {d_model: 16, n_layers: 1, attention: {plugin: mha, n_heads: 2}, ffn: {plugin: swiglu, d_ff: 32}}
train: {steps: 1000000, batch_size: 2, eval_every: 50, eval_tokens: 4096, log_every: 50}
seeds: [0]
budget: {kind: seconds, value: 1.5}
arms:
  timed: {}
  capped: {train.steps: 5}
)");
  const Output trained = run_ablate(run_args(sweep, out));
  INFO(trained.text);
  REQUIRE(trained.status == 0);
  const auto sweep_dir = out / "seconds_budget";
  const auto meta = nlohmann::json::parse(std::ifstream(sweep_dir / "sweep.json"));
  REQUIRE(meta.at("runs").size() == 2);
  for (const auto& run : meta["runs"]) {
    const auto summary =
        nlohmann::json::parse(std::ifstream(sweep_dir / "runs" / run.at("id").get<std::string>() / "summary.json"));
    CAPTURE(summary.dump(2));
    CHECK(summary.at("status") == "done");
    CHECK(summary.at("budget") == nlohmann::json{{"kind", "seconds"}, {"value", 1.5}});
    const double train_seconds = summary.at("train_seconds");
    const std::int64_t steps = summary.at("steps");
    if (run.at("arm") == "timed") {
      CHECK(summary.at("stopped_by") == "seconds");
      CHECK(train_seconds >= 1.5);
      CHECK(train_seconds < 1.5 + 1.0);  // stopped at the first step past the budget
      CHECK(steps > 50);
      CHECK(steps < 1000000);
      CHECK(summary.at("eval_seconds").get<double>() > 0.0);
      // The final evaluation is recorded at the step the budget ended.
      const std::string metrics = read_text(sweep_dir / "runs" / run.at("id").get<std::string>() / "metrics.jsonl");
      CHECK_THAT(metrics, Catch::Contains("\"step\":" + std::to_string(steps) + ","));
    } else {
      CHECK(summary.at("stopped_by") == "steps (the cap of a time budget)");
      CHECK(steps == 5);
      CHECK(train_seconds < 1.5);
    }
  }
}
