// What a sweep will cost before it trains (`ablate plan`): a short measured warm-up of a run's
// model — K training steps of the real model on the chosen device, on random tokens of the run's
// vocabulary, so no data needs preparing — and the time a run takes at that speed.
//
//   const StepTiming t = measure_step_time(run, registry, {.device = "cpu", .steps = 10});
//   double seconds = estimated_run_seconds(run.config, t);   // training + evaluations
//
// Limits: the estimate covers training steps and evaluations only (not data preparation, the
// causality check or start-up); random tokens cost what real ones cost, but a model whose speed
// depends on the data (an MoE's routing balance) may run a little faster or slower on text.
// Runs with the same timing_key train at the same speed and share one warm-up.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "ablate/plugin_registry.h"
#include "ablate/sweep.h"

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
std::int64_t evaluations_per_run(const nlohmann::json& run_config);

/// Batches of one evaluation: ⌈⌊eval_tokens / seq_len⌋ windows / batch_size⌉.
double eval_batches_per_evaluation(const nlohmann::json& run_config);
/// One run's seconds at `timing`: steps · s/step + evaluations · eval batches · s/eval batch.
double estimated_run_seconds(const nlohmann::json& run_config, const StepTiming& timing);

/// Runs with equal keys train at the same speed: same model, data, batch size, gradient
/// accumulation, evaluation batches and optimizer kind (learning rates and steps may differ).
std::string timing_key(const nlohmann::json& run_config);

}  // namespace ablate
