// The report's tables as markdown: per arm, loss and accuracy comparisons with the baseline, per run.
// The descriptive sections (expert load, data, audit) are in sections.cpp, results.csv in csv.cpp.
// Limits: formatting only; every number comes from SweepRecord (report.cpp), statistics from
// stats.h. Units are in the column headers: M = 10⁶, MiB = 2²⁰ bytes, s = seconds of training
// (evaluation excluded, as the trainer measures it).
#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "report/internal.h"

namespace ablate::report {

using nlohmann::json;

// -------------------------------------------------------------------------------------------
// number formatting

std::string fmt_num(double v, int decimals) {
  if (!std::isfinite(v)) return "n/a";
  return fmt::format("{:.{}f}", v, decimals);
}

std::string fmt_millions(std::optional<double> v) {
  if (!v) return "n/a";
  const double m = *v / 1e6;
  const int decimals = std::fabs(m) >= 100 ? 1 : std::fabs(m) >= 1 ? 2 : std::fabs(m) >= 0.01 ? 3 : 4;
  return fmt::format("{:.{}f}", m, decimals);
}

std::string fmt_grouped(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return "n/a";
  const long long n = std::llround(*v);
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string fmt_mib(std::optional<double> bytes) {
  if (!bytes || *bytes <= 0) return "n/a";
  return fmt::format("{:.0f}", *bytes / (1024.0 * 1024.0));
}

std::string grid_label(const json& grid_point) {
  if (!grid_point.is_object() || grid_point.empty()) return {};
  std::vector<std::string> parts;
  for (const auto& [k, v] : grid_point.items()) parts.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string md_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

namespace {

// The n of a comparison, and beside it the runs its group lost: "2 (1 diverged)". A comparison of
// survivors must say it is one.
std::string runs_cell(const Group& g, std::size_t n) {
  const std::size_t diverged = g.with_status("diverged"), failed = g.with_status("failed");
  std::vector<std::string> lost;
  if (diverged > 0) lost.push_back(fmt::format("{} diverged", diverged));
  if (failed > 0) lost.push_back(fmt::format("{} failed", failed));
  return lost.empty() ? std::to_string(n) : fmt::format("{} ({})", n, fmt::join(lost, ", "));
}


std::string ci_text(const stats::Summary& s, int decimals) {
  if (s.n == 0) return "—";
  if (!s.ci) return "not defined: " + s.ci.reason;
  return fmt::format("[{}, {}]", fmt_num(s.ci->lo, decimals), fmt_num(s.ci->hi, decimals));
}

std::optional<double> mean_of(const Group& g, const std::string& key) {
  const auto v = g.values(key);
  if (v.empty()) return std::nullopt;
  double sum = 0.0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

std::string fmt_p(double p) {
  if (p < 1e-4) return fmt::format("{:.1e}", p);
  return fmt::format("{:.4f}", p);
}

std::string signed_num(double v, int decimals) { return fmt::format("{:+.{}f}", v, decimals); }

/// The cells of one comparison row (loss or accuracy table); "not defined: why" where undefined.
struct ComparisonCells {
  std::string delta = "—", delta_ci = "—", t = "—", p = "—", holm = "—", d = "—", g = "—";
};
ComparisonCells comparison_cells(const Comparison& c) {
  ComparisonCells cells;
  if (c.arm_summary.n > 0 && c.base_summary.n > 0) cells.delta = signed_num(c.arm_summary.mean - c.base_summary.mean, 4);
  if (c.welch) {
    cells.delta_ci =
        fmt::format("[{}, {}]", signed_num(c.welch->difference_ci.lo, 4), signed_num(c.welch->difference_ci.hi, 4));
    cells.t = fmt::format("{:.2f} ({:.1f})", c.welch->t, c.welch->df);
    cells.p = fmt_p(c.welch->p);
    if (c.holm_p) cells.holm = fmt_p(*c.holm_p);
  } else {
    cells.delta_ci = cells.t = "not defined: " + c.welch.reason;
  }
  if (c.effect) {
    cells.d = fmt::format("{:.2f}", c.effect->cohens_d);
    cells.g = c.effect->g_ci ? fmt::format("{:.2f} [{:.2f}, {:.2f}]", c.effect->hedges_g, c.effect->g_ci->lo,
                                           c.effect->g_ci->hi)
                             : fmt::format("{:.2f} [CI not defined: {}]", c.effect->hedges_g, c.effect->g_ci.reason);
  } else {
    cells.d = cells.g = "not defined: " + c.effect.reason;
  }
  return cells;
}

/// "3 (seeds 0, 1, 2)": how many seeds were paired and which (the list only while it is short).
std::string matched_seeds_cell(const Comparison& c) {
  if (c.paired_seeds.empty() || c.paired_seeds.size() > 8) return std::to_string(c.paired_seeds.size());
  return fmt::format("{} (seed{} {})", c.paired_seeds.size(), c.paired_seeds.size() == 1 ? "" : "s",
                     fmt::join(c.paired_seeds, ", "));
}

/// One row of a paired table: the comparison's runs matched by seed, or why they cannot be tested.
std::string paired_row(const Comparison& c, int decimals) {
  const std::string arm = md_escape(c.arm->label), seeds = matched_seeds_cell(c);
  if (!c.paired) return fmt::format("| {} | {} | not defined: {} | — | — | — | — | — |\n", arm, seeds,
                                    md_escape(c.paired.reason));
  const auto& p = *c.paired;
  const std::string sign_flip = p.sign_flip_p ? fmt::format("{} (≥ {})", fmt_p(*p.sign_flip_p), fmt_p(p.sign_flip_floor))
                                              : "not defined: " + p.sign_flip_p.reason;
  const std::string r = p.correlation ? fmt::format("{:+.2f}", *p.correlation) : "not defined: " + p.correlation.reason;
  return fmt::format("| {} | {} | {} [{}, {}] | {:.2f} ({:.0f}) | {} | {} | {} | {} |\n", arm, seeds,
                     signed_num(p.mean_difference, decimals), signed_num(p.difference_ci.lo, decimals),
                     signed_num(p.difference_ci.hi, decimals), p.t, p.df, fmt_p(p.p),
                     c.paired_holm_p ? fmt_p(*c.paired_holm_p) : "—", md_escape(sign_flip), md_escape(r));
}

/// The paired-by-seed table of one Holm family (`what`: "val loss" or "val accuracy").
std::string paired_table(const std::vector<Comparison>& comparisons, const std::string& what) {
  std::ostringstream md;
  md << fmt::format("| Arm | Matched seeds | Mean paired Δ {} [95% CI] | Paired t (df) | p | Holm p | Sign-flip p "
                    "(floor 2/2ⁿ) | Seed correlation r |\n",
                    what);
  md << "|---|---|---|---:|---:|---:|---:|---:|\n";
  for (const auto& c : comparisons) md << paired_row(c, 4);
  md << "\n";
  return md.str();
}

}  // namespace

std::string mean_sd(const stats::Summary& s, int decimals) {
  if (s.n == 0) return "—";
  if (!s.sd) return fmt_num(s.mean, decimals);
  return fmt::format("{} ± {}", fmt_num(s.mean, decimals), fmt_num(*s.sd, decimals));
}

/// The summary of the first run of a group that has `key` (components, model_tree, data).
const RunRecord* first_with(const Group& g, const std::string& key) {
  for (const auto* r : g.done) if (r->summary.contains(key)) return r;
  for (const auto* r : g.runs) if (r->summary.is_object() && r->summary.contains(key)) return r;
  return nullptr;
}

std::optional<double> json_number(const json& j, const std::string& key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return std::nullopt;
  return j[key].get<double>();
}

// -------------------------------------------------------------------------------------------
// per arm

std::string arm_tables(const SweepRecord& sweep) {
  std::ostringstream md;
  md << "## Arms\n\n";
  md << "Quality at the end of training: mean ± sample standard deviation over the seeds that finished; the 95% "
        "confidence interval of the mean uses Student's t with n − 1 degrees of freedom. Perplexity is the mean of "
        "exp(val loss) over seeds.\n\n";
  md << "Failed and diverged runs are outcomes, not noise to drop: the statistics are over the done runs only, so "
        "an arm that lost runs is judged on its survivors, and its row says how many it lost.\n\n";
  md << "| Arm | Runs: done / diverged / failed / all | Val loss (nats/token) | 95% CI of val loss | Val accuracy | "
        "Val perplexity | Train loss |\n";
  md << "|---|---:|---:|---|---:|---:|---:|\n";
  for (const auto& g : sweep.groups) {
    const auto ppl = g.summary("val_perplexity");
    md << fmt::format("| {}{} | {} | {} | {} | {} | {} | {} |\n", md_escape(g.label), g.is_baseline ? " (baseline)" : "",
                      outcome_counts(g), mean_sd(g.summary("val_loss"), 4), ci_text(g.summary("val_loss"), 4),
                      mean_sd(g.summary("val_accuracy"), 4), ppl.n ? fmt_num(ppl.mean, 2) : "—",
                      mean_sd(g.summary("train_loss"), 4));
  }
  md << "\n";
  // MFU only when some run trained on a device whose peak is known (a GPU of peak_flops.h's table).
  const bool with_mfu = std::any_of(sweep.runs.begin(), sweep.runs.end(), [](const RunRecord& r) {
    return r.finished() && r.number("mfu").has_value();
  });
  md << "Cost, mean over finished runs. Parameters: every trainable parameter (total) and those one token uses "
        "(active; they differ for mixture-of-experts). FLOPs: forward pass per token. Train time excludes "
        "evaluation, which is timed apart (eval time).";
  if (with_mfu)
    md << " MFU (model FLOPs utilisation): training FLOPs (3 × forward FLOPs/token × tokens) per second of train "
          "time over the device's dense peak at the precision the run's matrix multiplications used (summary.json's "
          "`peak_flops_per_second`); n/a where no peak is known (the CPU, GPUs missing from ablate's table).";
  md << "\n\n";
  md << "| Arm | Params total (M) | Params active (M) | Forward FLOPs/token (M) | Train time (s) | Eval time (s) | "
        "Tokens trained | Throughput (tokens/s) | Peak memory (MiB) |"
     << (with_mfu ? " MFU (%) |" : "") << "\n";
  md << "|---|---:|---:|---:|---:|---:|---:|---:|---:|" << (with_mfu ? "---:|" : "") << "\n";
  for (const auto& g : sweep.groups) {
    // Parameters and FLOPs are known before training ends: take them from any run with a summary.
    const RunRecord* any = first_with(g, "params_total");
    const auto model_number = [&](const std::string& key) { return any ? any->number(key) : std::nullopt; };
    const auto train_s = mean_of(g, "train_seconds");
    const auto eval_s = mean_of(g, "eval_seconds");
    md << fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} |", md_escape(g.label),
                      fmt_millions(model_number("params_total")), fmt_millions(model_number("params_active")),
                      fmt_millions(model_number("flops_per_token")), train_s ? fmt_num(*train_s, 1) : "n/a",
                      eval_s ? fmt_num(*eval_s, 1) : "n/a",
                      fmt_grouped(mean_of(g, "tokens")), fmt_grouped(mean_of(g, "tokens_per_second")),
                      fmt_mib(mean_of(g, "peak_memory_bytes")));
    if (with_mfu) {
      const auto mfu = mean_of(g, "mfu");
      md << " " << (mfu ? fmt_num(100.0 * *mfu, 1) : "n/a") << " |";
    }
    md << "\n";
  }
  md << "\n";
  return md.str();
}

// -------------------------------------------------------------------------------------------
// comparisons with the baseline

std::string comparison_table(const SweepRecord& sweep) {
  std::ostringstream md;
  md << "## Comparisons with the baseline\n\n";
  if (sweep.comparisons.empty()) {
    md << "No comparisons: the sweep has no arm other than the baseline `" << sweep.baseline
       << "` (or no baseline run at the same grid point).\n\n";
    return md.str();
  }
  md << fmt::format(
      "Final validation loss of each arm against the baseline `{}` at the same grid point. Δ = mean(arm) − "
      "mean(baseline); **negative Δ means the arm reached a lower (better) loss**. The 95% CI of Δ and the two-sided "
      "p come from Welch's t-test (unequal variances, Welch–Satterthwaite degrees of freedom). Holm p corrects for "
      "the {} comparison(s) of this report. Cohen's d uses the pooled standard deviation; Hedges' g = J·d with "
      "J = 1 − 3/(4(n₁+n₂) − 9), its 95% CI from the noncentral t distribution (exact for normal data, and not "
      "symmetric about g). With few seeds, read the intervals, not the p-values.\n\n",
      sweep.baseline, sweep.comparisons.size());
  md << "| Arm | n (arm, baseline) | Δ val loss | 95% CI of Δ | Welch t (df) | p | Holm p | Cohen's d | Hedges' g "
        "[95% CI] |\n";
  md << "|---|---:|---:|---|---:|---:|---:|---:|---|\n";
  for (const auto& c : sweep.comparisons) {
    const auto cells = comparison_cells(c);
    md << fmt::format("| {} | {}, {} | {} | {} | {} | {} | {} | {} | {} |\n", md_escape(c.arm->label), runs_cell(*c.arm, c.arm_summary.n),
                      runs_cell(*c.baseline, c.base_summary.n), cells.delta, md_escape(cells.delta_ci), md_escape(cells.t), cells.p, cells.holm,
                      md_escape(cells.d), md_escape(cells.g));
  }
  md << "\n";
  md << fmt::format(
      "**Paired by seed.** A seed fixes initialisation and data order, so the arm's run and the baseline's run with "
      "the same seed are a pair, and d = arm − baseline per seed cancels what the seed does to both. Mean paired Δ, "
      "its 95% CI and p come from the paired t-test on the n matched seeds (df = n − 1); Holm p corrects across the "
      "{} comparison(s) with a paired test. The sign-flip p is exact (all 2ⁿ sign patterns of the d, no normality assumed) and "
      "can never go below its floor 2/2ⁿ: 3 seeds cannot give less than 0.25 and 5 seeds less than 0.0625, so below "
      "6 matched seeds it cannot reach 0.05 whatever the arms do. r correlates the two arms' per-seed losses: pairing "
      "narrows the interval exactly when r > 0 (sd(d)² = s₁² + s₂² − 2r·s₁s₂).\n\n",
      std::count_if(sweep.comparisons.begin(), sweep.comparisons.end(),
                    [](const Comparison& c) { return static_cast<bool>(c.paired); }));
  md << paired_table(sweep.comparisons, "val loss");
  return md.str();
}

// -------------------------------------------------------------------------------------------
// validation accuracy against the baseline (a second family for Holm)

std::string accuracy_comparison_table(const SweepRecord& sweep) {
  if (sweep.accuracy_comparisons.empty()) return {};
  std::ostringstream md;
  md << "### Validation accuracy against the baseline\n\n";
  md << fmt::format(
      "The same test on the final validation accuracy (fraction of next tokens predicted exactly). "
      "Δ = mean(arm) − mean(baseline); **positive Δ means the arm predicts more tokens correctly**. Holm p corrects "
      "across the {} accuracy comparison(s), a family separate from the loss comparisons above. Perplexity is "
      "exp(loss), so its comparison is the loss comparison.\n\n",
      sweep.accuracy_comparisons.size());
  md << "| Arm | n (arm, baseline) | Δ val accuracy | 95% CI of Δ | Welch t (df) | p | Holm p | Hedges' g [95% CI] |\n";
  md << "|---|---:|---:|---|---:|---:|---:|---|\n";
  for (const auto& c : sweep.accuracy_comparisons) {
    const auto cells = comparison_cells(c);
    md << fmt::format("| {} | {}, {} | {} | {} | {} | {} | {} | {} |\n", md_escape(c.arm->label), runs_cell(*c.arm, c.arm_summary.n),
                      runs_cell(*c.baseline, c.base_summary.n), cells.delta, md_escape(cells.delta_ci), md_escape(cells.t), cells.p, cells.holm,
                      md_escape(cells.g));
  }
  md << "\n";
  md << "Paired by seed, as for the loss (Holm p across the paired accuracy comparisons):\n\n";
  md << paired_table(sweep.accuracy_comparisons, "val accuracy");
  return md.str();
}

// -------------------------------------------------------------------------------------------
// per run

std::string run_table(const SweepRecord& sweep) {
  std::ostringstream md;
  md << "## Runs\n\n";
  md << "Every run of the sweep, from `runs/<id>/summary.json` (pending: no summary yet). Failed and diverged runs "
        "are excluded from the statistics.\n\n";
  md << "| Run | Arm | Seed | Grid point | Status | Val loss | Val accuracy | Val perplexity | Steps | Tokens | "
        "Train time (s) | Tokens/s | Peak memory (MiB) | Note |\n";
  md << "|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
  for (const auto& g : sweep.groups) {
    for (const auto* r : g.runs) {
      const auto num = [&](const std::string& key, int decimals) {
        auto v = r->number(key);
        return v ? fmt_num(*v, decimals) : std::string("—");
      };
      std::string note = r->error;
      if (note.size() > 120) note = note.substr(0, 117) + "...";
      const std::string grid = grid_label(r->grid_point);
      md << fmt::format("| `{}` | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", r->id,
                        md_escape(r->arm), r->seed, grid.empty() ? "—" : md_escape(grid), r->status,
                        num("val_loss", 4), num("val_accuracy", 4), num("val_perplexity", 2),
                        r->number("steps") ? fmt_grouped(r->number("steps")) : "—",
                        r->number("tokens") ? fmt_grouped(r->number("tokens")) : "—", num("train_seconds", 1),
                        r->number("tokens_per_second") ? fmt_grouped(r->number("tokens_per_second")) : "—",
                        r->summary.is_object() ? fmt_mib(r->number("peak_memory_bytes")) : "—", md_escape(note));
    }
  }
  md << "\n";
  return md.str();
}

}  // namespace ablate::report
