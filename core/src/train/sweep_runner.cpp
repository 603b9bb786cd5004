// Running a sweep (see sweep_runner.h).
#include "ablate/sweep_runner.h"

#include <chrono>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ablate/atomic_file.h"
#include "ablate/build_info.h"
#include "ablate/causality.h"
#include "ablate/data.h"
#include "ablate/device.h"
#include "ablate/error.h"
#include "ablate/model_plan.h"
#include "ablate/report.h"
#include "ablate/trainer.h"
#include "ablate/tune.h"

namespace ablate {
namespace {

void print(const std::string& line) { std::cout << line << std::endl; }

std::string status_of(const std::filesystem::path& run_dir) {
  std::ifstream in(run_dir / "summary.json");
  if (!in) return "pending";
  try {
    return nlohmann::json::parse(in).value("status", "pending");
  } catch (const std::exception&) {
    return "pending";  // unreadable: train again
  }
}

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// sweep.json lists the runs; sweep.yaml is the sweep file as given (provenance for the report).
void write_sweep_json(const Sweep& sweep, const std::filesystem::path& dir) {
  write_file_atomic(dir / "sweep.yaml", sweep.text);
  const auto list = [](const std::vector<RunSpec>& specs) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& run : specs) {
      out.push_back({{"id", run.id}, {"arm", run.arm}, {"seed", run.seed}, {"grid_point", run.grid_point}});
      if (!run.tune_point.empty()) out.back()["tune_point"] = run.tune_point;
    }
    return out;
  };
  const nlohmann::json j = {{"name", sweep.name},
                            {"file", std::filesystem::absolute(sweep.file).string()},
                            {"baseline", sweep.baseline},
                            {"arms", sweep.arms},
                            {"seeds", sweep.seeds},
                            {"report", sweep.target_loss ? nlohmann::json{{"target_loss", *sweep.target_loss}}
                                                         : nlohmann::json::object()},
                            {"budget", sweep.budget ? nlohmann::json{{"kind", sweep.budget->kind},
                                                                     {"value", sweep.budget->value}}
                                                    : nlohmann::json(nullptr)},
                            {"started", utc_now()},
                            {"ablate_version", ablate_version()},
                            {"ablate_git_commit", ablate_git_commit()},
                            {"runs", list(sweep.runs)},
                            {"tune_runs", list(sweep.tune_runs)},
                            {"replication_pending", sweep.replication_pending}};
  write_file_atomic(dir / "sweep.json", j.dump(2));
}

// Every distinct attention configuration of the sweep must pass the causality check in training
// and evaluation mode before any run trains.
void prove_attention_causal(const Sweep& sweep, const PluginRegistry& registry, const c10::Device& device) {
  std::set<std::string> checked;
  std::vector<const RunSpec*> all;
  for (const auto& run : sweep.runs) all.push_back(&run);
  for (const auto& run : sweep.tune_runs) all.push_back(&run);
  for (const RunSpec* run_ptr : all) {
    const RunSpec& run = *run_ptr;
    const auto& model = run.config.at("model");
    const nlohmann::json key = {model.at("attention"), model.at("d_model"), model.at("rope"),
                                run.config.at("data").at("seq_len")};
    if (!checked.insert(key.dump()).second) continue;
    const std::int64_t vocab = tokenizer_vocab_size(run.config.at("data"));
    const ModelPlan plan = plan_model(run.config, vocab, registry);
    auto attention = registry.create(plan.attention, plan.context(0));
    attention->to(device);
    for (const bool training : {true, false}) {
      attention->train(training);
      const CausalityResult result = check_causality(*attention, plan.d_model, plan.seq_len);
      if (!result.causal)
        throw Error(fmt::format("attention plugin '{}' fails the causality check in {} mode: {}", plan.attention.plugin,
                                training ? "training" : "evaluation", result.describe()),
                    "ablate refuses to train a model that can see the tokens it predicts", run.location_of("model.attention"));
    }
    print(fmt::format("attention '{}' ({}): proven causal in training and evaluation mode", plan.attention.plugin,
                      model.at("attention").dump()));
  }
}

/// Trains runs one after another into `runs_dir`/<id>, sharing prepared data between runs with the
/// same data section; skips runs already done (or stopped by halving), isolates failures.
struct RunQueue {
  const PluginRegistry& registry;
  c10::Device device;
  std::filesystem::path cache_dir;
  std::map<std::string, PreparedData> data_by_config;  // runs with the same data share it
  SweepRunResult& result;

  using AfterEval = std::function<std::string(std::int64_t, double, double)>;

  void train(const std::vector<RunSpec>& runs, const std::filesystem::path& runs_dir, const std::string& what,
             const std::function<AfterEval(const RunSpec&)>& after_eval_for) {
    const std::size_t n = runs.size();
    for (std::size_t i = 0; i < n; ++i) {
      const RunSpec& run = runs[i];
      const auto run_dir = runs_dir / run.id;
      std::string label = fmt::format("{}run {}/{} {} seed {}", what, i + 1, n, run.arm, run.seed);
      if (!run.tune_point.empty()) label += " " + run.tune_point.dump();
      if (const std::string status = status_of(run_dir); status == "done" || status == "stopped") {
        print(fmt::format("[{}] {} already {}, skipped", label, run.id, status));
        ++result.skipped;
        continue;
      }
      std::filesystem::create_directories(run_dir);
      write_file_atomic(run_dir / "config.yaml", config_to_yaml(run.config));
      write_file_atomic(run_dir / "config.json", run.config.dump(2));
      try {
        const nlohmann::json& data_config = run.config.at("data");
        auto it = data_by_config.find(data_config.dump());
        if (it == data_by_config.end())
          it = data_by_config
                   .emplace(data_config.dump(),
                            prepare_data(data_config, cache_dir, [](const std::string& s) { print("data: " + s); }))
                   .first;
        print(fmt::format("[{}] {} training on {}", label, run.id, device_description(device)));
        TrainSettings settings{.device = device, .run_dir = run_dir, .label = label};
        if (after_eval_for) settings.after_eval = after_eval_for(run);
        const auto summary = train_run(run, it->second, registry, settings);
        if (summary.at("status") == "diverged") ++result.diverged;
        ++result.trained;
      } catch (const std::exception& e) {
        // One failing run must not end the sweep: record why and go on.
        ++result.failed;
        nlohmann::json summary = {{"id", run.id}, {"arm", run.arm}, {"seed", run.seed}, {"status", "failed"},
                                  {"grid_point", run.grid_point}, {"error", e.what()}};
        write_file_atomic(run_dir / "summary.json", summary.dump(2));
        std::cerr << fmt::format("[{}] failed: {}", label, e.what()) << std::endl;
      }
    }
  }
};

}  // namespace

std::filesystem::path sweep_directory(const Sweep& sweep, const std::filesystem::path& out_dir) {
  return out_dir / sweep.name;
}

SweepRunResult run_sweep(const Sweep& sweep, const PluginRegistry& registry, const SweepRunOptions& options) {
  if (options.threads > 0) at::set_num_threads(options.threads);
  const c10::Device device = parse_device(options.device);
  const auto cache_dir = options.cache_dir.empty() ? default_cache_dir() : options.cache_dir;
  SweepRunResult result;
  result.sweep_dir = sweep_directory(sweep, options.out_dir);
  std::filesystem::create_directories(result.sweep_dir / "runs");
  write_sweep_json(sweep, result.sweep_dir);
  prove_attention_causal(sweep, registry, device);

  RunQueue queue{registry, device, cache_dir, {}, result};
  if (sweep.tune) {
    // Tune, then replicate: every arm's tuning runs first, then each arm at its chosen point.
    print(fmt::format("tune stage: {} tuning runs ({} points x {} seed(s) per arm and grid point), selected on {}",
                      sweep.tune_runs.size(), sweep.tune->points, sweep.tune->seeds.size(), sweep.tune->metric));
    queue.train(sweep.tune_runs, result.sweep_dir / "tune", "tuning ", [&](const RunSpec& run) {
      return [&sweep, &run, dir = result.sweep_dir](std::int64_t step, double loss, double accuracy) {
        return halving_verdict(sweep, run, step, loss, accuracy, dir);
      };
    });
    const TuneOutcome outcome = choose_tune_points(sweep, result.sweep_dir);
    write_file_atomic(result.sweep_dir / "tune.json", outcome.table.dump(2));
    const Sweep replication = parse_sweep(sweep.text, sweep.file, registry, &outcome.choices);
    write_sweep_json(replication, result.sweep_dir);
    for (const auto& group : outcome.table["groups"])
      print(fmt::format("tune: arm '{}'{}: {}", group["arm"].get<std::string>(),
                        group["grid_point"].empty() ? std::string() : " at " + group["grid_point"].dump(),
                        group["chosen"].is_null() ? "no point chosen (" + group["reason"].get<std::string>() + ")"
                                                  : "chose " + group["points"][group["chosen"].get<std::size_t>()]["values"].dump()));
    queue.train(replication.runs, result.sweep_dir / "runs", "", {});
  } else {
    queue.train(sweep.runs, result.sweep_dir / "runs", "", {});
  }
  result.report = write_report(result.sweep_dir);
  return result;
}

}  // namespace ablate
