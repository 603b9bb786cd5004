// Reading a sweep directory for the report (load_sweep_dir, report/internal.h): sweep.json's runs,
// each run's summary.json and metrics.jsonl, grouped by arm × grid point, and every arm compared
// with the baseline (validation loss, and validation accuracy as a second Holm family). Run
// directories sweep.json does not list are counted and pooled only with --merge.
#include "ablate/engine/report.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "ablate/engine/error.h"
#include "report/internal.h"

namespace ablate {
namespace report {

namespace fs = std::filesystem;
using nlohmann::json;

std::optional<double> RunRecord::number(const std::string& key) const {
  if (!summary.is_object()) return std::nullopt;
  const auto it = summary.find(key);
  if (it == summary.end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

std::size_t Group::with_status(const std::string& status) const {
  return static_cast<std::size_t>(
      std::count_if(runs.begin(), runs.end(), [&](const RunRecord* r) { return r->status == status; }));
}

std::string outcome_counts(const Group& g) {
  return fmt::format("{} / {} / {} / {}", g.done.size(), g.with_status("diverged"), g.with_status("failed"),
                     g.runs.size());
}

std::vector<double> Group::values(const std::string& key) const {
  std::vector<double> out;
  for (const auto* run : done)
    if (auto v = run->number(key)) out.push_back(*v);
  return out;
}

Amounts amounts_of(const RunRecord& run) {
  Amounts a{run.number("steps"), run.number("tokens"), {}, 0};
  if (const auto it = run.summary.find("eval_set"); it != run.summary.end() && it->is_object()) {
    a.eval_hash = it->value("hash", std::string());
    a.eval_tokens = it->value("tokens", std::int64_t{0});
  }
  return a;
}

namespace {

std::optional<json> read_json(const fs::path& path, std::vector<std::string>& warnings) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  try {
    return json::parse(in);
  } catch (const std::exception& e) {
    warnings.push_back(fmt::format("{} is not valid JSON ({}); ignored", path.string(), e.what()));
    return std::nullopt;
  }
}

std::vector<EvalPoint> read_metrics(const fs::path& path, std::vector<std::string>& warnings) {
  std::vector<EvalPoint> curve;
  std::ifstream in(path);
  std::string line;
  std::int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      const json j = json::parse(line);
      const auto& loss = j.at("val_loss");
      if (!loss.is_number() || !std::isfinite(loss.get<double>())) continue;
      EvalPoint point{j.value("step", std::int64_t{0}), j.value("tokens", 0.0), j.value("seconds", 0.0),
                      loss.get<double>()};
      // MoE: [[fraction per expert] per MoE layer]; a malformed value is ignored, not fatal.
      if (auto el = j.find("expert_load"); el != j.end() && el->is_array()) {
        for (const auto& layer : *el) {
          if (!layer.is_array() || layer.empty()) { point.expert_load.clear(); break; }
          std::vector<double> fractions;
          for (const auto& f : layer) fractions.push_back(f.is_number() ? f.get<double>() : std::nan(""));
          point.expert_load.push_back(std::move(fractions));
        }
      }
      curve.push_back(std::move(point));
    } catch (const std::exception& e) {
      warnings.push_back(fmt::format("{}:{}: unreadable metrics line ({}); skipped", path.string(), line_no, e.what()));
    }
  }
  return curve;
}

void read_run_files(const fs::path& run_dir, RunRecord& run, std::vector<std::string>& warnings) {
  if (auto s = read_json(run_dir / "summary.json", warnings); s && s->is_object()) {
    run.summary = *s;
    run.status = s->value("status", std::string("running"));
    if (auto e = s->find("error"); e != s->end() && e->is_string()) run.error = e->get<std::string>();
  }
  if (auto c = read_json(run_dir / "config.json", warnings)) run.config = *c;
  run.curve = read_metrics(run_dir / "metrics.jsonl", warnings);
  if (run.finished() && !run.number("val_loss")) {
    run.status = "failed";
    run.error = "summary.json says done but has no finite val_loss";
  }
}

void build_groups(SweepRecord& sweep) {
  std::map<std::string, std::size_t> index;  // arm + grid point → position in sweep.groups
  auto arm_rank = [&](const std::string& arm) {
    auto it = std::find(sweep.arms.begin(), sweep.arms.end(), arm);
    return static_cast<std::size_t>(it - sweep.arms.begin());
  };
  for (const auto& run : sweep.runs) {
    const std::string key = run.arm + "\n" + run.grid_point.dump();
    auto [it, inserted] = index.emplace(key, sweep.groups.size());
    if (inserted) {
      Group g;
      g.arm = run.arm;
      g.grid_point = run.grid_point;
      const std::string grid = grid_label(run.grid_point);
      g.label = grid.empty() ? run.arm : run.arm + " @ " + grid;
      g.is_baseline = run.arm == sweep.baseline;
      sweep.groups.push_back(std::move(g));
    }
  }
  std::stable_sort(sweep.groups.begin(), sweep.groups.end(),
                   [&](const Group& a, const Group& b) { return arm_rank(a.arm) < arm_rank(b.arm); });
  index.clear();
  for (std::size_t i = 0; i < sweep.groups.size(); ++i)
    index[sweep.groups[i].arm + "\n" + sweep.groups[i].grid_point.dump()] = i;
  for (const auto& run : sweep.runs) {
    auto& g = sweep.groups[index.at(run.arm + "\n" + run.grid_point.dump())];
    g.runs.push_back(&run);
    if (run.finished()) g.done.push_back(&run);
  }
  for (auto& g : sweep.groups) {
    auto by_seed = [](const RunRecord* a, const RunRecord* b) { return a->seed < b->seed; };
    std::stable_sort(g.runs.begin(), g.runs.end(), by_seed);
    std::stable_sort(g.done.begin(), g.done.end(), by_seed);
    if (g.is_baseline) continue;
    auto it = index.find(sweep.baseline + "\n" + g.grid_point.dump());
    if (it != index.end()) g.baseline = &sweep.groups[it->second];
  }
}

/// Pairs the runs of c's arm and baseline by seed (a seed fixes initialisation and data order, so
/// the same seed in both arms is one pair) and tests the pairs. A seed finished twice in a group
/// (merged sweeps) pairs its first run.
void pair_by_seed(Comparison& c, const std::string& key) {
  std::map<std::int64_t, double> base_by_seed;
  for (const auto* run : c.baseline->done)
    if (const auto v = run->number(key)) base_by_seed.emplace(run->seed, *v);
  for (const auto* run : c.arm->done) {  // seed order
    const auto v = run->number(key);
    const auto base = base_by_seed.find(run->seed);
    if (!v || base == base_by_seed.end()) continue;
    if (!c.paired_seeds.empty() && c.paired_seeds.back() == run->seed) continue;
    c.paired_seeds.push_back(run->seed);
    c.paired_arm.push_back(*v);
    c.paired_base.push_back(base->second);
  }
  if (c.paired_seeds.size() >= 2) {
    c.paired = stats::paired_test(c.paired_arm, c.paired_base);
  } else {
    c.paired = stats::Maybe<stats::PairedTest>::undefined(
        c.paired_seeds.empty()
            ? fmt::format("no seed finished in both `{}` and `{}`", c.arm->label, c.baseline->label)
            : fmt::format("only seed {} finished in both `{}` and `{}`; pairing needs at least 2", c.paired_seeds[0],
                          c.arm->label, c.baseline->label));
  }
}

// Every value of a JSON object as dotted path → value (arrays and scalars are leaves).
void flatten(const json& j, const std::string& path, std::map<std::string, json>& out) {
  if (!j.is_object()) {
    out[path] = j;
    return;
  }
  for (const auto& [key, value] : j.items()) flatten(value, path.empty() ? key : path + "." + key, out);
}

// The runs of one group must be one configuration apart from their seed, or its statistics pool
// different experiments (a merged directory, an edited sweep): refused with the keys that differ.
void refuse_mixed_groups(const SweepRecord& sweep) {
  for (const auto& g : sweep.groups) {
    const RunRecord* first = nullptr;
    std::map<std::string, json> reference;
    for (const RunRecord* run : g.runs) {
      if (!run->config.is_object() || run->config.empty()) continue;
      json config = run->config;
      config.erase("seed");
      std::map<std::string, json> flat;
      flatten(config, "", flat);
      if (!first) {
        first = run;
        reference = std::move(flat);
        continue;
      }
      std::vector<std::string> differ;
      for (const auto& [path, value] : flat)
        if (!reference.contains(path) || reference.at(path) != value) differ.push_back(path);
      for (const auto& [path, value] : reference)
        if (!flat.contains(path)) differ.push_back(path);
      if (differ.empty()) continue;
      std::sort(differ.begin(), differ.end());
      differ.erase(std::unique(differ.begin(), differ.end()), differ.end());
      throw Error(fmt::format("arm '{}' holds runs of different configurations: `{}` and `{}` differ in {}", g.label,
                              first->id, run->id, fmt::join(differ, ", ")),
                  "a group's runs may differ only in their seed: move one of them out of " +
                      (sweep.dir / "runs").string() + ", or give the configurations their own arms");
    }
  }
}

// Why two groups' runs cannot be compared on their evaluation numbers: their runs were scored on
// different evaluation sets (summary.json's eval_set hashes); "" when they were not, or when a run
// does not say (runs written before evaluation sets were recorded).
std::string evaluation_sets_differ(const Group& a, const Group& b) {
  std::set<std::string> hashes;
  for (const Group* g : {&a, &b})
    for (const RunRecord* run : g->done) {
      const std::string hash = amounts_of(*run).eval_hash;
      if (hash.empty()) return {};
      hashes.insert(hash);
    }
  return hashes.size() > 1 ? "not compared: the runs were scored on different evaluation tokens (see the red flags)"
                           : std::string();
}

/// Every group with a baseline against it on summary.json's `key`; Holm across this family, for
/// Welch's p and for the paired p separately.
std::vector<Comparison> compare(const SweepRecord& sweep, const std::string& key) {
  std::vector<Comparison> out;
  for (const auto& g : sweep.groups) {
    if (!g.baseline) continue;
    Comparison c;
    c.arm = &g;
    c.baseline = g.baseline;
    const auto x = g.values(key), y = g.baseline->values(key);
    c.arm_summary = stats::summarize(x);
    c.base_summary = stats::summarize(y);
    c.welch = stats::welch_test(x, y);
    c.effect = stats::effect_size(x, y);
    pair_by_seed(c, key);
    // Scored on other tokens: no test, whatever the numbers (the red flags name the sets).
    if (const std::string why = evaluation_sets_differ(g, *g.baseline); !why.empty()) {
      c.welch = stats::Maybe<stats::WelchTest>::undefined(why);
      c.effect = stats::Maybe<stats::EffectSize>::undefined(why);
      c.paired = stats::Maybe<stats::PairedTest>::undefined(why);
    }
    out.push_back(std::move(c));
  }
  std::vector<std::optional<double>> p, paired_p;
  for (const auto& c : out) {
    p.push_back(c.welch ? std::optional<double>(c.welch->p) : std::nullopt);
    paired_p.push_back(c.paired ? std::optional<double>(c.paired->p) : std::nullopt);
  }
  const auto adjusted = stats::holm_adjust(p), paired_adjusted = stats::holm_adjust(paired_p);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i].holm_p = adjusted[i];
    out[i].paired_holm_p = paired_adjusted[i];
  }
  return out;
}

}  // namespace

SweepRecord load_sweep_dir(const fs::path& sweep_dir, bool merge) {
  const fs::path sweep_file = sweep_dir / "sweep.json";
  if (!fs::exists(sweep_file))
    throw Error(fmt::format("no sweep.json in {} (looked for {})", sweep_dir.string(), sweep_file.string()),
                "pass the sweep's output directory, OUT/<sweep name>/, as written by `ablate run`");
  SweepRecord sweep;
  sweep.dir = sweep_dir;
  json meta;
  try {
    std::ifstream in(sweep_file);
    meta = json::parse(in);
  } catch (const std::exception& e) {
    throw Error(fmt::format("{} is not valid JSON: {}", sweep_file.string(), e.what()));
  }
  sweep.meta = meta;
  if (auto b = meta.find("budget"); b != meta.end() && b->is_object()) sweep.budget = *b;
  if (fs::exists(sweep_dir / "tune.json")) {
    if (auto t = read_json(sweep_dir / "tune.json", sweep.warnings); t && t->is_object()) sweep.tuning = *t;
  }
  if (meta.value("seeds_on_demand", false) && fs::exists(sweep_dir / "seed_rounds.json"))
    if (auto r = read_json(sweep_dir / "seed_rounds.json", sweep.warnings); r && r->is_object()) sweep.seed_rounds = *r;
  if (auto r = meta.find("report"); r != meta.end() && r->is_object())
    if (auto t = r->find("target_loss"); t != r->end() && t->is_number()) sweep.target_loss = t->get<double>();
  sweep.name = meta.value("name", sweep_dir.filename().string());
  sweep.file = meta.value("file", std::string());
  sweep.arms = meta.value("arms", std::vector<std::string>{});
  sweep.baseline = meta.value("baseline", sweep.arms.empty() ? std::string() : sweep.arms.front());

  std::set<std::string> seen;
  for (const auto& r : meta.value("runs", json::array())) {
    RunRecord run;
    run.id = r.value("id", std::string());
    if (run.id.empty() || !seen.insert(run.id).second) continue;
    run.arm = r.value("arm", std::string("base"));
    run.seed = r.value("seed", std::int64_t{0});
    if (auto gp = r.find("grid_point"); gp != r.end() && gp->is_object()) run.grid_point = *gp;
    read_run_files(sweep_dir / "runs" / run.id, run, sweep.warnings);
    sweep.runs.push_back(std::move(run));
  }
  // Run directories that sweep.json does not list: runs of an earlier version of the sweep (edited
  // and run again into the same --out), or of a sweep merged in. Pooled only when asked for.
  std::error_code ec;
  std::vector<fs::path> extra;
  for (const auto& entry : fs::directory_iterator(sweep_dir / "runs", ec))
    if (entry.is_directory() && !seen.count(entry.path().filename().string()) &&
        fs::exists(entry.path() / "summary.json"))
      extra.push_back(entry.path());
  std::sort(extra.begin(), extra.end());
  if (!merge) {
    sweep.left_out = extra.size();
    extra.clear();
  }
  for (const auto& dir : extra) {
    RunRecord run;
    run.id = dir.filename().string();
    read_run_files(dir, run, sweep.warnings);
    run.arm = run.summary.value("arm", std::string("base"));
    run.seed = run.summary.value("seed", std::int64_t{0});
    if (auto gp = run.summary.find("grid_point"); gp != run.summary.end() && gp->is_object()) run.grid_point = *gp;
    if (std::find(sweep.arms.begin(), sweep.arms.end(), run.arm) == sweep.arms.end()) sweep.arms.push_back(run.arm);
    sweep.runs.push_back(std::move(run));
  }
  if (sweep.baseline.empty() && !sweep.arms.empty()) sweep.baseline = sweep.arms.front();
  build_groups(sweep);
  refuse_mixed_groups(sweep);
  sweep.comparisons = compare(sweep, "val_loss");
  sweep.accuracy_comparisons = compare(sweep, "val_accuracy");
  return sweep;
}

// -------------------------------------------------------------------------------------------
// red flags: things a reviewer must see before any table

}  // namespace report
}  // namespace ablate
