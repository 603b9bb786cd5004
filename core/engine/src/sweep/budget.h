// A sweep's `budget:` (equal steps, tokens, training FLOPs or wall-clock seconds for every run),
// parsed with its location and written into each run's resolved configuration. Private to the
// sweep module (expand.cpp).
//
//   budget: {kind: flops, value: 2.0e13}
//
// steps, tokens and flops become train.steps at expansion (tokens: value / (batch_size ·
// grad_accum · seq_len); flops: value / (training FLOPs per token · tokens per step), with
// training FLOPs per token = 3 × the planned forward FLOPs per token: the backward pass costs about
// twice the forward). seconds keeps train.steps as a cap and stops the run at that much training
// time; its learning-rate schedule follows elapsed time instead of steps.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ablate/engine/plugin_registry.h"
#include "ablate/engine/sweep.h"
#include "sweep/yaml_json.h"

namespace ablate::sweep_budget {

/// The units a budget may be given in: steps, tokens, flops, seconds.
const std::vector<std::string>& kinds();

/// Parses `budget:` (null entry: no budget). Throws ablate::Error at the offending key or value.
std::optional<Budget> parse(const LocatedEntry* entry);

/// Sets train.steps (and train.budget) of a resolved run configuration from `budget`. `context`
/// names the arm and grid point for errors, `where` is the budget's location in the sweep file.
void apply(const Budget& budget, nlohmann::json& config, const PluginRegistry& registry, const std::string& context,
           const SourceLocation& where);

}  // namespace ablate::sweep_budget
