// Seeds on demand, the statistics: a group-sequential test of one comparison (an arm against its
// baseline) that looks at the data after every round of seeds and stops once the comparison is
// decided, while keeping the false-positive rate over all looks together at α.
//
// Testing at α after every round would reject a true "no difference" far more often than α (about
// 16% of the time with looks at 3, 4, ..., 12 seeds and α = 5%: docs/seeds-on-demand.md). The rule
// here spends α over the looks instead:
//
//   - Information fraction of a look with n seeds per arm: t = n / n_max.
//   - Spending: the Lan–DeMets (1983) function that approximates O'Brien–Fleming boundaries,
//     applied to α/2 on each side of the two-sided test, the convention of the published
//     two-sided tables (gsDesign's sfLDOF, two-sided symmetric with its one-sided alpha = α/2; the
//     Lan–DeMets programs of Reboussin, DeMets, Kim & Lan 2000):
//       α(t) = 2 · f(t; α/2),  f(t; a) = 2 − 2Φ(z_{1−a/2} / √t),   α(1) = α.
//     (Spending f(t; α) for both sides together would give other boundaries: c_1 = 4.383 instead
//     of the tables' 4.877 for the first of five equal looks.)
//     Early looks spend almost nothing (α = 0.05: α(0.25) = 1.5e-5, α(0.5) = 0.003), so the last
//     look still tests near the fixed-n α (p < 0.036 after the ten looks 3, 4, ..., 12 of 12).
//   - Boundaries: the critical |Z| c_k of each look taken solves
//       P(|Z_1| < c_1, ..., |Z_{k−1}| < c_{k−1}, |Z_k| ≥ c_k) = α(t_k) − α(t_{k−1})
//     under H0 for sequential z statistics with independent increments (corr(Z_i, Z_j) = √(t_i/t_j)),
//     by the numerical integration of Jennison & Turnbull (2000, ch. 19; Armitage, McPherson &
//     Rowe 1969): Simpson's rule on their grid (r = 32), one root per look. Only the looks actually
//     taken count, so rounds of any size, or a round cut short, are fine as long as when to look
//     does not depend on the data seen.
//   - From z to t ("p-value spending"): seeds are few, so each look's statistic is a t statistic
//     (Welch, or paired by seed) with its own degrees of freedom. Look k rejects when its two-sided
//     t-test p ≤ p*_k = 2(1 − Φ(c_k)), the nominal level of the z boundary; equivalently
//     |t| ≥ q_k = t_{df_k; 1 − p*_k/2}. Each look alone is exact (its p is uniform under H0 with
//     normal noise); the joint law of the looks is not the z one (successive t statistics divide
//     by different variance estimates, which makes them less correlated than the boundaries assume),
//     so over all looks the rule rejects somewhat more than α: measured with α = 0.05 and looks at
//     3, 4, ..., 12 seeds, 5.3% with Welch's test and 5.6% with the paired t (200000 simulated
//     comparisons each, standard error 0.05 points).
//   - Calibration (calibrate_spending): the t statistics' joint law under H0 does not depend on the
//     noise's scale (paired t exactly; Welch's with equal variances), so it can be simulated once per
//     design: the boundaries then spend a smaller α' ≤ α, the largest at which the simulated
//     comparisons with no difference reject at most α of the time. A calibrated design keeps its α
//     up to the simulation's error (tests/engine/test_sequential.cpp checks it on fresh draws).
//   - Repeated confidence interval (Jennison & Turnbull 1989): difference ± q_k · se. Over all
//     looks together these intervals cover the true difference with probability ≈ 1 − α, so
//     stopping when one is narrow enough keeps its coverage; early on it is much wider than the
//     ordinary 95% interval (q_k is large there).
//   - Stopping: significant (p ≤ p*_k), else precise (repeated CI half-width ≤ ci_halfwidth, when
//     asked for), else at n_max. Stopping for precision never rejects, so it can only lower the
//     false-positive rate; the boundaries ignore it (non-binding).
//
//   stats::SequentialDesign design{.alpha = 0.05, .n_start = 3, .n_max = 12, .ci_halfwidth = 0.01};
//   design.spending_alpha = stats::calibrate_spending(design).spending_alpha;  // once per sweep
//   std::vector<stats::SequentialLook> looks;   // one per round, for one comparison
//   looks.push_back(stats::look_of(*stats::welch_test(arm, base), arm.size(), base.size()));
//   auto d = stats::sequential_decision(design, looks);
//   if (d.stopped()) report(d.describe());
//   // "stopped at 6 seeds: difference significant at the O'Brien–Fleming boundary p < 0.0025 (p = 0.0018;
//   //  0.0028 of the calibrated α' = 0.0478 for α = 0.05 spent by this look)"
//
// Limits: normal noise, as the t-tests themselves assume; Welch's calibration assumes equal
// variances in the two arms; n per look is the smaller arm's seed count (unequal counts then
// understate the information, so the look spends less: conservative).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ablate/engine/stats.h"

namespace ablate::stats {

/// One comparison's sequential design.
struct SequentialDesign {
  double alpha = 0.05;        // two-sided false-positive rate over all looks together
  int n_start = 3;            // seeds per arm at the first planned look
  int n_max = 12;             // seeds per arm at the last look; information fraction t = n / n_max
  int n_step = 1;             // seeds per arm added each planned round
  double ci_halfwidth = 0.0;  // stop when the repeated CI's half-width is ≤ this (metric units); 0: never
  bool paired = false;        // the statistic: the paired t by seed, else Welch's test
  /// The α the boundaries spend: calibrate_spending's α' ≤ alpha; unset: alpha itself.
  std::optional<double> spending_alpha;

  double spent_alpha() const { return spending_alpha.value_or(alpha); }
};

/// Throws ablate::Error naming the field when the design is unusable: α outside (0, 1), n_max < 2,
/// n_start outside [2, n_max], n_step < 1, ci_halfwidth negative or not finite, spending_alpha
/// outside (0, alpha].
void validate(const SequentialDesign& design);

/// The cumulative two-sided α spent by information fraction t ∈ [0, 1] (see above):
/// 4 − 4Φ(z_{1−α/4} / √t); 0 at t = 0, α at t = 1.
double obrien_fleming_spending(double alpha, double t);

/// The planned looks: n_start, n_start + n_step, ..., and n_max last (also when the steps skip it).
std::vector<int> planned_looks(const SequentialDesign& design);

/// The boundaries of the looks taken with seeds_at_looks[k] seeds per arm (strictly increasing,
/// each in [1, n_max]), spending design.spent_alpha(). One entry per look in every vector.
struct SequentialBoundaries {
  std::vector<int> n;
  std::vector<double> information;  // t_k = n_k / n_max
  std::vector<double> spent;        // α(t_k), cumulative
  std::vector<double> z;            // c_k: |Z_k| ≥ c_k rejects; +∞ where no α was left to spend
  std::vector<double> nominal_p;    // p*_k = 2(1 − Φ(c_k)): the two-sided level look k tests at
};
SequentialBoundaries sequential_boundaries(const SequentialDesign& design, std::span<const int> seeds_at_looks);

/// One look at one comparison: the estimate of the difference, its standard error and the degrees
/// of freedom of its t statistic, with n seeds per arm (for unequal counts: the smaller).
struct SequentialLook {
  int n = 0;
  double difference = 0.0;
  double se = 0.0;
  double df = 0.0;
};
SequentialLook look_of(const WelchTest& test, std::size_t n_x, std::size_t n_y);
SequentialLook look_of(const PairedTest& test);

enum class SequentialOutcome {
  add_seeds,         // undecided: run another round
  stop_significant,  // p ≤ this look's nominal level: the difference is significant
  stop_precise,      // not significant, but the repeated CI is within ±ci_halfwidth
  stop_at_max,       // n_max seeds and neither of the above
};

struct SequentialDecision {
  SequentialOutcome outcome = SequentialOutcome::add_seeds;
  int look = 0;                // 1-based index of the look that decided (the last one when undecided)
  int n = 0;                   // seeds per arm at that look
  double p = 1.0;              // the t-test's two-sided p at that look
  double t = 0.0;              // difference / se
  double z_boundary = 0.0;     // c_k
  double nominal_p = 0.0;      // p*_k: rejects when p ≤ p*_k
  double t_boundary = 0.0;     // q_k = t_{df; 1 − p*_k/2}
  double spent_at_look = 0.0;  // α(t_k) − α(t_{k−1}): the share of α this look spent
  double spent = 0.0;          // α(t_k): spent by this look and those before it
  double difference = 0.0;
  Interval repeated_ci;  // difference ± q_k · se (unbounded where no α was left)
  double repeated_halfwidth = 0.0;
  SequentialDesign design;  // for describe()

  bool stopped() const { return outcome != SequentialOutcome::add_seeds; }
  /// One sentence for the report, e.g. "stopped at 6 seeds: difference significant at the
  /// O'Brien–Fleming boundary p < 0.0027 (p = 0.0018; 0.0031 of α = 0.05 spent by this look)".
  std::string describe() const;
};

/// The decision after the looks `history` (in order, one per round, n strictly increasing, each in
/// [2, n_max], finite difference, se > 0, df > 0): the first look that stops decides, so a decision
/// stays made when more seeds arrive later (the baseline's, for another arm); with no stop it is
/// add_seeds at the last look. Throws ablate::Error on a history that breaks these rules.
SequentialDecision sequential_decision(const SequentialDesign& design, std::span<const SequentialLook> history);

/// The decision at look `index` (0-based) alone, against boundaries computed beforehand for at least
/// index + 1 looks, for a caller that knows the looks before it did not stop (a simulation repeating
/// one schedule: no boundaries and earlier looks to recompute each round). Same checks as above.
SequentialDecision sequential_decision_at(const SequentialDesign& design, const SequentialLook& look, std::size_t index,
                                          const SequentialBoundaries& boundaries);

// ---- simulation: calibration and plan ------------------------------------------------------------
// Synthetic comparisons follow the design's planned looks with normal noise per seed: Welch's test of
// two independent arms, or the paired t of per-seed differences. Deterministic: a fixed seed and the
// portable normal draw (portable_random.h); across platforms the last bits of log and cos may move
// a borderline simulated comparison, so results agree to the simulation's error, not bit for bit.

/// The calibrated α' of a design (see the top): the largest α' ≤ alpha at which at most alpha of
/// `replicates` simulated comparisons with no difference cross the boundaries of the planned looks
/// (found by bisection on α' with the same simulated comparisons throughout). Precision stops are
/// left out: they only lower the rate.
struct SequentialCalibration {
  double spending_alpha = 0.0;     // α'
  double uncalibrated_rate = 0.0;  // the simulated false-positive rate spending alpha itself
  double calibrated_rate = 0.0;    // ... spending α'
  int replicates = 0;
};
SequentialCalibration calibrate_spending(const SequentialDesign& design, int replicates = 50000,
                                         std::uint64_t seed = 0x5eed'ca1b);

struct SequentialPlanOptions {
  double sd = 1.0;        // noise per seed in metric units (paired: of the differences); scales ci_halfwidth
  int replicates = 4000;  // simulated comparisons per effect
  std::uint64_t seed = 20240601;
};

/// What the rule does at one true effect, over the simulated comparisons.
struct SequentialOperatingCharacteristics {
  double effect = 0.0;              // standardised true difference (in sd)
  double rejection_rate = 0.0;      // stopped significant (with effect 0: the false-positive rate)
  double expected_seeds = 0.0;      // mean seeds per arm at the stop
  double stopped_before_max = 0.0;  // share that stopped with fewer than n_max seeds
  double expected_runs = 0.0;       // runs of the comparison, both arms: 2 · expected_seeds
  int max_runs = 0;                 // 2 · n_max
  std::vector<int> looks;           // the planned looks
  std::vector<double> stop_share;   // per look: share of the comparisons that stopped there
};

/// The rule's cost and power for `ablate plan`: expected and largest number of runs with no
/// difference and with a true difference of `effect` standard deviations.
struct SequentialPlan {
  SequentialOperatingCharacteristics null_effect;
  SequentialOperatingCharacteristics at_effect;
  /// "3..12 seeds per arm: with no difference 23.8 runs expected per comparison (24 at most), ..."
  std::string describe() const;
};
SequentialPlan plan_sequential(const SequentialDesign& design, double effect,
                               const SequentialPlanOptions& options = {});

}  // namespace ablate::stats
