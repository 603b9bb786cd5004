// What run_sweep checks on every distinct model of a sweep before anything trains: that it is
// causal as a whole (causality.h) and that each component costs what its plugin declares
// (cost_check.h). A distinct model is a model section with its seq_len and vocabulary (model_key);
// the first run of each stands for all runs that share it.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "ablate/engine/plugin_registry.h"
#include "ablate/engine/sweep.h"

namespace ablate {

/// Prints one line of ablate run's console (sweep_runner.cpp keeps whole lines together).
using PrintLine = std::function<void(const std::string&)>;

/// The key of a run's model as the proofs see it: its model section, seq_len and vocabulary.
std::string model_key(const RunSpec& run);

/// The first run (replication, then tuning) of every distinct model of the sweep, by model_key.
std::vector<const RunSpec*> one_run_per_model(const Sweep& sweep);

/// Each distinct model's components measured against their declared costs on `device`; a mismatch
/// refuses the sweep (ablate::Error at the sweep line) unless trust.accept_declared_cost names the
/// plugin, which `print_error` then warns about. Returns the checks by model_key, for summaries.
std::map<std::string, nlohmann::json> check_model_costs(const Sweep& sweep, const PluginRegistry& registry,
                                                        const c10::Device& device, const PrintLine& print_error);

/// Each distinct model built, moved off its initialisation and proven causal on every device of
/// `devices` in `precision`; a failure throws ablate::Error at the sweep line that chose the
/// component to blame. `print` gets one line per model proven.
void prove_models_causal(const Sweep& sweep, const PluginRegistry& registry, const std::vector<c10::Device>& devices,
                         const std::string& precision, const PrintLine& print);

}  // namespace ablate
