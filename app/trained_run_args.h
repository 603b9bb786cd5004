// What `ablate eval` and `ablate sample` share: the run directory, which weights, the device, and
// loading the run with them.
#pragma once

#include <filesystem>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "ablate/train/device.h"
#include "ablate/train/trained_run.h"

namespace ablate::app {

struct TrainedRunArgs {
  std::filesystem::path run_dir;
  std::string weights = "final";
  std::string device = "cpu";
};

inline void add_trained_run_options(CLI::App* cmd, TrainedRunArgs& args) {
  cmd->add_option("run_dir", args.run_dir, "a run directory: OUT/<sweep>/runs/<run id>")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--weights", args.weights, "final (model.safetensors) or best (best.safetensors)")
      ->check(CLI::IsMember({"final", "best"}))
      ->capture_default_str();
  cmd->add_option("--device", args.device, "cpu, cuda or cuda:N")->capture_default_str();
}

inline TrainedRun load_trained_run(const TrainedRunArgs& args, const PluginRegistry& registry) {
  return load_trained_run(args.run_dir, registry,
                          {.weights = args.weights,
                           .device = parse_device(args.device),
                           .progress = [](const std::string& line) { std::cerr << "data: " << line << "\n"; }});
}

}  // namespace ablate::app
