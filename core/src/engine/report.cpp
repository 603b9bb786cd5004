// write_report (report.h): reads a sweep directory, groups runs (arm × grid point) and compares
// each arm with the baseline (validation loss, and validation accuracy as a second Holm family),
// then writes report.md (provenance line and red flags first), results.csv and the plots.
// Tables live in report_tables.cpp, fair comparisons in report_fair.cpp, figures in report_plots.cpp.
//
// Limits: reads only files; never trains. Statistics are on the final validation metrics of runs
// with status "done". Run directories that are not in sweep.json but have a summary.json are included
// (merged sweeps). A plot that gnuplot cannot draw becomes a warning line; tables are always written.
#include "ablate/report.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "ablate/error.h"
#include "ablate/utc_time.h"
#include "report_internal.h"

namespace ablate {
namespace report {

namespace fs = std::filesystem;
using nlohmann::json;

// -------------------------------------------------------------------------------------------
// reading the sweep directory

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

// What a done run trained and was scored on, as the report compares it.
struct Amounts {
  std::optional<double> steps, tokens;
  std::string eval_hash;  // empty: not recorded (older runs)
  std::int64_t eval_tokens = 0;
};
Amounts amounts_of(const RunRecord& run) {
  Amounts a{run.number("steps"), run.number("tokens"), {}, 0};
  if (const auto it = run.summary.find("eval_set"); it != run.summary.end() && it->is_object()) {
    a.eval_hash = it->value("hash", std::string());
    a.eval_tokens = it->value("tokens", std::int64_t{0});
  }
  return a;
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

namespace {

// The first four items joined by ", ", and ", ..." when there are more: a flag names a few runs.
std::string first_few(const std::vector<std::string>& items) {
  const std::size_t shown = std::min<std::size_t>(items.size(), 4);
  return fmt::format("{}{}", fmt::join(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(shown), ", "),
                     items.size() > shown ? ", ..." : "");
}

// Arms that lost runs to divergence or failure: their statistics are over the survivors.
std::vector<std::string> lost_runs(const SweepRecord& sweep) {
  std::vector<std::string> flags;
  for (const auto& g : sweep.groups) {
    const std::size_t diverged = g.with_status("diverged"), failed = g.with_status("failed");
    const std::size_t ended = g.done.size() + diverged + failed;
    if (diverged > 0 && 2 * diverged > ended)
      flags.push_back(fmt::format("**Diverged on most seeds:** `{}` diverged on {} of its {} ended runs; its statistics "
                                  "describe the {} that survived, not the arm.",
                                  g.label, diverged, ended, g.done.size()));
    else if (diverged + failed > 0)
      flags.push_back(fmt::format("**Lost runs:** `{}` has {} diverged and {} failed of its {} ended runs: its numbers "
                                  "are over the {} survivors.",
                                  g.label, diverged, failed, ended, g.done.size()));
  }
  return flags;
}

// Runs compared on different evaluation tokens, and (without a budget) arms at one grid point
// that trained different amounts: the comparison is then not what its tables' headers say.
std::vector<std::string> unequal_comparisons(const SweepRecord& sweep) {
  std::vector<std::string> flags;
  std::map<std::string, std::vector<std::string>> arms_by_eval;  // "hash (N tokens)" → group labels
  std::map<std::string, std::map<std::string, std::set<std::string>>> amounts_by_point;  // grid → label → amounts
  for (const auto& g : sweep.groups) {
    for (const RunRecord* run : g.done) {
      const Amounts a = amounts_of(*run);
      if (!a.eval_hash.empty()) {
        auto& arms = arms_by_eval[fmt::format("{} tokens, hash {}", a.eval_tokens, a.eval_hash)];
        if (std::find(arms.begin(), arms.end(), g.label) == arms.end()) arms.push_back(g.label);
      }
      amounts_by_point[g.grid_point.dump()][g.label].insert(
          fmt::format("{} steps, {} tokens", a.steps ? fmt::format("{:.0f}", *a.steps) : "?",
                      a.tokens ? fmt::format("{:.0f}", *a.tokens) : "?"));
    }
  }
  if (arms_by_eval.size() > 1) {
    std::vector<std::string> sets;
    for (const auto& [set, arms] : arms_by_eval) sets.push_back(fmt::format("{} ({})", fmt::join(arms, ", "), set));
    flags.push_back(fmt::format(
        "**Different evaluation sets:** the runs were not scored on the same tokens: {}. Losses and accuracies of "
        "runs with different sets are not comparable; this happens when arms or grid points change `data.*`, "
        "`data.seq_len` or `train.eval_tokens` (unavoidable for a data or length ablation: compare such arms by "
        "their trends, not their numbers).",
        fmt::join(sets, "; ")));
  }
  if (sweep.budget.is_null()) {
    for (const auto& [point, by_label] : amounts_by_point) {
      std::set<std::string> distinct;
      for (const auto& [label, amounts] : by_label) distinct.insert(amounts.begin(), amounts.end());
      if (distinct.size() <= 1) continue;
      std::vector<std::string> parts;
      for (const auto& [label, amounts] : by_label)
        parts.push_back(fmt::format("`{}` {}", label, fmt::join(amounts, " or ")));
      flags.push_back(fmt::format(
          "**Unequal training without a budget:** {}. The comparison is not at equal steps or tokens: set `budget:` "
          "(steps, tokens, flops or seconds) to make it so, or read the fair comparisons at equal tokens.",
          fmt::join(parts, "; ")));
    }
  }
  return flags;
}

// An arm whose validation loss beats its baseline's by far more than the seeds' spread allows and
// far more than any other arm at its grid point does: the signature of a leak (a model that sees
// the future or other rows, an evaluation set that differs, data that overlaps) rather than of a
// better component. Thresholds: a gain over 0.1 nats, over 10 spreads (the larger of the two arms'
// standard deviations over seeds, at least 0.005 nats, 0.02 when an arm has a single run), and
// over 3 times the next-largest gain at the same grid point.
std::vector<std::string> suspicious_gains(const SweepRecord& sweep) {
  std::vector<std::string> flags;
  const auto gain_of = [](const Group& g) -> std::optional<double> {
    if (!g.baseline || g.done.empty() || g.baseline->done.empty()) return std::nullopt;
    return g.baseline->summary("val_loss").mean - g.summary("val_loss").mean;
  };
  for (const auto& g : sweep.groups) {
    const auto gain = gain_of(g);
    if (!gain || *gain <= 0.1) continue;
    const auto a = g.summary("val_loss"), b = g.baseline->summary("val_loss");
    const double spread = (a.sd && b.sd) ? std::max({*a.sd, *b.sd, 0.005}) : 0.02;
    double next = 0.0;
    for (const auto& other : sweep.groups)
      if (&other != &g && other.grid_point == g.grid_point)
        if (const auto other_gain = gain_of(other)) next = std::max(next, *other_gain);
    if (*gain <= 10.0 * spread || *gain <= 3.0 * next) continue;
    flags.push_back(fmt::format(
        "**Suspiciously large gain:** `{}` beats the baseline `{}` by {:.3f} nats of validation loss ({:.4f} against "
        "{:.4f}), {:.0f}× the seeds' spread ({:.4f}) and {} any other arm's gain. A component rarely buys that much: "
        "check what the model can see (the causality verdict under \"What each arm trained\"), whether the arms were "
        "evaluated on the same tokens, and the data split, before believing it.",
        g.label, g.baseline->label, *gain, a.mean, b.mean, *gain / spread, spread,
        next > 0 ? fmt::format("{:.1f}×", *gain / next) : std::string("far beyond")));
  }
  return flags;
}

std::vector<std::string> red_flags(const SweepRecord& sweep) {
  std::vector<std::string> flags;
  // The signature of attention that sees the future: near-perfect next-token accuracy.
  for (const auto& run : sweep.runs) {
    if (!run.finished()) continue;
    const auto acc = run.number("val_accuracy");
    const auto loss = run.number("val_loss");
    std::optional<double> seq_len;
    if (run.config.is_object() && run.config.contains("data") && run.config["data"].contains("seq_len") &&
        run.config["data"]["seq_len"].is_number())
      seq_len = run.config["data"]["seq_len"].get<double>();
    if (acc && seq_len && *seq_len > 0) {
      const double threshold = 1.0 - 1.0 / *seq_len - 0.02;
      if (*acc >= threshold)
        flags.push_back(fmt::format("**Looks like non-causal attention:** run `{}` ({}, seed {}) has validation accuracy "
                                    "{:.4f} ≥ 1 − 1/T − 0.02 = {:.4f} (T = {}).",
                                    run.id, run.arm, run.seed, *acc, threshold, *seq_len));
    }
    if (loss && *loss < 0.1)
      flags.push_back(fmt::format("**Looks like non-causal attention:** run `{}` ({}, seed {}) has validation loss {:.4f} "
                                  "< 0.1 nats/token, implausibly low for language modelling.",
                                  run.id, run.arm, run.seed, *loss));
  }
  // Runs of an earlier version of the sweep, not pooled.
  if (sweep.left_out > 0)
    flags.push_back(fmt::format("**Runs left out:** {} run director(ies) under `runs/` are not runs of the sweep as last "
                                "expanded (an earlier version of the sweep file, run into the same directory): this "
                                "report leaves them out. `ablate report --merge` pools them, if their configurations "
                                "match their arms'.",
                                sweep.left_out));
  // Different evaluation tokens, or different amounts of training without a budget.
  for (const auto& flag : unequal_comparisons(sweep)) flags.push_back(flag);
  // Runs lost to divergence or failure: survivors only is not the arm.
  for (const auto& flag : lost_runs(sweep)) flags.push_back(flag);
  // A gain no component earns honestly: far beyond the seeds' spread and far beyond every other arm.
  for (const auto& flag : suspicious_gains(sweep)) flags.push_back(flag);
  // Components trained on their declared cost although the host measured otherwise.
  std::set<std::string> trust_seen;
  for (const auto& run : sweep.runs) {
    const auto checks = run.summary.is_object() ? run.summary.find("cost_check") : run.summary.end();
    if (!run.summary.is_object() || checks == run.summary.end() || !checks->is_array()) continue;
    for (const auto& c : *checks) {
      if (!c.value("accepted", false) || !trust_seen.insert(run.arm + "/" + c.dump()).second) continue;
      flags.push_back(fmt::format(
          "**Declared cost taken on trust:** arm `{}`'s {} ({} '{}') declares {:.4g} forward FLOPs per token and {} "
          "active parameters; ablate measured {:.4g} and {} (`trust.accept_declared_cost`). Its FLOPs, active "
          "parameters and MFU in this report are the plugin's word, not what it spent.",
          run.arm, c.value("part", std::string("?")), c.value("kind", std::string("?")),
          c.value("plugin", std::string("?")), c["declared"].value("flops_per_token", 0.0),
          c["declared"].value("params_active", std::int64_t{0}), c["measured"].value("flops_per_token", 0.0),
          c["measured"].value("params_active", std::int64_t{0})));
    }
  }
  // Train/validation overlap.
  std::set<std::string> overlap_seen;
  for (const auto& run : sweep.runs) {
    if (!run.summary.is_object() || !run.summary.contains("data")) continue;
    const auto& d = run.summary["data"];
    if (d.contains("overlap_documents") && d["overlap_documents"].is_number() &&
        d["overlap_documents"].get<double>() > 0 && overlap_seen.insert(d.dump()).second)
      flags.push_back(fmt::format("**Training and validation overlap:** {} document(s) appear in both splits "
                                  "(first seen in run `{}`); validation numbers are optimistic.",
                                  d["overlap_documents"].dump(), run.id));
  }
  // Two arms that built the same model.
  for (std::size_t i = 0; i < sweep.groups.size(); ++i) {
    for (std::size_t k = i + 1; k < sweep.groups.size(); ++k) {
      const auto &a = sweep.groups[i], &b = sweep.groups[k];
      if (a.arm == b.arm || a.grid_point != b.grid_point) continue;
      const RunRecord* ra = nullptr;
      const RunRecord* rb = nullptr;
      for (const auto* r : a.runs) if (r->summary.is_object() && r->summary.contains("model_tree")) { ra = r; break; }
      for (const auto* r : b.runs) if (r->summary.is_object() && r->summary.contains("model_tree")) { rb = r; break; }
      if (!ra || !rb || ra->summary["model_tree"] != rb->summary["model_tree"]) continue;
      const bool configs_differ = ra->config.is_object() && rb->config.is_object() && ra->config.contains("model") &&
                                  rb->config.contains("model") && ra->config["model"] != rb->config["model"];
      flags.push_back(fmt::format(
          "**Identical models:** arms `{}` and `{}` built the same `model_tree`{}.", a.label, b.label,
          configs_differ ? " although their model configurations differ — the override did not change the model"
                         : " (expected only if they differ in training or data settings)"));
    }
  }
  // Failed and diverged runs.
  for (const auto& run : sweep.runs)
    if (run.status == "failed" || run.status == "diverged")
      flags.push_back(fmt::format("**Run {}:** `{}` ({}, seed {}{}): {}. Excluded from the statistics.", run.status,
                                  run.id, run.arm, run.seed,
                                  grid_label(run.grid_point).empty() ? "" : ", " + grid_label(run.grid_point),
                                  run.error.empty() ? "no error recorded" : md_escape(run.error)));
  // Too few seeds.
  for (const auto& g : sweep.groups)
    if (g.done.size() < 3)
      flags.push_back(fmt::format("**Too few seeds:** `{}` has {} finished run(s) of {}; at least 3 seeds per arm are "
                                  "needed for a confidence interval worth reading{}.",
                                  g.label, g.done.size(), g.runs.size(),
                                  g.done.size() < 2 ? ", and tests against it are not defined" : ""));
  // Runs timed on a busy machine: their seconds include waiting for other processes.
  std::vector<std::string> busy;
  for (const auto& run : sweep.runs) {
    const auto load = run.number("load_average"), cpus = run.number("cpu_count");
    if (run.finished() && load && cpus && *cpus > 0 && *load > *cpus)
      busy.push_back(fmt::format("`{}` ({:.1f} on {:.0f} cores)", run.id, *load, *cpus));
  }
  if (!busy.empty())
    flags.push_back(fmt::format("**Busy machine:** {} run(s) ended with a 1-minute load average above the machine's "
                                "core count: {}. Their times, throughput and the equal-time and time-to-target "
                                "comparisons include waiting for other processes; compare their losses, not their "
                                "times.",
                                busy.size(), first_few(busy)));
  // Runs trained side by side on one device (--runs-per-device > 1): each one's time includes the other's.
  std::vector<std::string> shared;
  for (const auto& run : sweep.runs)
    if (run.finished() && run.summary.is_object() && run.summary.value("shared_device", false))
      shared.push_back(fmt::format("`{}`", run.id));
  if (!shared.empty())
    flags.push_back(fmt::format("**Shared devices:** {} run(s) trained side by side with another run on the same "
                                "device (`--runs-per-device`): {}. Their train times, throughput, MFU and the "
                                "equal-time and time-to-target comparisons measure the sharing; compare their losses, "
                                "not their times, or train them one per device.",
                                shared.size(), first_few(shared)));
  // Pending, running, or interrupted (stopped with a checkpoint, resumed by the next `ablate run`).
  std::size_t pending = 0;
  for (const auto& run : sweep.runs)
    pending += (run.status == "pending" || run.status == "running" || run.status == "interrupted") ? 1 : 0;
  if (pending > 0)
    flags.push_back(fmt::format("**Incomplete sweep:** {} of {} runs are pending, running or interrupted; this report "
                                "covers the finished ones.", pending, sweep.runs.size()));
  return flags;
}


/// Distinct string values of a summary.json key over all runs, or "not recorded".
std::string distinct_values(const SweepRecord& sweep, const std::string& key) {
  std::set<std::string> values;
  for (const auto& run : sweep.runs)
    if (run.summary.is_object() && run.summary.contains(key) && run.summary[key].is_string())
      values.insert(run.summary[key].get<std::string>());
  if (values.empty()) return "not recorded";
  return fmt::format("{}", fmt::join(values.begin(), values.end(), ", "));
}

/// What produced the runs (ablate version and commit, devices, LibTorch) as the summaries record
/// them, when the sweep started, and the sweep file as given (sweep.yaml beside the report).
std::string provenance_line(const SweepRecord& sweep) {
  const auto meta_text = [&](const char* key) {
    return sweep.meta.is_object() && sweep.meta.contains(key) && sweep.meta[key].is_string()
               ? sweep.meta[key].get<std::string>()
               : std::string("not recorded");
  };
  return fmt::format("**Provenance:** ablate {} (git commit {}) · devices: {} · LibTorch {} (from the runs' "
                     "summary.json; several values mean the runs were made by different builds or machines) · "
                     "sweep started {} · sweep file as given: {}.\n\n",
                     md_escape(distinct_values(sweep, "ablate_version")),
                     md_escape(distinct_values(sweep, "ablate_git_commit")), md_escape(distinct_values(sweep, "device")),
                     md_escape(distinct_values(sweep, "torch_version")), md_escape(meta_text("started")),
                     std::filesystem::exists(sweep.dir / "sweep.yaml") ? "[sweep.yaml](sweep.yaml)" : "not recorded");
}

void write_text(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw Error(fmt::format("cannot write {}", tmp.string()));
    out << text;
    if (!out.flush()) throw Error(fmt::format("cannot write {}", tmp.string()));
  }
  fs::rename(tmp, path);
}

}  // namespace
}  // namespace report

// -------------------------------------------------------------------------------------------
// report.md

std::filesystem::path write_report(const std::filesystem::path& sweep_dir, const ReportOptions& options) {
  using namespace report;
  const SweepRecord sweep = load_sweep_dir(sweep_dir, options.merge);
  // CSV first: it never depends on gnuplot.
  write_text(sweep_dir / "results.csv", results_csv(sweep));
  write_text(sweep_dir / "results.json", results_json(sweep).dump(2) + "\n");
  const auto figures = draw_plots(sweep);

  std::size_t done = 0;
  for (const auto& run : sweep.runs) done += run.finished() ? 1 : 0;

  std::ostringstream md;
  md << fmt::format("# Ablation report: {}\n\n", sweep.name);
  md << provenance_line(sweep);
  md << fmt::format("Sweep file `{}` · baseline arm **{}** · {} arm(s), {} run(s), {} finished · "
                    "report written {}.\n\n",
                    sweep.file.empty() ? "(unknown)" : sweep.file, sweep.baseline, sweep.arms.size(),
                    sweep.runs.size(), done, utc_now("%Y-%m-%d %H:%M UTC"));
  md << "All statistics are over seeds, on the final validation loss (nats per token) and validation accuracy of "
        "runs with status `done`. Every number here is also in results.json (unrounded) and per run in results.csv.\n\n";

  md << "## Red flags\n\n";
  const auto flags = red_flags(sweep);
  if (flags.empty()) md << "None found (checked: near-perfect accuracy or implausibly low loss, train/validation "
                           "overlap, identical models across arms, failed or diverged runs, fewer than 3 seeds).\n\n";
  for (const auto& f : flags) md << "- " << f << "\n";
  for (const auto& w : sweep.warnings) md << "- **Unreadable file:** " << md_escape(w) << "\n";
  if (!flags.empty() || !sweep.warnings.empty()) md << "\n";

  md << budget_section(sweep);
  md << arm_tables(sweep);
  md << comparison_table(sweep);
  md << accuracy_comparison_table(sweep);
  md << power_section(sweep);
  md << fair_section(sweep);
  md << tuning_section(sweep);
  md << expert_load_table(sweep);

  md << "## Plots\n\n";
  for (const auto& f : figures) {
    if (f.ok)
      md << fmt::format("![{}]({}.png)\n\n[SVG version]({}.svg)\n\n", f.title, f.stem, f.stem);
    else
      md << fmt::format("> **Warning:** plot \"{}\" was not drawn: {}\n\n", f.title, md_escape(f.warning));
  }

  md << run_table(sweep);
  md << data_section(sweep);
  md << audit_section(sweep);

  const fs::path path = sweep_dir / "report.md";
  write_text(path, md.str());
  return path;
}

}  // namespace ablate
