// Fair comparisons for the report: time and tokens to a target loss, and validation loss at equal
// tokens and at equal wall time, so that an arm that is faster but ends worse (or slower but ends
// better) is compared with the others at the same cost, not only at the end of its own budget.
//
// Rules (printed in the report with the numbers):
//   - target loss: the sweep's `report.target_loss`, else the worst arm's mean final validation
//     loss at the same grid point; every arm's curve can reach it or not.
//   - time / tokens to target: on each run's validation curve, the first point at or below the
//     target, linearly interpolated between the two evaluations around the crossing; averaged over
//     the seeds that reached it ("k of n"); "not reached" when none did.
//   - equal tokens: the largest token count every finished run of the grid point reached (the
//     smallest last-evaluation token count); equal time: likewise the shortest training time
//     (seconds exclude evaluation). Loss is interpolated on each run's curve, then mean ± sd over
//     seeds. No extrapolation: a point outside a run's curve leaves that run out.
// Limits: curves are taken as recorded (non-decreasing tokens and seconds); only finished runs.
#include <algorithm>
#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "report/internal.h"

namespace ablate::report {

namespace {

double x_of(const EvalPoint& p, bool by_tokens) { return by_tokens ? p.tokens : p.seconds; }

/// Tolerance for "reached": the target is a mean of the same numbers, so allow rounding error.
bool at_or_below(double loss, double target) { return loss <= target + 1e-9 * std::max(1.0, std::fabs(target)); }

std::string mean_sd_text(const stats::Summary& s, int decimals) {
  if (s.n == 0) return "—";
  if (!s.sd) return fmt::format("{} (n = 1)", fmt_num(s.mean, decimals));
  return fmt::format("{} ± {} (n = {})", fmt_num(s.mean, decimals), fmt_num(*s.sd, decimals), s.n);
}

}  // namespace

std::optional<double> loss_at(const std::vector<EvalPoint>& curve, double x, bool by_tokens) {
  if (curve.empty()) return std::nullopt;
  const double eps = 1e-9 * std::max(1.0, std::fabs(x));
  for (std::size_t i = 0; i < curve.size(); ++i) {
    const double xi = x_of(curve[i], by_tokens);
    if (std::fabs(xi - x) <= eps) return curve[i].val_loss;
    if (xi < x) continue;
    if (i == 0) return std::nullopt;  // before the first evaluation
    const double x0 = x_of(curve[i - 1], by_tokens);
    if (!(xi > x0)) return curve[i].val_loss;
    const double f = (x - x0) / (xi - x0);
    return curve[i - 1].val_loss + f * (curve[i].val_loss - curve[i - 1].val_loss);
  }
  return std::nullopt;  // after the last evaluation
}

std::optional<double> first_reach(const std::vector<EvalPoint>& curve, double target, bool by_tokens) {
  for (std::size_t i = 0; i < curve.size(); ++i) {
    if (!at_or_below(curve[i].val_loss, target)) continue;
    if (i == 0) return x_of(curve[0], by_tokens);
    const auto &a = curve[i - 1], &b = curve[i];
    const double drop = a.val_loss - b.val_loss;
    const double f = drop > 0 ? std::clamp((a.val_loss - target) / drop, 0.0, 1.0) : 1.0;
    return x_of(a, by_tokens) + f * (x_of(b, by_tokens) - x_of(a, by_tokens));
  }
  return std::nullopt;
}

std::vector<FairComparison> fair_comparisons(const SweepRecord& sweep) {
  // Grid points in group order; the fair comparison is within one grid point.
  std::vector<nlohmann::json> grid_points;
  for (const auto& g : sweep.groups)
    if (std::find(grid_points.begin(), grid_points.end(), g.grid_point) == grid_points.end())
      grid_points.push_back(g.grid_point);

  std::vector<FairComparison> out;
  for (const auto& gp : grid_points) {
    std::vector<const Group*> groups;
    for (const auto& g : sweep.groups)
      if (g.grid_point == gp &&
          std::any_of(g.done.begin(), g.done.end(), [](const RunRecord* r) { return !r->curve.empty(); }))
        groups.push_back(&g);
    if (groups.empty()) continue;
    FairComparison fair;
    fair.grid_point = gp;
    // Target: the sweep's report.target_loss, else the worst (highest) mean final validation loss.
    double worst_loss = -INFINITY;
    for (const auto* g : groups) {
      const auto s = g->summary("val_loss");
      if (s.n > 0 && s.mean > worst_loss) worst_loss = s.mean, fair.worst = g;
    }
    if (!fair.worst) continue;
    fair.target = sweep.target_loss.value_or(worst_loss);
    // Equal tokens and equal time: the smallest last evaluation over all finished runs.
    fair.equal_tokens = fair.equal_seconds = INFINITY;
    for (const auto* g : groups)
      for (const auto* r : g->done)
        if (!r->curve.empty()) {
          fair.equal_tokens = std::min(fair.equal_tokens, r->curve.back().tokens);
          fair.equal_seconds = std::min(fair.equal_seconds, r->curve.back().seconds);
        }
    for (const auto* g : groups) {
      FairRow row;
      row.group = g;
      for (const auto* r : g->done) {
        if (r->curve.empty()) continue;
        ++row.runs;
        if (auto t = first_reach(r->curve, fair.target, false)) row.seconds_to_target.push_back(*t);
        if (auto t = first_reach(r->curve, fair.target, true)) row.tokens_to_target.push_back(*t);
        if (auto l = loss_at(r->curve, fair.equal_tokens, true)) row.loss_at_equal_tokens.push_back(*l);
        if (auto l = loss_at(r->curve, fair.equal_seconds, false)) row.loss_at_equal_time.push_back(*l);
      }
      fair.rows.push_back(std::move(row));
    }
    out.push_back(std::move(fair));
  }
  return out;
}

std::string fair_section(const SweepRecord& sweep) {
  const auto comparisons = fair_comparisons(sweep);
  std::ostringstream md;
  md << "## Fair comparisons\n\n";
  md << "The final loss compares arms at the end of their own budgets, which favours an arm that trains longer or "
        "on more tokens. Here every arm is compared at the same cost: the time and tokens each needs to reach a "
        "common target loss, and its validation loss at equal tokens and at equal wall time, so that a faster-but-"
        "worse arm (or a slower-but-better one) is judged fairly. Target loss: "
     << (sweep.target_loss ? "the sweep's `report.target_loss`" : "the **worst arm's mean final validation loss** "
                                                                  "(set `report.target_loss` to choose another)")
     << ". Crossings and losses are linearly interpolated between "
        "evaluations on each run's validation curve, then averaged over seeds; times are training seconds "
        "(evaluation excluded). Equal tokens / equal time: the largest token count and the longest training time "
        "that every finished run reached, so no curve is extrapolated.\n\n";

  for (const auto& fair : comparisons) {
    const std::string grid = grid_label(fair.grid_point);
    if (comparisons.size() > 1 || !grid.empty())
      md << "### " << (grid.empty() ? std::string("no grid point") : md_escape(grid)) << "\n\n";
    md << fmt::format("Target loss **{}** nats/token ({}). Equal tokens: **{}**. Equal wall time: **{} s** of "
                      "training.\n\n",
                      fmt_num(fair.target, 4),
                      sweep.target_loss ? std::string("report.target_loss")
                                        : fmt::format("mean final validation loss of `{}`", md_escape(fair.worst->label)),
                      fmt_grouped(fair.equal_tokens), fmt_num(fair.equal_seconds, 2));
    md << "| Arm | Runs | Time to target (s) | Tokens to target | Val loss at equal tokens | Val loss at equal time |\n";
    md << "|---|---:|---:|---:|---:|---:|\n";
    for (const auto& row : fair.rows) {
      const auto reach = [&](const std::vector<double>& v, bool as_tokens) {
        if (v.empty()) return fmt::format("not reached (0 of {})", row.runs);
        const auto s = stats::summarize(v);
        return fmt::format("{} ({} of {})", as_tokens ? fmt_grouped(s.mean) : fmt_num(s.mean, 2), v.size(), row.runs);
      };
      md << fmt::format("| {}{} | {} | {} | {} | {} | {} |\n", md_escape(row.group->label),
                        row.group->is_baseline ? " (baseline)" : "", row.runs, reach(row.seconds_to_target, false),
                        reach(row.tokens_to_target, true), mean_sd_text(stats::summarize(row.loss_at_equal_tokens), 4),
                        mean_sd_text(stats::summarize(row.loss_at_equal_time), 4));
    }
    md << "\n";
  }
  if (comparisons.empty()) md << "No finished run has a validation curve yet.\n\n";
  return md.str();
}

}  // namespace ablate::report
