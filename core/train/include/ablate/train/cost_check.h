// Measured against declared cost: every component of a model is built as the run builds it and
// measured (measured_cost.h: forward FLOPs per token from the matrix products LibTorch dispatches,
// active parameters from the gradient of one token's output), and the measurement is held against
// what the plugin's cost() declares. A plugin that under-declares would get more compute under a
// FLOP budget and look cheaper in every table; ablate refuses it unless the sweep accepts it by
// name (`trust: {accept_declared_cost: [NAME]}`), and the report flags every run that does.
//
//   std::vector<CostCheck> checks = check_costs(plan, registry, device);
//   for (const CostCheck& c : checks) if (!c.matches()) ...   // c.describe(): both numbers
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "ablate/engine/model_plan.h"
#include "ablate/engine/plugin_registry.h"

namespace ablate {

/// How far a measurement may sit from the declaration, relative to the declaration (and at least
/// one FLOP or parameter, so that a declared 0 is matched only by 0 or nearly so). Built-in
/// plugins match exactly; the slack is for elementwise matrix products a plugin may leave out.
inline constexpr double kCostTolerance = 0.02;

struct CostCheck {
  std::string part;        // "attention", "ffn", "dense_ffn", "norm"
  std::string plugin;      // its plugin
  std::string kind;        // "attention", "mlp", "moe", "norm"
  std::string config_key;  // "model.attention", ...
  double declared_flops = 0, measured_flops = 0;     // forward FLOPs per token
  std::int64_t declared_active = 0, measured_active = 0;  // active parameters
  bool flops_match() const;
  bool params_match() const;
  bool matches() const { return flops_match() && params_match(); }
  /// "ffn (moe 'dense_moe'): FLOPs per token declared 1.2e5, measured 4.4e5 (+266.7 %); active parameters ..."
  std::string describe() const;
  nlohmann::json to_json() const;
};

/// Measures every component part of `plan` (not the embedding and LM head, which the host builds
/// itself) on `device`, at the plan's seq_len.
std::vector<CostCheck> check_costs(const ModelPlan& plan, const PluginRegistry& registry, const c10::Device& device);

}  // namespace ablate
