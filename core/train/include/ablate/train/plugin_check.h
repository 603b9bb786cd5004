// `ablate check-plugin KIND NAME`: the checks every component plugin should pass, run on the one
// component alone, before it goes into a sweep. It is built in a small model context with its
// schema defaults (plus --set overrides, validated like a sweep's options) and must
//   - map (B, T, d_model) to the same shape, with finite outputs in training and evaluation mode;
//   - pass gradient to every parameter it registers (a parameter no gradient reaches never trains);
//   - have exactly the parameters its cost() claims (the trainer refuses a model where they differ);
//   - spend the forward FLOPs per token and use the active parameters its cost() claims, as the host
//     measures them (cost_check.h), within kCostTolerance;
//   - be causal (causality.h): in training and evaluation mode, gradients on and off, at --seq-len,
//     with its weights moved off their initialisation; any kind.
//
//   PluginCheckReport report = check_plugin(registry, {.kind = Kind::attention, .plugin = "mha"});
//   for (const CheckOutcome& c : report.checks) ...   // PASS/FAIL lines
//
// Torch-free header: the app prints the report without including LibTorch.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ablate/engine/plugin_registry.h"

namespace ablate {

struct PluginCheckRequest {
  sdk::Kind kind = sdk::Kind::attention;
  std::string plugin;
  /// Option overrides, key → YAML value text (`--set n_heads=4`).
  std::vector<std::pair<std::string, std::string>> set;
  std::int64_t d_model = 64;
  std::int64_t seq_len = 32;
  std::int64_t batch = 2;
};

struct CheckOutcome {
  std::string name;    // "shape", "finite", "backward", "params", "causal"...
  bool passed = false;
  std::string detail;  // the numbers behind the verdict
};

struct PluginCheckReport {
  nlohmann::json component;               // the resolved options, plugin included
  std::vector<std::string> filled_in;     // "d_ff=128": required options the check chose values for
  std::vector<CheckOutcome> checks;

  bool passed() const;
};

/// Runs the checks on the CPU with fixed seeds. Required options without --set get stand-ins
/// where there is an obvious one (an mlp component, i.e. an MoE's expert: `{plugin: silu, d_ff:
/// 2·d_model}`; an integer `d_ff`: 2·d_model, the size every built-in MLP takes), listed in
/// `filled_in`. Bad input (an unknown plugin, an unknown or ill-typed option, a required option
/// without a stand-in, options the plugin's cost() refuses) throws ablate::Error; a plugin that
/// fails to build or whose forward or backward throws is a failed check, not an error.
PluginCheckReport check_plugin(const PluginRegistry& registry, const PluginCheckRequest& request);

}  // namespace ablate
