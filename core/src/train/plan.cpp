// The warm-up of `ablate plan` (plan.h): the trainer's own step (training_step.h: forward,
// cross-entropy plus the MoE auxiliary loss in the run's precision, backward, gradient clipping,
// fused AdamW and Muon when the run uses it) with the trainer's optimizers, timed on random tokens,
// without data, evaluation files or a run directory. Like the trainer, the steps do not wait for the
// device: it is synchronised once before and once after the timed steps. The steps run without a
// CUDA graph: one is recorded after 3 steps and checked at the 5th, too late for a short warm-up,
// so on a GPU a run that replays one may train faster than planned.
#include "ablate/plan.h"

#include <algorithm>
#include <chrono>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/utils.h>

#include "ablate/data.h"
#include "ablate/device.h"
#include "ablate/error.h"
#include "ablate/mfu.h"
#include "ablate/model.h"
#include "ablate/precision.h"
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
  const nlohmann::json& train = run.config.at("train");
  const nlohmann::json& optimizer = train.at("optimizer");
  const std::int64_t B = train.at("batch_size").get<std::int64_t>();
  const std::int64_t grad_accum = train.at("grad_accum").get<std::int64_t>();
  const std::int64_t T = run.config.at("data").at("seq_len").get<std::int64_t>();
  const std::int64_t vocab = tokenizer_vocab_size(run.config.at("data"));

  torch::manual_seed(static_cast<std::uint64_t>(run.seed));
  const ModelPlan plan = plan_model(run.config, vocab, registry);
  Transformer model(plan, registry);
  model->to(device);
  model->train();
  const RunOptimizers optimizers = make_optimizers(model, optimizer);
  TrainingStep step({.model = model,
                     .adamw = *optimizers.adamw,
                     .muon = optimizers.muon.get(),
                     .device = device,
                     .precision = precision,
                     .grad_accum = grad_accum,
                     .batch_size = B,
                     .seq_len = T,
                     .grad_clip = train.at("grad_clip").get<double>()},
                    CudaGraphPolicy::off, [](const std::string&) {});
  const auto train_step = [&] {
    std::vector<Batch> batches;
    for (std::int64_t micro = 0; micro < grad_accum; ++micro) batches.push_back(random_batch(vocab, B, T, device));
    step.load(batches);
    step.run(optimizer.at("lr").get<double>(), optimizer.at("muon_lr").get<double>());
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
  timing.mfu = run_mfu_fields(device, precision, train_flops(plan.total.flops_per_token, static_cast<double>(B * grad_accum * T)),
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

std::int64_t evaluations_per_run(const nlohmann::json& run_config) {
  const auto& train = run_config.at("train");
  const std::int64_t steps = train.at("steps").get<std::int64_t>();
  const std::int64_t every = train.at("eval_every").get<std::int64_t>();
  return 1 + steps / every + (steps % every != 0 ? 1 : 0);
}

double eval_batches_per_evaluation(const nlohmann::json& run_config) {
  const auto& train = run_config.at("train");
  const std::int64_t T = run_config.at("data").at("seq_len").get<std::int64_t>();
  const std::int64_t windows = std::max<std::int64_t>(1, train.at("eval_tokens").get<std::int64_t>() / T);
  const std::int64_t batch = train.at("batch_size").get<std::int64_t>();
  return static_cast<double>((windows + batch - 1) / batch);
}

double estimated_run_seconds(const nlohmann::json& run_config, const StepTiming& timing) {
  const auto& train = run_config.at("train");
  return static_cast<double>(train.at("steps").get<std::int64_t>()) * timing.seconds_per_step +
         static_cast<double>(evaluations_per_run(run_config)) * eval_batches_per_evaluation(run_config) *
             timing.seconds_per_eval_batch;
}

std::string timing_key(const nlohmann::json& run_config) {
  const auto& train = run_config.at("train");
  return nlohmann::json{run_config.at("model"), run_config.at("data"), train.at("batch_size"), train.at("grad_accum"),
                        train.at("eval_tokens"), train.at("optimizer").at("name")}
      .dump();
}

}  // namespace ablate
