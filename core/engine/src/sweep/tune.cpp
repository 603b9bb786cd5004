// The tune stage's decisions (tune.h): successive halving and the choice of each arm's point.
#include "ablate/engine/tune.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "ablate/engine/json_file.h"
#include "ablate/engine/run_config.h"

namespace ablate {

namespace {

using nlohmann::json;


/// Lower is better: the loss as it is, accuracy negated.
double badness(const std::string& metric, double val_loss, double val_accuracy) {
  return metric == "val_accuracy" ? -val_accuracy : val_loss;
}

/// The evaluation step at which `run` meets each rung: the first multiple of eval_every at or
/// after ceil(fraction · steps), when that is before the last step.
std::vector<std::int64_t> rung_steps(const TuneSpec& tune, const RunSpec& run) {
  const TrainConfig train = decode_train_config(run.config);
  const std::int64_t steps = train.steps, every = train.eval_every;
  std::vector<std::int64_t> out;
  for (double f : tune.rungs) {
    const auto at = static_cast<std::int64_t>(std::ceil(f * static_cast<double>(steps)));
    const std::int64_t eval = (at + every - 1) / every * every;
    out.push_back(eval < steps ? eval : -1);
  }
  return out;
}

/// Which rung `step` is for `run` (index into tune.rungs), if any.
std::optional<std::size_t> rung_at(const TuneSpec& tune, const RunSpec& run, std::int64_t step) {
  const auto mine = rung_steps(tune, run);
  const auto rung = std::find(mine.begin(), mine.end(), step);
  if (rung == mine.end()) return std::nullopt;
  return static_cast<std::size_t>(rung - mine.begin());
}

/// The metric of a finished or stopped tuning run at evaluation `step`, from its metrics.jsonl.
std::optional<double> metric_at(const std::filesystem::path& run_dir, const std::string& metric, std::int64_t step) {
  std::ifstream in(run_dir / "metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    try {
      const json j = json::parse(line);
      if (j.value("step", std::int64_t{-1}) != step) continue;
      if (!j.contains("val_loss") || !j["val_loss"].is_number()) return std::nullopt;
      return badness(metric, j["val_loss"].get<double>(), j.value("val_accuracy", 0.0));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

std::filesystem::path tune_run_dir(const std::filesystem::path& sweep_dir, const RunSpec& run) {
  return sweep_dir / "tune" / run.id;
}

std::vector<HalvingPeer> halving_peers(const Sweep& sweep, const RunSpec& run, std::int64_t step) {
  if (!sweep.tune || sweep.tune->rungs.empty()) return {};
  const auto r = rung_at(*sweep.tune, run, step);
  if (!r) return {};
  std::vector<HalvingPeer> peers;
  for (const auto& other : sweep.tune_runs) {
    if (other.arm != run.arm || other.grid_point != run.grid_point || other.seed != run.seed ||
        other.tune_index >= run.tune_index)
      continue;
    const auto at = rung_steps(*sweep.tune, other)[*r];
    if (at >= 0) peers.push_back({&other, at});
  }
  return peers;
}

std::string halving_verdict(const Sweep& sweep, const RunSpec& run, std::int64_t step, double val_loss,
                            double val_accuracy, const std::filesystem::path& sweep_dir) {
  if (!sweep.tune || sweep.tune->rungs.empty()) return {};
  const TuneSpec& tune = *sweep.tune;
  const auto rung = rung_at(tune, run, step);
  if (!rung) return {};
  const std::size_t r = *rung;
  const double value = badness(tune.metric, val_loss, val_accuracy);

  std::vector<double> earlier;  // the same arm, grid point and seed, earlier tune points, at this rung
  for (const HalvingPeer& peer : halving_peers(sweep, run, step))
    if (auto v = metric_at(tune_run_dir(sweep_dir, *peer.run), tune.metric, peer.step)) earlier.push_back(*v);
  const std::size_t count = earlier.size() + 1;
  const auto keep_n = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(tune.keep * static_cast<double>(count))));
  const auto rank = static_cast<std::size_t>(std::count_if(earlier.begin(), earlier.end(), [&](double v) { return v < value; }));
  if (rank < keep_n) return {};
  const std::string metric_text = tune.metric == "val_accuracy" ? fmt::format("val accuracy {:.4f}", val_accuracy)
                                                                : fmt::format("val loss {:.4f}", val_loss);
  return fmt::format("successive halving at rung {} (step {}, {:g}% of {} steps): {} on the tuning split ranks {} of "
                     "{} points seen at this rung; only the best {} go on (keep {:g})",
                     r + 1, step, 100.0 * tune.rungs[r], decode_train_config(run.config).steps, metric_text,
                     rank + 1, count, keep_n, tune.keep);
}

TuneOutcome choose_tune_points(const Sweep& sweep, const std::filesystem::path& sweep_dir) {
  TuneOutcome outcome;
  if (!sweep.tune) return outcome;
  const TuneSpec& tune = *sweep.tune;
  json groups = json::array();
  // Tuning runs come arm by arm, grid point by grid point, tune point by tune point, seed by seed.
  std::map<std::string, std::size_t> group_index;
  for (const auto& run : sweep.tune_runs) {
    const std::string key = tune_group_key(run.arm, run.grid_point);
    auto [it, inserted] = group_index.emplace(key, groups.size());
    if (inserted)
      groups.push_back({{"key", key}, {"arm", run.arm}, {"grid_point", run.grid_point}, {"points", json::array()}});
    json& points = groups[it->second]["points"];
    if (points.empty() || points.back()["index"] != run.tune_index)
      points.push_back({{"index", run.tune_index}, {"values", run.tune_point}, {"runs", json::array()}});
    const json summary = read_json_file(tune_run_dir(sweep_dir, run) / "summary.json");
    json entry = {{"id", run.id}, {"seed", run.seed}, {"status", summary.is_object() ? summary.value("status", "pending") : "pending"}};
    if (entry["status"] == "done" && summary.contains(tune.metric) && summary[tune.metric].is_number())
      entry["final"] = summary[tune.metric];
    if (summary.is_object() && summary.contains("stopped_reason")) entry["stopped_reason"] = summary["stopped_reason"];
    if (summary.is_object() && summary.contains("error")) entry["error"] = summary["error"];
    points.back()["runs"].push_back(entry);
  }
  for (auto& group : groups) {
    std::optional<std::size_t> best;
    double best_badness = INFINITY;
    for (auto& point : group["points"]) {
      double sum = 0.0;
      std::size_t n = 0;
      bool complete = true;
      for (const auto& run : point["runs"]) {
        if (!run.contains("final")) { complete = false; break; }
        sum += run["final"].get<double>();
        ++n;
      }
      if (!complete || n == 0) {
        point["mean"] = nullptr;
        continue;
      }
      const double mean = sum / static_cast<double>(n);
      point["mean"] = mean;
      const double b = tune.metric == "val_accuracy" ? -mean : mean;
      if (b < best_badness) best_badness = b, best = point["index"].get<std::size_t>();
    }
    if (best) {
      group["chosen"] = *best;
      outcome.choices[group["key"].get<std::string>()] = *best;
    } else {
      group["chosen"] = nullptr;
      group["reason"] = "no tune point has all of its tuning runs finished";
    }
    group.erase("key");
  }
  outcome.table = {{"metric", tune.metric},
                   {"paths", tune.paths},
                   {"seeds", tune.seeds},
                   {"halving", tune.rungs.empty() ? json(nullptr) : json{{"rungs", tune.rungs}, {"keep", tune.keep}}},
                   {"groups", groups}};
  return outcome;
}

std::vector<std::string> tune_choices_at_grid_edge(const nlohmann::json& table) {
  std::vector<std::string> out;
  for (const auto& group : table.value("groups", nlohmann::json::array())) {
    const auto& points = group.value("points", nlohmann::json::array());
    const auto chosen = group.find("chosen");
    if (chosen == group.end() || !chosen->is_number_integer() || chosen->get<std::int64_t>() < 0 ||
        chosen->get<std::size_t>() >= points.size())
      continue;
    const nlohmann::json values = points[chosen->get<std::size_t>()].value("values", nlohmann::json::object());
    for (const auto& [path, value] : values.items()) {
      if (!value.is_number()) continue;
      std::set<double> tried;
      for (const auto& p : points) {
        const nlohmann::json other = p.value("values", nlohmann::json::object());
        if (const auto v = other.find(path); v != other.end() && v->is_number()) tried.insert(v->get<double>());
      }
      if (tried.size() < 3) continue;
      const double x = value.get<double>();
      const char* edge = x == *tried.rbegin() ? "largest" : x == *tried.begin() ? "smallest" : nullptr;
      if (edge == nullptr) continue;
      std::string where = fmt::format("arm '{}'", group.value("arm", std::string()));
      if (const auto gp = group.value("grid_point", nlohmann::json::object()); !gp.empty()) where += " at " + gp.dump();
      out.push_back(fmt::format("{} chose {} = {}, the {} value tried", where, path, value.dump(), edge));
    }
  }
  return out;
}

}  // namespace ablate
