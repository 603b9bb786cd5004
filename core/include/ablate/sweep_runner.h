// Runs a validated sweep: writes OUT/<sweep name>/sweep.json, proves every attention component
// causal, trains every run that is not already done (a finished run is never trained twice),
// isolates a failing run so the sweep goes on, and writes the report.
#pragma once

#include <filesystem>
#include <string>

#include "ablate/plugin_registry.h"
#include "ablate/sweep.h"

namespace ablate {

struct SweepRunOptions {
  std::filesystem::path out_dir = "runs";
  std::string device = "cpu";
  int threads = 0;                       // 0: LibTorch's default
  std::filesystem::path cache_dir;       // empty: default_cache_dir()
};

struct SweepRunResult {
  std::filesystem::path sweep_dir;
  std::filesystem::path report;
  int trained = 0, skipped = 0, failed = 0, diverged = 0;
};

SweepRunResult run_sweep(const Sweep& sweep, const PluginRegistry& registry, const SweepRunOptions& options);

/// The directory a sweep writes to: OUT/<sweep name>.
std::filesystem::path sweep_directory(const Sweep& sweep, const std::filesystem::path& out_dir);

}  // namespace ablate
