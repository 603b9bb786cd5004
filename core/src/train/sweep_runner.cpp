// Running a sweep (see sweep_runner.h).
#include "ablate/sweep_runner.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ablate/atomic_file.h"
#include "ablate/build_info.h"
#include "ablate/causality.h"
#include "ablate/data.h"
#include "ablate/device.h"
#include "ablate/error.h"
#include "ablate/json_file.h"
#include "ablate/model_plan.h"
#include "ablate/precision.h"
#include "ablate/report.h"
#include "ablate/run_lock.h"
#include "ablate/trainer.h"
#include "ablate/tune.h"
#include "ablate/version_check.h"
#include "ablate/utc_time.h"

namespace ablate {
namespace {

void print(const std::string& line) { std::cout << line << std::endl; }



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

// Out of GPU memory: train again with half the micro-batch and twice the accumulation (the same
// effective batch, and the sampler draws the same windows), from the run's last checkpoint, while
// the micro-batch can be halved. The run id is the configured one; summary.json records the retries.
nlohmann::json train_with_oom_retry(const RunSpec& run, const PreparedData& data, const PluginRegistry& registry,
                                    const TrainSettings& settings) {
  RunSpec attempt = run;
  nlohmann::json retries = nlohmann::json::array();
  for (;;) {
    try {
      nlohmann::json summary = train_run(attempt, data, registry, settings);
      if (!retries.empty()) {
        summary["oom_retries"] = retries;
        write_file_atomic(settings.run_dir / "summary.json", summary.dump(2));
      }
      return summary;
    } catch (const c10::OutOfMemoryError& e) {
      release_cached_memory(settings.device);
      nlohmann::json& train = attempt.config["train"];
      const std::int64_t batch = train.at("batch_size").get<std::int64_t>();
      if (batch < 2 || batch % 2 != 0) throw;
      train["batch_size"] = batch / 2;
      train["grad_accum"] = train.at("grad_accum").get<std::int64_t>() * 2;
      retries.push_back({{"batch_size", train["batch_size"]}, {"grad_accum", train["grad_accum"]},
                         {"error", std::string(e.what_without_backtrace()).substr(0, 300)}});
      print(fmt::format("[{}] out of GPU memory; retrying with batch_size {} and grad_accum {} (same effective batch)",
                        settings.label, train["batch_size"].dump(), train["grad_accum"].dump()));
    }
  }
}

/// Trains runs one after another into `runs_dir`/<id>: this shard's runs that are not finished and
/// not locked by another process; prepared data is shared between runs with the same data section;
/// a failing run is recorded and the queue goes on; a stop signal ends the queue after a checkpoint.
struct RunQueue {
  const PluginRegistry& registry;
  const SweepRunOptions& options;
  c10::Device device;
  Precision precision;
  std::filesystem::path cache_dir;
  SweepRunResult& result;
  std::map<std::string, PreparedData> data_by_config{};  // runs with the same data share it

  using AfterEval = std::function<std::string(std::int64_t, double, double)>;

  int stop_signal() const { return options.stop_signal ? options.stop_signal->load() : 0; }

  /// False when the queue was stopped by a signal or a run was interrupted.
  bool train(const std::vector<RunSpec>& runs, const std::filesystem::path& runs_dir, const std::string& what,
             const std::function<AfterEval(const RunSpec&)>& after_eval_for) {
    const std::size_t n = runs.size();
    // A run directory written by a newer ablate is refused before anything is trained.
    for (std::size_t i = 0; i < n; ++i)
      if (in_shard(i, options.shard)) refuse_newer_run_dir(runs_dir / runs[i].id);
    for (std::size_t i = 0; i < n; ++i) {
      if (stop_signal() != 0) return false;
      const RunSpec& run = runs[i];
      if (!in_shard(i, options.shard)) {
        ++result.not_in_shard;
        continue;
      }
      const auto run_dir = runs_dir / run.id;
      std::string label = fmt::format("{}run {}/{} {} seed {}", what, i + 1, n, run.arm, run.seed);
      if (!run.tune_point.empty()) label += " " + run.tune_point.dump();
      if (const std::string status = run_status(run_dir); status == "done" || status == "stopped") {
        print(fmt::format("[{}] {} already {}, skipped", label, run.id, status));
        ++result.skipped;
        continue;
      }
      const LockAttempt attempt = try_lock_run(run_dir, options.lock_stale_after);
      if (!attempt.warning.empty()) std::cerr << fmt::format("[{}] warning: {}", label, attempt.warning) << std::endl;
      if (!attempt.lock) {
        print(fmt::format("[{}] {} skipped: {}", label, run.id, attempt.held_by));
        ++result.locked;
        continue;
      }
      if (const std::string status = run_status(run_dir); status == "done" || status == "stopped") {
        ++result.skipped;  // finished by another process between the check and the lock
        continue;
      }
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
        TrainSettings settings{.device = device,
                               .precision = precision,
                               .run_dir = run_dir,
                               .label = label,
                               .checkpoint_every = options.checkpoint_every,
                               .checkpoint_minutes = options.checkpoint_minutes,
                               .stop_requested = [this](std::int64_t) { return stop_signal() != 0; },
                               .heartbeat = [&] { attempt.lock->heartbeat(); }};
        if (after_eval_for) settings.after_eval = after_eval_for(run);
        const auto summary = train_with_oom_retry(run, it->second, registry, settings);
        if (summary.at("status") == "diverged") ++result.diverged;
        if (summary.at("status") == "interrupted") {
          result.interrupted_run = run.id;
          result.interrupted_at_step = summary.at("steps").get<std::int64_t>();
          return false;
        }
        ++result.trained;
      } catch (const std::exception& e) {
        // One failing run must not end the sweep: record why and go on.
        ++result.failed;
        nlohmann::json summary = {{"id", run.id}, {"arm", run.arm}, {"seed", run.seed}, {"status", "failed"},
                                  {"grid_point", run.grid_point}, {"error", e.what()}};
        write_file_atomic(run_dir / "summary.json", summary.dump(2));
        std::cerr << fmt::format("[{}] failed: {}", label, e.what()) << std::endl;
      }
      release_cached_memory(device);  // the next run starts with the GPU's memory free
    }
    return stop_signal() == 0;
  }
};

/// True when every run has ended (done, stopped, failed or diverged) in `runs_dir`.
bool all_ended(const std::vector<RunSpec>& runs, const std::filesystem::path& runs_dir) {
  return std::all_of(runs.begin(), runs.end(), [&](const RunSpec& run) {
    const std::string status = run_status(runs_dir / run.id);
    return status == "done" || status == "stopped" || status == "failed" || status == "diverged";
  });
}

}  // namespace

std::filesystem::path sweep_directory(const Sweep& sweep, const std::filesystem::path& out_dir) {
  return out_dir / sweep.name;
}

SweepRunResult run_sweep(const Sweep& sweep, const PluginRegistry& registry, const SweepRunOptions& options) {
  if (options.threads > 0) at::set_num_threads(options.threads);
  const c10::Device device = parse_device(options.device);
  const Precision precision = parse_precision(options.precision, device);
  const auto cache_dir = options.cache_dir.empty() ? default_cache_dir() : options.cache_dir;
  SweepRunResult result;
  result.sweep_dir = sweep_directory(sweep, options.out_dir);
  std::filesystem::create_directories(result.sweep_dir / "runs");
  write_sweep_json(sweep, result.sweep_dir);
  prove_attention_causal(sweep, registry, device);

  RunQueue queue{registry, options, device, precision, cache_dir, result};
  if (!sweep.tune) {
    queue.train(sweep.runs, result.sweep_dir / "runs", "", {});
  } else if (queue.train(sweep.tune_runs, result.sweep_dir / "tune", "tuning ", [&](const RunSpec& run) {
               return [&sweep, &run, dir = result.sweep_dir](std::int64_t step, double loss, double accuracy) {
                 return halving_verdict(sweep, run, step, loss, accuracy, dir);
               };
             })) {
    // Tune, then replicate: each arm at its chosen point, once every tuning run (of every shard) has ended.
    if (!all_ended(sweep.tune_runs, result.sweep_dir / "tune")) {
      print("tune stage: some tuning runs are not finished (other shards or processes, or pending); the replication "
            "runs start once they are: run the same command again then");
    } else {
      const TuneOutcome outcome = choose_tune_points(sweep, result.sweep_dir);
      write_file_atomic(result.sweep_dir / "tune.json", outcome.table.dump(2));
      const Sweep replication = parse_sweep(sweep.text, sweep.file, registry, &outcome.choices);
      write_sweep_json(replication, result.sweep_dir);
      for (const auto& group : outcome.table["groups"])
        print(fmt::format("tune: arm '{}'{}: {}", group["arm"].get<std::string>(),
                          group["grid_point"].empty() ? std::string() : " at " + group["grid_point"].dump(),
                          group["chosen"].is_null()
                              ? "no point chosen (" + group["reason"].get<std::string>() + ")"
                              : "chose " + group["points"][group["chosen"].get<std::size_t>()]["values"].dump()));
      queue.train(replication.runs, result.sweep_dir / "runs", "", {});
    }
  }
  result.stopped_by = queue.stop_signal();
  result.report = write_report(result.sweep_dir);
  return result;
}

}  // namespace ablate
