// Statistics over seeds for ablation reports: per-arm summaries, Welch's t-test and difference of
// means, the paired analysis of runs matched by seed (paired t, exact sign-flip test, correlation),
// Cohen's d and Hedges' g, Holm's correction across comparisons, and the power analyses (unpaired
// and paired) that say how many seeds a comparison needs.
//
// Every quantile and tail probability comes from Boost.Math distributions (students_t, normal,
// non_central_t);
// nothing here hand-writes a quantile. Limits, on purpose:
//   - Samples are small (seeds) and assumed roughly normal; no bootstrap. The one non-parametric
//     test is the exact sign-flip test of paired differences.
//   - Paired statistics take x[i] and y[i] as one pair (the same seed in both arms); matching the
//     seeds is the caller's job.
//   - A statistic that cannot be computed is "not defined" with a reason, never a number: fewer
//     than 2 values in an arm (no spread can be estimated), zero variance where it would be a
//     divisor. Callers print the reason.
//
//   auto base = stats::summarize({3.10, 3.12, 3.08});         // n, mean, sd, 95% CI
//   auto test = stats::welch_test(arm_losses, base_losses);   // Δ = mean(arm) − mean(base)
//   if (test) fmt::print("t={:.2f} df={:.1f} p={:.3g}", test->t, test->df, test->p);
//   else      fmt::print("not defined: {}", test.reason);
//   auto paired = stats::paired_test(arm_by_seed, base_by_seed);  // d_i = arm_i − base_i, same seed i
//   if (paired) fmt::print("mean d={:.4f} sign-flip p={:.3g}", paired->mean_difference, *paired->sign_flip_p);
//   auto power = stats::power_analysis(arm_losses, base_losses);   // α = 0.05, power 0.8
//   if (power) fmt::print("detects |Δ| ≥ {:.4f}", power->detectable_difference);
#pragma once

#include <cmath>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ablate::stats {

/// A value that may be undefined; when it is, `reason` says why ("fewer than 2 runs in ...").
template <typename T>
struct Maybe {
  std::optional<T> value;
  std::string reason;  // empty when defined

  static Maybe undefined(std::string why) { return {std::nullopt, std::move(why)}; }
  explicit operator bool() const { return value.has_value(); }
  const T* operator->() const { return &*value; }
  const T& operator*() const { return *value; }
};

struct Interval {
  double lo = 0.0;
  double hi = 0.0;
};

/// One arm's sample: n, mean, sample standard deviation (n − 1 denominator) and the Student-t
/// confidence interval of the mean, mean ± t_{(1+level)/2, n−1} · sd / √n.
struct Summary {
  std::size_t n = 0;
  double mean = 0.0;           // meaningful when n ≥ 1
  double min = 0.0, max = 0.0; // meaningful when n ≥ 1
  Maybe<double> sd;            // n ≥ 2
  Maybe<Interval> ci;          // n ≥ 2
};
Summary summarize(std::span<const double> values, double level = 0.95);

/// Welch's unequal-variance t-test of mean(x) − mean(y), two-sided.
///   se = √(s²x/nx + s²y/ny),  t = (x̄ − ȳ)/se,
///   df = se⁴ / ((s²x/nx)²/(nx−1) + (s²y/ny)²/(ny−1))   (Welch–Satterthwaite),
///   p  = 2·P(T_df > |t|),  CI of the difference = (x̄ − ȳ) ± t_{(1+level)/2, df} · se.
/// Not defined with fewer than 2 values in either sample, or when both variances are zero.
struct WelchTest {
  double difference = 0.0;  // mean(x) − mean(y)
  Interval difference_ci;   // at `level`
  double se = 0.0;
  double t = 0.0;
  double df = 0.0;
  double p = 1.0;           // two-sided
};
Maybe<WelchTest> welch_test(std::span<const double> x, std::span<const double> y, double level = 0.95);

/// The paired analysis of runs matched by seed: x[i] and y[i] share seed i (initialisation and
/// data order), so the differences d_i = x_i − y_i cancel what the seed does to both arms.
///   d̄ = mean(d), s_d = sd(d) (n − 1 denominator), t = d̄ / (s_d/√n), df = n − 1,
///   p = 2·P(T_df > |t|),  CI of d̄ = d̄ ± t_{(1+level)/2, n−1} · s_d/√n.
/// Sign-flip test (exact permutation test of the paired differences): under "no difference" each
/// d_i is as likely to have had the other sign, so p = (number of the 2ⁿ sign patterns ±d_i whose
/// |mean| ≥ the observed |d̄|, the observed pattern included) / 2ⁿ. Exact up to kMaxSignFlipPairs
/// pairs, undefined beyond (read the paired t there). Its floor 2/2ⁿ (the observed pattern and its
/// mirror image) is the smallest p that n pairs can ever give: 0.25 with 3 seeds, 0.0625 with 5;
/// below 6 pairs no result reaches 0.05.
/// Pearson r of x and y: s²_d = s²x + s²y − 2·r·sx·sy, so pairing narrows the test exactly when
/// r > 0. Undefined (with its reason) when x or y has no spread.
/// Not defined with fewer than 2 pairs, samples of unequal length, or s_d = 0 (every seed moved by
/// the same amount: no spread to test against).
inline constexpr std::size_t kMaxSignFlipPairs = 20;
struct PairedTest {
  std::size_t n = 0;             // pairs
  double mean_difference = 0.0;  // d̄ = mean(x − y)
  double sd_difference = 0.0;    // s_d
  Interval difference_ci;        // at `level`
  double se = 0.0;               // s_d / √n
  double t = 0.0;
  double df = 0.0;               // n − 1
  double p = 1.0;                // paired t, two-sided
  Maybe<double> sign_flip_p;     // exact, two-sided; n ≤ kMaxSignFlipPairs
  double sign_flip_floor = 1.0;  // 2 / 2ⁿ
  Maybe<double> correlation;     // Pearson r of x and y
};
Maybe<PairedTest> paired_test(std::span<const double> x, std::span<const double> y, double level = 0.95);

/// The exact two-sided sign-flip p of paired differences d (see PairedTest); undefined with fewer
/// than 1 or more than kMaxSignFlipPairs differences. Sums that agree to 1e-9 of Σ|d_i| count as
/// ties, so rounding cannot drop the observed pattern or its mirror image.
Maybe<double> sign_flip_p(std::span<const double> d);

/// Standardised effect sizes of mean(x) − mean(y).
///   Cohen's d = (x̄ − ȳ) / s_pooled,  s_pooled = √(((nx−1)s²x + (ny−1)s²y) / (nx+ny−2)).
///   Hedges' g = J·d,  J = 1 − 3 / (4(nx+ny) − 9).
///   CI of g from the noncentral t (exact under normality; Steiger & Fouladi 1997, Cumming & Finch
///   2001): t = d / √(1/nx + 1/ny) follows a noncentral t with df = nx + ny − 2 and noncentrality
///   λ = δ/√(1/nx + 1/ny). The limits λ_lo, λ_hi solve P(T′(df, λ) ≤ t) = (1+level)/2 and
///   (1−level)/2; the CI of δ is λ·√(1/nx + 1/ny), and that of g is J times it. With a few seeds it
///   is wide, as it should be, and not symmetric about g. Undefined (with its reason) when Boost
///   cannot evaluate the distribution that far out (|t| in the tens of thousands and beyond: a
///   spread far below the difference, such as rounding noise).
///   g_variance is the large-sample Var(g) = J² · ((nx+ny)/(nx·ny) + d²/(2(nx+ny))) (Borenstein
///   et al. 2009, "Introduction to Meta-Analysis", eqs. 4.20 and 4.24), the weight meta-analyses
///   use; the interval does not use it.
/// Not defined with fewer than 2 values in either sample or zero variance in both.
struct EffectSize {
  double pooled_sd = 0.0;
  double cohens_d = 0.0;
  double j = 1.0;           // Hedges' small-sample correction factor
  double hedges_g = 0.0;
  double g_variance = 0.0;
  Maybe<Interval> g_ci;     // at `level`, noncentral t
};
Maybe<EffectSize> effect_size(std::span<const double> x, std::span<const double> y, double level = 0.95);

/// Holm's step-down adjustment of a family of p-values (undefined entries are skipped and stay
/// undefined; m counts the defined ones). Adjusted p_(i) = max_{j ≤ i} min(1, (m − j + 1)·p_(j))
/// over the ascending order, returned in the input's order.
std::vector<std::optional<double>> holm_adjust(const std::vector<std::optional<double>>& p_values);

// ---- power analysis: how many seeds ------------------------------------------------------------
// For the two-sided two-sample Student t-test (pooled variance) at level α, with a true difference
// of means Δ and a common standard deviation σ, i.e. a standardised effect d = Δ/σ:
//   df = n₁ + n₂ − 2,  δ = d / √(1/n₁ + 1/n₂)  (noncentrality),  t* = t_{1−α/2, df},
//   power = P(T' > t*) + P(T' < −t*),  T' ~ noncentral t(df, δ)   (exact, no normal approximation).
// Power grows with |d| and with n, so both inverse problems are solved by bracketing and Boost's
// TOMS 748 root finder. The numbers agree with statsmodels' TTestIndPower and G*Power, e.g. at
// α = 0.05 and power 0.8: d = 0.5 needs n = 63.77 per group, d = 0.8 → 25.52, d = 1.0 → 16.71
// (Cohen 1988, "Statistical Power Analysis for the Behavioral Sciences", ch. 2, n table: 64, 26, 17).
// The report's tests use Welch's unequal-variance t; the power analysis uses the pooled test, the
// standard planning model (with equal n per arm the two differ little). The observed Δ and σ are
// estimates from few seeds themselves, so the advice is a guide, not a guarantee.

/// Power of the two-sided two-sample t-test for standardised effect d with n1 and n2 values
/// (real n allowed; n1 + n2 > 2). Symmetric in the sign of d.
double t_test_power(double d, double n1, double n2, double alpha = 0.05);

/// The smallest |d| that the test detects with probability `power` at n1 and n2 values:
/// the root of t_test_power(d, n1, n2, alpha) = power. Needs n1, n2 ≥ 2 and alpha < power < 1.
double minimal_detectable_effect(double n1, double n2, double alpha = 0.05, double power = 0.8);

/// Values per arm (equal n) that detect standardised effect d with probability `power`: the real
/// root n* of t_test_power(d, n, n, alpha) = power, at least 2 (2 when 2 already suffice). Not
/// defined when d = 0 (n would be infinite) or when n* exceeds kMaxSeedsPerArm.
inline constexpr double kMaxSeedsPerArm = 1e6;
Maybe<double> seeds_for_effect(double d, double alpha = 0.05, double power = 0.8);

/// Power analysis of mean(x) − mean(y) with the observed pooled standard deviation
///   s_pooled = √(((nx−1)s²x + (ny−1)s²y) / (nx+ny−2)).
/// Not defined with fewer than 2 values in either sample or when s_pooled = 0.
struct PowerAnalysis {
  std::size_t nx = 0, ny = 0;
  double alpha = 0.05, power = 0.8;
  double pooled_sd = 0.0;
  double difference = 0.0;             // mean(x) − mean(y), observed
  double detectable_effect = 0.0;      // minimal |d| at nx, ny
  double detectable_difference = 0.0;  // minimal |Δ| at nx, ny = detectable_effect · s_pooled
  Maybe<double> seeds_exact;           // seeds_for_effect(|Δ| / s_pooled): real n*
  Maybe<std::size_t> seeds_needed;     // ⌈n*⌉ per arm; the reason of seeds_exact when undefined

  /// The observed |Δ| is below what the seeds used can detect with the requested power.
  bool underpowered() const { return std::fabs(difference) < detectable_difference; }
};
Maybe<PowerAnalysis> power_analysis(std::span<const double> x, std::span<const double> y, double alpha = 0.05,
                                    double power = 0.8);

// ---- power analysis of the paired design -------------------------------------------------------
// The two-sided paired t-test on n pairs is the one-sample t-test of the differences. With the
// standardised mean difference d_z = mean(d) / sd(d) (Cohen 1988, ch. 2, the case of paired observations):
//   df = n − 1,  δ = d_z·√n,  power = P(T′ > t*) + P(T′ < −t*),  t* = t_{1−α/2, n−1},
// solved like the unpaired case (noncentral t, bracketing, TOMS 748). It agrees with statsmodels'
// TTestPower and G*Power's "means: difference between two dependent means": at α = 0.05 and power
// 0.8, d_z = 0.5 needs 33.37 pairs (G*Power: 34), d_z = 0.8 → 14.30 (15), d_z = 1.0 → 9.94 (10).
// Counted in seeds: each pair is one seed run in both arms, so n pairs cost n seeds per arm.

/// Power of the two-sided paired t-test for standardised effect d_z with n pairs (real n > 1).
double paired_t_test_power(double dz, double n, double alpha = 0.05);

/// The smallest |d_z| that n pairs detect with probability `power` (n ≥ 2, alpha < power < 1).
double minimal_detectable_paired_effect(double n, double alpha = 0.05, double power = 0.8);

/// Pairs (seeds per arm) that detect d_z with probability `power`: the real root n* of
/// paired_t_test_power(d_z, n, alpha) = power, at least 2. Not defined when d_z = 0 or n* exceeds
/// kMaxSeedsPerArm.
Maybe<double> pairs_for_effect(double dz, double alpha = 0.05, double power = 0.8);

/// Power analysis of the paired differences x[i] − y[i] with their observed standard deviation s_d.
/// Not defined with fewer than 2 pairs, unequal lengths, or s_d = 0.
struct PairedPowerAnalysis {
  std::size_t n = 0;  // pairs
  double alpha = 0.05, power = 0.8;
  double sd_difference = 0.0;          // s_d
  double difference = 0.0;             // mean(x − y), observed
  double detectable_effect = 0.0;      // minimal |d_z| at n pairs
  double detectable_difference = 0.0;  // minimal |mean d| at n pairs = detectable_effect · s_d
  Maybe<double> seeds_exact;           // pairs_for_effect(|mean d| / s_d): real n*
  Maybe<std::size_t> seeds_needed;     // the smallest whole n with power ≥ `power`

  bool underpowered() const { return std::fabs(difference) < detectable_difference; }
};
Maybe<PairedPowerAnalysis> paired_power_analysis(std::span<const double> x, std::span<const double> y,
                                                 double alpha = 0.05, double power = 0.8);

}  // namespace ablate::stats
