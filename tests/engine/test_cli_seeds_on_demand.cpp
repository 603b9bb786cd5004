// A sweep with seeds on demand run end to end by the ablate binary: three arms of a tiny model on
// the CPU, one far worse than the baseline (decided in the first round) and one that trains exactly
// like it (to the maximum). Checks the rounds it trained, what sweep.json, seed_rounds.json and the
// report say, and that running it again trains nothing.
//
//   ./build/bin/test_engine "[seeds_on_demand]"
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_helpers.h"

namespace {

using ablate::test::read_text;
using ablate::test::run_ablate;
using ablate::test::run_args;
using nlohmann::json;

const auto kDir = std::filesystem::temp_directory_path() / "ablate_test_cli_seeds_on_demand";

}  // namespace

TEST_CASE("seeds on demand: rounds add seeds to the undecided arm only, the report says why each stopped, and a "
          "second run trains nothing",
          "[cli][seeds_on_demand]") {
  std::filesystem::remove_all(kDir / "out");
  std::filesystem::create_directories(kDir);
  const auto sweep = kDir / "on_demand.yaml";
  // `same` differs from the baseline only in when it evaluates (never before the end in either):
  // a different run id, the same training. `frozen` barely moves from its initial weights.
  std::ofstream(sweep) << R"(name: on_demand
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 16}
model: {d_model: 16, n_layers: 1, attention: {plugin: mha, n_heads: 2}, ffn: {plugin: swiglu, d_ff: 32}}
train: {steps: 30, batch_size: 4, eval_every: 1000, eval_tokens: 256, log_every: 500, optimizer: {lr: 3.0e-2}}
seeds: {start: 3, max: 5}
arms:
  base: {}
  same: {train.eval_every: 999}
  frozen: {train.optimizer.lr: 1.0e-7}
)";
  const auto first = run_ablate(run_args(sweep, kDir / "out"));
  INFO(first.text);
  REQUIRE(first.status == 0);
  CHECK_THAT(first.text, Catch::Contains("up to 15 runs (3 arms x 3 to 5 seeds on demand)"));
  CHECK_THAT(first.text, Catch::Contains("round 1 of at most 3: 3 seeds per arm for same, frozen (9 runs, 9 to train)"));
  CHECK_THAT(first.text, Catch::Contains("round 2 of at most 3: 4 seeds per arm for same (8 runs, 2 to train)"));
  CHECK_THAT(first.text, Catch::Contains("'frozen' against 'base': stopped at 3 seeds: difference significant"));
  CHECK_THAT(first.text, Catch::Contains("'same' against 'base': stopped at the maximum of 5 seeds: not significant"));
  CHECK_THAT(first.text, Catch::Contains("trained 13, skipped 0"));

  const auto dir = kDir / "out" / "on_demand";
  const json sweep_json = json::parse(std::ifstream(dir / "sweep.json"));
  std::multiset<std::string> arms;
  std::set<std::int64_t> frozen_seeds;
  for (const auto& run : sweep_json.at("runs")) {
    arms.insert(run.at("arm").get<std::string>());
    if (run.at("arm") == "frozen") frozen_seeds.insert(run.at("seed").get<std::int64_t>());
    CHECK(read_text(dir / "runs" / run.at("id").get<std::string>() / "summary.json").find("\"done\"") !=
          std::string::npos);
  }
  CHECK(arms.count("base") == 5);
  CHECK(arms.count("same") == 5);
  CHECK(frozen_seeds == std::set<std::int64_t>{0, 1, 2});  // the first seeds, as every round takes them

  const json rounds = json::parse(std::ifstream(dir / "seed_rounds.json"));
  CHECK(rounds.at("complete") == true);
  CHECK(rounds.at("rounds").size() == 3);
  CHECK(rounds.at("comparisons").at(0).at("outcome") == "max_seeds");
  CHECK(rounds.at("comparisons").at(1).at("outcome") == "significant");
  CHECK(rounds.at("comparisons").at(1).at("seeds") == 3);

  const std::string report = read_text(dir / "report.md");
  CHECK_THAT(report, Catch::Contains("## Seeds on demand") && Catch::Contains("| 3 | 5 | same | 10 |") &&
                         Catch::Contains("Every comparison is decided: 13 runs trained in 3 round(s)"));
  CHECK(json::parse(std::ifstream(dir / "results.json")).at("seeds_on_demand").at("runs_wanted") == 13);

  const auto again = run_ablate(run_args(sweep, kDir / "out"));
  INFO(again.text);
  CHECK(again.status == 0);
  CHECK_THAT(again.text, Catch::Contains("every comparison decided after 3 round(s), 13 runs") &&
                             Catch::Contains("trained 0, skipped 0"));
}
