// The checks on every distinct model of a sweep before anything trains (sweep_proofs.h).
#include "sweep_proofs.h"

#include <set>

#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "ablate/engine/error.h"
#include "ablate/engine/data.h"
#include "ablate/engine/model_plan.h"
#include "ablate/engine/run_config.h"
#include "ablate/train/causality.h"
#include "ablate/train/cost_check.h"
#include "ablate/train/device.h"
#include "ablate/train/generator_lock.h"
#include "ablate/train/model.h"
#include "ablate/train/precision.h"

namespace ablate {

// The key of a run's model as the proofs see it: its model section, seq_len and vocabulary.
std::string model_key(const RunSpec& run) {
  const DataConfig data = decode_data_config(run.config);
  return nlohmann::json{decode_model_config(run.config).section, data.seq_len, tokenizer_vocab_size(data.section)}
      .dump();
}

// The first run (replication, then tuning) of every distinct model of the sweep, by model_key.
std::vector<const RunSpec*> one_run_per_model(const Sweep& sweep) {
  std::set<std::string> seen;
  std::vector<const RunSpec*> firsts;
  for (const auto* runs : {&sweep.runs, &sweep.tune_runs})
    for (const RunSpec& run : *runs)
      if (seen.insert(model_key(run)).second) firsts.push_back(&run);
  return firsts;
}

// The same distinct models are measured (cost_check.h): a component whose measured FLOPs or active
// parameters differ from its plugin's cost() refuses the sweep with both numbers, unless the sweep
// names the plugin in trust.accept_declared_cost. Returns the checks of each model (by model_key)
// for the runs' summaries.
std::map<std::string, nlohmann::json> check_model_costs(const Sweep& sweep, const PluginRegistry& registry,
                                                        const c10::Device& device, const PrintLine& print_error) {
  std::map<std::string, nlohmann::json> by_model;
  for (const RunSpec* run_ptr : one_run_per_model(sweep)) {
    const RunSpec& run = *run_ptr;
    const ModelPlan plan = plan_model(run.config, registry);
    nlohmann::json checks = nlohmann::json::array();
    for (const CostCheck& check : check_costs(plan, registry, device)) {
      nlohmann::json j = check.to_json();
      if (!check.matches()) {
        const bool accepted = std::find(sweep.accept_declared_cost.begin(), sweep.accept_declared_cost.end(),
                                        check.plugin) != sweep.accept_declared_cost.end();
        if (!accepted)
          throw Error(fmt::format("arm '{}': the {} costs other than its plugin declares: {}", run.arm, check.part,
                                  check.describe()),
                      fmt::format("fix the plugin's cost(); or, to train with its declared cost anyway (the report "
                                  "flags every such run, and FLOP budgets are refused), add trust: "
                                  "{{accept_declared_cost: [{}]}} to the sweep",
                                  check.plugin),
                      run.location_of(check.config_key));
        if (sweep.budget && sweep.budget->kind == "flops")
          throw Error(fmt::format("arm '{}': a FLOP budget needs the FLOPs each run really spends, and the {}'s "
                                  "plugin declares other than it spends: {}",
                                  run.arm, check.part, check.describe()),
                      "fix the plugin's cost(), or use a budget of steps, tokens or seconds", sweep.budget->where);
        j["accepted"] = true;
        print_error(fmt::format("warning: arm '{}': {} (accepted by trust.accept_declared_cost; the report flags it)",
                                run.arm, check.describe()));
      }
      checks.push_back(j);
    }
    by_model[model_key(run)] = checks;
  }
  return by_model;
}

// Every distinct model configuration of the sweep is built as its runs build it, moved off its
// initialisation, and proven causal as a whole (causality.h) on every device the sweep trains on,
// in the precision it trains in, before any run trains. A model that fails is refused, naming the
// component, its block, the position and the mode, at the sweep line that chose the component.
void prove_models_causal(const Sweep& sweep, const PluginRegistry& registry, const std::vector<c10::Device>& devices,
                         const std::string& precision, const PrintLine& print) {
  for (const RunSpec* run_ptr : one_run_per_model(sweep)) {
    const RunSpec& run = *run_ptr;
    const ModelPlan plan = plan_model(run.config, registry);
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::string> names;
    for (const c10::Device& device : devices) {
      std::lock_guard generator_lock(default_generator_mutex());
      seed_default_generators(static_cast<std::uint64_t>(run.seed), device);
      Transformer model{nullptr};
      try {
        model = Transformer(plan, registry);
      } catch (const Error& e) {
        // At the line of the component whose plugin failed (the registry's message names it).
        std::string key = "model";
        const std::pair<const char*, const sdk::ComponentSpec*> slots[] = {
            {"attention", &plan.attention}, {"ffn", &plan.ffn}, {"norm", &plan.norm},
            {"dense_ffn", plan.dense_ffn ? &*plan.dense_ffn : nullptr}};
        for (const auto& [slot, component] : slots)
          if (component != nullptr && std::string(e.what()).find("'" + component->plugin + "'") != std::string::npos)
            key = std::string("model.") + slot;
        throw Error(fmt::format("the model of arm '{}' cannot be built, so it cannot be proven causal: {}", run.arm,
                                e.what()),
                    e.hint(), run.location_of(key));
      }
      move_off_initialisation(*model, static_cast<std::uint64_t>(run.seed) + 1);
      model->to(device);
      const CausalitySettings settings{.seq_len = plan.seq_len, .device = device,
                                       .precision = parse_precision(precision, device)};
      const CausalityVerdict verdict = check_model_causality(*model, settings);
      if (!verdict.passed)
        throw Error(fmt::format("the model of arm '{}' is not causal on {} ({}): {}", run.arm, device.str(),
                                precision_name(settings.precision), verdict.describe()),
                    "ablate refuses to train a model that can see the tokens it predicts or other sequences of its "
                    "batch; `ablate check-plugin KIND NAME` checks one component alone",
                    run.location_of(verdict.config_key.empty() ? "model" : verdict.config_key));
      names.push_back(device.str());
    }
    print(fmt::format("model of arm '{}' (T = {}, {} blocks): proven causal in training and evaluation mode, gradients "
                      "on and off{} ({:.1f} s)",
                      run.arm, plan.seq_len, plan.n_layers,
                      names.size() > 1 ? fmt::format(", on {}", fmt::join(names, ", ")) : "",
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()));
  }
}

}  // namespace ablate
