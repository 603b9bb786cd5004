// Running a sweep (see sweep_runner.h).
#include "ablate/train/sweep_runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <exception>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "ablate/engine/atomic_file.h"
#include "ablate/engine/build_info.h"
#include "ablate/train/causality.h"
#include "ablate/train/cost_check.h"
#include "ablate/engine/data.h"
#include "ablate/train/device.h"
#include "ablate/engine/device_list.h"
#include "ablate/engine/error.h"
#include "ablate/train/generator_lock.h"
#include "ablate/engine/halving_board.h"
#include "ablate/engine/json_file.h"
#include "ablate/train/model.h"
#include "ablate/engine/model_plan.h"
#include "ablate/train/precision.h"
#include "ablate/engine/report.h"
#include "ablate/engine/run_config.h"
#include "ablate/engine/run_lock.h"
#include "ablate/engine/seed_rounds.h"
#include "ablate/engine/sequential.h"
#include "ablate/engine/shard.h"
#include "ablate/engine/sweep_clock.h"
#include "ablate/train/trainer.h"
#include "ablate/engine/tune.h"
#include "ablate/engine/version_check.h"
#include "sweep_proofs.h"
#include "ablate/engine/utc_time.h"

namespace ablate {
namespace {

// Every line ablate run prints, from any worker, goes through one lock: concurrent runs interleave
// whole lines, never parts of them, and stdout and stderr lines do not cut into each other.
std::mutex console_mutex;
void print(const std::string& line) {
  std::lock_guard lock(console_mutex);
  std::cout << line << std::endl;
}
void print_error(const std::string& line) {
  std::lock_guard lock(console_mutex);
  std::cerr << line << std::endl;
}

// sweep.json lists the runs; sweep.yaml is the sweep file as given (provenance for the report).
// With seeds on demand, `runs` lists only the runs its rounds have asked for so far (`wanted`,
// seed_rounds.h): the report compares what was trained, not the seeds that were never needed.
void write_sweep_json(const Sweep& sweep, const std::filesystem::path& dir,
                      const std::vector<std::string>* wanted = nullptr) {
  write_file_atomic(dir / "sweep.yaml", sweep.text);
  const auto list = [](const std::vector<RunSpec>& specs, const std::vector<std::string>* only) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& run : specs) {
      if (only && std::find(only->begin(), only->end(), run.id) == only->end()) continue;
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
                            {"seeds_on_demand", sweep.seeds_on_demand ? nlohmann::json(true) : nlohmann::json(false)},
                            {"report", sweep.target_loss ? nlohmann::json{{"target_loss", *sweep.target_loss}}
                                                         : nlohmann::json::object()},
                            {"budget", sweep.budget ? nlohmann::json{{"kind", sweep.budget->kind},
                                                                     {"value", sweep.budget->value}}
                                                    : nlohmann::json(nullptr)},
                            {"started", utc_now()},
                            {"ablate_version", ablate_version()},
                            {"ablate_git_commit", ablate_git_commit()},
                            {"runs", list(sweep.runs, wanted)},
                            {"tune_runs", list(sweep.tune_runs, nullptr)},
                            {"replication_pending", sweep.replication_pending}};
  write_file_atomic(dir / "sweep.json", j.dump(2));
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
      const TrainConfig train = decode_train_config(attempt.config);
      if (train.batch_size < 2 || train.batch_size % 2 != 0) throw;
      const std::int64_t batch_size = train.batch_size / 2, grad_accum = train.grad_accum * 2;
      write_micro_batch(attempt.config, batch_size, grad_accum);
      retries.push_back({{"batch_size", batch_size}, {"grad_accum", grad_accum},
                         {"error", std::string(e.what_without_backtrace()).substr(0, 300)}});
      print(fmt::format("[{}] out of GPU memory; retrying with batch_size {} and grad_accum {} (same effective batch)",
                        settings.label, batch_size, grad_accum));
    }
  }
}

/// Trains runs into `runs_dir`/<id> with one worker per entry of `workers` (a device; the same
/// device may appear several times), each taking the next run of the queue: this shard's runs that
/// are not finished and not locked by another process. Prepared data is shared between runs with
/// the same data section; a failing run is recorded and its worker goes on; a stop signal ends the
/// queue after every worker has checkpointed its run. With one worker it runs in the calling thread.
struct RunQueue {
  const PluginRegistry& registry;
  const SweepRunOptions& options;
  std::vector<c10::Device> workers;
  std::filesystem::path cache_dir;
  SweepRunResult& result;
  HalvingBoard board{};  // the tune stage's evaluations of runs in flight
  std::mutex mutex{};    // the queue's next run and `result`'s counts
  std::mutex data_mutex{};
  std::map<std::string, PreparedData> data_by_config{};  // runs with the same data share it
  std::atomic<bool> aborting{false};  // an error outside any one run: every worker stops
  std::map<std::string, nlohmann::json> cost_checks{};  // measured against declared, by model_key

  using AfterEval = std::function<std::string(std::int64_t, double, double)>;
  using AfterEvalFor = std::function<AfterEval(const RunSpec&)>;

  int stop_signal() const { return options.stop_signal ? options.stop_signal->load() : 0; }
  bool stopping() const { return stop_signal() != 0 || aborting.load(); }

  void count(int SweepRunResult::*field) {
    std::lock_guard lock(mutex);
    ++(result.*field);
  }

  /// The prepared data of a data section, prepared once (one preparation at a time).
  const PreparedData& prepared(const nlohmann::json& data_config) {
    std::lock_guard lock(data_mutex);
    auto it = data_by_config.find(data_config.dump());
    if (it == data_by_config.end())
      it = data_by_config
               .emplace(data_config.dump(),
                        prepare_data(data_config, cache_dir, [](const std::string& s) { print("data: " + s); }))
               .first;
    return it->second;
  }

  /// False when the queue was stopped by a signal or a run was interrupted. This process takes the
  /// runs of its --shard by position in `runs`, or every one with `all_mine` (a round of seeds on
  /// demand, whose caller has already chosen by position in the sweep).
  bool train(const std::vector<RunSpec>& runs, const std::filesystem::path& runs_dir, const std::string& what,
             const AfterEvalFor& after_eval_for, bool all_mine = false) {
    const auto mine = [&](std::size_t i) { return all_mine || in_shard(i, options.shard); };
    // A run directory written by a newer ablate is refused before anything is trained.
    for (std::size_t i = 0; i < runs.size(); ++i)
      if (mine(i)) refuse_newer_run_dir(runs_dir / runs[i].id);
    std::size_t to_train = 0;
    for (std::size_t i = 0; i < runs.size(); ++i)
      if (mine(i) && !run_finished(run_status(runs_dir / runs[i].id))) ++to_train;
    SweepClock clock(to_train, workers.size());
    std::size_t next = 0;
    std::exception_ptr error;
    const auto work = [&](std::size_t worker) {
      try {
        use_device_in_this_thread(workers[worker]);
        for (;;) {
          std::size_t i = 0;
          {
            std::lock_guard lock(mutex);
            if (stopping() || next >= runs.size()) return;
            i = next++;
            board.started(runs[i].id);  // under the queue's lock: earlier runs are on the board first
          }
          struct Ended {
            HalvingBoard& board;
            const std::string& id;
            ~Ended() { board.ended(id); }
          } ended{board, runs[i].id};
          train_one(runs, i, runs_dir, what, after_eval_for, worker, clock, all_mine);
        }
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!error) error = std::current_exception();
        aborting = true;  // the other workers checkpoint their runs and stop
      }
    };
    if (workers.size() == 1) {
      work(0);
    } else {
      std::vector<std::thread> threads;
      for (std::size_t w = 0; w < workers.size(); ++w) threads.emplace_back(work, w);
      for (auto& t : threads) t.join();
    }
    if (error) std::rethrow_exception(error);
    return !stopping();
  }

  void train_one(const std::vector<RunSpec>& runs, std::size_t i, const std::filesystem::path& runs_dir,
                 const std::string& what, const AfterEvalFor& after_eval_for, std::size_t worker, SweepClock& clock,
                 bool all_mine) {
    const RunSpec& run = runs[i];
    if (!all_mine && !in_shard(i, options.shard)) {
      count(&SweepRunResult::not_in_shard);
      return;
    }
    const c10::Device& device = workers[worker];
    const auto run_dir = runs_dir / run.id;
    std::string label = fmt::format("{}run {}/{} {} seed {}", what, i + 1, runs.size(), run.arm, run.seed);
    if (!run.tune_point.empty()) label += " " + run.tune_point.dump();
    if (const std::string status = run_status(run_dir); run_finished(status)) {
      print(fmt::format("[{}] {} already {}, skipped", label, run.id, status));
      count(&SweepRunResult::skipped);
      return;
    }
    const LockAttempt attempt = try_lock_run(run_dir, options.lock_stale_after);
    if (!attempt.warning.empty()) print_error(fmt::format("[{}] warning: {}", label, attempt.warning));
    if (!attempt.lock) {
      print(fmt::format("[{}] {} skipped: {}", label, run.id, attempt.held_by));
      count(&SweepRunResult::locked);
      return;
    }
    if (const std::string status = run_status(run_dir); run_finished(status)) {
      count(&SweepRunResult::skipped);  // finished by another process between the check and the lock
      return;
    }
    clock.run_started();
    struct Ended {  // counted however the run ends, for the pass's time left
      SweepClock& clock;
      std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
      ~Ended() { clock.run_ended(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()); }
    } ended{clock};
    write_file_atomic(run_dir / "config.yaml", config_to_yaml(run.config));
    write_file_atomic(run_dir / "config.json", run.config.dump(2));
    try {
      const PreparedData& data = prepared(decode_data_config(run.config).section);
      print(fmt::format("[{}] {} training on {}{}", label, run.id, device_description(device),
                        workers.size() > 1 ? fmt::format(" (worker {}/{})", worker + 1, workers.size()) : ""));
      TrainSettings settings{.device = device,
                             .precision = parse_precision(options.precision, device),
                             .cuda_graph = parse_cuda_graph_policy(options.cuda_graph),
                             .run_dir = run_dir,
                             .label = label,
                             .print = print,
                             .checkpoint_every = options.checkpoint_every,
                             .checkpoint_minutes = options.checkpoint_minutes,
                             .stop_requested = [this](std::int64_t) { return stopping(); },
                             .heartbeat = [&] { attempt.lock->heartbeat(); }};
      settings.sweep_time_left = [&clock](double elapsed, double left) { return clock.describe(elapsed, left); };
      if (after_eval_for) settings.after_eval = after_eval_for(run);
      settings.shared_device = std::count(workers.begin(), workers.end(), device) > 1;
      if (const auto it = cost_checks.find(model_key(run)); it != cost_checks.end()) settings.cost_check = it->second;
      const auto summary = train_with_oom_retry(run, data, registry, settings);
      std::lock_guard lock(mutex);
      if (summary.at("status") == "diverged") ++result.diverged;
      if (summary.at("status") == "failed") {  // its final weights failed the causality proof
        ++result.failed;
        print_error(fmt::format("[{}] failed: {}", label, summary.at("error").get<std::string>()));
        return;
      }
      if (summary.at("status") == "interrupted") {
        result.interrupted.push_back({run.id, summary.at("steps").get<std::int64_t>()});
        return;
      }
      ++result.trained;
    } catch (const std::exception& e) {
      // One failing run must not end the sweep: record why and go on.
      count(&SweepRunResult::failed);
      nlohmann::json summary = {{"id", run.id}, {"arm", run.arm}, {"seed", run.seed}, {"status", "failed"},
                                {"grid_point", run.grid_point}, {"error", e.what()}};
      write_file_atomic(run_dir / "summary.json", summary.dump(2));
      print_error(fmt::format("[{}] failed: {}", label, e.what()));
    }
    release_cached_memory(device);  // the next run starts with the GPU's memory free
  }
};

/// The settings of a model section that make training draw random numbers: any dropout
/// (model.dropout, attention's attn_dropout...) or noise (a router's noise_std) above 0, as dotted
/// paths with their values ("model.ffn.noise_std = 0.1").
void random_draws_in_training(const nlohmann::json& j, const std::string& path, std::set<std::string>& out) {
  if (!j.is_object()) return;
  for (const auto& [key, value] : j.items()) {
    const bool draws = key.find("dropout") != std::string::npos || key.find("noise") != std::string::npos;
    if (draws && value.is_number() && value.get<double>() > 0) out.insert(path + "." + key + " = " + value.dump());
    random_draws_in_training(value, path + "." + key, out);
  }
}

/// The workers' devices: --devices (each entry --runs-per-device times) or --device.
std::vector<c10::Device> worker_slots(const SweepRunOptions& options) {
  const std::vector<std::string> devices =
      options.devices.empty() ? std::vector<std::string>{options.device} : parse_device_list(options.devices);
  std::vector<c10::Device> slots;
  for (const auto& text : worker_devices(devices, options.runs_per_device)) slots.push_back(parse_device(text));
  return slots;
}

/// at::set_num_threads is process-wide: LibTorch keeps one intra-op thread count, which every thread
/// that runs an operator (each worker) applies to its own OpenMP team. With several CPU workers,
/// --threads (or LibTorch's default, one per core) is divided among them once, before they start.
void set_intra_op_threads(const SweepRunOptions& options, const std::vector<c10::Device>& workers) {
  const auto cpu_workers = static_cast<int>(std::count_if(workers.begin(), workers.end(), [](const c10::Device& d) {
    return d.is_cpu();
  }));
  if (cpu_workers <= 1) {
    if (options.threads > 0) at::set_num_threads(options.threads);
    return;
  }
  const int total = options.threads > 0 ? options.threads : at::get_num_threads();
  const int each = std::max(1, total / cpu_workers);
  at::set_num_threads(each);
  print(fmt::format("{} CPU workers share {} thread(s): {} intra-op thread(s) each{}", cpu_workers, total, each,
                    total < cpu_workers ? " (more workers than threads: the cores are oversubscribed)" : ""));
}

/// True when every run has ended (done, stopped, failed or diverged) in `runs_dir`.
bool all_ended(const std::vector<RunSpec>& runs, const std::filesystem::path& runs_dir) {
  return std::all_of(runs.begin(), runs.end(), [&](const RunSpec& run) {
    return run_ended(run_status(runs_dir / run.id));
  });
}

/// The runs of `runs` that have not ended and that no process holds the lock of.
std::vector<std::size_t> untaken(const std::vector<RunSpec>& runs, const std::filesystem::path& runs_dir) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < runs.size(); ++i)
    if (!run_ended(run_status(runs_dir / runs[i].id)) && !lock_holder(runs_dir / runs[i].id)) out.push_back(i);
  return out;
}

/// The design as seed_rounds.json records it ("design"): the rule's, with the sweep's α, the number
/// of comparisons and the correction.
nlohmann::json design_record(const CalibratedDesign& calibrated, const Sweep& sweep) {
  SeedRounds none;
  none.design = calibrated.design;
  nlohmann::json design = none.to_json()["design"];
  design["sweep_alpha"] = sweep.seeds_on_demand->design.alpha;
  design["comparisons"] = calibrated.comparisons;
  design["correction"] = sweep.seeds_on_demand->bonferroni ? "bonferroni" : "none";
  return design;
}

/// The designs of earlier runs of this sweep directory that differ from `design`: seed_rounds.json's
/// "earlier_designs", plus its "design" when that differs (`changed` then). The rule keeps its α
/// only for a design fixed before any result was seen: a larger `max` or another α chosen after a
/// look at the report is peeking, so every change stays on record for the report. The calibrated α'
/// is left out of the comparison: it follows from the rest.
struct EarlierDesigns {
  nlohmann::json designs = nlohmann::json::array();
  bool changed = false;
};
EarlierDesigns earlier_designs(const std::filesystem::path& sweep_dir, const nlohmann::json& design) {
  EarlierDesigns out;
  const nlohmann::json previous = read_json_file(sweep_dir / "seed_rounds.json");
  if (!previous.is_object()) return out;
  out.designs = previous.value("earlier_designs", nlohmann::json::array());
  if (const auto last = previous.find("design"); last != previous.end() && last->is_object()) {
    nlohmann::json a = *last, b = design;
    a.erase("spending_alpha");
    b.erase("spending_alpha");
    out.changed = a != b;
    if (out.changed) out.designs.push_back(*last);
  }
  return out;
}

/// The replication runs of a sweep with seeds on demand, in rounds (seed_rounds.h): replay the
/// rounds from the run directories, train what the round in progress still needs, and replay
/// again, until every comparison with the baseline is decided. Each pass this process first trains
/// the round's runs of its --shard (by the run's position in the sweep, so every shard splits a
/// round alike), then those no process has taken (another shard's not started yet, or left by a
/// process that ended), then waits for the ones other processes are training. sweep.json lists the
/// runs asked for so far, seed_rounds.json the rounds and the decisions (for the report).
bool train_in_seed_rounds(const Sweep& sweep, RunQueue& queue, const std::filesystem::path& sweep_dir) {
  const CalibratedDesign calibrated = calibrated_comparison_design(sweep);
  const stats::SequentialDesign& design = calibrated.design;
  const stats::SequentialCalibration& calibration = calibrated.calibration;
  const std::size_t comparisons = calibrated.comparisons;
  const double sweep_alpha = sweep.seeds_on_demand->design.alpha;
  const nlohmann::json design_json = design_record(calibrated, sweep);
  const EarlierDesigns earlier = earlier_designs(sweep_dir, design_json);
  if (earlier.changed)
    print_error(fmt::format("warning: seeds on demand: the design changed since the last run of this sweep (was {}, "
                            "now {}); the rule keeps its error rate only for a design fixed before any result was "
                            "seen, so the report flags the change",
                            earlier.designs.back().dump(), design_json.dump()));
  print(fmt::format("seeds on demand: {} to {} seeds per arm, {} more a round, until each comparison with '{}' is "
                    "decided{}; {} test, α = {:g} over all rounds{} (O'Brien–Fleming spending of the calibrated "
                    "α' = {:.4g})",
                    design.n_start, design.n_max, design.n_step, sweep.baseline,
                    design.ci_halfwidth > 0 ? fmt::format(" or its interval within ±{:g}", design.ci_halfwidth) : "",
                    design.paired ? "paired t" : "Welch", design.alpha,
                    design.alpha < sweep_alpha
                        ? fmt::format(" for each of the {} comparisons (Bonferroni: α = {:g} for the sweep)",
                                      comparisons, sweep_alpha)
                        : "",
                    design.spent_alpha()));
  const std::vector<SeedCandidate> candidates = seed_candidates(sweep);
  std::map<std::string, std::size_t> position;  // run id → its index in sweep.runs
  for (std::size_t i = 0; i < sweep.runs.size(); ++i) position[sweep.runs[i].id] = i;
  const auto runs_dir = sweep_dir / "runs";
  std::size_t announced = 0;    // rounds announced so far
  std::size_t waiting_for = 0;  // the round whose wait for other processes was announced
  std::set<std::string> decided;
  auto last_full_pass = std::chrono::steady_clock::now();
  for (;;) {
    const SeedRounds rounds = replay_seed_rounds(design, candidates, sweep.baseline, [&](const std::string& id) {
      return seed_run_result(runs_dir / id);
    });
    write_sweep_json(sweep, sweep_dir, &rounds.wanted);
    nlohmann::json state = rounds.to_json();
    state["design"] = design_json;
    state["earlier_designs"] = earlier.designs;
    state["calibration"] = {{"spending_alpha", calibration.spending_alpha},
                            {"uncalibrated_rate", calibration.uncalibrated_rate},
                            {"calibrated_rate", calibration.calibrated_rate},
                            {"replicates", calibration.replicates}};  // design's spending_alpha: what was used
    write_file_atomic(sweep_dir / "seed_rounds.json", state.dump(2));
    for (const auto& c : rounds.comparisons)
      if (c.decided && decided.insert(c.label()).second)
        print(fmt::format("seeds on demand: '{}'{} against '{}': {}", c.arm, c.group == "{}" ? "" : " at " + c.group,
                          sweep.baseline, c.reason));
    if (rounds.complete) {
      print(fmt::format("seeds on demand: every comparison decided after {} round(s), {} runs", rounds.rounds.size(),
                        rounds.wanted.size()));
      return true;
    }
    const SeedRound& round = rounds.rounds.back();
    if (rounds.rounds.size() != announced) {
      announced = rounds.rounds.size();
      print(fmt::format("seeds on demand: round {} of at most {}: {} seeds per arm for {} ({} runs, {} to train)",
                        announced, rounds.planned.size(), round.seeds, fmt::join(round.comparisons, ", "),
                        round.runs, rounds.to_train.size()));
    }
    std::vector<RunSpec> runs;
    std::vector<std::size_t> at;  // each run's position in the sweep
    for (const auto& id : rounds.to_train) {
      at.push_back(position.at(id));
      runs.push_back(sweep.runs[at.back()]);
    }
    const std::string what = fmt::format("round {} ", announced);
    std::vector<RunSpec> mine;
    for (std::size_t i = 0; i < runs.size(); ++i)
      if (in_shard(at[i], queue.options.shard)) mine.push_back(runs[i]);
    if (!queue.train(mine, runs_dir, what, {}, true)) return false;
    std::vector<RunSpec> left;
    for (const std::size_t i : untaken(runs, runs_dir)) left.push_back(runs[i]);
    if (!left.empty() && !queue.train(left, runs_dir, what, {}, true)) return false;
    if (all_ended(runs, runs_dir)) continue;
    // The rest are being trained by other processes. Once a minute every one is tried, which takes
    // over the lock of a process that died (run_lock.h).
    if (waiting_for != announced) {
      waiting_for = announced;
      print(fmt::format("seeds on demand: waiting for runs of round {} that other processes are training", announced));
    }
    for (int tick = 0; tick < 100 && !queue.stopping() && !all_ended(runs, runs_dir); ++tick)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (queue.stopping()) return false;
    if (std::chrono::steady_clock::now() - last_full_pass > std::chrono::minutes(1)) {
      last_full_pass = std::chrono::steady_clock::now();
      if (!queue.train(runs, runs_dir, what, {}, true)) return false;
    }
  }
}

/// The replication runs: all at once, or in rounds with seeds on demand.
bool train_replication(const Sweep& sweep, RunQueue& queue, const std::filesystem::path& sweep_dir) {
  if (sweep.seeds_on_demand) return train_in_seed_rounds(sweep, queue, sweep_dir);
  return queue.train(sweep.runs, sweep_dir / "runs", "", {});
}

}  // namespace

std::filesystem::path sweep_directory(const Sweep& sweep, const std::filesystem::path& out_dir) {
  return out_dir / sweep.name;
}

SweepRunResult run_sweep(const Sweep& sweep, const PluginRegistry& registry, const SweepRunOptions& options) {
  const std::vector<c10::Device> workers = worker_slots(options);
  set_intra_op_threads(options, workers);
  std::vector<c10::Device> devices;  // distinct, in order
  for (const auto& d : workers)
    if (std::find(devices.begin(), devices.end(), d) == devices.end()) devices.push_back(d);
  for (const auto& d : devices) parse_precision(options.precision, d);  // a bad value fails before training
  if (parse_cuda_graph_policy(options.cuda_graph) == CudaGraphPolicy::required)
    for (const auto& d : devices)
      if (!d.is_cuda())
        throw Error("--cuda-graph on needs CUDA devices, and " + d.str() + " is not one",
                    "use --cuda-graph auto (graphs where the device has them) or off");
  const auto cache_dir = options.cache_dir.empty() ? default_cache_dir() : options.cache_dir;
  SweepRunResult result;
  result.sweep_dir = sweep_directory(sweep, options.out_dir);
  std::filesystem::create_directories(result.sweep_dir / "runs");
  write_sweep_json(sweep, result.sweep_dir);
  prove_models_causal(sweep, registry, devices, options.precision, print);
  if (workers.size() > 1) {
    std::vector<std::string> names;
    for (const auto& d : workers) names.push_back(d.str());
    print(fmt::format("{} workers ({}), each training the next run of the queue", workers.size(), fmt::join(names, ", ")));
    std::set<std::string> draws;
    for (const auto* runs : {&sweep.runs, &sweep.tune_runs})
      for (const auto& run : *runs) random_draws_in_training(decode_model_config(run.config).section, "model", draws);
    if (!draws.empty() && devices.size() < workers.size())  // two workers share a device
      print_error(fmt::format(
          "warning: runs that draw random numbers while training ({}) share a device's generator with another "
          "worker here: their draws interleave, so they are not reproducible (their initial weights and batches "
          "still are); one worker per device (or one worker) trains them bit-identically",
          fmt::join(draws, "; ")));
  }

  RunQueue queue{registry, options, workers, cache_dir, result};
  queue.cost_checks = check_model_costs(sweep, registry, devices.front(), print_error);
  if (!sweep.tune) {
    train_replication(sweep, queue, result.sweep_dir);
  } else if (queue.train(sweep.tune_runs, result.sweep_dir / "tune", "tuning ", [&](const RunSpec& run) {
               // With several workers the earlier tune points may still be training: wait for them to
               // reach this rung (halving_board.h), so the verdict is the sequential one.
               return [&sweep, &run, &queue, dir = result.sweep_dir](std::int64_t step, double loss, double accuracy) {
                 queue.board.evaluated(run.id, step);
                 queue.board.wait_for(halving_peers(sweep, run, step), [&queue] { return queue.stopping(); });
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
      for (const auto& edge : tune_choices_at_grid_edge(outcome.table))
        print_error("warning: tune: " + edge + "; the best value may lie beyond: widen tune.axes past it");
      train_replication(replication, queue, result.sweep_dir);
    }
  }
  result.stopped_by = queue.stop_signal();
  result.report = write_report(result.sweep_dir);
  return result;
}

}  // namespace ablate
