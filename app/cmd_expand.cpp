// `ablate expand SWEEP.yaml [--json]`: the runs a sweep expands to, with ids and model sizes,
// without training. The parameter counts come from the plugins' cost functions.
#include <iostream>

#include <fmt/format.h>

#include "ablate/engine/data.h"
#include "ablate/engine/model_plan.h"
#include "ablate/engine/run_config.h"
#include "ablate/engine/sweep.h"
#include "commands.h"

namespace ablate::app {
namespace {

struct ExpandOptions {
  std::filesystem::path sweep_file;
  bool json = false;
};

void run_expand(const ExpandOptions& options, const GlobalOptions& global) {
  const auto registry = load_plugins(global);
  const Sweep sweep = load_sweep(options.sweep_file, *registry);
  nlohmann::json out = nlohmann::json::array();
  std::vector<std::pair<const RunSpec*, const char*>> runs;  // tuning runs first: they train first
  for (const auto& run : sweep.tune_runs) runs.emplace_back(&run, "tuning");
  for (const auto& run : sweep.runs) runs.emplace_back(&run, "replication");
  for (const auto& [run_ptr, stage] : runs) {
    const RunSpec& run = *run_ptr;
    const ModelPlan plan = plan_model(run.config, *registry);
    out.push_back({{"id", run.id},
                   {"arm", run.arm},
                   {"seed", run.seed},
                   {"stage", sweep.tune ? stage : "run"},
                   {"grid_point", run.grid_point},
                   {"tune_point", run.tune_point},
                   {"params_total", plan.total.params_total},
                   {"params_active", plan.total.params_active},
                   {"flops_per_token", plan.total.flops_per_token},
                   {"config", run.config}});
  }
  if (options.json) {
    std::cout << out.dump(2) << std::endl;
    return;
  }
  std::cout << fmt::format("sweep '{}' ({}): {} runs\n", sweep.name, sweep.file.string(), out.size());
  if (sweep.budget)
    std::cout << fmt::format("budget: {:g} {} per run{}\n", sweep.budget->value, sweep.budget->kind,
                             sweep.budget->kind == "seconds" ? " (train.steps is the cap)" : ", as train.steps below");
  std::cout << fmt::format("{:<18} {:<20} {:>5} {:>14} {:>14} {:>14} {:>8}  {}\n", "id", "arm", "seed", "params",
                           "active", "FLOPs/token", "steps", "grid point");
  for (const auto& r : out) {
    std::string grid;
    for (const auto& [path, value] : r.at("grid_point").items()) grid += path + "=" + value.dump() + " ";
    for (const auto& [path, value] : r.at("tune_point").items()) grid += "(tuning) " + path + "=" + value.dump() + " ";
    std::cout << fmt::format("{:<18} {:<20} {:>5} {:>14} {:>14} {:>14.4g} {:>8}  {}\n", r.at("id").get<std::string>(),
                             r.at("arm").get<std::string>(), r.at("seed").get<std::int64_t>(),
                             r.at("params_total").get<std::int64_t>(), r.at("params_active").get<std::int64_t>(),
                             r.at("flops_per_token").get<double>(),
                             decode_train_config(r.at("config")).steps, grid);
  }
  if (sweep.replication_pending)
    std::cout << fmt::format("then {} replication runs per arm and grid point (seeds {}), each at the tune point its "
                             "tuning runs choose\n",
                             sweep.seeds.size(), nlohmann::json(sweep.seeds).dump());
}

}  // namespace

void setup_expand(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<ExpandOptions>();
  auto* cmd = app.add_subcommand("expand", "print the runs a sweep expands to, without training");
  cmd->add_option("sweep", options->sweep_file, "sweep file (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_flag("--json", options->json, "one JSON array: id, arm, seed, params_total, params_active, "
                                         "flops_per_token, config");
  cmd->callback([options, &global] { run_expand(*options, global); });
}

}  // namespace ablate::app
