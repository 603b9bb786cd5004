// The tune stage's decisions (ablate/tune.h) on hand-made tuning-run directories: successive
// halving ranks a point among the earlier points of its arm at a rung, and the choice takes the
// best mean final metric among points whose runs all finished.
//
//   ./build/tests/test_engine "[tune]"
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ablate/engine/plugin_registry.h"
#include "ablate/engine/sweep.h"
#include "ablate/engine/tune.h"
#include "builtin_plugins.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const ablate::PluginRegistry& plugins() { return ablate::test::builtin_plugins(); }

// 100 steps, evaluations every 10: the rung at 0.25 is met at step 30 (first evaluation ≥ 25).
const char* kSweep = R"(
model: {d_model: 16, n_layers: 1, attention: {plugin: mha, n_heads: 2}, ffn: {plugin: swiglu, d_ff: 32}}
train: {steps: 100, eval_every: 10}
arms: {a: {}, b: {model.d_model: 32}}
tune:
  axes: {train.optimizer.lr: [1e-3, 3e-3, 1e-2, 3e-2]}
  halving: {rungs: [0.25], keep: 0.5}
)";

/// A finished (or stopped) tuning run: its loss at step 30 and its final loss.
void write_tuning_run(const fs::path& sweep_dir, const ablate::RunSpec& run, double at_rung, const std::string& status,
                      double final_loss) {
  const fs::path dir = ablate::tune_run_dir(sweep_dir, run);
  fs::create_directories(dir);
  std::ofstream(dir / "metrics.jsonl") << json{{"step", 0}, {"val_loss", 5.0}, {"val_accuracy", 0.1}}.dump() << "\n"
                                       << json{{"step", 30}, {"val_loss", at_rung}, {"val_accuracy", 0.2}}.dump() << "\n";
  json summary = {{"id", run.id}, {"status", status}};
  if (status == "done") summary["val_loss"] = final_loss;
  if (status == "stopped") summary["stopped_reason"] = "successive halving at rung 1";
  std::ofstream(dir / "summary.json") << summary.dump();
}

}  // namespace

TEST_CASE("successive halving stops a point that ranks outside the kept fraction at a rung", "[tune]") {
  const ablate::Sweep sweep = ablate::parse_sweep(kSweep, "/sweeps/tune.yaml", plugins());
  REQUIRE(sweep.tune_runs.size() == 8);  // arm a: runs 0-3, arm b: 4-7
  const fs::path dir = fs::temp_directory_path() / fmt::format("ablate_test_tune_{}", ::getpid());
  fs::remove_all(dir);
  const auto& a = sweep.tune_runs;

  // The first point of an arm has nothing to be ranked against: it always goes on.
  CHECK(ablate::halving_verdict(sweep, a[0], 30, 9.0, 0.0, dir).empty());
  write_tuning_run(dir, a[0], 4.0, "done", 3.0);
  // Away from a rung nothing is decided.
  CHECK(ablate::halving_verdict(sweep, a[1], 20, 9.0, 0.0, dir).empty());
  // Second point: count 2, keep ceil(0.5 · 2) = 1: it must beat 4.0.
  CHECK(ablate::halving_verdict(sweep, a[1], 30, 3.9, 0.0, dir).empty());
  const std::string verdict = ablate::halving_verdict(sweep, a[1], 30, 4.1, 0.0, dir);
  CHECK_THAT(verdict, Catch::Contains("rung 1 (step 30, 25% of 100 steps): val loss 4.1000 on the tuning split ranks 2 "
                                      "of 2 points seen at this rung; only the best 1 go on (keep 0.5)"));
  write_tuning_run(dir, a[1], 4.1, "stopped", 0.0);
  // Third point: earlier 4.0 and 4.1, count 3, keep ceil(1.5) = 2: second place goes on, third stops.
  CHECK(ablate::halving_verdict(sweep, a[2], 30, 4.05, 0.0, dir).empty());
  CHECK_FALSE(ablate::halving_verdict(sweep, a[2], 30, 4.2, 0.0, dir).empty());
  // Another arm is ranked only among its own points.
  CHECK(ablate::halving_verdict(sweep, a[5], 30, 9.0, 0.0, dir).empty());
  fs::remove_all(dir);
}

TEST_CASE("each arm gets the point with the best mean final metric among its finished points", "[tune]") {
  const ablate::Sweep sweep = ablate::parse_sweep(kSweep, "/sweeps/tune.yaml", plugins());
  const fs::path dir = fs::temp_directory_path() / fmt::format("ablate_test_tune_choice_{}", ::getpid());
  fs::remove_all(dir);
  const auto& r = sweep.tune_runs;
  // Arm a: 3.2, stopped, 3.0 (best), 3.1. Arm b: every run failed or stopped: no choice.
  write_tuning_run(dir, r[0], 4.0, "done", 3.2);
  write_tuning_run(dir, r[1], 4.5, "stopped", 0.0);
  write_tuning_run(dir, r[2], 3.9, "done", 3.0);
  write_tuning_run(dir, r[3], 3.95, "done", 3.1);
  write_tuning_run(dir, r[4], 4.0, "failed", 0.0);
  write_tuning_run(dir, r[5], 4.5, "stopped", 0.0);
  // r[6], r[7]: never ran (pending)
  const ablate::TuneOutcome outcome = ablate::choose_tune_points(sweep, dir);
  REQUIRE(outcome.choices.size() == 1);
  CHECK(outcome.choices.at(ablate::tune_group_key("a", {})) == 2);
  const json& groups = outcome.table.at("groups");
  REQUIRE(groups.size() == 2);
  CHECK(groups[0]["chosen"] == 2);
  CHECK(groups[0]["points"][2]["values"] == json{{"train.optimizer.lr", 1e-2}});
  CHECK(groups[0]["points"][2]["mean"].get<double>() == Approx(3.0));
  CHECK(groups[0]["points"][1]["mean"].is_null());
  CHECK(groups[0]["points"][1]["runs"][0]["stopped_reason"] == "successive halving at rung 1");
  CHECK(groups[1]["chosen"].is_null());
  CHECK(groups[1]["reason"] == "no tune point has all of its tuning runs finished");
  CHECK(outcome.table["halving"]["keep"] == 0.5);
  fs::remove_all(dir);
}

TEST_CASE("tune: a choice at the smallest or largest of 3 or more values is named, one inside is not", "[tune]") {
  const auto point = [](std::size_t index, double lr, int layers) {
    return nlohmann::json{{"index", index}, {"values", {{"train.optimizer.lr", lr}, {"model.n_layers", layers}}}};
  };
  nlohmann::json points = nlohmann::json::array();
  std::size_t i = 0;
  for (const double lr : {1e-3, 3e-3, 1e-2})
    for (const int layers : {1, 2}) points.push_back(point(i++, lr, layers));
  const nlohmann::json table = {
      {"groups",
       {{{"arm", "narrow"}, {"grid_point", nlohmann::json::object()}, {"chosen", 5}, {"points", points}},  // lr 1e-2
        {{"arm", "wide"}, {"grid_point", {{"model.d_model", 64}}}, {"chosen", 0}, {"points", points}},     // lr 1e-3
        {{"arm", "mid"}, {"grid_point", nlohmann::json::object()}, {"chosen", 2}, {"points", points}},     // lr 3e-3
        {{"arm", "none"}, {"grid_point", nlohmann::json::object()}, {"chosen", nullptr}, {"points", points}}}}};
  const auto edges = ablate::tune_choices_at_grid_edge(table);
  // n_layers has 2 values: every choice is an edge there, so it is not named.
  REQUIRE(edges.size() == 2);
  CHECK(edges[0] == "arm 'narrow' chose train.optimizer.lr = 0.01, the largest value tried");
  CHECK(edges[1] == "arm 'wide' at {\"model.d_model\":64} chose train.optimizer.lr = 0.001, the smallest value tried");
}
