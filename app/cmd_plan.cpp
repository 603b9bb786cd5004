// `ablate plan SWEEP.yaml [--out DIR] [--device D] [--precision P] [--threads N] [--warmup-steps K]
//                         [--from DIR] [--json]`:
// what a sweep will cost before it trains — how many runs (and how many are already done in
// --out), the seconds per step of each distinct model from a short measured warm-up, the estimated
// total time of the runs still to train — and, with --from, how many seeds each comparison of an
// earlier sweep directory needs (seeds_advice.h). Never trains, never writes. What is counted and
// measured is plan.h's (plan_sweep, cost_of_model); this file parses the flags and prints it.
#include <iostream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "ablate/train/plan.h"
#include "ablate/train/precision.h"
#include "ablate/engine/model_plan.h"
#include "ablate/engine/run_config.h"
#include "ablate/engine/seed_rounds.h"
#include "ablate/engine/seeds_advice.h"
#include "ablate/engine/sweep.h"
#include "ablate/train/sweep_runner.h"
#include "cli_checks.h"
#include "commands.h"
#include "device_flag.h"

namespace ablate::app {
namespace {

struct PlanOptions {
  std::filesystem::path sweep_file;
  std::filesystem::path out_dir;   // empty: do not look for finished runs
  std::filesystem::path from_dir;  // empty: no seeds advice
  WarmupOptions warmup;
  bool json = false;
};

std::string format_seconds(double s) {
  if (s < 60) return fmt::format("{:.1f} s", s);
  if (s < 3600) return fmt::format("{:.1f} s ({}m{:02d}s)", s, static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  return fmt::format("{:.0f} s ({:.1f} h)", s, s / 3600.0);
}

nlohmann::json advice_json(const SeedsAdvice& a) {
  nlohmann::json j = {{"arm", a.arm}, {"baseline", a.baseline}, {"verdict", a.verdict}};
  if (!a.power) {
    j["not_defined"] = a.power.reason;
    return j;
  }
  const auto& p = *a.power;
  j.update({{"n_arm", p.nx}, {"n_baseline", p.ny}, {"alpha", p.alpha}, {"power", p.power}, {"pooled_sd", p.pooled_sd},
            {"difference", p.difference}, {"detectable_difference", p.detectable_difference},
            {"underpowered", p.underpowered()},
            {"seeds_needed", p.seeds_needed ? nlohmann::json(*p.seeds_needed) : nlohmann::json(nullptr)},
            {"seeds_needed_exact", p.seeds_exact ? nlohmann::json(*p.seeds_exact) : nlohmann::json(nullptr)}});
  return j;
}

void run_plan(const PlanOptions& options, const GlobalOptions& global) {
  const auto registry = load_plugins(global);
  const Sweep sweep = load_sweep(options.sweep_file, *registry);
  const SweepPlan plan = plan_sweep(sweep, options.out_dir);
  const std::size_t n_runs = plan.runs, done = plan.done;

  nlohmann::json out = {{"sweep", sweep.name},
                        {"file", sweep.file.string()},
                        {"runs", n_runs},
                        {"arms", sweep.arms.size()},
                        {"grid_points", plan.grid_points},
                        {"seeds", sweep.seeds.size()},
                        {"tuning_runs", plan.tuning_runs},
                        {"done", done},
                        {"to_train", n_runs - done},
                        {"out_dir", options.out_dir.empty() ? nlohmann::json(nullptr)
                                                            : nlohmann::json(sweep_directory(sweep, options.out_dir).string())},
                        {"warmup_steps", options.warmup.steps},
                        {"models", nlohmann::json::array()}};
  if (!options.json) {
    std::cout << fmt::format("sweep '{}' ({}): {} runs = {} arm(s) x {} grid point(s) x {} seed(s){}\n", sweep.name,
                             sweep.file.string(), plan.replication_runs, sweep.arms.size(), plan.grid_points,
                             sweep.seeds.size(),
                             (sweep.seeds_on_demand ? std::string(" at most (seeds on demand)") : std::string()) +
                             (sweep.tune ? fmt::format(", after {} tuning runs (each arm's first tune point stands in "
                                                      "for its replication runs until tuning chooses)",
                                                      plan.tuning_runs)
                                        : ""));
    if (!options.out_dir.empty())
      std::cout << fmt::format("already done in {}: {} of {}; to train: {}\n",
                               sweep_directory(sweep, options.out_dir).string(), done, n_runs, n_runs - done);
  }

  // One warm-up per distinct model that still has runs to train.
  double total = 0.0, total_flops = 0.0;
  bool estimated = options.warmup.steps > 0;
  for (std::size_t i = 0; i < plan.models.size(); ++i) {
    const PlannedModel& m = plan.models[i];
    const ModelCost cost = cost_of_model(m, *registry, options.warmup);
    nlohmann::json j = {{"arms", m.arms}, {"runs", m.runs}, {"to_train", m.to_train.size()},
                        {"params_total", cost.total.params_total}, {"params_active", cost.total.params_active}};
    // Training FLOPs of its runs to train, from the built components' FLOPs per token: a number a
    // reader can divide by the throughput of a machine this one is not (a CPU planning a GPU sweep).
    double flops_to_train = 0.0;
    for (const auto& run : m.to_train) {
      const TrainConfig train = decode_train_config(run.config);
      const double tokens =
          static_cast<double>(train.steps * train.tokens_per_step(decode_data_config(run.config).seq_len));
      flops_to_train += train_flops(static_cast<double>(cost.total.flops_per_token), tokens);
    }
    total_flops += flops_to_train;
    j["train_flops_to_train"] = flops_to_train;
    std::string line = fmt::format("model {} (arms: {}; {:.2f} M parameters): {} run(s), {} to train ({:.3g} training "
                                   "FLOPs)",
                                   i + 1, fmt::join(m.arms, ", "), static_cast<double>(cost.total.params_total) / 1e6,
                                   m.runs, m.to_train.size(), flops_to_train);
    if (cost.timing) {
      const StepTiming& t = *cost.timing;
      const double seconds = cost.seconds_to_train;
      total += seconds;
      out["device"] = t.device;
      j.update({{"seconds_per_step", t.seconds_per_step}, {"seconds_per_eval_batch", t.seconds_per_eval_batch},
                {"seconds_to_train", seconds}});
      line += fmt::format("\n  measured {:.4g} s/step, {:.4g} s/eval batch over {} steps on {}; {} to train",
                          t.seconds_per_step, t.seconds_per_eval_batch, t.steps, t.device, format_seconds(seconds));
      const nlohmann::json& mfu = t.mfu;
      j.update(mfu);
      line += mfu["mfu"].is_number()
                  ? fmt::format("; MFU {:.1f}% of the {:.4g} TFLOP/s {} peak", 100.0 * mfu["mfu"].get<double>(),
                                mfu["peak_flops_per_second"].get<double>() / 1e12, mfu["precision"].get<std::string>())
                  : fmt::format("; MFU not known ({})", mfu["mfu_reason"].get<std::string>());
    }
    out["models"].push_back(j);
    if (!options.json) std::cout << line << "\n";
  }
  out["estimated_seconds"] = estimated ? nlohmann::json(total) : nlohmann::json(nullptr);
  out["train_flops_to_train"] = total_flops;
  if (!options.json) {
    if (estimated)
      std::cout << fmt::format("estimated time for the {} run(s) to train: {} (training steps and evaluations; data "
                               "preparation and start-up not included)\n",
                               n_runs - done, format_seconds(total));
    else
      std::cout << "no time estimate (--warmup-steps 0)\n";
    std::cout << fmt::format("training FLOPs of the {} run(s) to train: {:.3g} (3 x forward FLOPs per token x tokens "
                             "trained)\n",
                             n_runs - done, total_flops);
  }

  if (sweep.seeds_on_demand) {
    const SeedsOnDemandPlan on_demand = plan_seeds_on_demand(sweep);
    nlohmann::json expected = nlohmann::json::array();
    for (const auto& a : on_demand.at)
      expected.push_back({{"effect_sd", a.effect}, {"expected_runs", a.expected_runs}, {"significant", a.significant}});
    out["seeds_on_demand"] = {{"min_runs", on_demand.min_runs}, {"max_runs", on_demand.max_runs},
                              {"spending_alpha", on_demand.spending_alpha}, {"expected", expected}};
    if (!options.json) std::cout << on_demand.describe() << "\n";
  }

  if (!options.from_dir.empty()) {
    const auto advice = seeds_advice(options.from_dir);
    out["seeds_advice"] = nlohmann::json::array();
    for (const auto& a : advice) out["seeds_advice"].push_back(advice_json(a));
    if (!options.json) {
      std::cout << fmt::format("\nseeds advice from {} (final validation loss; two-sided t-test, alpha 0.05, "
                               "power 0.8):\n", options.from_dir.string());
      if (advice.empty()) std::cout << "  no comparison: no arm besides the baseline has runs there\n";
      for (const auto& a : advice) {
        std::cout << fmt::format("  {} vs {}", a.arm, a.baseline);
        if (a.power)
          std::cout << fmt::format(": n = {}, {}; pooled sd {:.4f}; observed Δ {:+.4f}; detectable |Δ| {:.4f}; "
                                   "seeds per arm needed {}",
                                   a.power->nx, a.power->ny, a.power->pooled_sd, a.power->difference,
                                   a.power->detectable_difference,
                                   a.power->seeds_needed ? std::to_string(*a.power->seeds_needed) : "not defined");
        std::cout << "\n    " << a.verdict << "\n";
      }
    }
  }
  if (options.json) std::cout << out.dump(2) << std::endl;
}

}  // namespace

void setup_plan(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<PlanOptions>();
  auto* cmd = app.add_subcommand("plan", "count a sweep's runs, estimate its time from a measured warm-up, and "
                                         "advise how many seeds its comparisons need, without training");
  cmd->add_option("sweep", options->sweep_file, "sweep file (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", options->out_dir, "output directory of `ablate run`: count the runs already done there")
      ->check(directory_to_write());
  options->warmup.device = "auto";
  cmd->add_option("--device", options->warmup.device, std::string("device of the warm-up: ") + kDeviceFlagHelp)
      ->capture_default_str();
  cmd->add_option("--precision", options->warmup.precision, "precision of the warm-up: auto, bf16 or fp32")
      ->capture_default_str()
      ->check(CLI::IsMember(precision_choices()));
  cmd->add_option("--threads", options->warmup.threads, "CPU threads for LibTorch (0: its default)")
      ->check(at_least(0));
  cmd->add_option("--warmup-steps", options->warmup.steps,
                  "timed training steps per distinct model (0: no warm-up and no time estimate)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--from", options->from_dir, "an earlier sweep directory (OUT/<name>) with finished runs: "
                                               "print how many seeds each of its comparisons needs")
      ->check(CLI::ExistingDirectory);
  cmd->add_flag("--json", options->json, "one JSON object: runs, done, models with seconds per step, "
                                         "estimated_seconds, seeds_advice");
  cmd->callback([options, &global] {
    const ResolvedDevice device = resolve_device_flag(options->warmup.device);
    options->warmup.device = device.device;
    if (!device.note.empty() && !options->json && options->warmup.steps > 0) std::cout << device.note << "\n";
    run_plan(*options, global);
  });
}

}  // namespace ablate::app
