// Statistics over seeds (ablate/stats.h) against reference values computed independently.
// Limits: the reference numbers were computed once with Python 3.11 (scipy 1.17.1, numpy,
// statsmodels) and pasted here; each block says which call produced them.
//
//   ./build-report/tests/test_engine "[stats]"
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "ablate/stats.h"

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
  // g ± scipy.stats.norm.ppf(0.975)·√(J²((nx+ny)/(nx·ny) + d²/(2(nx+ny)))) = (1.1617311578042666, 5.442316181928305)
  const auto e = stats::effect_size(kArm, kBase);
  REQUIRE(e);
  CHECK(e->cohens_d == Approx(3.921153107966215).epsilon(1e-10));
  CHECK(e->j == Approx(0.8421052631578947).epsilon(1e-12));
  CHECK(e->hedges_g == Approx(3.302023669866286).epsilon(1e-10));
  CHECK(e->g_ci.lo == Approx(1.1617311578042666).epsilon(1e-9));
  CHECK(e->g_ci.hi == Approx(5.442316181928305).epsilon(1e-9));
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
  // Three equal losses per arm: the pooled sd is about 1e-16, so d is about 1e16 and Boost's
  // noncentral t gives up; the normal limit takes over.
  const std::vector<double> x{2.0, 2.0, 2.0}, y{0.05, 0.05, 0.05};
  CHECK(stats::t_test_power(1e16, 3, 3) == 1.0);
  const auto a = stats::power_analysis(x, y);
  if (a) {
    CHECK_FALSE(a->underpowered());
    CHECK(*a->seeds_needed == 2);
  } else {
    CHECK_THAT(a.reason, Catch::Contains("zero variance"));
  }
}
