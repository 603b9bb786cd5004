// Statistics over seeds (ablate/stats.h) against reference values computed independently.
// Limits: the reference numbers were computed once with Python 3.11 (scipy 1.17.1, numpy,
// statsmodels) and pasted here; each block says which call produced them.
//
//   ./build-report/tests/test_engine "[stats]"
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "ablate/engine/stats.h"

using Approx = Catch::Detail::Approx;
namespace stats = ablate::stats;

namespace {
// x = an arm's final validation losses (4 seeds), y = the baseline's (3 seeds).
const std::vector<double> kArm{3.21, 3.18, 3.25, 3.19};
const std::vector<double> kBase{3.05, 3.11, 3.02};
}  // namespace

TEST_CASE("an arm summary has the sample sd and a Student t interval", "[stats]") {
  // numpy: a.mean() = 3.2075, a.std(ddof=1) = 0.03095695936834448
  // scipy.stats.t.interval(0.95, 3, loc=mean, scale=scipy.stats.sem(a)) = (3.158240569517697, 3.256759430482303)
  const auto s = stats::summarize(kArm);
  CHECK(s.n == 4);
  CHECK(s.mean == Approx(3.2075).epsilon(1e-12));
  CHECK(s.min == 3.18);
  CHECK(s.max == 3.25);
  REQUIRE(s.sd);
  CHECK(*s.sd == Approx(0.03095695936834448).epsilon(1e-10));
  REQUIRE(s.ci);
  CHECK(s.ci->lo == Approx(3.158240569517697).epsilon(1e-10));
  CHECK(s.ci->hi == Approx(3.256759430482303).epsilon(1e-10));
}

TEST_CASE("a single run has a mean but no sd or interval", "[stats]") {
  const std::vector<double> one{2.5};
  const auto s = stats::summarize(one);
  CHECK(s.n == 1);
  CHECK(s.mean == 2.5);
  CHECK_FALSE(s.sd);
  CHECK_FALSE(s.ci);
  CHECK_THAT(s.ci.reason, Catch::Contains("n = 1"));
}

TEST_CASE("welch's test matches scipy", "[stats]") {
  // scipy.stats.ttest_ind(x, y, equal_var=False) → t = 4.811986143269281, p = 0.013282593355373733
  // Welch–Satterthwaite df (numpy) = 3.3423144126330318;
  // CI of the difference: d ± scipy.stats.t.ppf(0.975, df)·se = (0.055365263764811753, 0.23963473623518816)
  const auto w = stats::welch_test(kArm, kBase);
  REQUIRE(w);
  CHECK(w->difference == Approx(0.1475).epsilon(1e-10));
  CHECK(w->t == Approx(4.811986143269281).epsilon(1e-9));
  CHECK(w->df == Approx(3.3423144126330318).epsilon(1e-9));
  CHECK(w->p == Approx(0.013282593355373733).epsilon(1e-8));
  CHECK(w->difference_ci.lo == Approx(0.055365263764811753).epsilon(1e-8));
  CHECK(w->difference_ci.hi == Approx(0.23963473623518816).epsilon(1e-8));

  SECTION("swapping the samples flips the sign and keeps p") {
    const auto r = stats::welch_test(kBase, kArm);
    REQUIRE(r);
    CHECK(r->t == Approx(-4.811986143269281).epsilon(1e-9));
    CHECK(r->p == Approx(0.013282593355373733).epsilon(1e-8));
  }
  SECTION("a second data set with a negative t") {
    // scipy.stats.ttest_ind([1,2,3,4,5], [2,4,6,8,10,12], equal_var=False)
    //   → t = -2.3763541031440183, p = 0.04928433820673053
    const std::vector<double> x{1, 2, 3, 4, 5}, y{2, 4, 6, 8, 10, 12};
    const auto r = stats::welch_test(x, y);
    REQUIRE(r);
    CHECK(r->t == Approx(-2.3763541031440183).epsilon(1e-9));
    CHECK(r->p == Approx(0.04928433820673053).epsilon(1e-8));
  }
}

TEST_CASE("welch's test with one zero-variance arm still works", "[stats]") {
  // scipy.stats.ttest_ind(x, [2, 2, 2], equal_var=False) → t = 78.01153760822828, p = 4.642344749827908e-06
  const std::vector<double> flat{2.0, 2.0, 2.0};
  const auto w = stats::welch_test(kArm, flat);
  REQUIRE(w);
  CHECK(w->t == Approx(78.01153760822828).epsilon(1e-8));
  CHECK(w->p == Approx(4.642344749827908e-06).epsilon(1e-6));
}

TEST_CASE("cohen's d and hedges' g match the stated formulas", "[stats]") {
  // numpy, from the formulas in stats.h: s_pooled from ddof=1 variances, d = 3.921153107966215,
  // J = 1 − 3/(4·7 − 9) = 0.8421052631578947, g = 3.302023669866286,
  // Var(g) = J²((nx+ny)/(nx·ny) + d²/(2(nx+ny))) = 1.1924771944740051
  const auto e = stats::effect_size(kArm, kBase);
  REQUIRE(e);
  CHECK(e->cohens_d == Approx(3.921153107966215).epsilon(1e-10));
  CHECK(e->j == Approx(0.8421052631578947).epsilon(1e-12));
  CHECK(e->hedges_g == Approx(3.302023669866286).epsilon(1e-10));
  CHECK(e->g_variance == Approx(1.1924771944740051).epsilon(1e-10));
}

// The noncentral-t interval of g (Steiger & Fouladi 1997; Cumming & Finch 2001). Reference values:
// scipy 1.17.1, t = d/√(1/nx + 1/ny), df = nx + ny − 2, each limit λ the root of
//   scipy.stats.nct.cdf(t, df, λ) − 0.975 (lower) or − 0.025 (upper)
// by scipy.optimize.brentq (xtol = rtol = 1e-14, bracket found by stepping out from λ = t), then
// CI of g = J·λ·√(1/nx + 1/ny).
TEST_CASE("hedges' g has a noncentral-t confidence interval that matches scipy", "[stats]") {
  SECTION("a large effect: 4 against 3 seeds") {
    // t = 5.133994551076151, df = 5; λ = (1.4271948451007532, 8.730136201767868);
    // CI of δ = (1.090038068187496, 6.667751661979254); CI of g = (0.9179267942631545, 5.614948767982529).
    // The normal approximation gave (1.1617, 5.4423): too narrow below, and symmetric.
    const auto e = stats::effect_size(kArm, kBase);
    REQUIRE(e);
    REQUIRE(e->g_ci);
    CHECK(e->g_ci->lo == Approx(0.9179267942631545).epsilon(1e-8));
    CHECK(e->g_ci->hi == Approx(5.614948767982529).epsilon(1e-8));
  }
  SECTION("a negative effect whose interval just covers 0") {
    // [1..5] against [2, 4, ..., 12]: d = −1.3416407864998738, t = −2.215646837627989, df = 9,
    // λ = (−4.372112229432349, 0.036190169735745126), CI of g = (−2.4205215340973396, 0.02003587295365066)
    const std::vector<double> x{1, 2, 3, 4, 5}, y{2, 4, 6, 8, 10, 12};
    const auto e = stats::effect_size(x, y);
    REQUIRE(e);
    CHECK(e->hedges_g == Approx(-1.2266430047998846).epsilon(1e-10));
    REQUIRE(e->g_ci);
    CHECK(e->g_ci->lo == Approx(-2.4205215340973396).epsilon(1e-8));
    CHECK(e->g_ci->hi == Approx(0.02003587295365066).epsilon(1e-6));
  }
  SECTION("a small effect with 3 seeds each") {
    // [3.07, 3.05, 3.10] against [3.05, 3.11, 3.02]: t = 0.44172610429936676, df = 4,
    // CI of g = (−1.0230660184779206, 1.566343126605593)
    const std::vector<double> x{3.07, 3.05, 3.10}, y{3.05, 3.11, 3.02};
    const auto e = stats::effect_size(x, y);
    REQUIRE(e);
    REQUIRE(e->g_ci);
    CHECK(e->g_ci->lo == Approx(-1.0230660184779206).epsilon(1e-8));
    CHECK(e->g_ci->hi == Approx(1.566343126605593).epsilon(1e-8));
  }
}

TEST_CASE("tests and effect sizes are not defined with fewer than 2 runs in an arm", "[stats]") {
  const std::vector<double> one{3.0};
  const auto w = stats::welch_test(kArm, one);
  CHECK_FALSE(w);
  CHECK_THAT(w.reason, Catch::Contains("fewer than 2 runs") && Catch::Contains("n = 4 and 1"));
  const auto e = stats::effect_size(one, kBase);
  CHECK_FALSE(e);
  CHECK_THAT(e.reason, Catch::Contains("fewer than 2 runs"));
}

TEST_CASE("zero variance in both arms gives reasons, not infinities", "[stats]") {
  const std::vector<double> a{2.0, 2.0, 2.0}, b{3.0, 3.0};
  const auto w = stats::welch_test(a, b);
  CHECK_FALSE(w);
  CHECK_THAT(w.reason, Catch::Contains("zero variance in both arms"));
  const auto e = stats::effect_size(a, b);
  CHECK_FALSE(e);
  CHECK_THAT(e.reason, Catch::Contains("zero variance in both arms"));
  const auto s = stats::summarize(a);
  REQUIRE(s.sd);
  CHECK(*s.sd == 0.0);
  CHECK(s.ci->lo == 2.0);
  CHECK(s.ci->hi == 2.0);
}

// ---- the paired analysis ---------------------------------------------------------------------
// Five seeds run in both arms; x[i] and y[i] share seed i. Reference values: scipy 1.17.1,
//   d = x − y = [−0.03, 0.01, −0.04, 0.02, −0.03], d.mean() = −0.014, d.std(ddof=1) = 0.02701851217221267
//   r = scipy.stats.ttest_rel(x, y): t = −1.1586482440433092, p = 0.3110607673343735, df = 4,
//   r.confidence_interval(0.95) = (−0.04754791384926661, 0.01954791384926668)
//   scipy.stats.permutation_test((x, y), mean of x − y, permutation_type='samples', n_resamples=inf)
//     .pvalue = 0.375 (12 of the 32 sign patterns; the same by enumerating them by hand)
//   scipy.stats.pearsonr(x, y).statistic = 0.9791300486523298
namespace {
const std::vector<double> kPairedArm{3.02, 3.12, 2.98, 3.10, 3.01};
const std::vector<double> kPairedBase{3.05, 3.11, 3.02, 3.08, 3.04};
}  // namespace

TEST_CASE("the paired t-test over seeds matches scipy's ttest_rel", "[stats][paired]") {
  const auto p = stats::paired_test(kPairedArm, kPairedBase);
  REQUIRE(p);
  CHECK(p->n == 5);
  CHECK(p->mean_difference == Approx(-0.014).epsilon(1e-10));
  CHECK(p->sd_difference == Approx(0.02701851217221267).epsilon(1e-10));
  CHECK(p->t == Approx(-1.1586482440433092).epsilon(1e-9));
  CHECK(p->df == 4.0);
  CHECK(p->p == Approx(0.3110607673343735).epsilon(1e-9));
  CHECK(p->difference_ci.lo == Approx(-0.04754791384926661).epsilon(1e-9));
  CHECK(p->difference_ci.hi == Approx(0.01954791384926668).epsilon(1e-9));
  REQUIRE(p->sign_flip_p);
  CHECK(*p->sign_flip_p == Approx(0.375).epsilon(1e-12));
  CHECK(p->sign_flip_floor == 2.0 / 32.0);
  REQUIRE(p->correlation);
  CHECK(*p->correlation == Approx(0.9791300486523298).epsilon(1e-10));

  SECTION("pairing sees what Welch's test across seeds cannot: the per-seed spread cancels") {
    const auto w = stats::welch_test(kPairedArm, kPairedBase);
    REQUIRE(w);
    CHECK(w->difference == Approx(p->mean_difference).epsilon(1e-10));
    CHECK(w->p > p->p);
  }
}

TEST_CASE("the sign-flip test is exact and says the smallest p that n pairs can reach", "[stats][paired]") {
  SECTION("3 pairs all of one sign: 2 of the 8 patterns are as extreme, p = 0.25, which is also the floor") {
    // Hand count: of the 8 patterns of ±1, ±2, ±3 only +++ and −−− have |sum| = 6.
    const std::vector<double> d{1.0, 2.0, 3.0};
    const auto p = stats::sign_flip_p(d);
    REQUIRE(p);
    CHECK(*p == 0.25);
    const std::vector<double> x{1.5, 2.25, 3.0}, y{0.5, 0.25, 0.0};  // d = 1, 2, 3
    const auto t = stats::paired_test(x, y);
    REQUIRE(t);
    CHECK(*t->sign_flip_p == 0.25);
    CHECK(t->sign_flip_floor == 0.25);
  }
  SECTION("ties in |sum| count, in whatever order rounding leaves them") {
    // ±0.1 ±0.2 ±0.3 against observed 0.1 + 0.2 − 0.3 = 0: every pattern is at least as extreme.
    const std::vector<double> d{0.1, 0.2, -0.3};
    CHECK(*stats::sign_flip_p(d) == 1.0);
    // Observed 0.1 − 0.2 + 0.3 = 0.2; |sums| are 0.6, 0.4, 0.2, 0 (twice each): 6 of 8.
    const std::vector<double> e{0.1, -0.2, 0.3};
    CHECK(*stats::sign_flip_p(e) == 0.75);
  }
  SECTION("20 pairs are enumerated exactly; more are not") {
    std::vector<double> d(20, 1.0);
    CHECK(*stats::sign_flip_p(d) == Approx(2.0 / 1048576.0).epsilon(1e-12));
    d.push_back(1.5);
    const auto p = stats::sign_flip_p(d);
    CHECK_FALSE(p);
    CHECK_THAT(p.reason, Catch::Contains("more than 20 pairs"));
  }
}

TEST_CASE("the paired analysis is not defined without 2 pairs or spread, and says why", "[stats][paired]") {
  const std::vector<double> one{3.0}, two{3.0, 3.1}, three{3.0, 3.1, 3.2};
  CHECK_THAT(stats::paired_test(one, one).reason, Catch::Contains("fewer than 2 pairs"));
  CHECK_THAT(stats::paired_test(two, three).reason, Catch::Contains("unequal numbers"));
  const std::vector<double> base{1.0, 1.25, 1.75}, shifted{1.25, 1.5, 2.0};  // every seed moved by exactly 0.25
  CHECK_THAT(stats::paired_test(shifted, base).reason, Catch::Contains("zero variance of the paired differences"));
  SECTION("a flat arm leaves the test defined and only the correlation undefined") {
    // scipy.stats.ttest_rel([1, 1, 1], [0.1, 0.3, 0.2]) → t = 13.856406460551016, p = 0.005167993252386089
    const std::vector<double> flat{1.0, 1.0, 1.0}, varied{0.1, 0.3, 0.2};
    const auto p = stats::paired_test(flat, varied);
    REQUIRE(p);
    CHECK(p->t == Approx(13.856406460551016).epsilon(1e-9));
    CHECK(p->p == Approx(0.005167993252386089).epsilon(1e-8));
    CHECK_FALSE(p->correlation);
    CHECK_THAT(p->correlation.reason, Catch::Contains("no spread"));
  }
}

// ---- power of the paired design -----------------------------------------------------------------
// Reference values: scipy 1.17.1, the exact power of the two-sided paired (one-sample) t-test,
//   df = n − 1; ncp = dz·√n; tc = scipy.stats.t.ppf(1 − α/2, df)
//   power = scipy.stats.nct.sf(tc, df, ncp) + scipy.stats.nct.cdf(−tc, df, ncp)
// with the inverse problems solved by scipy.optimize.brentq (xtol 1e-12, 1e-14 for d_z). The pairs
// needed agree with statsmodels' TTestPower().solve_power (33.36713, 14.30276, 9.93785) and with
// G*Power's "difference between two dependent means" (34, 15 and 10 pairs for d_z = 0.5, 0.8, 1.0).
TEST_CASE("the power of the paired t-test matches scipy's noncentral t", "[stats][power][paired]") {
  CHECK(stats::paired_t_test_power(0.5, 34) == Approx(0.8077775012792738).epsilon(1e-9));
  CHECK(stats::paired_t_test_power(1.0, 10) == Approx(0.8030968566327219).epsilon(1e-9));
  CHECK(stats::paired_t_test_power(2.0, 3) == Approx(0.47074943127843494).epsilon(1e-9));
  CHECK(stats::paired_t_test_power(1.5, 5) == Approx(0.7107026739256758).epsilon(1e-9));
  CHECK(stats::paired_t_test_power(-0.3, 20) == Approx(0.24708908996809562).epsilon(1e-9));
  CHECK(stats::paired_t_test_power(0.0, 5) == Approx(0.05).epsilon(1e-12));

  const auto pairs = [](double dz) { return *stats::pairs_for_effect(dz); };
  CHECK(pairs(0.5) == Approx(33.367128953330834).epsilon(1e-8));
  CHECK(pairs(0.8) == Approx(14.302764492830882).epsilon(1e-8));
  CHECK(pairs(1.0) == Approx(9.937849937824408).epsilon(1e-8));
  CHECK(pairs(2.0) == Approx(4.2207191932492885).epsilon(1e-8));
  CHECK(pairs(3.0) == Approx(3.1440247076309547).epsilon(1e-8));
  CHECK_THAT(stats::pairs_for_effect(0.0).reason, Catch::Contains("infinite"));

  CHECK(stats::minimal_detectable_paired_effect(2) == Approx(11.549888435882355).epsilon(1e-8));
  CHECK(stats::minimal_detectable_paired_effect(3) == Approx(3.2640435496995748).epsilon(1e-8));
  CHECK(stats::minimal_detectable_paired_effect(5) == Approx(1.681996965955555).epsilon(1e-8));
  CHECK(stats::minimal_detectable_paired_effect(10) == Approx(0.9960013714554437).epsilon(1e-8));
}

TEST_CASE("a paired power analysis of two arms' losses matches scipy", "[stats][power][paired]") {
  // kPairedArm − kPairedBase: sd(d) = 0.02701851217221267, d_z = −0.518163247138321, minimal d_z at
  // 5 pairs 1.681996965955555 → |Δ| ≥ 0.04544505549829494; n* = 31.2082073348434 → 32 seeds per arm.
  const auto a = stats::paired_power_analysis(kPairedArm, kPairedBase);
  REQUIRE(a);
  CHECK(a->n == 5);
  CHECK(a->sd_difference == Approx(0.02701851217221267).epsilon(1e-10));
  CHECK(a->difference == Approx(-0.014).epsilon(1e-10));
  CHECK(a->detectable_effect == Approx(1.681996965955555).epsilon(1e-8));
  CHECK(a->detectable_difference == Approx(0.04544505549829494).epsilon(1e-8));
  REQUIRE(a->seeds_exact);
  CHECK(*a->seeds_exact == Approx(31.2082073348434).epsilon(1e-7));
  REQUIRE(a->seeds_needed);
  CHECK(*a->seeds_needed == 32);
  CHECK(a->underpowered());
  const double dz = a->difference / a->sd_difference;
  CHECK(stats::paired_t_test_power(dz, 32) >= 0.8);
  CHECK(stats::paired_t_test_power(dz, 31) < 0.8);
  SECTION("the unpaired analysis of the same runs needs far more seeds: the seeds' spread is shared") {
    const auto u = stats::power_analysis(kPairedArm, kPairedBase);
    REQUIRE(u);
    REQUIRE(u->seeds_needed);
    CHECK(*u->seeds_needed > 3 * *a->seeds_needed);
  }
  SECTION("not defined below 2 pairs or without spread of the differences") {
    const std::vector<double> one{3.0}, x{1.5, 2.5}, y{1.0, 2.0};  // d = 0.5 twice, exactly
    CHECK_THAT(stats::paired_power_analysis(one, one).reason, Catch::Contains("fewer than 2 pairs"));
    CHECK_THAT(stats::paired_power_analysis(x, y).reason, Catch::Contains("zero variance"));
  }
}

TEST_CASE("holm's correction matches statsmodels", "[stats]") {
  // statsmodels.stats.multitest.multipletests([0.01, 0.04, 0.03, 0.005], method='holm')[1]
  //   → [0.03, 0.06, 0.06, 0.02]
  const auto adj = stats::holm_adjust({0.01, 0.04, 0.03, 0.005});
  REQUIRE(adj.size() == 4);
  CHECK(*adj[0] == Approx(0.03));
  CHECK(*adj[1] == Approx(0.06));
  CHECK(*adj[2] == Approx(0.06));
  CHECK(*adj[3] == Approx(0.02));

  SECTION("undefined p-values are skipped and do not count in m") {
    // multipletests([0.2, 0.01, 0.5], method='holm')[1] → [0.4, 0.03, 0.5]
    const auto r = stats::holm_adjust({0.2, std::nullopt, 0.01, 0.5});
    CHECK(*r[0] == Approx(0.4));
    CHECK_FALSE(r[1]);
    CHECK(*r[2] == Approx(0.03));
    CHECK(*r[3] == Approx(0.5));
  }
}

// ---- power analysis -------------------------------------------------------------------------
// Reference values: scipy 1.17.1 (Python 3.11), the exact power of the two-sided two-sample t-test,
//   df = n1 + n2 - 2; ncp = d / sqrt(1/n1 + 1/n2); tc = scipy.stats.t.ppf(1 - alpha/2, df)
//   power = scipy.stats.nct.sf(tc, df, ncp) + scipy.stats.nct.cdf(-tc, df, ncp)
// with the inverse problems solved by scipy.optimize.brentq (xtol 1e-12). The seeds needed for
// d = 0.5, 0.8, 1.0 are also the published values: statsmodels TTestIndPower().solve_power and
// G*Power give 63.77, 25.52, 16.71 per group; Cohen (1988), ch. 2, tabulates 64, 26 and 17.

TEST_CASE("the power of the two-sample t-test matches scipy's noncentral t", "[stats][power]") {
  CHECK(stats::t_test_power(0.5, 64, 64) == Approx(0.8014595579222542).epsilon(1e-9));
  CHECK(stats::t_test_power(1.0, 10, 10) == Approx(0.5620066465861494).epsilon(1e-9));
  CHECK(stats::t_test_power(2.0, 3, 3) == Approx(0.462640811891307).epsilon(1e-9));
  CHECK(stats::t_test_power(1.5, 5, 3) == Approx(0.4082762364225042).epsilon(1e-9));
  CHECK(stats::t_test_power(0.3, 20, 25) == Approx(0.16465837605121578).epsilon(1e-9));
  CHECK(stats::t_test_power(6.0, 2, 2) == Approx(0.8357381198228694).epsilon(1e-9));
  CHECK(stats::t_test_power(1e-3, 3, 3) == Approx(0.05000010653560861).epsilon(1e-9));
  SECTION("no effect is rejected at the rate alpha, and the sign of d does not matter") {
    CHECK(stats::t_test_power(0.0, 5, 5) == Approx(0.05).epsilon(1e-12));
    CHECK(stats::t_test_power(-1.5, 5, 3) == Approx(stats::t_test_power(1.5, 5, 3)).epsilon(1e-14));
  }
  SECTION("far out in the tail the power is 1, not NaN") {
    CHECK(stats::t_test_power(0.5, 5000, 5000) == Approx(1.0).epsilon(1e-12));
  }
}

TEST_CASE("the seeds needed for an effect match the published sample sizes", "[stats][power]") {
  const auto check = [](double d, double expected) {
    CAPTURE(d);
    const auto n = stats::seeds_for_effect(d);
    REQUIRE(n);
    CHECK(*n == Approx(expected).epsilon(1e-8));
  };
  check(0.5, 63.765610190952216);  // statsmodels / G*Power 63.77, Cohen 64
  check(0.8, 25.52457183577174);   // 25.52, Cohen 26
  check(1.0, 16.714722447035765);  // 16.71, Cohen 17
  check(2.0, 5.089994568269909);
  check(3.0, 3.0700090816768952);
  check(0.01, 156978.17055699436);
  check(-0.5, 63.765610190952216);
  SECTION("2 seeds per arm is the floor of a t-test") {
    const auto n = stats::seeds_for_effect(6.0);  // power at n = 2 is already 0.836
    REQUIRE(n);
    CHECK(*n == 2.0);
  }
  SECTION("no difference needs infinitely many seeds, a tiny one more than the cap") {
    const auto zero = stats::seeds_for_effect(0.0);
    CHECK_FALSE(zero);
    CHECK_THAT(zero.reason, Catch::Contains("infinite"));
    const auto tiny = stats::seeds_for_effect(1e-4);  // would need about 1.57e9 per arm
    CHECK_FALSE(tiny);
    CHECK_THAT(tiny.reason, Catch::Contains("more than 1000000 seeds per arm"));
  }
}

TEST_CASE("the minimal detectable effect matches scipy", "[stats][power]") {
  CHECK(stats::minimal_detectable_effect(2, 2) == Approx(5.653489266197124).epsilon(1e-8));
  CHECK(stats::minimal_detectable_effect(3, 3) == Approx(3.0708922663636873).epsilon(1e-8));
  CHECK(stats::minimal_detectable_effect(3, 2) == Approx(3.8850861884353374).epsilon(1e-8));
  CHECK(stats::minimal_detectable_effect(5, 5) == Approx(2.024439339384543).epsilon(1e-8));
  CHECK(stats::minimal_detectable_effect(10, 10) == Approx(1.3249473925792308).epsilon(1e-8));
}

TEST_CASE("a power analysis of two arms' losses matches scipy", "[stats][power]") {
  const std::vector<double> base{3.05, 3.11, 3.02};
  SECTION("a small difference is within noise and needs many seeds") {
    // pooled sd = 0.03696845502136474, Δ = 0.013333, minimal |Δ| at 3 and 3 = 0.1135261426245228,
    // seeds needed: n* = 121.64408105020314 → 122
    const std::vector<double> arm{3.07, 3.05, 3.10};
    const auto a = stats::power_analysis(arm, base);
    REQUIRE(a);
    CHECK(a->nx == 3);
    CHECK(a->ny == 3);
    CHECK(a->pooled_sd == Approx(0.03696845502136474).epsilon(1e-10));
    CHECK(a->difference == Approx(0.013333333333332753).epsilon(1e-9));
    CHECK(a->detectable_difference == Approx(0.1135261426245228).epsilon(1e-8));
    CHECK(a->detectable_effect == Approx(3.0708922663636873).epsilon(1e-8));
    REQUIRE(a->seeds_exact);
    CHECK(*a->seeds_exact == Approx(121.64408105020314).epsilon(1e-7));
    REQUIRE(a->seeds_needed);
    CHECK(*a->seeds_needed == 122);
    CHECK(a->underpowered());
  }
  SECTION("unequal seeds: the detectable difference uses both n") {
    // pooled sd = 0.039370039370058986, Δ = 0.135, minimal |Δ| at 2 and 3 = 0.15295599619477163,
    // seeds needed n* = 2.714148402458532 → 3
    const std::vector<double> arm{3.21, 3.18};
    const auto a = stats::power_analysis(arm, base);
    REQUIRE(a);
    CHECK(a->pooled_sd == Approx(0.039370039370058986).epsilon(1e-10));
    CHECK(a->detectable_difference == Approx(0.15295599619477163).epsilon(1e-8));
    CHECK(*a->seeds_exact == Approx(2.714148402458532).epsilon(1e-7));
    CHECK(*a->seeds_needed == 3);
    CHECK(a->underpowered());
  }
  SECTION("a large difference is detectable with the seeds used") {
    const std::vector<double> arm{3.30, 3.28, 3.33};  // Δ = 0.2433 > 0.1135; 2 seeds would do
    const auto a = stats::power_analysis(arm, base);
    REQUIRE(a);
    CHECK_FALSE(a->underpowered());
    CHECK(*a->seeds_needed == 2);
  }
  SECTION("the whole number of seeds is the smallest with power at least 0.8") {
    const std::vector<double> arm{3.06, 3.04, 3.09};  // n* = 1931.7805186650203 (scipy)
    const auto a = stats::power_analysis(arm, base);
    REQUIRE(a);
    REQUIRE(a->seeds_needed);
    CHECK(*a->seeds_needed == 1932);
    const double d = a->difference / a->pooled_sd;
    CHECK(stats::t_test_power(d, 1932, 1932) >= 0.8);
    CHECK(stats::t_test_power(d, 1931, 1931) < 0.8);
  }
  SECTION("not defined with one run in an arm or no spread, and no seeds for a zero difference") {
    const std::vector<double> one{3.0};
    CHECK_THAT(stats::power_analysis(one, base).reason, Catch::Contains("fewer than 2 runs"));
    const std::vector<double> flat{3.0, 3.0}, flat2{3.1, 3.1};
    CHECK_THAT(stats::power_analysis(flat, flat2).reason, Catch::Contains("zero variance"));
    const std::vector<double> same{2.5, 3.5}, other{3.0, 2.0, 4.0};  // both means exactly 3
    const auto a = stats::power_analysis(same, other);
    REQUIRE(a);
    CHECK(a->difference == 0.0);
    CHECK(a->underpowered());
    CHECK_FALSE(a->seeds_needed);
    CHECK_THAT(a->seeds_needed.reason, Catch::Contains("infinite"));
  }
}

TEST_CASE("a spread that is only rounding noise gives power 1, not an exception", "[stats][power]") {
  // Three equal losses per arm. 2.0 is exact, but the mean of three 0.05 is 0.05000000000000001
  // in doubles, so y's variance is about 7e-35 instead of 0: the pooled sd is about 6e-18 and
  // d about 3e17, where Boost's noncentral t gives up; the normal limit takes over.
  const std::vector<double> x{2.0, 2.0, 2.0}, y{0.05, 0.05, 0.05};
  CHECK(stats::t_test_power(1e16, 3, 3) == 1.0);
  const auto a = stats::power_analysis(x, y);
  INFO(a.reason);
  REQUIRE(a);  // defined: the spread is tiny, not zero (the "zero variance" refusal is for exact ties)
  CHECK(a->pooled_sd > 0.0);
  CHECK(a->pooled_sd < 1e-15);
  CHECK_FALSE(a->underpowered());
  REQUIRE(a->seeds_needed);
  CHECK(*a->seeds_needed == 2);
}
