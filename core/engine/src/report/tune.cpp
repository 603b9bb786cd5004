// The report's budget paragraph and tune-stage section (report/internal.h), from sweep.json's
// "budget" and tune.json (tune.h). Limits: formatting only; the choice itself is made by
// choose_tune_points when the sweep runs, and read here as it was written.
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "report/internal.h"

namespace ablate::report {

using nlohmann::json;

std::string budget_kind(const SweepRecord& sweep) {
  if (!sweep.budget.is_object() || !sweep.budget.contains("kind")) return "steps";
  return sweep.budget["kind"].get<std::string>();
}

namespace {

std::string budget_words(const std::string& kind) {
  if (kind == "tokens") return "equal training tokens";
  if (kind == "flops") return "equal training FLOPs";
  if (kind == "seconds") return "equal wall-clock training time";
  return "equal optimizer steps";
}

std::string value_text(const json& budget) {
  const double v = budget.value("value", 0.0);
  const std::string kind = budget.value("kind", std::string("steps"));
  if (kind == "seconds") return fmt::format("{:g} s of training", v);
  if (kind == "flops") return fmt::format("{:.3g} training FLOPs", v);
  return fmt::format("{:g} {}", v, kind);
}

// Whether the tuning seeds are also replication seeds: the sweep named them so (the default tuning
// seed is one no replication run uses); the report says so, since the selection's luck on those
// seeds then carries into the compared runs.
std::string tuning_seed_overlap(const SweepRecord& sweep, const json& tuning_seeds) {
  std::set<std::int64_t> replication;
  for (const auto& run : sweep.runs) replication.insert(run.seed);
  std::vector<std::int64_t> shared;
  for (const auto& seed : tuning_seeds)
    if (seed.is_number_integer() && replication.contains(seed.get<std::int64_t>())) shared.push_back(seed.get<std::int64_t>());
  if (shared.empty()) return " (disjoint from the replication seeds)";
  return fmt::format(" (**also replication seed(s) {}**, as the sweep's `tune.seeds` asks: the chosen point's luck on "
                     "those seeds carries into the compared runs)",
                     fmt::join(shared, ", "));
}

}  // namespace

std::string budget_title(const SweepRecord& sweep) {
  if (budget_kind(sweep) == "steps") return {};
  return fmt::format(" — {} ({} per run)", budget_words(budget_kind(sweep)), value_text(sweep.budget));
}

std::string budget_section(const SweepRecord& sweep) {
  const std::string kind = budget_kind(sweep);
  std::ostringstream md;
  md << "## Budget\n\n";
  if (kind == "steps" && sweep.budget.is_null()) {
    // Say what happened: equal steps only if every done run trained as many.
    std::set<double> steps, tokens;
    for (const auto& run : sweep.runs)
      if (run.finished()) {
        if (const auto s = run.number("steps")) steps.insert(*s);
        if (const auto t = run.number("tokens")) tokens.insert(*t);
      }
    md << "Every run trained for its own `train.steps` (no `budget:` in the sweep). ";
    if (steps.size() <= 1 && tokens.size() <= 1)
      md << "All finished runs trained the same steps and tokens, so arms that differ in size or speed are compared "
            "at equal steps; see the fair comparisons for equal tokens and equal time.\n\n";
    else
      md << fmt::format("**The runs did not train equal amounts** ({} distinct step counts, {} distinct token "
                        "counts; see the red flags): the comparison is at no common budget.\n\n",
                        steps.size(), tokens.size());
  } else {
    md << fmt::format("**Comparison at {}: {} per run.** ", budget_words(kind), value_text(sweep.budget));
    if (kind == "tokens")
      md << "Each run's steps are the budget divided by its tokens per step (batch × accumulation × sequence length).";
    else if (kind == "flops")
      md << "Each run's steps are the budget divided by its training FLOPs per step, 3 × (forward FLOPs per token of "
            "the components it built) × tokens per step, so a larger model trains fewer steps.";
    else if (kind == "seconds")
      md << "Each run stopped after that much training time (evaluation excluded); its learning-rate schedule followed "
            "the fraction of time used, and `train.steps` was only a cap.";
    md << "\n\n";
  }
  // What stopped each arm's runs: the budget's unit, the step cap, halving or divergence.
  std::ostringstream rows;
  for (const auto& g : sweep.groups) {
    std::map<std::string, int> by;
    for (const auto* r : g.runs)
      if (r->summary.is_object() && r->summary.contains("stopped_by") && r->summary["stopped_by"].is_string())
        ++by[r->summary["stopped_by"].get<std::string>()];
    if (by.empty()) continue;
    std::string text;
    for (const auto& [why, n] : by) text += fmt::format("{}{} by {}", text.empty() ? "" : ", ", n, why);
    const auto steps = g.summary("steps");
    const auto flops = g.summary("train_flops");
    rows << fmt::format("| {} | {} | {} | {} |\n", md_escape(g.label), text,
                        steps.n ? fmt_grouped(steps.mean) : "—", flops.n ? fmt::format("{:.3g}", flops.mean) : "—");
  }
  if (!rows.str().empty()) {
    md << "| Arm | Runs stopped | Steps (mean) | Training FLOPs (mean) |\n|---|---|---:|---:|\n" << rows.str() << "\n";
  }
  return md.str();
}

std::string tuning_section(const SweepRecord& sweep) {
  if (!sweep.tuning.is_object() || !sweep.tuning.contains("groups")) return {};
  const json& t = sweep.tuning;
  const std::string metric = t.value("metric", std::string("val_loss"));
  std::ostringstream md;
  md << "## Tuning\n\n";
  md << fmt::format(
      "Before the comparison, every arm searched {} with tuning seed(s) {}{} and kept the point with the best mean "
      "final {} ({}). Tuning runs evaluate on the **tuning split** (the second half of the validation documents); "
      "every number above comes from the replication runs, evaluated on the first half, so the choice cannot "
      "inflate them. Tuning runs are in `tune/<id>/`.",
      fmt::format("`{}`", fmt::join(t["paths"].get<std::vector<std::string>>(), "`, `")), t["seeds"].dump(),
      tuning_seed_overlap(sweep, t["seeds"]), metric,
      metric == "val_accuracy" ? "higher is better" : "lower is better");
  if (t["halving"].is_object())
    md << fmt::format(" Successive halving: at {} of the steps, a point went on only if it ranked within the best "
                      "{:g} of the points of its arm (and seed) that had reached that rung before it; stopped points "
                      "cannot be chosen.",
                      t["halving"]["rungs"].dump(), t["halving"]["keep"].get<double>());
  md << "\n\n";
  for (const auto& group : t["groups"]) {
    std::string label = group["arm"].get<std::string>();
    if (!group["grid_point"].empty()) label += " @ " + grid_label(group["grid_point"]);
    md << "### " << md_escape(label) << "\n\n";
    md << fmt::format("| Point | Mean final {} (tuning split) | Runs | |\n|---|---:|---|---|\n", metric);
    for (const auto& point : group["points"]) {
      std::vector<std::string> runs, notes;
      for (const auto& r : point["runs"]) {
        runs.push_back(fmt::format("`{}` {}", r["id"].get<std::string>(), r["status"].get<std::string>()));
        if (r.contains("stopped_reason")) notes.push_back(md_escape(r["stopped_reason"].get<std::string>()));
        if (r.contains("error")) notes.push_back(md_escape(r["error"].get<std::string>()));
      }
      const bool is_chosen = group["chosen"] == point["index"];
      std::string values;
      for (const auto& [path, v] : point["values"].items()) values += (values.empty() ? "" : ", ") + path + " = " + v.dump();
      md << fmt::format("| {}{} | {} | {} | {} |\n", is_chosen ? "**chosen:** " : "", md_escape(values),
                        point["mean"].is_number() ? fmt_num(point["mean"].get<double>(), 4) : "—",
                        fmt::join(runs, ", "), fmt::join(notes, "; "));
    }
    if (group["chosen"].is_null())
      md << "\nNo point chosen: " << md_escape(group.value("reason", std::string("unknown"))) << "; this arm has no "
         << "replication runs.\n";
    md << "\n";
  }
  return md.str();
}

}  // namespace ablate::report
