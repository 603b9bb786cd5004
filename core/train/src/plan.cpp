// What `ablate plan` works out (plan.h): the sweep's runs grouped by model, with those already
// finished counted, and each model's warm-up: the trainer's own step (training_step.h: forward,
// cross-entropy plus the MoE auxiliary loss in the run's precision, backward, gradient clipping,
// fused AdamW and Muon when the run uses it) with the trainer's optimizers, timed on random tokens,
// without data, evaluation files or a run directory. Like the trainer, the steps do not wait for the
// device: it is synchronised once before and once after the timed steps. The steps run without a
// CUDA graph: one is recorded after 3 steps and checked at the 5th, too late for a short warm-up,
// so on a GPU a run that replays one may train faster than planned.
#include "ablate/train/plan.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/utils.h>

#include "ablate/engine/data.h"
#include "ablate/train/device.h"
#include "ablate/engine/error.h"
#include "ablate/engine/json_file.h"
#include "ablate/train/mfu.h"
#include "ablate/train/model.h"
#include "ablate/train/precision.h"
#include "ablate/train/sweep_runner.h"
#include "evaluation.h"
#include "optimizers.h"
#include "training_step.h"

namespace ablate {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

/// Random tokens in [0, vocab): inputs (B, T) and targets (B, T) on the host, as the trainer's
/// batch loader makes them (pinned for a GPU, so the copies to it do not block).
Batch random_batch(std::int64_t vocab, std::int64_t B, std::int64_t T, const c10::Device& device) {
  const auto window = at::randint(vocab, {B, T + 1}, at::TensorOptions(at::kLong).pinned_memory(device.is_cuda()));
  return {window.slice(1, 0, T), window.slice(1, 1, T + 1)};
}

}  // namespace

StepTiming measure_step_time(const RunSpec& run, const PluginRegistry& registry, const WarmupOptions& options) {
  if (options.steps < 1) throw Error("the warm-up needs at least 1 step", "pass --warmup-steps 1 or more");
  if (options.threads > 0) at::set_num_threads(options.threads);
  const c10::Device device = parse_device(options.device);
  const Precision precision = parse_precision(options.precision, device);
  const RunConfig config = decode_run_config(run.config);
  const TrainConfig& train = config.train;
  const std::int64_t B = train.batch_size;
  const std::int64_t grad_accum = train.grad_accum;
  const std::int64_t T = config.data.seq_len;
  const std::int64_t vocab = tokenizer_vocab_size(config.data.section);

  torch::manual_seed(static_cast<std::uint64_t>(run.seed));
  const ModelPlan plan = plan_model(run.config, vocab, registry);
  Transformer model(plan, registry);
  model->to(device);
  model->train();
  const RunOptimizers optimizers = make_optimizers(model, train.optimizer);
  TrainingStep step({.model = model,
                     .adamw = *optimizers.adamw,
                     .muon = optimizers.muon.get(),
                     .device = device,
                     .precision = precision,
                     .grad_accum = grad_accum,
                     .batch_size = B,
                     .seq_len = T,
                     .grad_clip = train.grad_clip},
                    CudaGraphPolicy::off, [](const std::string&) {});
  const auto train_step = [&] {
    std::vector<Batch> batches;
    for (std::int64_t micro = 0; micro < grad_accum; ++micro) batches.push_back(random_batch(vocab, B, T, device));
    step.load(batches);
    step.run(train.optimizer.lr, train.optimizer.muon_lr);
  };

  StepTiming timing;
  timing.steps = options.steps;
  timing.device = device_description(device);
  train_step();  // untimed: first-call allocations and kernel selection
  synchronize(device);
  const auto start = Clock::now();
  for (std::int64_t i = 0; i < options.steps; ++i) train_step();
  synchronize(device);
  timing.seconds_per_step = seconds_since(start) / static_cast<double>(options.steps);
  timing.mfu = run_mfu_fields(device, precision,
                              train_flops(plan.total.flops_per_token, static_cast<double>(train.tokens_per_step(T))),
                              timing.seconds_per_step);

  // The trainer's evaluation, over batches already on the device as its validation batches are.
  std::vector<Batch> eval_batches;
  for (std::int64_t i = 0; i < options.steps; ++i) {
    const Batch batch = random_batch(vocab, B, T, device);
    eval_batches.push_back({batch.inputs.to(device), batch.targets.to(device)});
  }
  synchronize(device);
  const auto eval_start = Clock::now();
  (void)evaluate(model, eval_batches);  // reads its result: the device has finished
  timing.seconds_per_eval_batch = seconds_since(eval_start) / static_cast<double>(options.steps);
  return timing;
}

std::int64_t evaluations_per_run(const TrainConfig& train) {
  return 1 + train.steps / train.eval_every + (train.steps % train.eval_every != 0 ? 1 : 0);
}

double eval_batches_per_evaluation(const RunConfig& config) {
  const std::int64_t windows = std::max<std::int64_t>(1, config.train.eval_tokens / config.data.seq_len);
  const std::int64_t batch = config.train.batch_size;
  return static_cast<double>((windows + batch - 1) / batch);
}

double estimated_run_seconds(const RunConfig& config, const StepTiming& timing) {
  return static_cast<double>(config.train.steps) * timing.seconds_per_step +
         static_cast<double>(evaluations_per_run(config.train)) * eval_batches_per_evaluation(config) *
             timing.seconds_per_eval_batch;
}

std::string timing_key(const RunConfig& config) {
  const TrainConfig& train = config.train;
  return nlohmann::json{config.model.section, config.data.section, train.batch_size, train.grad_accum,
                        train.eval_tokens, train.optimizer.name}
      .dump();
}

SweepPlan plan_sweep(const Sweep& sweep, const std::filesystem::path& out_dir) {
  // The runs in order, each with its directory under the sweep's ("" for a stand-in: never done).
  std::vector<std::pair<RunSpec, std::filesystem::path>> all;
  for (const auto& run : sweep.tune_runs) all.emplace_back(run, "tune");
  std::size_t stand_ins = 0;
  if (sweep.replication_pending)
    for (const auto& run : sweep.tune_runs)
      if (run.tune_index == 0)
        for (const auto seed : sweep.seeds) {
          RunSpec stand_in = run;
          stand_in.seed = seed;
          stand_in.id = "(after tuning)";
          all.emplace_back(std::move(stand_in), "");
          ++stand_ins;
        }
  for (const auto& run : sweep.runs) all.emplace_back(run, "runs");

  SweepPlan plan;
  plan.runs = all.size();
  plan.tuning_runs = sweep.tune_runs.size();
  plan.replication_runs = sweep.runs.size() + stand_ins;
  const std::size_t per_grid_point = sweep.arms.size() * sweep.seeds.size();
  plan.grid_points = per_grid_point ? plan.replication_runs / per_grid_point : 0;

  // Finished runs in the output directory, and the distinct models in sweep order.
  std::map<std::string, std::size_t> index;
  for (auto& [run, subdir] : all) {
    auto [it, inserted] = index.emplace(timing_key(decode_run_config(run.config)), plan.models.size());
    if (inserted) plan.models.push_back({.first = run});
    PlannedModel& m = plan.models[it->second];
    if (std::find(m.arms.begin(), m.arms.end(), run.arm) == m.arms.end()) m.arms.push_back(run.arm);
    ++m.runs;
    const bool finished = !out_dir.empty() && !subdir.empty() &&
                          run_finished(run_status(sweep_directory(sweep, out_dir) / subdir / run.id));
    if (finished)
      ++plan.done;
    else
      m.to_train.push_back(std::move(run));
  }
  return plan;
}

ModelCost cost_of_model(const PlannedModel& model, const PluginRegistry& registry, const WarmupOptions& warmup) {
  ModelCost cost;
  cost.total = plan_model(model.first.config, registry).total;
  if (warmup.steps <= 0 || model.to_train.empty()) return cost;
  cost.timing = measure_step_time(model.first, registry, warmup);
  for (const RunSpec& run : model.to_train)
    cost.seconds_to_train += estimated_run_seconds(decode_run_config(run.config), *cost.timing);
  return cost;
}

}  // namespace ablate
