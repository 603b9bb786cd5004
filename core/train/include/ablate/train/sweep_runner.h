// Runs a validated sweep: writes OUT/<sweep name>/sweep.json, builds every distinct model and
// proves it causal and its components' costs what their plugins declare (causality.h,
// cost_check.h; a model that cannot be built, is not causal or under-declares refuses the sweep
// before anything trains), trains every run (of its shard) that is not already done (a finished run is never
// trained twice; an interrupted one continues from its checkpoint), skips runs another process
// holds the lock of (run_lock.h), isolates a failing run so the sweep goes on, stops starting
// runs once a stop is requested (SIGINT/SIGTERM), and writes the report of what is done.
// With several devices (or several runs per device) one worker thread per slot takes the next run
// of the queue; docs/running.md says what they share (threads, generators, memory counts).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "ablate/engine/plugin_registry.h"
#include "ablate/engine/shard.h"
#include "ablate/engine/sweep.h"

namespace ablate {

struct SweepRunOptions {
  std::filesystem::path out_dir = "runs";
  std::string device = "cpu";
  std::string precision = "auto";        // auto | bf16 | fp32 (precision.h)
  std::string cuda_graph = "auto";       // auto | on | off (trainer.h's CudaGraphPolicy)
  /// Several devices (device_list.h: "0,1" or "cuda:0,cpu"), one worker each; empty: `device`.
  std::string devices;
  int runs_per_device = 1;               // workers per device
  int threads = 0;                       // 0: LibTorch's default; shared by the CPU workers
  std::filesystem::path cache_dir;       // empty: default_cache_dir()
  std::int64_t checkpoint_every = 200;   // steps between checkpoints (0: not by steps)
  double checkpoint_minutes = 10.0;      // minutes between checkpoints (0: not by time)
  Shard shard;                           // which runs this process takes (default: all)
  std::chrono::seconds lock_stale_after{30 * 60};  // a lock whose heartbeat is older is stale
  /// Set (to the signal number) when the process is asked to stop; null: never.
  const std::atomic<int>* stop_signal = nullptr;
};

struct SweepRunResult {
  std::filesystem::path sweep_dir;
  std::filesystem::path report;
  int trained = 0, skipped = 0, failed = 0, diverged = 0;
  int locked = 0;         // skipped: another process holds their lock
  int not_in_shard = 0;   // left to the other shards
  int stopped_by = 0;     // the signal that stopped the sweep, 0 when it was not stopped
  struct Interrupted {
    std::string run;  // checkpointed and left "interrupted"
    std::int64_t step = 0;
  };
  std::vector<Interrupted> interrupted;  // one per worker that was training when the stop came
};

SweepRunResult run_sweep(const Sweep& sweep, const PluginRegistry& registry, const SweepRunOptions& options);

/// The directory a sweep writes to: OUT/<sweep name>.
std::filesystem::path sweep_directory(const Sweep& sweep, const std::filesystem::path& out_dir);

}  // namespace ablate
