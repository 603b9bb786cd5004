// `ablate plan`'s counting (plan.h): runs grouped by model, stand-ins for the replication runs a
// tune stage has not made yet, runs already finished in the output directory, and the time a run
// takes at a measured speed. The warm-up itself is exercised through the CLI (test_cli.cpp, "[plan]").
#include "catch_torch.h"

#include <filesystem>
#include <fstream>

#include "ablate/engine/run_config.h"
#include "ablate/engine/sweep.h"
#include "ablate/train/plan.h"
#include "builtin_plugins.h"

namespace {

const std::string kTunedSweep = R"(name: planned
data: {tokenizer: {kind: byte}, seq_len: 32}
model:
  d_model: 32
  n_layers: 1
  attention: {plugin: mha, n_heads: 2}
  ffn: {plugin: swiglu, d_ff: 64}
train: {steps: 40, batch_size: 4, eval_every: 10, eval_tokens: 640}
seeds: [0, 1]
arms: {narrow: {}, wide: {model.d_model: 64}}
tune:
  axes: {train.optimizer.lr: [1.0e-3, 3.0e-3]}
  seeds: [7]
)";

}  // namespace

TEST_CASE("plan_sweep counts tuning runs, stands in for pending replication runs and finds finished ones",
          "[plan]") {
  const ablate::Sweep sweep =
      ablate::parse_sweep(kTunedSweep, "/sweeps/planned.yaml", ablate::test::builtin_plugins());
  REQUIRE(sweep.replication_pending);
  REQUIRE(sweep.tune_runs.size() == 4);  // 2 arms × 2 points × 1 tuning seed

  const auto out = std::filesystem::temp_directory_path() / "ablate_test_plan";
  std::filesystem::remove_all(out);
  const ablate::RunSpec& finished = sweep.tune_runs.at(1);  // narrow, lr 3e-3
  std::filesystem::create_directories(out / "planned" / "tune" / finished.id);
  std::ofstream(out / "planned" / "tune" / finished.id / "summary.json") << R"({"status": "done"})";

  const ablate::SweepPlan plan = ablate::plan_sweep(sweep, out);
  CHECK(plan.tuning_runs == 4);
  CHECK(plan.replication_runs == 4);  // each arm's first tune point, once per seed
  CHECK(plan.runs == 8);
  CHECK(plan.grid_points == 1);
  CHECK(plan.done == 1);
  // Tune points differ only in the learning rate: one model per arm.
  REQUIRE(plan.models.size() == 2);
  const ablate::PlannedModel& narrow = plan.models[0];
  CHECK(narrow.arms == std::vector<std::string>{"narrow"});
  CHECK(narrow.first.id == sweep.tune_runs.at(0).id);
  CHECK(narrow.runs == 4);
  REQUIRE(narrow.to_train.size() == 3);
  CHECK(narrow.to_train[0].id == sweep.tune_runs.at(0).id);
  CHECK(narrow.to_train[1].id == "(after tuning)");
  CHECK(narrow.to_train[1].seed == 0);
  CHECK(narrow.to_train[2].seed == 1);
  CHECK(narrow.to_train[2].config["train"]["optimizer"]["lr"] == 1.0e-3);  // the first tune point's
  CHECK(plan.models[1].arms == std::vector<std::string>{"wide"});
  CHECK(plan.models[1].to_train.size() == 4);

  // Without an output directory nothing is done.
  CHECK(ablate::plan_sweep(sweep, {}).done == 0);
  std::filesystem::remove_all(out);
}

TEST_CASE("a run's estimated time is its steps and its evaluations at the measured speeds", "[plan]") {
  const ablate::Sweep sweep =
      ablate::parse_sweep(kTunedSweep, "/sweeps/planned.yaml", ablate::test::builtin_plugins());
  ablate::RunConfig config = ablate::decode_run_config(sweep.tune_runs.at(0).config);
  CHECK(ablate::evaluations_per_run(config.train) == 5);  // steps 0, 10, 20, 30, 40
  config.train.steps = 45;
  CHECK(ablate::evaluations_per_run(config.train) == 6);  // and after the last
  config.train.steps = 40;
  CHECK(ablate::eval_batches_per_evaluation(config) == 5.0);  // 640 / 32 = 20 windows, 4 per batch
  ablate::StepTiming timing;
  timing.seconds_per_step = 0.5;
  timing.seconds_per_eval_batch = 0.1;
  CHECK(ablate::estimated_run_seconds(config, timing) == Approx(40 * 0.5 + 5 * 5 * 0.1));
  // Tune points train at the same speed; the arms' models do not.
  CHECK(ablate::timing_key(config) == ablate::timing_key(ablate::decode_run_config(sweep.tune_runs.at(1).config)));
  CHECK(ablate::timing_key(config) != ablate::timing_key(ablate::decode_run_config(sweep.tune_runs.at(2).config)));
}
