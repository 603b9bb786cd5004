// Private to the report: the sweep directory as read from disk, grouped for statistics, and the
// helpers the report's files share (report.cpp: loading, red flags, provenance, report.md;
// report/tables.cpp: markdown tables and results.csv; report/fair.cpp: time to a target loss and
// loss at equal tokens / equal wall time; report/power.cpp: how many seeds; report/plots.cpp:
// gnuplot figures).
//
// A "group" is one arm at one grid point: statistics are over the seeds of a group, and an arm is
// compared with the baseline arm at the same grid point. Only runs with status "done" enter
// statistics; failed and diverged runs are listed with their error, pending ones as pending.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ablate/engine/stats.h"

namespace ablate::report {

/// One line of metrics.jsonl.
struct EvalPoint {
  std::int64_t step = 0;
  double tokens = 0.0;
  double seconds = 0.0;
  double val_loss = 0.0;
  /// MoE runs: per MoE layer, the fraction of routing assignments per expert (empty otherwise).
  std::vector<std::vector<double>> expert_load;
};

struct RunRecord {
  std::string id, arm;
  std::int64_t seed = 0;
  nlohmann::json grid_point = nlohmann::json::object();  // dotted path → value
  std::string status = "pending";   // pending | running | done | failed | diverged
  std::string error;                // failed/diverged: why; unreadable files: what
  nlohmann::json summary;           // summary.json (null when absent)
  nlohmann::json config;            // config.json (null when absent)
  std::vector<EvalPoint> curve;     // metrics.jsonl, in file order

  bool finished() const { return status == "done"; }
  /// A number of summary.json (top level), or nullopt when absent, null or not a number.
  std::optional<double> number(const std::string& key) const;
};

struct Group {
  std::string arm;
  nlohmann::json grid_point;
  std::string label;                   // "arm" or "arm @ path=value, ..."
  std::vector<const RunRecord*> runs;  // every run of the group, seed order
  std::vector<const RunRecord*> done;  // status done only
  bool is_baseline = false;
  const Group* baseline = nullptr;     // the baseline group at the same grid point (null for itself)

  std::vector<double> values(const std::string& key) const;  // over done runs that have the key
  std::size_t with_status(const std::string& status) const;   // runs of the group with that status
  stats::Summary summary(const std::string& key) const { const auto v = values(key); return stats::summarize(v); }
};

/// "3 / 1 / 0 / 4": the group's runs that are done, diverged, failed, and all of them.
std::string outcome_counts(const Group& g);

/// One metric (summary.json key) of `arm` against its baseline.
struct Comparison {
  const Group* arm = nullptr;
  const Group* baseline = nullptr;
  stats::Summary arm_summary, base_summary;
  stats::Maybe<stats::WelchTest> welch;
  stats::Maybe<stats::EffectSize> effect;
  std::optional<double> holm_p;  // Holm across the comparisons of the same metric
  // Runs matched by seed: the seeds finished (with the metric) in both groups, ascending, and the
  // two groups' values at those seeds, in that order.
  std::vector<std::int64_t> paired_seeds;
  std::vector<double> paired_arm, paired_base;
  stats::Maybe<stats::PairedTest> paired;  // undefined, with the reason, below 2 matched seeds
  std::optional<double> paired_holm_p;     // Holm of the paired t p across the same family
};

struct SweepRecord {
  std::filesystem::path dir;
  std::string name, file, baseline;
  std::vector<std::string> arms;
  std::vector<RunRecord> runs;
  std::vector<Group> groups;            // arm order, then grid-point order
  std::vector<Comparison> comparisons;  // val_loss: every non-baseline group with a baseline
  std::vector<Comparison> accuracy_comparisons;  // val_accuracy: the same groups, its own Holm family
  std::vector<std::string> warnings;    // unreadable files and the like
  std::size_t left_out = 0;             // run directories not in sweep.json, not merged
  std::optional<double> target_loss;    // sweep.json's report.target_loss, when set
  nlohmann::json meta;                  // sweep.json as read (provenance: started, git commit...)
  nlohmann::json budget;                // sweep.json's budget {"kind", "value"}, or null (equal steps)
  nlohmann::json tuning;                // tune.json (tune.h), or null without a tune stage
  nlohmann::json seed_rounds;           // seed_rounds.json (seed_rounds.h), or null without seeds on demand
};

/// The runs of sweep.json; run directories it does not list are counted (left_out) and pooled only
/// with `merge`. Throws ablate::Error when a group holds runs of different configurations.
SweepRecord load_sweep_dir(const std::filesystem::path& sweep_dir, bool merge = false);

// ---- formatting (report/tables.cpp) --------------------------------------------------------
/// What a done run trained and was scored on, as the report compares it.
struct Amounts {
  std::optional<double> steps, tokens;
  std::string eval_hash;  // empty: not recorded (older runs)
  std::int64_t eval_tokens = 0;
};
Amounts amounts_of(const RunRecord& run);

/// Everything a reviewer must see before any table: leaks, lost or failed runs, unequal or unfair
/// comparisons, suspicious gains (red_flags.cpp).
std::vector<std::string> red_flags(const SweepRecord& sweep);

std::string fmt_num(double v, int decimals);
std::string fmt_millions(std::optional<double> v);   // "1.23 M"
std::string fmt_grouped(std::optional<double> v);    // "12,345"
std::string fmt_mib(std::optional<double> bytes);    // "512 MiB" or "n/a"
std::string grid_label(const nlohmann::json& grid_point);  // "path=value, ..." or ""
std::string md_escape(const std::string& text);      // table-cell safe

/// The first run of a group whose summary.json has `key` (components, model_tree, data): done runs first.
const RunRecord* first_with(const Group& g, const std::string& key);
/// "1.2345 ± 0.0123": mean ± standard deviation over seeds.
std::string mean_sd(const stats::Summary& s, int decimals);
/// j[key] when it is a number.
std::optional<double> json_number(const nlohmann::json& j, const std::string& key);

std::string arm_tables(const SweepRecord& sweep);
std::string comparison_table(const SweepRecord& sweep);
std::string run_table(const SweepRecord& sweep);
std::string data_section(const SweepRecord& sweep);
std::string audit_section(const SweepRecord& sweep);
std::string accuracy_comparison_table(const SweepRecord& sweep);
std::string expert_load_table(const SweepRecord& sweep);  // empty when no run recorded expert loads
std::string results_csv(const SweepRecord& sweep);

// ---- fair comparisons (report/fair.cpp) ----------------------------------------------------
/// Linear interpolation of val loss on `curve` at x (tokens or seconds); nullopt outside the curve.
std::optional<double> loss_at(const std::vector<EvalPoint>& curve, double x, bool by_tokens);
/// The first x (tokens or seconds) at which `curve` reaches `target` (val loss ≤ target), linearly
/// interpolated between the two evaluations around the crossing; nullopt when never reached.
std::optional<double> first_reach(const std::vector<EvalPoint>& curve, double target, bool by_tokens);
/// One arm's numbers at one grid point: per seed that reached the target / had the point on its curve.
struct FairRow {
  const Group* group = nullptr;
  std::size_t runs = 0;  // finished runs with a curve
  std::vector<double> seconds_to_target, tokens_to_target, loss_at_equal_tokens, loss_at_equal_time;
};
struct FairComparison {
  nlohmann::json grid_point;
  const Group* worst = nullptr;  // the arm with the highest mean final loss
  double target = 0.0;           // report.target_loss, or the worst arm's mean final loss
  double equal_tokens = 0.0, equal_seconds = 0.0;
  std::vector<FairRow> rows;     // group order
};
std::vector<FairComparison> fair_comparisons(const SweepRecord& sweep);
std::string fair_section(const SweepRecord& sweep);

// ---- budgets and the tune stage (report/tune.cpp) -------------------------------------------
/// "steps" (no budget given), "tokens", "flops" or "seconds".
std::string budget_kind(const SweepRecord& sweep);
/// " — equal training FLOPs (2e+13 per run)" for figure titles; "" with no budget.
std::string budget_title(const SweepRecord& sweep);
/// The report's budget paragraph: what every run got and what stopped each run.
std::string budget_section(const SweepRecord& sweep);
/// The tune stage: rule, every point's tuning result, stopped points and each arm's choice ("" without).
std::string tuning_section(const SweepRecord& sweep);

// ---- seeds on demand (report/seed_rounds.cpp) ------------------------------------------------
/// The rule, its rounds and why each comparison stopped ("" without seeds on demand).
std::string seeds_on_demand_section(const SweepRecord& sweep);

// ---- results.json (report/json.cpp) ----------------------------------------------------------
/// Every number of the report as JSON: provenance, per-group summaries, comparisons, fair
/// comparisons, runs. Its layout is documented in report.h.
nlohmann::json results_json(const SweepRecord& sweep);
// ---- how many seeds (report/power.cpp) -----------------------------------------------------
/// Per validation-loss comparison: the power analysis (stats.h) as a table and one sentence each;
/// empty when the sweep has no comparison.
std::string power_section(const SweepRecord& sweep);

// ---- plots (report/plots.cpp) --------------------------------------------------------------
/// One figure: `stem`.png and `stem`.svg in the sweep directory, or a warning.
struct Figure {
  std::string stem, title;
  bool ok = false;
  std::string warning;  // why it is missing
};
std::vector<Figure> draw_plots(const SweepRecord& sweep);

}  // namespace ablate::report
