// The report's tables as markdown (per arm, loss and accuracy comparisons, MoE expert load, per run,
// data, audit) and results.csv.
// Limits: formatting only; every number comes from SweepRecord (report.cpp), statistics from
// stats.h. Units are in the column headers: M = 10⁶, MiB = 2²⁰ bytes, s = seconds of training
// (evaluation excluded, as the trainer measures it).
#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "report_internal.h"

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

std::string mean_sd(const stats::Summary& s, int decimals) {
  if (s.n == 0) return "—";
  if (!s.sd) return fmt_num(s.mean, decimals);
  return fmt::format("{} ± {}", fmt_num(s.mean, decimals), fmt_num(*s.sd, decimals));
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

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

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
// mixture of experts: routing balance at the end of training

std::string expert_load_table(const SweepRecord& sweep) {
  std::ostringstream rows;
  for (const auto& g : sweep.groups) {
    std::vector<double> ratios;  // per finished run: mean over MoE layers of max/min load
    std::size_t layers = 0, experts = 0, starved = 0;
    double worst = 0.0;
    for (const auto* run : g.done) {
      // The last evaluation that recorded expert loads.
      auto it = std::find_if(run->curve.rbegin(), run->curve.rend(), [](const EvalPoint& p) { return !p.expert_load.empty(); });
      if (it == run->curve.rend()) continue;
      double sum = 0.0;
      bool finite = true;
      for (const auto& layer : it->expert_load) {
        const auto [lo, hi] = std::minmax_element(layer.begin(), layer.end());
        if (!(*lo > 0.0)) { finite = false; continue; }
        sum += *hi / *lo;
        worst = std::max(worst, *hi / *lo);
        experts = std::max(experts, layer.size());
      }
      layers = std::max(layers, it->expert_load.size());
      if (!finite) { ++starved; continue; }
      ratios.push_back(sum / static_cast<double>(it->expert_load.size()));
    }
    if (ratios.empty() && starved == 0) continue;
    const auto s = stats::summarize(ratios);
    const auto dropped = g.summary("moe_dropped_fraction");
    rows << fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", md_escape(g.label), ratios.size() + starved, layers,
                        experts == 0 ? std::string("—") : std::to_string(experts),
                        s.n == 0 ? std::string("—") : mean_sd(s, 2) + fmt::format(" (n = {})", s.n),
                        dropped.n == 0 ? std::string("—") : fmt::format("{:.2f} %", 100.0 * dropped.mean),
                        starved > 0 ? fmt::format("{} run(s) with an expert that received no tokens (ratio ∞)", starved)
                                    : fmt::format("worst layer {:.2f}", worst));
  }
  const std::string body = rows.str();
  if (body.empty()) return {};
  std::ostringstream md;
  md << "## Mixture of experts: expert load\n\n";
  md << "Load = fraction of routing assignments each expert received at an evaluation (from `expert_load` in "
        "metrics.jsonl). The ratio is max/min load over the experts of one MoE layer at the last evaluation, "
        "averaged over the MoE layers of a run, then mean ± sd over seeds: 1 is perfectly balanced; a large ratio "
        "means some experts are starved (the model uses fewer experts than it has). The per-expert curves are in "
        "the plots. Loads count what the experts computed: assignments dropped by a capacity (`dispatch: "
        "capacity`) count for none, and \"Dropped\" is their share at the last evaluation (summary.json's "
        "`moe_dropped_fraction`, mean over layers and seeds; 0 under sorted dispatch).\n\n";
  md << "| Arm | Runs | MoE layers | Experts per layer | Final max/min load ratio | Dropped | Note |\n";
  md << "|---|---:|---:|---:|---:|---:|---|\n";
  md << body << "\n";
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

// -------------------------------------------------------------------------------------------
// data

// Validation documents with a near-verbatim twin in training (summary.json's data.near_duplicates).
static std::string near_duplicates_text(const json& d) {
  const auto it = d.find("near_duplicates");
  if (it == d.end() || !it->is_object()) return "not checked";
  const json& n = *it;
  const auto count = n.value("documents", std::int64_t{0});
  std::vector<std::string> examples;
  for (const auto& e : n.value("examples", json::array()))
    examples.push_back(fmt::format("{} ~ {} ({:.2f})", md_escape(e.value("val_document", std::string("?"))),
                                   md_escape(e.value("train_document", std::string("?"))), e.value("jaccard", 0.0)));
  std::string text = fmt::format("{} validation document(s) with a near-twin in training", count);
  if (!examples.empty()) text += ": " + fmt::format("{}", fmt::join(examples, ", "));
  if (count > 0) text += n.value("dropped", false) ? "; **left out of validation** (`data.drop_near_duplicates`)"
                                                   : "; still in validation (`data.drop_near_duplicates: true` leaves "
                                                     "them out)";
  return text + fmt::format(" — rule: {}", md_escape(n.value("rule", std::string("?"))));
}

std::string data_section(const SweepRecord& sweep) {
  std::ostringstream md;
  md << "## Data\n\n";
  std::vector<std::pair<json, std::vector<std::string>>> distinct;  // data block → arms using it
  for (const auto& g : sweep.groups) {
    const RunRecord* r = first_with(g, "data");
    if (!r) continue;
    const json& d = r->summary["data"];
    auto it = std::find_if(distinct.begin(), distinct.end(), [&](const auto& p) { return p.first == d; });
    if (it == distinct.end()) distinct.push_back({d, {g.label}});
    else it->second.push_back(g.label);
  }
  if (distinct.empty()) {
    md << "No run has recorded its data yet.\n\n";
    return md.str();
  }
  const auto text = [](const json& d, const char* key) {
    if (!d.contains(key)) return std::string("n/a");
    return d[key].is_string() ? md_escape(d[key].get<std::string>()) : d[key].dump();
  };
  for (const auto& [d, arms] : distinct) {
    if (distinct.size() > 1) md << fmt::format("Used by: {}\n\n", fmt::join(arms, ", "));
    md << "| | |\n|---|---|\n";
    md << "| Corpus | " << text(d, "corpus") << " |\n";
    md << "| Tokenizer | " << text(d, "tokenizer") << " (vocabulary " << fmt_grouped(json_number(d, "vocab_size"))
       << ") |\n";
    md << "| Split rule | " << text(d, "split_rule") << " |\n";
    md << "| Training split | " << fmt_grouped(json_number(d, "train_documents")) << " documents, "
       << fmt_grouped(json_number(d, "train_tokens")) << " tokens |\n";
    md << "| Validation split | " << fmt_grouped(json_number(d, "val_documents")) << " documents, "
       << fmt_grouped(json_number(d, "val_tokens")) << " tokens |\n";
    const auto overlap = json_number(d, "overlap_documents");
    md << "| Documents in both splits | " << fmt_grouped(overlap)
       << (overlap && *overlap > 0 ? " (**must be 0**)" : "") << " |\n";
    md << "| Near-duplicates across the split | " << near_duplicates_text(d) << " |\n\n";
  }
  return md.str();
}

// -------------------------------------------------------------------------------------------
// audit: what each arm trained


// The causality proof of an arm's runs: every model was proven causal before training (or the
// sweep was refused); this says how many finished runs passed it again on their final weights,
// and quotes any that failed (they are not results).
static std::string causality_line(const Group& g) {
  int passed = 0, checked = 0;
  std::vector<std::string> failures;
  for (const RunRecord* run : g.runs) {
    const auto it = run->summary.find("causality");
    if (it == run->summary.end() || !it->is_object()) continue;
    ++checked;
    if (it->value("causal", false)) ++passed;
    else failures.push_back(fmt::format("run `{}` (seed {}): {}", run->id, run->seed, it->value("message", std::string("?"))));
  }
  if (checked == 0) return "Causality: proven before training; no run has finished to be checked again.\n\n";
  std::string line = fmt::format("Causality: proven before training, and again on the final weights of {} of {} "
                                 "checked run(s).\n\n", passed, checked);
  for (const auto& f : failures) line += "- **Not causal after training, excluded:** " + md_escape(f) + "\n";
  return failures.empty() ? line : line + "\n";
}

std::string audit_section(const SweepRecord& sweep) {
  std::ostringstream md;
  md << "## What each arm trained\n\n";
  md << "Read from the model that was built (summary.json of the arm's first run), not from the arm's name. "
        "Parameters are per part summed over its copies; FLOPs are forward FLOPs per token.\n\n";
  for (const auto& g : sweep.groups) {
    md << "### " << md_escape(g.label) << (g.is_baseline ? " (baseline)" : "") << "\n\n";
    const RunRecord* r = first_with(g, "components");
    if (!r || !r->summary["components"].is_array()) {
      md << "No run of this arm has recorded its components yet.\n\n";
    } else {
      md << "| Part | Plugin | Options | Copies | Params total (M) | Params active (M) | Forward FLOPs/token (M) |\n";
      md << "|---|---|---|---:|---:|---:|---:|\n";
      for (const auto& c : r->summary["components"]) {
        std::string options = "—";
        if (c.contains("options") && !c["options"].empty()) options = "`" + md_escape(c["options"].dump()) + "`";
        md << fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", md_escape(c.value("part", std::string("?"))),
                          md_escape(c.value("plugin", std::string("?"))), options,
                          c.contains("count") ? c["count"].dump() : "—", fmt_millions(json_number(c, "params_total")),
                          fmt_millions(json_number(c, "params_active")), fmt_millions(json_number(c, "flops_per_token")));
      }
      md << fmt::format("| **total** | | | | **{}** | **{}** | **{}** |\n\n", fmt_millions(r->number("params_total")),
                        fmt_millions(r->number("params_active")), fmt_millions(r->number("flops_per_token")));
    }
    md << causality_line(g);
    if (const RunRecord* t = first_with(g, "model_tree"); t && t->summary["model_tree"].is_string())
      md << "<details><summary>Model tree of " << g.label << " (run <code>" << t->id
         << "</code>)</summary>\n\n```\n" << t->summary["model_tree"].get<std::string>() << "\n```\n\n</details>\n\n";
  }
  return md.str();
}

// -------------------------------------------------------------------------------------------
// results.csv

std::string results_csv(const SweepRecord& sweep) {
  static const std::vector<std::string> kNumbers = {
      "val_loss", "val_accuracy", "val_perplexity", "train_loss", "params_total", "params_active", "flops_per_token",
      "train_seconds", "eval_seconds", "tokens", "tokens_per_second", "peak_memory_bytes", "steps",
      // Added after the first layout: new columns go last, before the text ones, so scripts that
      // read columns by name keep working.
      "train_flops", "peak_flops_per_second", "mfu"};
  static const std::vector<std::string> kTexts = {"device", "precision"};
  std::ostringstream csv;
  csv << "id,arm,seed,grid_point,status,error";
  for (const auto& k : kNumbers) csv << "," << k;
  for (const auto& k : kTexts) csv << "," << k;
  csv << "\n";
  for (const auto& run : sweep.runs) {
    csv << csv_cell(run.id) << "," << csv_cell(run.arm) << "," << run.seed << "," << csv_cell(grid_label(run.grid_point))
        << "," << run.status << "," << csv_cell(run.error);
    for (const auto& k : kNumbers) {
      csv << ",";
      if (auto v = run.number(k)) csv << fmt::format("{}", *v);
    }
    for (const auto& k : kTexts) {
      csv << ",";
      if (run.summary.is_object() && run.summary.contains(k) && run.summary[k].is_string())
        csv << csv_cell(run.summary[k].get<std::string>());
    }
    csv << "\n";
  }
  return csv.str();
}

}  // namespace ablate::report
