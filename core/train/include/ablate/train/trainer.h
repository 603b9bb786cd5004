// Training one run: build the planned model, train it on the prepared data, evaluate every N
// steps, and write the run directory (report.h describes its files). Checkpoints go to
// run_dir/checkpoints/ (checkpoint.h); a run whose directory has one continues from it.
//
//   nlohmann::json summary = train_run(run, data, registry, settings);   // summary.json's content
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "ablate/engine/data.h"
#include "ablate/engine/plugin_registry.h"
#include "ablate/train/precision.h"
#include "ablate/engine/sweep.h"

namespace ablate {

/// --cuda-graph: whether the training step is recorded once as a CUDA graph and replayed.
/// `automatic` records it on a GPU and trains on without a graph (with a warning) when it cannot be
/// recorded or the replay disagrees with an eager step; `required` fails the run instead (and
/// records on any device, so a CPU run fails with the reason); `off` never records.
enum class CudaGraphPolicy { automatic, required, off };
/// "auto", "on" or "off"; throws ablate::Error otherwise.
CudaGraphPolicy parse_cuda_graph_policy(const std::string& text);

struct TrainSettings {
  c10::Device device{c10::kCPU};
  Precision precision = Precision::fp32;  // an execution setting (precision.h), like the device
  CudaGraphPolicy cuda_graph = CudaGraphPolicy::automatic;  // an execution setting too
  std::filesystem::path run_dir;        // runs/<id>/
  std::string label;                    // progress prefix, e.g. "run 2/4 swiglu seed 1"
  std::function<void(const std::string&)> print;  // progress lines; stdout when empty
  /// Called after every periodic evaluation before the last step with (step, val loss, val accuracy);
  /// a non-empty answer stops the run there with status "stopped" and that reason (a tune stage's
  /// successive halving). Empty function: never stop early.
  std::function<std::string(std::int64_t, double, double)> after_eval;
  // Execution settings, not part of the run's config (they do not change results or run ids):
  std::int64_t checkpoint_every = 200;  // steps between checkpoints; 0: not by steps
  double checkpoint_minutes = 10.0;     // wall-clock minutes between checkpoints; 0: not by time
  /// Asked after every step with the number of steps done; true: write a checkpoint and stop with
  /// status "interrupted" (what SIGINT/SIGTERM do). Never stops when empty.
  std::function<bool(std::int64_t steps_done)> stop_requested;
  /// Appended to each progress line with (seconds trained, seconds left) of this run: the time left
  /// of the whole pass (sweep_clock.h), e.g. "~7m30s for the 5 runs left". Nothing when empty.
  std::function<std::string(double, double)> sweep_time_left;
  /// Called at every log line and checkpoint: the run lock's heartbeat (run_lock.h).
  std::function<void()> heartbeat;
  /// Another run trains on the same device at the same time (--runs-per-device > 1): its times
  /// measure the sharing too; summary.json says so and the report flags time comparisons.
  bool shared_device = false;
  /// The model's components measured against their declared costs (cost_check.h), written to
  /// summary.json as "cost_check"; null when not measured.
  nlohmann::json cost_check = nullptr;
};

/// Trains `run` and returns its summary (also written to run_dir/summary.json). A loss that
/// becomes NaN or infinite stops the run with status "diverged"; a stop request leaves it
/// "interrupted" with a checkpoint to resume from; settings.after_eval may stop it with status
/// "stopped". Other failures throw.
nlohmann::json train_run(const RunSpec& run, const PreparedData& data, const PluginRegistry& registry,
                         const TrainSettings& settings);

/// Learning rate at `step` (0-based): linear warmup to `peak` over `warmup_steps`, then cosine
/// down to `peak · min_fraction` at `total_steps`.
double scheduled_lr(std::int64_t step, std::int64_t total_steps, std::int64_t warmup_steps, double peak,
                    double min_fraction);

/// The same schedule by fraction of the budget used (0..1), for wall-clock budgets: linear warmup
/// over the first `warmup_fraction`, then cosine down to `peak · min_fraction` at 1.
double scheduled_lr_at(double progress, double warmup_fraction, double peak, double min_fraction);

}  // namespace ablate
