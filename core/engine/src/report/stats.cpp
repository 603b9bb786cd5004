// Statistics over seeds (stats.h): summaries, Welch's t-test, the paired analysis (paired t, exact
// sign-flip test, correlation), Cohen's d / Hedges' g with its noncentral-t interval, Holm, and the
// unpaired and paired power analyses (noncentral t, solved with TOMS 748).
// Quantiles and tail probabilities come from Boost.Math; formulas are stated in stats.h.
// Limits: plain double arithmetic, two-pass variance (fine for a handful of seeds); roots are
// solved to about 1e-12 relative, far finer than the estimates they start from.
#include "ablate/engine/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>

#include <boost/math/distributions/non_central_t.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <boost/math/tools/roots.hpp>
#include <fmt/format.h>

namespace ablate::stats {

namespace {

double mean_of(std::span<const double> v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

/// Sample variance (n − 1 denominator); needs n ≥ 2.
double variance_of(std::span<const double> v) {
  const double m = mean_of(v);
  double ss = 0.0;
  for (double x : v) ss += (x - m) * (x - m);
  return ss / static_cast<double>(v.size() - 1);
}

std::string too_few(std::size_t nx, std::size_t ny) {
  return fmt::format("fewer than 2 runs in an arm (n = {} and {}); needs at least 2 seeds each", nx, ny);
}

double two_sided_quantile_t(double df, double level) {
  return boost::math::quantile(boost::math::students_t(df), 0.5 + level / 2.0);
}

double pooled_variance(std::span<const double> x, std::span<const double> y) {
  const double nx = static_cast<double>(x.size()), ny = static_cast<double>(y.size());
  return ((nx - 1.0) * variance_of(x) + (ny - 1.0) * variance_of(y)) / (nx + ny - 2.0);
}

/// The root of the increasing function f on [lo, ∞): doubles `hi` until f(hi) ≥ 0 (or hi passes
/// `limit`, then nullopt), then TOMS 748 between the last two points.
template <typename F>
std::optional<double> increasing_root(F f, double lo, double hi, double limit) {
  double f_lo = f(lo), f_hi = f(hi);
  while (f_hi < 0.0) {
    if (hi > limit) return std::nullopt;
    lo = hi;
    f_lo = f_hi;
    hi *= 2.0;
    f_hi = f(hi);
  }
  if (f_hi == 0.0) return hi;
  std::uintmax_t iterations = 200;
  const auto [a, b] = boost::math::tools::toms748_solve(f, lo, hi, f_lo, f_hi,
                                                        boost::math::tools::eps_tolerance<double>(40), iterations);
  return (a + b) / 2.0;
}

/// P(T′ > t*) + P(T′ < −t*) for T′ ~ noncentral t(df, ncp ≥ 0), t* = t_{1−α/2, df}: the power of a
/// two-sided t-test, shared by the two-sample and the paired designs.
double two_sided_power(double df, double ncp, double alpha) {
  const double t_crit = boost::math::quantile(boost::math::students_t(df), 1.0 - alpha / 2.0);
  if (ncp == 0.0) return alpha;
  const boost::math::non_central_t dist(df, ncp);
  double upper = 0.0;
  try {
    upper = boost::math::cdf(boost::math::complement(dist, t_crit));
  } catch (const std::exception&) {
    // Boost gives up only far from the bulk (δ of order 1e15 when the spread is rounding noise);
    // there the normal limit P(Z > t* − δ) is exact to double precision.
    upper = boost::math::cdf(boost::math::complement(boost::math::normal(0.0, 1.0), t_crit - ncp));
  }
  // Rejections on the wrong side: below P(T < −t*) = α/2 and vanishing as δ grows. Boost's series
  // can fail to converge far out in that tail; the term is then negligible, so it counts as 0.
  double lower = 0.0;
  try {
    lower = boost::math::cdf(dist, -t_crit);
  } catch (const std::exception&) {
    lower = 0.0;
  }
  if (!std::isfinite(lower)) lower = 0.0;
  return std::min(1.0, upper + lower);
}

/// The smallest whole n ≥ 2 with power_at(n) ≥ power, starting from the real root n*: stepping by
/// the exact power means a root a rounding error off a whole number cannot cost or save a seed.
template <typename F>
std::size_t whole_seeds(F power_at, double n_exact, double power) {
  auto n = static_cast<std::size_t>(std::ceil(n_exact));
  while (n > 2 && power_at(static_cast<double>(n - 1)) >= power) --n;
  while (power_at(static_cast<double>(n)) < power) ++n;
  return n;
}

/// λ with P(T′(df, λ) ≤ t) = prob. That probability falls as λ grows, so the root is bracketed by
/// stepping out from λ = t with doubling steps, then TOMS 748. nullopt when Boost cannot evaluate
/// the distribution (far tails) or no bracket is found.
std::optional<double> noncentrality_for_cdf(double df, double t, double prob) {
  const auto f = [&](double lambda) { return boost::math::cdf(boost::math::non_central_t(df, lambda), t) - prob; };
  try {
    double lo = t - 1.0, hi = t + 1.0;
    double f_lo = f(lo), f_hi = f(hi);
    for (double step = 2.0; f_lo < 0.0 && step < 1e18; step *= 2.0) f_lo = f(lo = t - step);
    for (double step = 2.0; f_hi > 0.0 && step < 1e18; step *= 2.0) f_hi = f(hi = t + step);
    if (!(f_lo >= 0.0 && f_hi <= 0.0)) return std::nullopt;  // no bracket, or NaN
    if (f_lo == 0.0) return lo;
    if (f_hi == 0.0) return hi;
    std::uintmax_t iterations = 200;
    const auto [a, b] = boost::math::tools::toms748_solve(f, lo, hi, f_lo, f_hi,
                                                          boost::math::tools::eps_tolerance<double>(45), iterations);
    return (a + b) / 2.0;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

/// The paired differences x_i − y_i, or the reason they cannot be tested.
Maybe<std::vector<double>> paired_differences(std::span<const double> x, std::span<const double> y) {
  if (x.size() != y.size())
    return Maybe<std::vector<double>>::undefined(
        fmt::format("unequal numbers of paired values ({} and {})", x.size(), y.size()));
  if (x.size() < 2)
    return Maybe<std::vector<double>>::undefined(
        fmt::format("fewer than 2 pairs (n = {}); pairing needs at least 2 seeds finished in both arms", x.size()));
  std::vector<double> d(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) d[i] = x[i] - y[i];
  if (variance_of(d) == 0.0)
    return Maybe<std::vector<double>>::undefined(
        "zero variance of the paired differences (every seed moved by the same amount)");
  return {std::move(d), {}};
}

Maybe<double> pearson_r(std::span<const double> x, std::span<const double> y) {
  const double mx = mean_of(x), my = mean_of(y);
  double sxy = 0.0, sxx = 0.0, syy = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx == 0.0 || syy == 0.0)
    return Maybe<double>::undefined("an arm has no spread over the paired seeds (every seed gave the same value)");
  return {std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0), {}};
}

}  // namespace

Summary summarize(std::span<const double> values, double level) {
  Summary s;
  s.n = values.size();
  if (s.n == 0) {
    s.sd = Maybe<double>::undefined("no finished runs");
    s.ci = Maybe<Interval>::undefined("no finished runs");
    return s;
  }
  s.mean = mean_of(values);
  s.min = *std::min_element(values.begin(), values.end());
  s.max = *std::max_element(values.begin(), values.end());
  if (s.n < 2) {
    s.sd = Maybe<double>::undefined("a single run has no spread (n = 1)");
    s.ci = Maybe<Interval>::undefined("a single run has no spread (n = 1)");
    return s;
  }
  const double sd = std::sqrt(variance_of(values));
  const double half = two_sided_quantile_t(static_cast<double>(s.n - 1), level) * sd /
                      std::sqrt(static_cast<double>(s.n));
  s.sd = {sd, {}};
  s.ci = {Interval{s.mean - half, s.mean + half}, {}};
  return s;
}

Maybe<WelchTest> welch_test(std::span<const double> x, std::span<const double> y, double level) {
  if (x.size() < 2 || y.size() < 2) return Maybe<WelchTest>::undefined(too_few(x.size(), y.size()));
  const double nx = static_cast<double>(x.size()), ny = static_cast<double>(y.size());
  const double vx = variance_of(x) / nx, vy = variance_of(y) / ny;  // squared standard errors
  if (vx == 0.0 && vy == 0.0)
    return Maybe<WelchTest>::undefined("zero variance in both arms (every seed gave the same value)");
  WelchTest w;
  w.difference = mean_of(x) - mean_of(y);
  w.se = std::sqrt(vx + vy);
  w.t = w.difference / w.se;
  w.df = (vx + vy) * (vx + vy) / (vx * vx / (nx - 1.0) + vy * vy / (ny - 1.0));
  const boost::math::students_t dist(w.df);
  w.p = std::min(1.0, 2.0 * boost::math::cdf(boost::math::complement(dist, std::fabs(w.t))));
  const double half = two_sided_quantile_t(w.df, level) * w.se;
  w.difference_ci = {w.difference - half, w.difference + half};
  return {w, {}};
}

Maybe<double> sign_flip_p(std::span<const double> d) {
  const std::size_t n = d.size();
  if (n == 0) return Maybe<double>::undefined("no paired differences");
  if (n > kMaxSignFlipPairs)
    return Maybe<double>::undefined(fmt::format(
        "more than {} pairs (n = {}): too many sign patterns to enumerate; read the paired t", kMaxSignFlipPairs, n));
  double scale = 0.0, observed = 0.0;
  for (double v : d) {
    scale += std::fabs(v);
    observed += v;
  }
  const double tie = 1e-9 * scale;  // rounding of sums far below any real difference of losses
  // A pattern and its mirror image have the same |sum|: enumerate the 2ⁿ⁻¹ patterns with d_0's sign
  // kept and count each twice.
  const std::uint64_t half = std::uint64_t{1} << (n - 1);
  std::uint64_t extreme = 0;
  for (std::uint64_t mask = 0; mask < half; ++mask) {
    double sum = d[0];
    for (std::size_t i = 1; i < n; ++i) sum += (mask >> (i - 1) & 1U) ? -d[i] : d[i];
    if (std::fabs(sum) >= std::fabs(observed) - tie) ++extreme;
  }
  return {static_cast<double>(extreme) / static_cast<double>(half), {}};
}

Maybe<PairedTest> paired_test(std::span<const double> x, std::span<const double> y, double level) {
  const auto d = paired_differences(x, y);
  if (!d) return Maybe<PairedTest>::undefined(d.reason);
  PairedTest p;
  p.n = d->size();
  const double n = static_cast<double>(p.n);
  p.mean_difference = mean_of(*d);
  p.sd_difference = std::sqrt(variance_of(*d));
  p.se = p.sd_difference / std::sqrt(n);
  p.t = p.mean_difference / p.se;
  p.df = n - 1.0;
  const boost::math::students_t dist(p.df);
  p.p = std::min(1.0, 2.0 * boost::math::cdf(boost::math::complement(dist, std::fabs(p.t))));
  const double half = two_sided_quantile_t(p.df, level) * p.se;
  p.difference_ci = {p.mean_difference - half, p.mean_difference + half};
  p.sign_flip_p = sign_flip_p(*d);
  p.sign_flip_floor = std::ldexp(2.0, -static_cast<int>(p.n));
  p.correlation = pearson_r(x, y);
  return {p, {}};
}

Maybe<EffectSize> effect_size(std::span<const double> x, std::span<const double> y, double level) {
  if (x.size() < 2 || y.size() < 2) return Maybe<EffectSize>::undefined(too_few(x.size(), y.size()));
  const double nx = static_cast<double>(x.size()), ny = static_cast<double>(y.size());
  const double pooled_var = pooled_variance(x, y);
  if (pooled_var == 0.0)
    return Maybe<EffectSize>::undefined("zero variance in both arms (every seed gave the same value)");
  EffectSize e;
  e.pooled_sd = std::sqrt(pooled_var);
  e.cohens_d = (mean_of(x) - mean_of(y)) / e.pooled_sd;
  e.j = 1.0 - 3.0 / (4.0 * (nx + ny) - 9.0);
  e.hedges_g = e.j * e.cohens_d;
  // Var(g) = J² · ((nx+ny)/(nx·ny) + d²/(2(nx+ny)))  (Borenstein et al. 2009, eqs. 4.20, 4.24)
  e.g_variance = e.j * e.j * ((nx + ny) / (nx * ny) + e.cohens_d * e.cohens_d / (2.0 * (nx + ny)));
  // Noncentral-t limits of δ (Steiger & Fouladi 1997): invert P(T′(df, λ) ≤ t_obs) in λ.
  const double scale = std::sqrt(1.0 / nx + 1.0 / ny);
  const double df = nx + ny - 2.0, t_obs = e.cohens_d / scale;
  const auto lambda_lo = noncentrality_for_cdf(df, t_obs, 0.5 + level / 2.0);
  const auto lambda_hi = noncentrality_for_cdf(df, t_obs, 0.5 - level / 2.0);
  if (lambda_lo && lambda_hi)
    e.g_ci = {Interval{e.j * *lambda_lo * scale, e.j * *lambda_hi * scale}, {}};
  else
    e.g_ci = Maybe<Interval>::undefined(fmt::format(
        "the noncentral t distribution cannot be evaluated at t = {:.3g} (df = {:.0f}); the spread is too small", t_obs,
        df));
  return {e, {}};
}

std::vector<std::optional<double>> holm_adjust(const std::vector<std::optional<double>>& p_values) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < p_values.size(); ++i)
    if (p_values[i]) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return *p_values[a] < *p_values[b]; });
  std::vector<std::optional<double>> adjusted(p_values.size());
  const double m = static_cast<double>(order.size());
  double running_max = 0.0;
  for (std::size_t rank = 0; rank < order.size(); ++rank) {
    const double scaled = std::min(1.0, (m - static_cast<double>(rank)) * *p_values[order[rank]]);
    running_max = std::max(running_max, scaled);
    adjusted[order[rank]] = running_max;
  }
  return adjusted;
}

double t_test_power(double d, double n1, double n2, double alpha) {
  return two_sided_power(n1 + n2 - 2.0, std::fabs(d) / std::sqrt(1.0 / n1 + 1.0 / n2), alpha);
}

double minimal_detectable_effect(double n1, double n2, double alpha, double power) {
  const auto f = [&](double d) { return t_test_power(d, n1, n2, alpha) - power; };
  // Power at d = 0 is α < power; it reaches 1 as d grows, so a root exists.
  return *increasing_root(f, 0.0, 1.0, std::numeric_limits<double>::max());
}

Maybe<double> seeds_for_effect(double d, double alpha, double power) {
  if (d == 0.0)
    return Maybe<double>::undefined("the observed difference is 0: no number of seeds detects it (n is infinite)");
  const auto f = [&](double n) { return t_test_power(d, n, n, alpha) - power; };
  if (f(2.0) >= 0.0) return {2.0, {}};  // a t-test needs 2 values per arm; 2 already suffice
  const auto n = increasing_root(f, 2.0, 4.0, kMaxSeedsPerArm);
  if (!n || *n > kMaxSeedsPerArm)
    return Maybe<double>::undefined(fmt::format("more than {:.0f} seeds per arm (|d| = {:.3g})", kMaxSeedsPerArm,
                                                std::fabs(d)));
  return {*n, {}};
}

Maybe<PowerAnalysis> power_analysis(std::span<const double> x, std::span<const double> y, double alpha,
                                    double power) {
  if (x.size() < 2 || y.size() < 2) return Maybe<PowerAnalysis>::undefined(too_few(x.size(), y.size()));
  const double pooled = pooled_variance(x, y);
  if (pooled == 0.0)
    return Maybe<PowerAnalysis>::undefined("zero variance in both arms (every seed gave the same value)");
  PowerAnalysis a;
  a.nx = x.size();
  a.ny = y.size();
  a.alpha = alpha;
  a.power = power;
  a.pooled_sd = std::sqrt(pooled);
  a.difference = mean_of(x) - mean_of(y);
  a.detectable_effect = minimal_detectable_effect(static_cast<double>(a.nx), static_cast<double>(a.ny), alpha, power);
  a.detectable_difference = a.detectable_effect * a.pooled_sd;
  a.seeds_exact = seeds_for_effect(a.difference / a.pooled_sd, alpha, power);
  if (!a.seeds_exact) {
    a.seeds_needed = Maybe<std::size_t>::undefined(a.seeds_exact.reason);
    return {a, {}};
  }
  const double d = a.difference / a.pooled_sd;
  a.seeds_needed = {whole_seeds([&](double n) { return t_test_power(d, n, n, alpha); }, *a.seeds_exact, power), {}};
  return {a, {}};
}

double paired_t_test_power(double dz, double n, double alpha) {
  return two_sided_power(n - 1.0, std::fabs(dz) * std::sqrt(n), alpha);
}

double minimal_detectable_paired_effect(double n, double alpha, double power) {
  const auto f = [&](double dz) { return paired_t_test_power(dz, n, alpha) - power; };
  return *increasing_root(f, 0.0, 1.0, std::numeric_limits<double>::max());
}

Maybe<double> pairs_for_effect(double dz, double alpha, double power) {
  if (dz == 0.0)
    return Maybe<double>::undefined("the observed difference is 0: no number of seeds detects it (n is infinite)");
  const auto f = [&](double n) { return paired_t_test_power(dz, n, alpha) - power; };
  if (f(2.0) >= 0.0) return {2.0, {}};  // a paired t-test needs 2 pairs; 2 already suffice
  const auto n = increasing_root(f, 2.0, 4.0, kMaxSeedsPerArm);
  if (!n || *n > kMaxSeedsPerArm)
    return Maybe<double>::undefined(fmt::format("more than {:.0f} seeds per arm (|d_z| = {:.3g})", kMaxSeedsPerArm,
                                                std::fabs(dz)));
  return {*n, {}};
}

Maybe<PairedPowerAnalysis> paired_power_analysis(std::span<const double> x, std::span<const double> y, double alpha,
                                                 double power) {
  const auto d = paired_differences(x, y);
  if (!d) return Maybe<PairedPowerAnalysis>::undefined(d.reason);
  PairedPowerAnalysis a;
  a.n = d->size();
  a.alpha = alpha;
  a.power = power;
  a.sd_difference = std::sqrt(variance_of(*d));
  a.difference = mean_of(*d);
  a.detectable_effect = minimal_detectable_paired_effect(static_cast<double>(a.n), alpha, power);
  a.detectable_difference = a.detectable_effect * a.sd_difference;
  const double dz = a.difference / a.sd_difference;
  a.seeds_exact = pairs_for_effect(dz, alpha, power);
  if (!a.seeds_exact) {
    a.seeds_needed = Maybe<std::size_t>::undefined(a.seeds_exact.reason);
    return {a, {}};
  }
  a.seeds_needed = {whole_seeds([&](double n) { return paired_t_test_power(dz, n, alpha); }, *a.seeds_exact, power),
                    {}};
  return {a, {}};
}

}  // namespace ablate::stats
