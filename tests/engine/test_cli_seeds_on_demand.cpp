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
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_helpers.h"

namespace {

using ablate::test::count_of;
using ablate::test::exit_status;
using ablate::test::read_text;
using ablate::test::spawn_ablate;
using ablate::test::run_ablate;
using ablate::test::run_args;
using nlohmann::json;

const auto kDir = std::filesystem::temp_directory_path() / "ablate_test_cli_seeds_on_demand";

/// Three arms of a tiny model: `same` differs from the baseline only in when it evaluates (never
/// before the end in either): a different run id, the same training. `frozen` barely moves from its
/// initial weights.
std::filesystem::path write_sweep(const std::string& steps) {
  std::filesystem::create_directories(kDir);
  const auto sweep = kDir / ("on_demand_" + steps + ".yaml");
  std::ofstream(sweep) << R"(name: on_demand
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 16}
model: {d_model: 16, n_layers: 1, attention: {plugin: mha, n_heads: 2}, ffn: {plugin: swiglu, d_ff: 32}}
train: {steps: )" << steps << R"(, batch_size: 4, eval_every: 1000, eval_tokens: 256, log_every: 500, optimizer: {lr: 3.0e-2}}
seeds: {start: 3, max: 5}
arms:
  base: {}
  same: {train.eval_every: 999}
  frozen: {train.optimizer.lr: 1.0e-7}
)";
  return sweep;
}

}  // namespace

TEST_CASE("seeds on demand: rounds add seeds to the undecided arm only, the report says why each stopped, and a "
          "second run trains nothing",
          "[cli][seeds_on_demand]") {
  std::filesystem::remove_all(kDir / "out");
  const auto sweep = write_sweep("30");
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
  CHECK_THAT(again.text, !Catch::Contains("the design changed"));
  CHECK(read_text(dir / "report.md").find("design changed") == std::string::npos);

  // A larger max after a look at the results: the rounds go on, and the change is warned about and
  // flagged, since the rule's error rate holds only for a design fixed beforehand.
  std::string text = read_text(sweep);
  text.replace(text.find("max: 5"), 6, "max: 6");
  std::ofstream(sweep) << text;
  const auto widened = run_ablate(run_args(sweep, kDir / "out"));
  INFO(widened.text);
  CHECK(widened.status == 0);
  CHECK_THAT(widened.text, Catch::Contains("warning: seeds on demand: the design changed since the last run"));
  CHECK_THAT(read_text(dir / "report.md"),
             Catch::Contains("**Seeds-on-demand design changed:** earlier runs of this sweep directory used start 3, "
                             "max 5, step 1, α 0.05 (bonferroni)") &&
                 Catch::Contains("; this one start 3, max 6,"));
  CHECK(json::parse(std::ifstream(dir / "seed_rounds.json")).at("earlier_designs").size() == 1);
}

TEST_CASE("seeds on demand: two shards started together share every round, each run trained once, and agree",
          "[cli][seeds_on_demand][shard]") {
  const auto out = kDir / "shards";
  std::filesystem::remove_all(out);
  std::filesystem::create_directories(out);
  const auto sweep = write_sweep("400");  // runs of a second or more: the two processes overlap
  const auto args = [&](const std::string& shard) {
    return std::vector<std::string>{"run",      sweep.string(), "--out",   out.string(), "--device", "cpu",
                                    "--threads", "1",           "--cache", (out / "cache").string(),
                                    "--shard",   shard};
  };
  const pid_t first = spawn_ablate(args("0/2"), out / "shard-0.log");
  const pid_t second = spawn_ablate(args("1/2"), out / "shard-1.log");
  const int first_status = exit_status(first), second_status = exit_status(second);
  const std::string log0 = read_text(out / "shard-0.log"), log1 = read_text(out / "shard-1.log");
  INFO("shard 0:\n" << log0 << "\nshard 1:\n" << log1);
  CHECK(first_status == 0);
  CHECK(second_status == 0);

  // Both replayed the same rounds to the same decisions (which ones depends on what the runs learnt).
  const auto decisions = [](const std::string& log) {
    std::vector<std::string> lines;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);)
      if (line.find("' against 'base': ") != std::string::npos || line.find("every comparison decided") != std::string::npos)
        lines.push_back(line);
    return lines;
  };
  REQUIRE(decisions(log0).size() == 3);  // same, frozen, and the end
  CHECK(decisions(log0) == decisions(log1));

  const auto dir = out / "on_demand";
  const json sweep_json = json::parse(std::ifstream(dir / "sweep.json"));
  CHECK_THAT(decisions(log0).back(), Catch::EndsWith(fmt::format(", {} runs", sweep_json.at("runs").size())));
  for (const auto& run : sweep_json.at("runs")) {
    const std::string id = run.at("id");
    CAPTURE(id);
    CHECK(count_of(log0, id + " training on") + count_of(log1, id + " training on") == 1);
    CHECK(read_text(dir / "runs" / id / "summary.json").find("\"done\"") != std::string::npos);
  }
  CHECK(count_of(log0, "training on") >= 1);
  CHECK(count_of(log1, "training on") >= 1);
}
