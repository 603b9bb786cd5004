// `ablate run SWEEP.yaml [--out DIR] [--device cpu|cuda|cuda:N] [--threads N]`
#include <iostream>

#include <fmt/format.h>

#include "ablate/sweep_runner.h"
#include "commands.h"

namespace ablate::app {
namespace {

struct RunOptions {
  std::filesystem::path sweep_file;
  SweepRunOptions runner;
};

void run_run(const RunOptions& options, const GlobalOptions& global) {
  const auto registry = load_plugins(global);
  const Sweep sweep = load_sweep(options.sweep_file, *registry);
  if (sweep.tune)
    std::cout << fmt::format("sweep '{}': {} tuning runs, then {} replication runs ({} arms x {} seeds, each arm at "
                             "its tuned point)",
                             sweep.name, sweep.tune_runs.size(), sweep.tune_runs.size() / sweep.tune->points /
                                 sweep.tune->seeds.size() * sweep.seeds.size(),
                             sweep.arms.size(), sweep.seeds.size())
              << std::endl;
  else
    std::cout << fmt::format("sweep '{}': {} runs ({} arms x {} seeds{})", sweep.name, sweep.runs.size(),
                             sweep.arms.size(), sweep.seeds.size(),
                             sweep.runs.size() > sweep.arms.size() * sweep.seeds.size() ? " x grid" : "")
              << std::endl;
  const SweepRunResult result = run_sweep(sweep, *registry, options.runner);
  std::cout << fmt::format("trained {}, skipped {} (already done), failed {}, diverged {}", result.trained,
                           result.skipped, result.failed, result.diverged)
            << "\nreport: " << std::filesystem::absolute(result.report).string() << std::endl;
  if (result.failed > 0 || result.diverged > 0) throw CLI::RuntimeError(1);
}

}  // namespace

void setup_run(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run", "train every run of a sweep that is not done yet, then write the report");
  cmd->add_option("sweep", options->sweep_file, "sweep file (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", options->runner.out_dir, "output directory; the sweep writes to OUT/<name>/")
      ->capture_default_str();
  cmd->add_option("--device", options->runner.device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--threads", options->runner.threads, "CPU threads for LibTorch (0: its default)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--cache", options->runner.cache_dir, "cache of tokenizers and tokenized data");
  cmd->callback([options, &global] { run_run(*options, global); });
}

}  // namespace ablate::app
