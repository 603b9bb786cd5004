// Group-sequential stopping for seeds on demand (sequential.h): O'Brien–Fleming-type alpha spending,
// the boundaries by numerical integration, the decision per look, and the simulations behind the
// calibration of α for t statistics and the plan.
// The integration follows Jennison & Turnbull (2000), "Group Sequential Methods with Applications
// to Clinical Trials", ch. 19: the density of Z_k on the continuation region is carried from look
// to look on a grid and integrated with Simpson's rule. Normal tail probabilities and t quantiles
// come from Boost.Math. Accuracy: the boundaries agree with published tables to the 3 decimals they
// print (tests/engine/test_sequential.cpp); roots are solved to ~1e-13 relative.
#include "ablate/engine/sequential.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <optional>
#include <random>
#include <utility>

#include <fmt/format.h>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <boost/math/tools/roots.hpp>

#include "ablate/engine/error.h"
#include "ablate/engine/portable_random.h"

namespace ablate::stats {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// The grid size parameter r of Jennison & Turnbull (19.2.1): 6r − 1 points, 12r − 3 with the
/// Simpson midpoints. gsDesign's default is 18; 32 costs little here (ten looks take a few ms).
constexpr int kGridR = 32;

const boost::math::normal& standard_normal() {
  static const boost::math::normal n(0.0, 1.0);
  return n;
}
double upper_tail(double x) { return boost::math::cdf(boost::math::complement(standard_normal(), x)); }
double lower_tail(double x) { return boost::math::cdf(standard_normal(), x); }
double density(double x) {
  static const double inv_sqrt_2pi = 1.0 / std::sqrt(2.0 * std::numbers::pi);
  return inv_sqrt_2pi * std::exp(-0.5 * x * x);
}

/// Quadrature points and weights on the continuation interval (lo, hi) of one look.
struct Grid {
  std::vector<double> z, w;
};

/// Jennison & Turnbull's grid for a statistic with mean 0 (the boundaries are computed under H0):
/// dense (spacing 3/(2r)) within ±3, logarithmically sparser out to ±(3 + 4 log r), cut to (lo, hi)
/// with lo and hi as end points; the midpoint of every interval is added and Simpson's weights put
/// on the result.
Grid make_grid(double lo, double hi) {
  const double r = kGridR;
  std::vector<double> x;
  x.reserve(6 * kGridR);
  for (int i = 1; i <= 6 * kGridR - 1; ++i) {
    if (i < kGridR)
      x.push_back(-3.0 - 4.0 * std::log(r / i));
    else if (i <= 5 * kGridR)
      x.push_back(-3.0 + 3.0 * (i - r) / (2.0 * r));
    else
      x.push_back(3.0 + 4.0 * std::log(r / (6.0 * r - i)));
  }
  lo = std::max(lo, x.front());
  hi = std::min(hi, x.back());
  std::vector<double> ends{lo};
  for (double v : x)
    if (v > lo && v < hi) ends.push_back(v);
  ends.push_back(hi);
  Grid g;
  g.z.resize(2 * ends.size() - 1);
  g.w.assign(g.z.size(), 0.0);
  for (std::size_t i = 0; i + 1 < ends.size(); ++i) {
    const double h = ends[i + 1] - ends[i];
    g.z[2 * i] = ends[i];
    g.z[2 * i + 1] = (ends[i] + ends[i + 1]) / 2.0;
    g.w[2 * i] += h / 6.0;
    g.w[2 * i + 1] += 4.0 * h / 6.0;
    g.w[2 * i + 2] += h / 6.0;
  }
  g.z.back() = ends.back();
  return g;
}

/// The root of the decreasing function f on [lo, hi] with f(lo) > 0 > f(hi) (TOMS 748).
template <typename F>
double decreasing_root(F f, double lo, double hi) {
  std::uintmax_t iterations = 200;
  const auto g = [&](double c) { return -f(c); };
  const auto [a, b] = boost::math::tools::toms748_solve(g, lo, hi, g(lo), g(hi),
                                                        boost::math::tools::eps_tolerance<double>(45), iterations);
  return (a + b) / 2.0;
}

void check_looks(const SequentialDesign& design, std::span<const int> n) {
  if (n.empty()) throw Error("sequential test: no looks given; needs at least one");
  for (std::size_t k = 0; k < n.size(); ++k) {
    if (n[k] < 1 || n[k] > design.n_max)
      throw Error(
          fmt::format("sequential test: look {} has {} seeds per arm; needs 1..n_max = {}", k + 1, n[k], design.n_max));
    if (k > 0 && n[k] <= n[k - 1])
      throw Error(
          fmt::format("sequential test: look {} has {} seeds per arm after {} at look {}; seeds must grow "
                      "from look to look",
                      k + 1, n[k], n[k - 1], k));
  }
}

std::string percent(double share) { return fmt::format("{:.1f}%", 100.0 * share); }

}  // namespace

void validate(const SequentialDesign& d) {
  if (!(d.alpha > 0.0 && d.alpha < 1.0))
    throw Error(fmt::format("sequential design: alpha = {} must lie strictly between 0 and 1", d.alpha));
  if (d.n_max < 2) throw Error(fmt::format("sequential design: n_max = {} must be at least 2 seeds", d.n_max));
  if (d.n_start < 2 || d.n_start > d.n_max)
    throw Error(fmt::format("sequential design: n_start = {} must lie in 2..n_max = {} (a t-test needs 2 seeds)",
                            d.n_start, d.n_max));
  if (d.n_step < 1) throw Error(fmt::format("sequential design: n_step = {} must be at least 1", d.n_step));
  if (!(d.ci_halfwidth >= 0.0) || !std::isfinite(d.ci_halfwidth))
    throw Error(fmt::format("sequential design: ci_halfwidth = {} must be a finite number ≥ 0 (0: no precision stop)",
                            d.ci_halfwidth));
  if (d.spending_alpha && !(*d.spending_alpha > 0.0 && *d.spending_alpha <= d.alpha))
    throw Error(
        fmt::format("sequential design: spending_alpha = {} must lie in (0, alpha = {}]", *d.spending_alpha, d.alpha));
}

double obrien_fleming_spending(double alpha, double t) {
  if (t <= 0.0) return 0.0;
  t = std::min(t, 1.0);
  // f(t; a) = 2 − 2Φ(z_{1−a/2}/√t) per side with a = α/2: z_{1−α/4}.
  const double z = boost::math::quantile(boost::math::complement(standard_normal(), alpha / 4.0));
  return 4.0 * upper_tail(z / std::sqrt(t));
}

std::vector<int> planned_looks(const SequentialDesign& design) {
  validate(design);
  std::vector<int> looks;
  for (int n = design.n_start; n < design.n_max; n += design.n_step) looks.push_back(n);
  looks.push_back(design.n_max);
  return looks;
}

SequentialBoundaries sequential_boundaries(const SequentialDesign& design, std::span<const int> seeds_at_looks) {
  validate(design);
  check_looks(design, seeds_at_looks);
  SequentialBoundaries b;
  const std::size_t K = seeds_at_looks.size();
  b.n.assign(seeds_at_looks.begin(), seeds_at_looks.end());
  for (int n : b.n) {
    b.information.push_back(static_cast<double>(n) / design.n_max);
    b.spent.push_back(obrien_fleming_spending(design.spent_alpha(), b.information.back()));
  }
  Grid grid;
  std::vector<double> h;  // density of Z_{k−1} on its continuation region, at grid.z
  for (std::size_t k = 0; k < K; ++k) {
    const double target = b.spent[k] - (k > 0 ? b.spent[k - 1] : 0.0);
    double c = kInf;
    if (k == 0) {
      // Look 1 alone: P(|Z_1| ≥ c_1) = α(t_1), a normal quantile.
      if (target > 0.0) c = boost::math::quantile(boost::math::complement(standard_normal(), target / 2.0));
    } else {
      // Z_k √I_k = Z_{k−1} √I_{k−1} + N(0, Δ): the chance of leaving through ±c at look k.
      const double sq = std::sqrt(b.information[k]), sq_prev = std::sqrt(b.information[k - 1]);
      const double sd = std::sqrt(b.information[k] - b.information[k - 1]);
      const auto exit = [&](double cc) {
        double sum = 0.0;
        for (std::size_t i = 0; i < grid.z.size(); ++i) {
          const double shift = grid.z[i] * sq_prev;
          sum += grid.w[i] * h[i] * (upper_tail((cc * sq - shift) / sd) + lower_tail((-cc * sq - shift) / sd));
        }
        return sum;
      };
      if (target > 0.0) {
        double hi = 8.0;
        while (exit(hi) > target && hi < 64.0) hi *= 2.0;
        // exit(0) is the whole mass still going (1 − what earlier looks rejected), far above target
        // unless α is close to 1; then c = 0 rejects everything left.
        if (exit(hi) > target)
          c = hi;
        else if (exit(0.0) <= target)
          c = 0.0;
        else
          c = decreasing_root([&](double cc) { return exit(cc) - target; }, 0.0, hi);
      }
    }
    b.z.push_back(c);
    b.nominal_p.push_back(std::isinf(c) ? 0.0 : 2.0 * upper_tail(c));
    if (k + 1 == K) break;
    // The density of Z_k on (−c_k, c_k), for the next look.
    Grid next = make_grid(-c, c);
    std::vector<double> h_next(next.z.size(), 0.0);
    if (k == 0) {
      for (std::size_t j = 0; j < next.z.size(); ++j) h_next[j] = density(next.z[j]);
    } else {
      const double sq = std::sqrt(b.information[k]), sq_prev = std::sqrt(b.information[k - 1]);
      const double sd = std::sqrt(b.information[k] - b.information[k - 1]);
      for (std::size_t j = 0; j < next.z.size(); ++j) {
        double sum = 0.0;
        for (std::size_t i = 0; i < grid.z.size(); ++i)
          sum += grid.w[i] * h[i] * density((next.z[j] * sq - grid.z[i] * sq_prev) / sd);
        h_next[j] = sum * sq / sd;
      }
    }
    grid = std::move(next);
    h = std::move(h_next);
  }
  return b;
}

SequentialLook look_of(const WelchTest& test, std::size_t n_x, std::size_t n_y) {
  return {static_cast<int>(std::min(n_x, n_y)), test.difference, test.se, test.df};
}

SequentialLook look_of(const PairedTest& test) {
  return {static_cast<int>(test.n), test.mean_difference, test.se, test.df};
}

namespace {

void check_look(const SequentialDesign& design, const SequentialLook& look, std::size_t k,
                const SequentialBoundaries& b) {
  if (k >= b.n.size())
    throw Error(fmt::format("sequential test: look {} given, but boundaries for only {} looks", k + 1, b.n.size()));
  if (look.n != b.n[k])
    throw Error(fmt::format("sequential test: look {} has {} seeds per arm, but its boundary was computed for {}",
                            k + 1, look.n, b.n[k]));
  if (look.n < 2 || look.n > design.n_max)
    throw Error(fmt::format("sequential test: look {} has {} seeds per arm; a t-test needs 2..n_max = {}", k + 1,
                            look.n, design.n_max));
  if (!(look.se > 0.0) || !std::isfinite(look.se) || !(look.df > 0.0) || !std::isfinite(look.df) ||
      !std::isfinite(look.difference))
    throw Error(
        fmt::format("sequential test: look {} (n = {}) has difference {}, se {}, df {}; needs a finite "
                    "difference, se > 0 and df > 0",
                    k + 1, look.n, look.difference, look.se, look.df));
}

/// Look k against its boundary. `need_ci`: work out the repeated CI even when nothing uses it (its t
/// quantile is the slow part; a look that neither stops nor is returned skips it).
SequentialDecision decide(const SequentialDesign& design, const SequentialLook& look, std::size_t k,
                          const SequentialBoundaries& b, bool need_ci) {
  const boost::math::students_t dist(look.df);
  const double t = look.difference / look.se;
  const double p = 2.0 * boost::math::cdf(boost::math::complement(dist, std::fabs(t)));
  const double nominal = b.nominal_p[k];
  const bool significant = nominal > 0.0 && p <= nominal;
  double q = kInf;
  if ((need_ci || significant || design.ci_halfwidth > 0.0) && nominal > 0.0)
    q = boost::math::quantile(boost::math::complement(dist, nominal / 2.0));
  const double half = q * look.se;
  const bool precise = design.ci_halfwidth > 0.0 && half <= design.ci_halfwidth;

  SequentialDecision d;
  d.design = design;
  d.outcome = significant              ? SequentialOutcome::stop_significant
              : precise                ? SequentialOutcome::stop_precise
              : look.n >= design.n_max ? SequentialOutcome::stop_at_max
                                       : SequentialOutcome::add_seeds;
  d.look = static_cast<int>(k) + 1;
  d.n = look.n;
  d.p = p;
  d.t = t;
  d.z_boundary = b.z[k];
  d.nominal_p = nominal;
  d.t_boundary = q;
  d.spent = b.spent[k];
  d.spent_at_look = b.spent[k] - (k > 0 ? b.spent[k - 1] : 0.0);
  d.difference = look.difference;
  d.repeated_halfwidth = half;
  d.repeated_ci = {look.difference - half, look.difference + half};
  return d;
}

}  // namespace

SequentialDecision sequential_decision(const SequentialDesign& design, std::span<const SequentialLook> history) {
  if (history.empty()) throw Error("sequential test: no looks given; needs at least one");
  std::vector<int> n;
  for (const auto& look : history) n.push_back(look.n);
  const auto b = sequential_boundaries(design, n);  // validates the design and the growth of n
  for (std::size_t k = 0; k < history.size(); ++k) check_look(design, history[k], k, b);
  for (std::size_t k = 0; k + 1 < history.size(); ++k)
    if (auto d = decide(design, history[k], k, b, false); d.stopped()) return d;
  return decide(design, history.back(), history.size() - 1, b, true);
}

SequentialDecision sequential_decision_at(const SequentialDesign& design, const SequentialLook& look, std::size_t index,
                                          const SequentialBoundaries& boundaries) {
  validate(design);
  check_look(design, look, index, boundaries);
  return decide(design, look, index, boundaries, true);
}

std::string SequentialDecision::describe() const {
  const std::string rci =
      std::isfinite(repeated_halfwidth)
          ? fmt::format("repeated {:g}% CI of the difference ±{:.3g}", 100.0 * (1.0 - design.alpha), repeated_halfwidth)
          : fmt::format("repeated {:g}% CI of the difference unbounded", 100.0 * (1.0 - design.alpha));
  const std::string wider =
      design.ci_halfwidth > 0.0 ? fmt::format(", wider than the requested ±{:g}", design.ci_halfwidth) : std::string();
  const std::string test = fmt::format("p = {:.2g}, boundary p < {:.2g}", p, nominal_p);
  switch (outcome) {
    case SequentialOutcome::stop_significant:
      return fmt::format(
          "stopped at {} seeds: difference significant at the O'Brien–Fleming boundary p < {:.2g} "
          "(p = {:.2g}; {:.2g} of {} spent by this look)",
          n, nominal_p, p, spent,
          design.spending_alpha
              ? fmt::format("the calibrated α' = {:.3g} for α = {:g}", *design.spending_alpha, design.alpha)
              : fmt::format("α = {:g}", design.alpha));
    case SequentialOutcome::stop_precise:
      return fmt::format("stopped at {} seeds: precise enough, {} within the requested ±{:g}; not significant ({})", n,
                         rci, design.ci_halfwidth, test);
    case SequentialOutcome::stop_at_max:
      return fmt::format("stopped at the maximum of {} seeds: not significant ({}); {}{}", n, test, rci, wider);
    case SequentialOutcome::add_seeds: break;
  }
  return fmt::format("undecided at {} of at most {} seeds: not significant ({}); {}{}; add seeds", n, design.n_max,
                     test, rci, wider);
}

namespace {

/// Synthetic seeds of one comparison, drawn as the looks ask for them: two independent arms
/// (Welch) x ~ N(effect·sd, sd²) and y ~ N(0, sd²), or per-seed differences d ~ N(effect·sd, sd²)
/// (paired).
class SyntheticComparison {
 public:
  SyntheticComparison(bool paired, double effect, double sd) : paired_(paired), effect_(effect), sd_(sd) {}

  void clear() {
    x_.clear();
    y_.clear();
  }

  /// The look at n seeds per arm: the statistics of welch_test / paired_test (stats.h), computed here
  /// without their confidence intervals and sign-flip enumeration, which a simulation does not use.
  SequentialLook look_at(int n, std::mt19937_64& rng) {
    while (static_cast<int>(x_.size()) < n) {
      x_.push_back(sd_ * (effect_ + draw_standard_normal(rng)));
      if (!paired_) y_.push_back(sd_ * draw_standard_normal(rng));
    }
    const double nn = n;
    const auto mean_var = [&](const std::vector<double>& v) {
      double m = 0.0, ss = 0.0;
      for (double e : v) m += e;
      m /= nn;
      for (double e : v) ss += (e - m) * (e - m);
      return std::pair{m, ss / (nn - 1.0)};
    };
    const auto [mx, vx] = mean_var(x_);
    if (paired_) return {n, mx, std::sqrt(vx / nn), nn - 1.0};
    const auto [my, vy] = mean_var(y_);
    const double ax = vx / nn, ay = vy / nn;
    const double df = (ax + ay) * (ax + ay) / (ax * ax / (nn - 1.0) + ay * ay / (nn - 1.0));
    return {n, mx - my, std::sqrt(ax + ay), df};
  }

 private:
  bool paired_;
  double effect_, sd_;
  std::vector<double> x_, y_;
};

double two_sided_p(const SequentialLook& look) {
  return 2.0 * boost::math::cdf(
                   boost::math::complement(boost::math::students_t(look.df), std::fabs(look.difference / look.se)));
}

SequentialOperatingCharacteristics simulate(const SequentialDesign& design, double effect,
                                            const SequentialPlanOptions& options, const SequentialBoundaries& b) {
  SequentialOperatingCharacteristics oc;
  oc.effect = effect;
  oc.looks = b.n;
  oc.max_runs = 2 * design.n_max;
  oc.stop_share.assign(b.n.size(), 0.0);
  std::mt19937_64 rng(options.seed);
  SyntheticComparison comparison(design.paired, effect, options.sd);
  double rejected = 0.0, seeds = 0.0, early = 0.0;
  for (int rep = 0; rep < options.replicates; ++rep) {
    comparison.clear();
    for (std::size_t k = 0; k < b.n.size(); ++k) {
      // The looks before did not stop (the loop would have ended), so the newest alone decides.
      const auto d = decide(design, comparison.look_at(b.n[k], rng), k, b, false);
      if (!d.stopped()) continue;
      oc.stop_share[k] += 1.0;
      seeds += b.n[k];
      if (d.outcome == SequentialOutcome::stop_significant) rejected += 1.0;
      if (b.n[k] < design.n_max) early += 1.0;
      break;
    }
  }
  const double reps = options.replicates;
  oc.rejection_rate = rejected / reps;
  oc.expected_seeds = seeds / reps;
  oc.expected_runs = 2.0 * oc.expected_seeds;
  oc.stopped_before_max = early / reps;
  for (double& s : oc.stop_share) s /= reps;
  return oc;
}

}  // namespace

SequentialCalibration calibrate_spending(const SequentialDesign& design, int replicates, std::uint64_t seed) {
  validate(design);
  if (replicates < 100)
    throw Error(
        fmt::format("calibration: replicates = {} is too few to estimate a false-positive rate; use at "
                    "least 100 (the default 50000 has a standard error of 0.1 points at α = 5%)",
                    replicates));
  const auto looks = planned_looks(design);
  // The p of every look of every simulated comparison with no difference, drawn once: every α'
  // tried below is judged on the same comparisons, so the rate is monotone in α' and the search
  // does not chase noise.
  std::vector<double> p(static_cast<std::size_t>(replicates) * looks.size());
  std::mt19937_64 rng(seed);
  SyntheticComparison comparison(design.paired, 0.0, 1.0);
  for (std::size_t r = 0; r < static_cast<std::size_t>(replicates); ++r) {
    comparison.clear();
    for (std::size_t k = 0; k < looks.size(); ++k)
      p[r * looks.size() + k] = two_sided_p(comparison.look_at(looks[k], rng));
  }
  const auto rate = [&](double spending_alpha) {
    SequentialDesign d = design;
    d.spending_alpha = spending_alpha;
    const auto b = sequential_boundaries(d, looks);
    std::size_t rejected = 0;
    for (std::size_t r = 0; r < static_cast<std::size_t>(replicates); ++r)
      for (std::size_t k = 0; k < looks.size(); ++k)
        if (p[r * looks.size() + k] <= b.nominal_p[k]) {
          ++rejected;
          break;
        }
    return static_cast<double>(rejected) / replicates;
  };
  SequentialCalibration c;
  c.replicates = replicates;
  c.uncalibrated_rate = rate(design.alpha);
  if (c.uncalibrated_rate <= design.alpha) {
    // Already within α on these draws: never loosen the boundaries.
    c.spending_alpha = design.alpha;
    c.calibrated_rate = c.uncalibrated_rate;
    return c;
  }
  // Bisection between lo (rate ≤ α) and hi (rate > α) down to 0.1% of α.
  double lo = design.alpha / 2.0, hi = design.alpha;
  double lo_rate = rate(lo);
  while (lo_rate > design.alpha) {
    hi = lo;
    lo /= 2.0;
    lo_rate = rate(lo);
  }
  while (hi - lo > 1e-3 * design.alpha) {
    const double mid = (lo + hi) / 2.0;
    const double mid_rate = rate(mid);
    if (mid_rate <= design.alpha) {
      lo = mid;
      lo_rate = mid_rate;
    } else {
      hi = mid;
    }
  }
  c.spending_alpha = lo;
  c.calibrated_rate = lo_rate;
  return c;
}

SequentialPlan plan_sequential(const SequentialDesign& design, double effect, const SequentialPlanOptions& options) {
  validate(design);
  if (!(options.sd > 0.0) || !std::isfinite(options.sd))
    throw Error(fmt::format("plan: sd = {} must be a finite number > 0", options.sd));
  if (options.replicates < 1) throw Error(fmt::format("plan: replicates = {} must be at least 1", options.replicates));
  if (!std::isfinite(effect)) throw Error(fmt::format("plan: effect = {} must be finite", effect));
  const auto looks = planned_looks(design);
  const auto b = sequential_boundaries(design, looks);
  return {simulate(design, 0.0, options, b), simulate(design, effect, options, b)};
}

std::string SequentialPlan::describe() const {
  const auto& h0 = null_effect;
  const auto& h1 = at_effect;
  return fmt::format(
      "{}..{} seeds per arm: with no difference {:.1f} runs expected per comparison ({} at most), "
      "false positives {}; with a difference of {:g} sd {:.1f} runs expected, significant in {}, "
      "stopped early in {}",
      h0.looks.front(), h0.looks.back(), h0.expected_runs, h0.max_runs, percent(h0.rejection_rate), h1.effect,
      h1.expected_runs, percent(h1.rejection_rate), percent(h1.stopped_before_max));
}

}  // namespace ablate::stats
