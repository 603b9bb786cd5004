// Statistics over seeds for ablation reports: per-arm summaries, Welch's t-test and difference of
// means, Cohen's d and Hedges' g, and Holm's correction across comparisons.
//
// Every quantile and tail probability comes from Boost.Math distributions (students_t, normal);
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
#pragma once

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

}  // namespace ablate::stats
