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
