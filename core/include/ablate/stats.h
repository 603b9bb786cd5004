// Statistics over seeds for ablation reports: per-arm summaries, Welch's t-test and difference of
// means, Cohen's d and Hedges' g, Holm's correction across comparisons, and the power analysis that
// says how many seeds a comparison needs.
//
// Every quantile and tail probability comes from Boost.Math distributions (students_t, normal,
// non_central_t);
// nothing here hand-writes a quantile. Limits, on purpose:
//   - Samples are small (seeds), independent, and assumed roughly normal; no bootstrap, no
//     non-parametric tests, no paired designs.
//   - A statistic that cannot be computed is "not defined" with a reason, never a number: fewer
//     than 2 values in an arm (no spread can be estimated), zero variance where it would be a
//     divisor. Callers print the reason.
//
//   auto base = stats::summarize({3.10, 3.12, 3.08});         // n, mean, sd, 95% CI
//   auto test = stats::welch_test(arm_losses, base_losses);   // Δ = mean(arm) − mean(base)
//   if (test) fmt::print("t={:.2f} df={:.1f} p={:.3g}", test->t, test->df, test->p);
//   else      fmt::print("not defined: {}", test.reason);
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

/// Standardised effect sizes of mean(x) − mean(y).
///   Cohen's d = (x̄ − ȳ) / s_pooled,  s_pooled = √(((nx−1)s²x + (ny−1)s²y) / (nx+ny−2)).
///   Hedges' g = J·d,  J = 1 − 3 / (4(nx+ny) − 9).
///   95% CI of g: g ± z_{(1+level)/2} · √Var(g), with the large-sample normal approximation
///   Var(g) = J² · ((nx+ny)/(nx·ny) + d²/(2(nx+ny)))   (Hedges & Olkin 1985; Borenstein et al. 2009,
///   "Introduction to Meta-Analysis", eqs. 4.20 and 4.24). With a few seeds it is wide, as it should be.
/// Not defined with fewer than 2 values in either sample or zero variance in both.
struct EffectSize {
  double pooled_sd = 0.0;
  double cohens_d = 0.0;
  double j = 1.0;           // Hedges' small-sample correction factor
  double hedges_g = 0.0;
  double g_variance = 0.0;
  Interval g_ci;
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

}  // namespace ablate::stats
