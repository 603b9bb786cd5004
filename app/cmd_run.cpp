// `ablate run SWEEP.yaml [--out DIR] [--device auto|cpu|cuda|cuda:N | --devices LIST] [--runs-per-device N]
//                        [--precision auto|bf16|fp32] [--cuda-graph auto|on|off] [--threads N] [--checkpoint-every STEPS]
//                        [--checkpoint-minutes M] [--shard i/n]
// SIGINT/SIGTERM: every run in training stops after its step, writes a checkpoint and is left
// "interrupted"; no new run starts; the report of what is done is written; the exit status is
// 128 + the signal (130, 143). A second signal exits at once.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "ablate/train/precision.h"
#include "ablate/engine/shard.h"
#include "ablate/train/sweep_runner.h"
#include "cli_checks.h"
#include "commands.h"
#include "device_flag.h"

namespace ablate::app {
namespace {

struct RunOptions {
  std::filesystem::path sweep_file;
  std::string device = "auto";  // --device, resolved into runner.device when the run starts
  std::string shard;
  SweepRunOptions runner;
};

std::atomic<int> stop_signal{0};

// Async-signal-safe: an atomic exchange, write(2) and _exit(2) only.
void on_stop_signal(int sig) {
  int none = 0;
  if (!stop_signal.compare_exchange_strong(none, sig)) {
    constexpr char message[] = "\nablate: second interrupt, exiting at once (the last checkpoint is kept)\n";
    [[maybe_unused]] const auto n = ::write(STDERR_FILENO, message, sizeof message - 1);
    ::_exit(128 + sig);
  }
  constexpr char message[] =
      "\nablate: stopping after the current step and writing a checkpoint (interrupt again to exit at once)\n";
  [[maybe_unused]] const auto n = ::write(STDERR_FILENO, message, sizeof message - 1);
}

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // file writes in progress are not cut short
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

void run_run(RunOptions options, const GlobalOptions& global) {
  if (!options.shard.empty()) options.runner.shard = parse_shard(options.shard);
  const ResolvedDevice device = resolve_device_flag(options.device);
  options.runner.device = device.device;
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
    std::cout << fmt::format("sweep '{}': {}{} runs ({} arms x {}{})", sweep.name,
                             sweep.seeds_on_demand ? "up to " : "", sweep.runs.size(), sweep.arms.size(),
                             sweep.seeds_on_demand ? fmt::format("{} to {} seeds on demand",
                                                                 sweep.seeds_on_demand->design.n_start,
                                                                 sweep.seeds.size())
                                                   : fmt::format("{} seeds", sweep.seeds.size()),
                             sweep.runs.size() > sweep.arms.size() * sweep.seeds.size() ? " x grid" : "")
              << std::endl;
  if (!device.note.empty() && options.runner.devices.empty()) std::cout << device.note << std::endl;
  if (options.runner.shard.count > 1)
    std::cout << fmt::format("shard {}/{}: runs whose index modulo {} is {}", options.runner.shard.index,
                             options.runner.shard.count, options.runner.shard.count, options.runner.shard.index)
              << std::endl;
  install_stop_handlers();
  options.runner.stop_signal = &stop_signal;
  const SweepRunResult result = run_sweep(sweep, *registry, options.runner);
  std::cout << fmt::format("trained {}, skipped {} (already done), failed {}, diverged {}", result.trained,
                           result.skipped, result.failed, result.diverged);
  if (result.locked > 0) std::cout << fmt::format(", {} locked by other processes", result.locked);
  if (result.not_in_shard > 0) std::cout << fmt::format(", {} left to other shards", result.not_in_shard);
  std::cout << "\nreport: " << std::filesystem::absolute(result.report).string() << std::endl;
  if (result.stopped_by != 0) {
    const char* name = result.stopped_by == SIGINT ? "SIGINT" : result.stopped_by == SIGTERM ? "SIGTERM" : "a signal";
    std::vector<std::string> runs;
    for (const auto& r : result.interrupted) runs.push_back(fmt::format("run {} checkpointed at step {}", r.run, r.step));
    if (!runs.empty())
      std::cerr << fmt::format("stopped by {}: {}; run the same command again to resume", name, fmt::join(runs, ", "))
                << std::endl;
    else
      std::cerr << fmt::format("stopped by {} between runs; run the same command again to continue", name) << std::endl;
    throw CLI::RuntimeError(128 + result.stopped_by);
  }
  if (result.failed > 0 || result.diverged > 0) throw CLI::RuntimeError(1);
}

}  // namespace

void setup_run(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run", "train every run of a sweep that is not done yet, then write the report");
  cmd->add_option("sweep", options->sweep_file, "sweep file (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", options->runner.out_dir, "output directory; the sweep writes to OUT/<name>/")
      ->capture_default_str()
      ->check(directory_to_write());
  auto* device = cmd->add_option("--device", options->device, kDeviceFlagHelp)->capture_default_str();
  cmd->add_option("--devices", options->runner.devices,
                  "several devices, one worker each taking the next run: GPU indices (0,1,3 = cuda:0,cuda:1,cuda:3) "
                  "or device strings (cuda:0,cpu; cpu,cpu = two CPU workers sharing --threads)")
      ->excludes(device);
  cmd->add_option("--runs-per-device", options->runner.runs_per_device,
                  "workers per device: runs trained at the same time on each device")
      ->capture_default_str()
      ->check(at_least(1));
  cmd->add_option("--precision", options->runner.precision,
                  "auto (bf16 on CUDA, fp32 on the CPU), bf16 (autocast, fp32 master weights) or fp32")
      ->capture_default_str()
      ->check(CLI::IsMember(precision_choices()));
  cmd->add_option("--cuda-graph", options->runner.cuda_graph,
                  "record the training step once as a CUDA graph and replay it: auto (on a GPU, checked against "
                  "an eager step, eager when it cannot be used), on (fail instead) or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "on", "off"}));
  cmd->add_option("--threads", options->runner.threads,
                  "CPU threads for LibTorch (0: its default), divided among the CPU workers")
      ->check(at_least(0));
  cmd->add_option("--cache", options->runner.cache_dir, "cache of tokenizers and tokenized data")
      ->check(directory_to_write());
  cmd->add_option("--checkpoint-every", options->runner.checkpoint_every,
                  "write a checkpoint every STEPS optimizer steps (0: not by steps)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--checkpoint-minutes", options->runner.checkpoint_minutes,
                  "write a checkpoint every M minutes of wall-clock time (0: not by time)")
      ->capture_default_str()
      ->check(non_negative_number());
  cmd->add_option("--shard", options->shard,
                  "i/n: train only the runs whose index in the sweep is i modulo n (n processes share a sweep)");
  cmd->callback([options, &global] { run_run(*options, global); });
}

}  // namespace ablate::app
