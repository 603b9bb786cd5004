// What a sweep will cost before it trains (`ablate plan`): a short measured warm-up of a run's
// model — K training steps of the real model on the chosen device, on random tokens of the run's
// vocabulary, so no data needs preparing — and the time a run takes at that speed.
//
//   const SweepPlan plan = plan_sweep(sweep, out_dir);          // runs, those done, distinct models
//   const ModelCost cost = cost_of_model(plan.models[0], registry, {.device = "cpu", .steps = 10});
//   const StepTiming t = measure_step_time(run, registry, {.device = "cpu", .steps = 10});
//   double seconds = estimated_run_seconds(decode_run_config(run.config), t);   // training + evaluations
//
// Limits: the estimate covers training steps and evaluations only (not data preparation, the
// causality check or start-up); random tokens cost what real ones cost, but a model whose speed
// depends on the data (an MoE's routing balance) may run a little faster or slower on text.
// Runs with the same timing_key train at the same speed and share one warm-up.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ablate/engine/plugin_registry.h"
#include "ablate/engine/run_config.h"
#include "ablate/engine/sweep.h"

namespace ablate {

struct WarmupOptions {
  std::string device = "cpu";  // cpu, cuda or cuda:N
  std::string precision = "auto";  // auto, bf16 or fp32, as `ablate run --precision` (precision.h)
  int threads = 0;             // CPU threads for LibTorch (0: its default)
  std::int64_t steps = 10;     // timed training steps (after one untimed step)
};

struct StepTiming {
  std::int64_t steps = 0;               // timed steps
  double seconds_per_step = 0.0;        // one optimizer step: grad_accum × (forward + backward) + update
  double seconds_per_eval_batch = 0.0;  // one forward pass without gradients over (batch_size, seq_len)
  std::string device;                   // device_description(), e.g. "cpu (2 threads)"
  /// The warm-up's MFU fields (mfu.h: precision, peak_flops_per_second, mfu or mfu_reason): the
  /// training FLOPs of a step over seconds_per_step and the device's peak.
  nlohmann::json mfu;
};

/// Builds `run`'s model and optimizer as the trainer does and times `options.steps` training steps
/// and as many evaluation batches on random tokens. Throws ablate::Error on a bad device.
StepTiming measure_step_time(const RunSpec& run, const PluginRegistry& registry, const WarmupOptions& options);

/// Evaluations the trainer makes in a run: at step 0, every eval_every steps and after the last.
std::int64_t evaluations_per_run(const TrainConfig& train);

/// Batches of one evaluation: ⌈⌊eval_tokens / seq_len⌋ windows / batch_size⌉.
double eval_batches_per_evaluation(const RunConfig& config);
/// One run's seconds at `timing`: steps · s/step + evaluations · eval batches · s/eval batch.
double estimated_run_seconds(const RunConfig& config, const StepTiming& timing);

/// Runs with equal keys train at the same speed: same model, data, batch size, gradient
/// accumulation, evaluation batches and optimizer kind (learning rates and steps may differ).
std::string timing_key(const RunConfig& config);

/// The runs of one distinct model of a sweep (equal timing_key), in sweep order.
struct PlannedModel {
  RunSpec first;                   // its first run: the one its warm-up builds
  std::vector<std::string> arms;   // in sweep order, each once
  std::size_t runs = 0;
  std::vector<RunSpec> to_train;   // those not finished in the output directory
};

/// What a sweep will train: its tuning runs, then its replication runs. With a tune stage whose
/// replication runs do not exist yet (tuning has not chosen), each arm's first tune point stands in
/// for them, once per seed, with the id "(after tuning)": the same model, so the same cost.
struct SweepPlan {
  std::size_t runs = 0;              // tuning + replication runs (stand-ins included)
  std::size_t replication_runs = 0;  // stand-ins included
  std::size_t grid_points = 0;
  std::size_t tuning_runs = 0;
  std::size_t done = 0;              // finished in the output directory (never a stand-in)
  std::vector<PlannedModel> models;  // in sweep order of their first runs
};

/// Counts `sweep`'s runs, groups them by model, and looks in `out_dir` (OUT, as `ablate run --out`;
/// empty: nowhere) for the runs already finished.
SweepPlan plan_sweep(const Sweep& sweep, const std::filesystem::path& out_dir);

/// The size and time to train of one distinct model.
struct ModelCost {
  sdk::Cost total;                   // the planned model's parameters and forward FLOPs per token
  std::optional<StepTiming> timing;  // the warm-up's; none with warmup.steps 0 or nothing left to train
  double seconds_to_train = 0.0;     // Σ estimated_run_seconds over its runs to train (0 without a warm-up)
};

/// Plans `model`'s network and, when it has runs to train and warmup.steps > 0, measures it.
ModelCost cost_of_model(const PlannedModel& model, const PluginRegistry& registry, const WarmupOptions& warmup);

}  // namespace ablate
