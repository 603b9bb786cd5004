// The report's "How many seeds" section and seeds_advice (seeds_advice.h): for every comparison
// of final validation loss, the power analysis of stats.h — the smallest |Δ| the seeds used can
// detect and the seeds per arm the observed Δ would need — as a table and one plain sentence each,
// for the unpaired design and, over the seeds finished in both arms, for the paired one.
// Limits: formatting only; the statistics and their formulas are in stats.h.
#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "ablate/engine/seeds_advice.h"
#include "report/internal.h"

namespace ablate {
namespace {

/// A loss difference: 4 decimals like the report's tables, or 3 significant digits when that
/// would print 0.0000 for a difference that is not 0.
std::string loss_text(double v) {
  if (v != 0.0 && std::fabs(v) < 5e-4) return fmt::format("{:.2e}", v);
  return fmt::format("{:.4f}", v);
}

/// "3 seeds" when both arms have 3 finished runs, "2 and 3 seeds" (arm, baseline) otherwise.
std::string seeds_used(const stats::PowerAnalysis& a) {
  return a.nx == a.ny ? fmt::format("{} seeds", a.nx) : fmt::format("{} and {} seeds", a.nx, a.ny);
}

SeedsAdvice advice_of(const report::Comparison& c) {
  SeedsAdvice advice;
  advice.arm = c.arm->label;
  advice.baseline = c.baseline->label;
  const auto x = c.arm->values("val_loss"), y = c.baseline->values("val_loss");
  advice.power = stats::power_analysis(x, y);
  advice.verdict = seeds_verdict(advice.power);
  return advice;
}

/// The paired power analysis of a comparison's runs matched by seed, or why there is none.
stats::Maybe<stats::PairedPowerAnalysis> paired_power_of(const report::Comparison& c) {
  // Below 2 matched seeds (or with no spread of d) the paired test says why; the power analysis agrees.
  if (!c.paired) return stats::Maybe<stats::PairedPowerAnalysis>::undefined(c.paired.reason);
  return stats::paired_power_analysis(c.paired_arm, c.paired_base);
}

/// "3 pairs": the paired design counts the seeds finished in both arms.
std::string seeds_used(const stats::PairedPowerAnalysis& a) { return fmt::format("{} pairs", a.n); }

/// One sentence on a power analysis, for either design (`both_arms`: the paired wording, whose
/// extra seeds must be run in both arms).
template <class Analysis>
std::string verdict_of(const stats::Maybe<Analysis>& power, bool both_arms) {
  if (!power) return "not defined: " + power.reason;
  const auto& a = *power;
  const std::string observed = loss_text(std::fabs(a.difference));
  if (!a.underpowered())
    return fmt::format("enough seeds: {} detect |Δ| ≥ {} with probability {:g}, and the observed {} is larger "
                       "({} seeds per arm would suffice)",
                       seeds_used(a), loss_text(a.detectable_difference), a.power, observed, *a.seeds_needed);
  std::string needed;
  if (a.seeds_needed)
    needed = fmt::format("about {} seeds per arm{} would be needed for the observed {}", *a.seeds_needed,
                         both_arms ? ", run in both arms," : "", observed);
  else if (a.difference == 0.0)
    needed = "the observed difference is exactly 0, which no number of seeds would detect";
  else
    needed = fmt::format("{} would be needed for the observed {}", a.seeds_needed.reason, observed);
  return fmt::format("difference within noise: {} can detect only |Δ| ≥ {}; {}", seeds_used(a),
                     loss_text(a.detectable_difference), needed);
}

/// The paired half of "How many seeds": the same questions for the paired t-test on matched seeds.
std::string paired_power_table(const report::SweepRecord& sweep) {
  std::ostringstream md, sentences;
  md << "**Paired by seed.** The same questions for the paired t-test on the seeds finished in both arms "
        "(α = 0.05, power 0.8; df = n − 1, noncentrality d_z·√n with d_z = mean(d)/sd(d), d = arm − baseline per "
        "seed). When the arms' per-seed losses are positively correlated, sd(d) is smaller than the pooled sd and "
        "pairing needs fewer seeds; when they are not, it needs about as many or more.\n\n";
  md << "| Arm | Matched seeds | Sd of paired differences | Mean paired Δ | Detectable \\|Δ\\| paired | "
        "Seeds per arm needed, paired |\n";
  md << "|---|---:|---:|---:|---:|---:|\n";
  for (const auto& c : sweep.comparisons) {
    const auto power = paired_power_of(c);
    std::string sd = "—", delta = "—", detectable = "—", needed = "—";
    if (power) {
      sd = loss_text(power->sd_difference);
      delta = fmt::format("{:+.4f}", power->difference);
      detectable = loss_text(power->detectable_difference);
      needed = power->seeds_needed ? std::to_string(*power->seeds_needed) : "not defined";
    }
    md << fmt::format("| {} | {} | {} | {} | {} | {} |\n", report::md_escape(c.arm->label), c.paired_seeds.size(), sd,
                      delta, detectable, needed);
    sentences << fmt::format("- **{}** against `{}`, paired by seed: {}.\n", c.arm->label, c.baseline->label,
                             verdict_of(power, /*both_arms=*/true));
  }
  md << "\n" << sentences.str() << "\n";
  return md.str();
}

}  // namespace

std::string seeds_verdict(const stats::Maybe<stats::PowerAnalysis>& power) {
  return verdict_of(power, /*both_arms=*/false);
}

std::vector<SeedsAdvice> seeds_advice(const std::filesystem::path& sweep_dir) {
  const report::SweepRecord sweep = report::load_sweep_dir(sweep_dir);
  std::vector<SeedsAdvice> out;
  for (const auto& c : sweep.comparisons) out.push_back(advice_of(c));
  return out;
}

namespace report {

std::string power_section(const SweepRecord& sweep) {
  if (sweep.comparisons.empty()) return {};
  std::ostringstream md, sentences;
  md << "## How many seeds\n\n";
  md << "A power analysis of each validation-loss comparison above: the two-sided two-sample t-test at α = 0.05 "
        "with power 0.8, using the pooled standard deviation of arm and baseline (exact power from the noncentral "
        "t distribution, df = n₁ + n₂ − 2, noncentrality Δ / (s·√(1/n₁ + 1/n₂))). *Detectable |Δ|* is the smallest "
        "true difference that the seeds used would detect 8 times in 10; *seeds needed* is how many seeds per arm "
        "would detect a true difference as large as the observed Δ. Both take the observed standard deviation (and "
        "Δ) as the truth; with few seeds they are estimates too, so read them as orders of magnitude.\n\n";
  md << "| Arm | n (arm, baseline) | Pooled sd | Observed Δ | Detectable \\|Δ\\| with these seeds | "
        "Seeds per arm needed |\n";
  md << "|---|---:|---:|---:|---:|---:|\n";
  for (const auto& c : sweep.comparisons) {
    const SeedsAdvice advice = advice_of(c);
    std::string sd = "—", delta = "—", detectable = "—", needed = "—";
    if (c.arm_summary.n > 0 && c.base_summary.n > 0)
      delta = fmt::format("{:+.4f}", c.arm_summary.mean - c.base_summary.mean);
    if (advice.power) {
      sd = loss_text(advice.power->pooled_sd);
      detectable = loss_text(advice.power->detectable_difference);
      needed = advice.power->seeds_needed ? std::to_string(*advice.power->seeds_needed) : "not defined";
    }
    md << fmt::format("| {} | {}, {} | {} | {} | {} | {} |\n", md_escape(c.arm->label), c.arm_summary.n,
                      c.base_summary.n, sd, delta, detectable, needed);
    sentences << fmt::format("- **{}** against `{}`: {}.\n", c.arm->label, c.baseline->label, advice.verdict);
  }
  md << "\n" << sentences.str() << "\n";
  md << paired_power_table(sweep);
  return md.str();
}

}  // namespace report
}  // namespace ablate
