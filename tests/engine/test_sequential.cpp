// Seeds on demand (ablate/engine/sequential.h): the O'Brien–Fleming-type boundaries against
// published values, and the stopping rule on synthetic sweeps (no training): A/A comparisons, both
// arms from one normal noise model, must not come out significant more often than α although the
// rule looks after every round, while testing at α at every look does; a real difference stops early.
// Every simulation uses a fixed seed and the portable normal draw, so the numbers are the same on
// every run; the Monte Carlo tolerances are 3 standard errors of the simulated rate.
//
//   ./build-seq/bin/test_engine "[sequential]" -s    # -s prints the measured rates
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "ablate/engine/error.h"
#include "ablate/engine/portable_random.h"
#include "ablate/engine/sequential.h"
#include "ablate/engine/stats.h"

using Approx = Catch::Detail::Approx;
namespace stats = ablate::stats;
using stats::SequentialOutcome;

namespace {

/// Monte Carlo tolerance: 3 standard errors of a rate near p estimated from n draws.
double three_se(double p, int n) { return 3.0 * std::sqrt(p * (1.0 - p) / n); }

/// The paired t's look from the per-seed differences d (as stats::paired_test computes it).
stats::SequentialLook paired_look(const std::vector<double>& d) {
  const double n = static_cast<double>(d.size());
  double mean = 0.0, ss = 0.0;
  for (double v : d) mean += v / n;
  for (double v : d) ss += (v - mean) * (v - mean);
  return {static_cast<int>(d.size()), mean, std::sqrt(ss / (n - 1.0) / n), n - 1.0};
}

// The schedule of the feature's example: 3 seeds per arm, then one more per round, up to 12.
const stats::SequentialDesign kDesign{.alpha = 0.05, .n_start = 3, .n_max = 12, .n_step = 1};

}  // namespace

TEST_CASE("O'Brien-Fleming spending spends almost nothing early and alpha by the last look", "[sequential]") {
  // Reference values from Python's statistics.NormalDist (independent of Boost):
  //   z = NormalDist().inv_cdf(1 - 0.05/4); 4 * (1 - NormalDist().cdf(z / sqrt(t)))
  CHECK(stats::obrien_fleming_spending(0.05, 0.0) == 0.0);
  CHECK(stats::obrien_fleming_spending(0.05, 0.2) == Approx(1.0777425258901019e-06).epsilon(1e-9));
  CHECK(stats::obrien_fleming_spending(0.05, 0.25) == Approx(1.473361687143182e-05).epsilon(1e-9));
  CHECK(stats::obrien_fleming_spending(0.05, 0.5) == Approx(0.003050645515977557).epsilon(1e-9));
  CHECK(stats::obrien_fleming_spending(0.05, 1.0) == Approx(0.05).epsilon(1e-12));
}

TEST_CASE("sequential boundaries match the published O'Brien-Fleming-type values for five equal looks",
          "[sequential]") {
  // Two-sided symmetric Lan–DeMets O'Brien–Fleming-type boundaries, K = 5 equally spaced looks,
  // α = 0.05: 4.877, 3.357, 2.680, 2.290, 2.031, the values quoted for gsDesign
  // (gsDesign(k = 5, test.type = 2, alpha = 0.025, sfu = sfLDOF)) and the Lan–DeMets programs
  // (Reboussin, DeMets, Kim & Lan 2000, Controlled Clinical Trials 21:190–207); R is not available
  // here to re-run them. They spend α/2 per side with the one-sided function 2 − 2Φ(z_{1−α/4}/√t),
  // and the first follows in closed form, independently of this code and of Boost:
  // −NormalDist().inv_cdf(1.0777425258901019e-06 / 2) = 4.876884948776416 (Python's statistics).
  // (Spending 2 − 2Φ(z_{1−α/2}/√t) over both sides together would give c_1 = 1.96/√0.2 = 4.383.)
  // The later values test the integration; the z-scale simulation below tests it independently.
  const stats::SequentialDesign design{.alpha = 0.05, .n_start = 2, .n_max = 5};
  const std::vector<int> looks{1, 2, 3, 4, 5};
  const auto b = stats::sequential_boundaries(design, looks);
  REQUIRE(b.z.size() == 5);
  CHECK(b.z[0] == Approx(4.876884948776416).epsilon(1e-9));
  const std::vector<double> published{4.877, 3.357, 2.680, 2.290, 2.031};
  for (std::size_t k = 0; k < 5; ++k) {
    INFO("look " << k + 1 << ": " << b.z[k]);
    CHECK(b.z[k] == Approx(published[k]).margin(0.0005));  // the tables print 3 decimals
  }
  CHECK(b.spent.back() == Approx(0.05).epsilon(1e-12));

  SECTION("one look is the fixed-n test") {
    const std::vector<int> one{5};
    const auto fixed = stats::sequential_boundaries(design, one);
    CHECK(fixed.z[0] == Approx(1.959963984540054).epsilon(1e-9));
    CHECK(fixed.nominal_p[0] == Approx(0.05).epsilon(1e-9));
  }
}

TEST_CASE("sequential boundaries keep alpha for z statistics at the unequal looks 3 to 12 of 12", "[sequential]") {
  // The integration checked by brute force where no table exists: 200000 sums of independent
  // N(0, 1) seeds, Z_k = S_{n_k} / √n_k, crossing ±c_k at any of the ten looks.
  const auto looks = stats::planned_looks(kDesign);
  REQUIRE(looks == std::vector<int>{3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  const auto b = stats::sequential_boundaries(kDesign, looks);
  std::mt19937_64 rng(20240603);
  const int sweeps = 200000;
  int rejected = 0;
  for (int r = 0; r < sweeps; ++r) {
    double sum = 0.0;
    int n = 0;
    for (std::size_t k = 0; k < looks.size(); ++k) {
      for (; n < looks[k]; ++n) sum += ablate::draw_standard_normal(rng);
      if (std::fabs(sum) / std::sqrt(n) >= b.z[k]) {
        ++rejected;
        break;
      }
    }
  }
  const double rate = static_cast<double>(rejected) / sweeps;
  CHECK(rate == Approx(0.05).margin(three_se(0.05, sweeps)));
}

TEST_CASE("A/A sweeps with seeds on demand stay at alpha where testing at alpha every round does not", "[sequential]") {
  // 20000 synthetic comparisons with no difference: both arms N(3.0, 0.02²) per seed, 3 seeds each,
  // then one more per round up to 12, Welch's test after every round. Three rules see the same draws:
  //   calibrated   the rule as a sweep would use it (calibrate_spending's α', from other draws)
  //   + precision  the same, also stopping once the repeated CI is within ±0.02 (about its width at 12 seeds)
  //   naive        p < α at every look, no correction
  stats::SequentialDesign design = kDesign;
  const auto calibration = stats::calibrate_spending(design, 20000);
  // p-value spending at α itself (the t-for-z approximation alone) overshoots α, by well under a point.
  CHECK(calibration.uncalibrated_rate > design.alpha);
  CHECK(calibration.uncalibrated_rate <= design.alpha + 0.01);
  CHECK(calibration.spending_alpha < design.alpha);
  CHECK(calibration.calibrated_rate <= design.alpha);
  design.spending_alpha = calibration.spending_alpha;
  stats::SequentialDesign precise = design;
  precise.ci_halfwidth = 0.02;
  const auto looks = stats::planned_looks(design);
  const auto b = stats::sequential_boundaries(design, looks);

  const int sweeps = 20000;
  int calibrated_fp = 0, precise_fp = 0, naive_fp = 0, undefined = 0;
  double calibrated_seeds = 0.0, precise_seeds = 0.0;
  std::mt19937_64 rng(7);
  std::vector<double> x, y;
  for (int r = 0; r < sweeps; ++r) {
    x.clear();
    y.clear();
    bool calibrated_done = false, precise_done = false, naive_done = false;
    for (std::size_t k = 0; k < looks.size() && !(calibrated_done && precise_done && naive_done); ++k) {
      while (static_cast<int>(x.size()) < looks[k]) {
        x.push_back(3.0 + 0.02 * ablate::draw_standard_normal(rng));
        y.push_back(3.0 + 0.02 * ablate::draw_standard_normal(rng));
      }
      const auto welch = stats::welch_test(x, y);
      if (!welch) {
        ++undefined;
        break;
      }
      const auto look = stats::look_of(*welch, x.size(), y.size());
      if (!calibrated_done) {
        const auto d = stats::sequential_decision_at(design, look, k, b);
        calibrated_done = d.stopped();
        calibrated_fp += d.outcome == SequentialOutcome::stop_significant;
        if (calibrated_done) calibrated_seeds += d.n;
      }
      if (!precise_done) {
        const auto d = stats::sequential_decision_at(precise, look, k, b);
        precise_done = d.stopped();
        precise_fp += d.outcome == SequentialOutcome::stop_significant;
        if (precise_done) precise_seeds += d.n;
      }
      if (!naive_done && welch->p < design.alpha) {
        naive_done = true;
        ++naive_fp;
      }
    }
  }
  CHECK(undefined == 0);
  const double calibrated_rate = static_cast<double>(calibrated_fp) / sweeps;
  const double precise_rate = static_cast<double>(precise_fp) / sweeps;
  const double naive_rate = static_cast<double>(naive_fp) / sweeps;
  CHECK(calibrated_rate <= design.alpha + three_se(design.alpha, sweeps));
  CHECK(precise_rate <= calibrated_rate);                           // stopping for precision never adds a rejection
  CHECK(precise_seeds / sweeps < calibrated_seeds / sweeps - 0.5);  // ... and it saves seeds
  // Testing at α after every round: the same draws come out "significant" about 3 times as often.
  CHECK(naive_rate > 2.0 * design.alpha);
}

TEST_CASE("A/A sweeps paired by seed stay at alpha with the calibrated paired rule", "[sequential]") {
  // Paired analysis: a seed moves both arms alike (seed effect N(0, 0.03²)), each run adds its own
  // noise N(0, 0.02²); the rule tests the paired t after every round. The paired t's uncorrected
  // overshoot is larger than Welch's (fewer degrees of freedom), the case calibration is for.
  // The paired t is computed here from the differences (stats::paired_test would also enumerate
  // 2^n sign flips per look, which this simulation does not need); the decision test below checks
  // that look_of(paired_test) gives the same look.
  stats::SequentialDesign design = kDesign;
  design.paired = true;
  const auto calibration = stats::calibrate_spending(design, 20000);
  CHECK(calibration.uncalibrated_rate > design.alpha);
  design.spending_alpha = calibration.spending_alpha;
  const auto looks = stats::planned_looks(design);
  const auto b = stats::sequential_boundaries(design, looks);

  const int sweeps = 20000;
  int fp = 0;
  std::mt19937_64 rng(8);
  std::vector<double> d;
  for (int r = 0; r < sweeps; ++r) {
    d.clear();
    for (std::size_t k = 0; k < looks.size(); ++k) {
      while (static_cast<int>(d.size()) < looks[k]) {
        const double seed_effect = 0.03 * ablate::draw_standard_normal(rng);
        const double arm = 3.0 + seed_effect + 0.02 * ablate::draw_standard_normal(rng);
        const double base = 3.0 + seed_effect + 0.02 * ablate::draw_standard_normal(rng);
        d.push_back(arm - base);
      }
      const auto decision = stats::sequential_decision_at(design, paired_look(d), k, b);
      if (!decision.stopped()) continue;
      fp += decision.outcome == SequentialOutcome::stop_significant;
      break;
    }
  }
  const double rate = static_cast<double>(fp) / sweeps;
  CHECK(rate <= design.alpha + three_se(design.alpha, sweeps));
}

TEST_CASE("a true difference of 1.5 sd stops early in most simulated sweeps", "[sequential]") {
  stats::SequentialDesign design = kDesign;
  design.spending_alpha = stats::calibrate_spending(design, 10000).spending_alpha;
  const auto plan = stats::plan_sequential(design, 1.5, {.sd = 0.02, .replicates = 2000, .seed = 11});
  CHECK(plan.at_effect.stopped_before_max > 0.75);
  CHECK(plan.at_effect.rejection_rate > 0.85);
  CHECK(plan.at_effect.expected_seeds < 10.0);
  CHECK(plan.at_effect.expected_runs == Approx(2.0 * plan.at_effect.expected_seeds));
  CHECK(plan.at_effect.max_runs == 24);
  // With no difference almost every comparison runs to the end: early looks spend almost nothing.
  CHECK(plan.null_effect.expected_seeds > 11.5);
  CHECK(plan.null_effect.rejection_rate <= design.alpha + three_se(design.alpha, 2000));
  double shares = 0.0;
  for (double s : plan.at_effect.stop_share) shares += s;
  CHECK(shares == Approx(1.0));
  CHECK_THAT(plan.describe(), Catch::Contains("3..12 seeds per arm") && Catch::Contains("(24 at most)"));
}

TEST_CASE("a sequential decision stops at the first look past its boundary and says so", "[sequential]") {
  const stats::SequentialDesign design = kDesign;

  SECTION("undecided, then significant, and it stays decided") {
    std::vector<stats::SequentialLook> looks{{3, 0.01, 0.01, 4.0}};
    auto d = stats::sequential_decision(design, looks);
    CHECK(d.outcome == SequentialOutcome::add_seeds);
    CHECK_THAT(d.describe(), Catch::StartsWith("undecided at 3 of at most 12 seeds") && Catch::Contains("add seeds"));

    looks.push_back({6, 0.1, 0.01, 10.0});  // t = 10: p ≈ 1.6e-6, far below the look's p* ≈ 0.0027
    d = stats::sequential_decision(design, looks);
    CHECK(d.outcome == SequentialOutcome::stop_significant);
    CHECK(d.look == 2);
    CHECK(d.n == 6);
    CHECK(d.p < d.nominal_p);
    CHECK(d.repeated_ci.lo > 0.0);  // significant ⇔ the repeated CI excludes 0
    CHECK_THAT(d.describe(), Catch::StartsWith("stopped at 6 seeds: difference significant at the O'Brien–Fleming "
                                               "boundary p < 0.0"));

    looks.push_back({9, 0.0, 0.01, 16.0});
    d = stats::sequential_decision(design, looks);
    CHECK(d.outcome == SequentialOutcome::stop_significant);
    CHECK(d.look == 2);
  }

  SECTION("a narrow repeated interval stops for precision") {
    stats::SequentialDesign narrow = design;
    narrow.ci_halfwidth = 0.05;
    const std::vector<stats::SequentialLook> looks{{3, 0.0005, 0.001, 4.0}};
    const auto d = stats::sequential_decision(narrow, looks);
    CHECK(d.outcome == SequentialOutcome::stop_precise);
    CHECK(d.repeated_halfwidth <= 0.05);
    CHECK(d.repeated_halfwidth > 0.001 * 2.776);  // wider than the ordinary 95% interval (t_{0.975,4} = 2.776)
    CHECK_THAT(d.describe(), Catch::StartsWith("stopped at 3 seeds: precise enough"));
  }

  SECTION("n_max without a decision stops at the maximum") {
    stats::SequentialDesign narrow = design;
    narrow.ci_halfwidth = 0.001;
    const std::vector<stats::SequentialLook> looks{{12, 0.01, 0.01, 20.0}};
    const auto d = stats::sequential_decision(narrow, looks);
    CHECK(d.outcome == SequentialOutcome::stop_at_max);
    CHECK_THAT(d.describe(), Catch::StartsWith("stopped at the maximum of 12 seeds: not significant") &&
                                 Catch::Contains("wider than the requested ±0.001"));
  }

  SECTION("a single look at n_max is Welch's fixed-n test with its 95% interval") {
    const std::vector<double> arm{3.21, 3.18, 3.25, 3.19}, base{3.05, 3.11, 3.02, 3.09};
    const auto welch = stats::welch_test(arm, base);
    REQUIRE(welch);
    const stats::SequentialDesign fixed{.alpha = 0.05, .n_start = 4, .n_max = 4};
    const std::vector<stats::SequentialLook> looks{stats::look_of(*welch, arm.size(), base.size())};
    const auto d = stats::sequential_decision(fixed, looks);
    CHECK(d.p == Approx(welch->p).epsilon(1e-12));
    CHECK(d.nominal_p == Approx(0.05).epsilon(1e-9));
    CHECK(d.repeated_ci.lo == Approx(welch->difference_ci.lo).epsilon(1e-9));
    CHECK(d.repeated_ci.hi == Approx(welch->difference_ci.hi).epsilon(1e-9));

    const auto paired = stats::paired_test(arm, base);
    REQUIRE(paired);
    std::vector<double> diff;
    for (std::size_t i = 0; i < arm.size(); ++i) diff.push_back(arm[i] - base[i]);
    const auto by_hand = paired_look(diff), by_test = stats::look_of(*paired);
    CHECK(by_hand.n == by_test.n);
    CHECK(by_hand.difference == Approx(by_test.difference).epsilon(1e-12));
    CHECK(by_hand.se == Approx(by_test.se).epsilon(1e-12));
    CHECK(by_hand.df == by_test.df);
  }
}

TEST_CASE("bad sequential designs and looks are refused with what is wrong", "[sequential]") {
  using ablate::Error;
  stats::SequentialDesign bad = kDesign;
  bad.alpha = 1.5;
  CHECK_THROWS_WITH(stats::validate(bad), Catch::Contains("alpha = 1.5"));
  bad = kDesign;
  bad.n_start = 20;
  CHECK_THROWS_WITH(stats::validate(bad), Catch::Contains("n_start = 20"));
  bad = kDesign;
  bad.spending_alpha = 0.2;
  CHECK_THROWS_WITH(stats::validate(bad), Catch::Contains("spending_alpha = 0.2"));

  const std::vector<int> shrinking{3, 5, 4};
  CHECK_THROWS_WITH(stats::sequential_boundaries(kDesign, shrinking), Catch::Contains("look 3 has 4 seeds"));
  const std::vector<int> too_many{3, 13};
  CHECK_THROWS_WITH(stats::sequential_boundaries(kDesign, too_many), Catch::Contains("n_max = 12"));

  const std::vector<stats::SequentialLook> no_spread{{3, 0.1, 0.0, 4.0}};
  CHECK_THROWS_WITH(stats::sequential_decision(kDesign, no_spread), Catch::Contains("look 1 (n = 3)"));
  const std::vector<int> planned{3, 4};
  const auto b = stats::sequential_boundaries(kDesign, planned);
  CHECK_THROWS_WITH(stats::sequential_decision_at(kDesign, {5, 0.1, 0.1, 4.0}, 1, b),
                    Catch::Contains("boundary was computed for 4"));
  CHECK_THROWS_AS(stats::calibrate_spending(kDesign, 10), Error);
}
