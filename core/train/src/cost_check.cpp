// Measured against declared cost (see cost_check.h).
#include "ablate/train/cost_check.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <torch/utils.h>

#include "measured_cost.h"

namespace ablate {
namespace {

bool within(double declared, double measured) {
  return std::abs(measured - declared) <= kCostTolerance * std::max(1.0, std::abs(declared));
}

std::string relative(double declared, double measured) {
  if (declared == 0) return measured == 0 ? "equal" : "declared 0";
  return fmt::format("{:+.1f} %", 100.0 * (measured - declared) / declared);
}

}  // namespace

bool CostCheck::flops_match() const { return within(declared_flops, measured_flops); }
bool CostCheck::params_match() const {
  return within(static_cast<double>(declared_active), static_cast<double>(measured_active));
}

std::string CostCheck::describe() const {
  return fmt::format("{} ({} '{}'): forward FLOPs per token declared {:.4g}, measured {:.4g} ({}){}; active "
                     "parameters declared {}, measured {} ({}){}",
                     part, kind, plugin, declared_flops, measured_flops, relative(declared_flops, measured_flops),
                     flops_match() ? "" : " MISMATCH", declared_active, measured_active,
                     relative(static_cast<double>(declared_active), static_cast<double>(measured_active)),
                     params_match() ? "" : " MISMATCH");
}

nlohmann::json CostCheck::to_json() const {
  return {{"part", part},
          {"plugin", plugin},
          {"kind", kind},
          {"declared", {{"flops_per_token", declared_flops}, {"params_active", declared_active}}},
          {"measured", {{"flops_per_token", measured_flops}, {"params_active", measured_active}}},
          {"matches", matches()}};
}

std::vector<CostCheck> check_costs(const ModelPlan& plan, const PluginRegistry& registry, const c10::Device& device) {
  // Parts as the skeleton builds them: the context of the first block that holds each.
  struct Slot {
    std::string part, config_key;
    const sdk::ComponentSpec* spec;
    std::int64_t layer;
  };
  std::vector<Slot> slots = {{"attention", "model.attention", &plan.attention, 0},
                             {"ffn", "model.ffn", &plan.ffn, std::min(plan.first_dense_layers, plan.n_layers - 1)},
                             {"norm", "model.norm", &plan.norm, 0}};
  if (plan.dense_ffn) slots.push_back({"dense_ffn", "model.dense_ffn", &*plan.dense_ffn, 0});
  std::vector<CostCheck> checks;
  for (const Slot& slot : slots) {
    const auto part = std::find_if(plan.parts.begin(), plan.parts.end(), [&](const PartCost& p) { return p.part == slot.part; });
    if (part == plan.parts.end() || part->count == 0) continue;
    const sdk::ModelContext ctx = registry.bind(plan.context(slot.layer));
    auto module = registry.create(*slot.spec, ctx);
    module->to(device);
    const MeasuredCost measured = measure_cost(*module, plan.d_model, plan.seq_len);
    checks.push_back({.part = slot.part,
                      .plugin = slot.spec->plugin,
                      .kind = sdk::kind_name(slot.spec->kind),
                      .config_key = slot.config_key,
                      .declared_flops = part->cost.flops_per_token,
                      .measured_flops = measured.flops_per_token,
                      .declared_active = part->cost.params_active,
                      .measured_active = measured.params_active});
  }
  return checks;
}

}  // namespace ablate
