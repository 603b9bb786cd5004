// Equal budgets (sweep/budget.h): parse `budget:` and turn it into each run's train.steps.
#include "sweep/budget.h"

#include <cmath>

#include <fmt/format.h>

#include "ablate/engine/model_plan.h"
#include "ablate/engine/run_config.h"
#include "sweep/schema.h"

namespace ablate::sweep_budget {

const std::vector<std::string>& kinds() {
  static const std::vector<std::string> names = {"steps", "tokens", "flops", "seconds"};
  return names;
}

std::optional<Budget> parse(const LocatedEntry* entry) {
  if (entry == nullptr || entry->value.is_null()) return std::nullopt;
  const LocatedNode& node = entry->value;
  const char* example = "e.g. budget: {kind: flops, value: 2.0e13} (kinds: steps, tokens, flops, seconds)";
  if (!node.is_map()) throw Error(fmt::format("'budget' must be a map, got {}", node.describe()), example, node.where);
  Budget budget;
  budget.where = node.where;
  const LocatedEntry* kind = node.find("kind");
  const LocatedEntry* value = node.find("value");
  for (const auto& e : node.entries)
    if (e.key != "kind" && e.key != "value")
      throw Error(fmt::format("unknown key 'budget.{}' (known keys: kind, value)", e.key),
                  sweep_schema::did_you_mean(e.key, {"kind", "value"}), e.key_where);
  if (kind == nullptr || value == nullptr)
    throw Error(fmt::format("'budget' needs both 'kind' and 'value'"), example, node.where);
  const std::vector<std::string>& known = kinds();
  if (!kind->value.is_scalar() || std::find(known.begin(), known.end(), kind->value.text) == known.end())
    throw Error(fmt::format("'budget.kind' must be one of {}, got {}", fmt::join(known, "|"), kind->value.describe()),
                kind->value.is_scalar() ? sweep_schema::did_you_mean(kind->value.text, known) : std::string(),
                kind->value.where);
  budget.kind = kind->value.text;
  if (!value->value.is_scalar() || value->value.quoted || !parse_yaml_number(value->value.text, budget.value) ||
      !std::isfinite(budget.value) || !(budget.value > 0))
    throw Error(fmt::format("'budget.value' must be a positive number ({}), got {}",
                            budget.kind == "seconds" ? "seconds of training"
                            : budget.kind == "flops" ? "training FLOPs per run"
                                                     : budget.kind + " per run",
                            value->value.describe()),
                {}, value->value.where);
  if (budget.kind == "steps" && budget.value != std::floor(budget.value))
    throw Error(fmt::format("'budget.value' of kind steps must be a whole number, got {}", value->value.text), {},
                value->value.where);
  return budget;
}

void apply(const Budget& budget, nlohmann::json& config, const PluginRegistry& registry, const std::string& context,
           const SourceLocation& where) {
  const TrainConfig train = decode_train_config(config);
  const double tokens_per_step = static_cast<double>(train.tokens_per_step(decode_data_config(config).seq_len));
  const BudgetConfig budget_config{.kind = budget.kind, .value = budget.value};
  double steps = 0.0;
  if (budget.kind == "steps") {
    steps = budget.value;
  } else if (budget.kind == "tokens") {
    steps = budget.value / tokens_per_step;
  } else if (budget.kind == "flops") {
    const ModelPlan plan = plan_model(config, registry);
    const double flops_per_step = train_flops(plan.total.flops_per_token, tokens_per_step);
    steps = budget.value / flops_per_step;
  } else {  // seconds: train.steps stays, as the cap
    write_budget(config, budget_config);
    return;
  }
  const auto rounded = static_cast<std::int64_t>(std::llround(steps));
  if (rounded < 1)
    throw Error(fmt::format("a budget of {:g} {} is less than one optimizer step{} ({:.3g} steps)", budget.value,
                            budget.kind, context.empty() ? std::string() : " " + context, steps),
                "raise budget.value or lower the batch", where);
  write_train_steps(config, rounded);
  if (budget.kind != "steps") write_budget(config, budget_config);
}

}  // namespace ablate::sweep_budget
