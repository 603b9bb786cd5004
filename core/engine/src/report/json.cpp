// results.json: every number of the report, for scripts and notebooks (report.h has the layout).
// Limits: the same numbers as report.md, unrounded; statistics that are not defined are null with
// a "reason". Nothing here computes anything that report.md does not show.
#include <cmath>

#include "ablate/engine/build_info.h"
#include "report/internal.h"

namespace ablate::report {

namespace {

using nlohmann::json;

json number_or_null(std::optional<double> v) {
  return v && std::isfinite(*v) ? json(*v) : json(nullptr);
}

json summary_json(const stats::Summary& s) {
  json j = {{"n", s.n}};
  if (s.n == 0) return j;
  j["mean"] = s.mean;
  j["min"] = s.min;
  j["max"] = s.max;
  if (s.sd) j["sd"] = *s.sd;
  else j["sd_reason"] = s.sd.reason;
  if (s.ci) j["ci95"] = {s.ci->lo, s.ci->hi};
  else j["ci95_reason"] = s.ci.reason;
  return j;
}

json comparison_json(const Comparison& c) {
  json j = {{"arm", c.arm->label}, {"baseline", c.baseline->label}, {"grid_point", c.arm->grid_point},
            {"arm_summary", summary_json(c.arm_summary)}, {"baseline_summary", summary_json(c.base_summary)}};
  if (c.welch) {
    j["welch"] = {{"difference", c.welch->difference},
                  {"difference_ci95", {c.welch->difference_ci.lo, c.welch->difference_ci.hi}},
                  {"se", c.welch->se},
                  {"t", c.welch->t},
                  {"df", c.welch->df},
                  {"p", c.welch->p},
                  {"holm_p", number_or_null(c.holm_p)}};
  } else {
    j["welch"] = nullptr;
    j["welch_reason"] = c.welch.reason;
  }
  if (c.effect) {
    j["effect"] = {{"pooled_sd", c.effect->pooled_sd}, {"cohens_d", c.effect->cohens_d},
                   {"hedges_j", c.effect->j},          {"hedges_g", c.effect->hedges_g}};
    if (c.effect->g_ci) j["effect"]["hedges_g_ci95"] = {c.effect->g_ci->lo, c.effect->g_ci->hi};
    else j["effect"]["hedges_g_ci95_reason"] = c.effect->g_ci.reason;
  } else {
    j["effect"] = nullptr;
    j["effect_reason"] = c.effect.reason;
  }
  if (c.paired) {
    const auto& p = *c.paired;
    j["paired"] = {{"seeds", c.paired_seeds},
                   {"n", p.n},
                   {"mean_difference", p.mean_difference},
                   {"difference_ci95", {p.difference_ci.lo, p.difference_ci.hi}},
                   {"sd_difference", p.sd_difference},
                   {"se", p.se},
                   {"t", p.t},
                   {"df", p.df},
                   {"p", p.p},
                   {"holm_p", number_or_null(c.paired_holm_p)},
                   {"sign_flip_p", p.sign_flip_p ? json(*p.sign_flip_p) : json(nullptr)},
                   {"sign_flip_floor", p.sign_flip_floor},
                   {"correlation", p.correlation ? json(*p.correlation) : json(nullptr)}};
    if (!p.sign_flip_p) j["paired"]["sign_flip_reason"] = p.sign_flip_p.reason;
    if (!p.correlation) j["paired"]["correlation_reason"] = p.correlation.reason;
  } else {
    j["paired"] = nullptr;
    j["paired_reason"] = c.paired.reason;
  }
  return j;
}

json mean_or_null(const std::vector<double>& v) {
  if (v.empty()) return nullptr;
  return summary_json(stats::summarize(v));
}

json fair_json(const FairComparison& fair, bool target_from_sweep) {
  json rows = json::array();
  for (const auto& row : fair.rows)
    rows.push_back({{"arm", row.group->label},
                    {"runs", row.runs},
                    {"seconds_to_target", mean_or_null(row.seconds_to_target)},
                    {"tokens_to_target", mean_or_null(row.tokens_to_target)},
                    {"val_loss_at_equal_tokens", mean_or_null(row.loss_at_equal_tokens)},
                    {"val_loss_at_equal_time", mean_or_null(row.loss_at_equal_time)}});
  return {{"grid_point", fair.grid_point},
          {"target_loss", fair.target},
          {"target_from", target_from_sweep ? std::string("report.target_loss") : "worst arm: " + fair.worst->label},
          {"equal_tokens", number_or_null(fair.equal_tokens)},
          {"equal_seconds", number_or_null(fair.equal_seconds)},
          {"arms", rows}};
}

}  // namespace

json results_json(const SweepRecord& sweep) {
  // Per group: the summary.json numbers the report tabulates, each summarised over finished seeds.
  static const char* const kMetrics[] = {"val_loss",      "val_accuracy", "val_perplexity",    "train_loss",
                                         "train_seconds", "eval_seconds", "tokens_per_second", "tokens",
                                         "peak_memory_bytes", "mfu", "moe_dropped_fraction"};
  static const char* const kModel[] = {"params_total", "params_active", "flops_per_token"};
  json groups = json::array();
  for (const auto& g : sweep.groups) {
    json metrics = json::object();
    for (const char* key : kMetrics) metrics[key] = summary_json(g.summary(key));
    json model = json::object();
    for (const char* key : kModel) {
      std::optional<double> value;
      for (const auto* r : g.runs)
        if ((value = r->number(key))) break;
      model[key] = number_or_null(value);
    }
    json runs = json::array();
    for (const auto* r : g.runs) runs.push_back(r->id);
    groups.push_back({{"arm", g.arm},
                      {"label", g.label},
                      {"grid_point", g.grid_point},
                      {"baseline", g.is_baseline},
                      {"runs", runs},
                      {"runs_done", g.done.size()},
                      {"model", model},
                      {"metrics", metrics}});
  }
  json loss = json::array(), accuracy = json::array(), fair = json::array();
  for (const auto& c : sweep.comparisons) loss.push_back(comparison_json(c));
  for (const auto& c : sweep.accuracy_comparisons) accuracy.push_back(comparison_json(c));
  for (const auto& f : fair_comparisons(sweep)) fair.push_back(fair_json(f, sweep.target_loss.has_value()));

  static const char* const kRunNumbers[] = {"val_loss",       "val_accuracy",    "val_perplexity", "train_loss",
                                            "params_total",   "params_active",   "flops_per_token", "train_seconds",
                                            "eval_seconds",   "tokens",          "tokens_per_second", "train_flops",
                                            "peak_memory_bytes", "steps",        "peak_flops_per_second", "mfu",
                                            "moe_dropped_fraction"};
  json runs = json::array();
  for (const auto& r : sweep.runs) {
    json run = {{"id", r.id},         {"arm", r.arm},       {"seed", r.seed},
                {"grid_point", r.grid_point}, {"status", r.status}};
    if (!r.error.empty()) run["error"] = r.error;
    for (const char* key : kRunNumbers) run[key] = number_or_null(r.number(key));
    for (const char* key : {"device", "ablate_version", "ablate_git_commit", "torch_version", "precision", "mfu_reason"})
      if (r.summary.is_object() && r.summary.contains(key)) run[key] = r.summary[key];
    runs.push_back(std::move(run));
  }
  json provenance = {{"sweep_file", sweep.file}, {"report_by_ablate", ablate_version()},
                     {"report_by_git_commit", ablate_git_commit()}};
  for (const char* key : {"started", "ablate_version", "ablate_git_commit"})
    if (sweep.meta.is_object() && sweep.meta.contains(key)) provenance[std::string("sweep_") + key] = sweep.meta[key];
  return {{"name", sweep.name},
          {"baseline", sweep.baseline},
          {"arms", sweep.arms},
          {"provenance", provenance},
          {"target_loss", number_or_null(sweep.target_loss)},
          {"groups", groups},
          {"val_loss_comparisons", loss},
          {"val_accuracy_comparisons", accuracy},
          {"fair_comparisons", fair},
          {"budget", sweep.budget},
          {"tuning", sweep.tuning},
          {"seeds_on_demand", sweep.seed_rounds},
          {"runs", runs},
          {"warnings", sweep.warnings}};
}

}  // namespace ablate::report
