// Seeds on demand in a sweep: the `seeds: {start, max, ...}` syntax and its errors, and the rounds
// replayed from synthetic results (no training): which runs each round asks for, which comparisons
// stop and why, and that a replay is the same however often it is made.
//
//   ./build/tests/test_engine "[seed_rounds]"
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ablate/engine/error.h"
#include "ablate/engine/portable_random.h"
#include "ablate/engine/seed_rounds.h"
#include "ablate/engine/sweep.h"
#include "builtin_plugins.h"

using ablate::SeedCandidate;
using ablate::SeedRunResult;

namespace {

const std::string kSweep = R"(model:
  d_model: 32
  n_layers: 1
  attention: {plugin: mha, n_heads: 2}
  ffn: {plugin: swiglu, d_ff: 64}
arms:
  base: {}
  wide: {model.ffn.d_ff: 96}
)";

ablate::Sweep parse(const std::string& seeds_line) {
  return ablate::parse_sweep(kSweep + seeds_line, "/sweeps/on_demand.yaml", ablate::test::builtin_plugins());
}

std::string error_of(const std::string& text, int* line = nullptr) {
  try {
    ablate::parse_sweep(text, "bad.yaml", ablate::test::builtin_plugins());
  } catch (const ablate::Error& e) {
    if (line) *line = static_cast<int>(e.where().line);
    return std::string(e.what()) + "\nhint: " + e.hint();
  }
  return "(no error)";
}

/// Arms × seed ranks 0..max-1 at one grid point, ids "arm/s".
std::vector<SeedCandidate> candidates(const std::vector<std::string>& arms, int max) {
  std::vector<SeedCandidate> out;
  for (const auto& arm : arms)
    for (int s = 0; s < max; ++s) out.push_back({arm + "/" + std::to_string(s), arm, "{}", s});
  return out;
}

/// Results drawn once per run id: loss = mean of its arm + sd · N(0, 1), seeded by the id.
struct SyntheticResults {
  std::map<std::string, double> mean;  // by arm
  double sd = 0.01;
  std::map<std::string, bool> ended;   // id → ended (absent: ended)
  std::map<std::string, SeedRunResult> fixed;  // id → a result given as is (a failed run)

  SeedRunResult operator()(const std::string& id) const {
    if (auto f = fixed.find(id); f != fixed.end()) return f->second;
    if (auto e = ended.find(id); e != ended.end() && !e->second) return {false, std::nullopt, "pending"};
    std::uint64_t hash = 1469598103934665603ull;  // FNV-1a of the id: the same draw on every platform
    for (const unsigned char ch : id) hash = (hash ^ ch) * 1099511628211ull;
    std::mt19937_64 rng(hash);
    const double z = ablate::draw_standard_normal(rng);
    return {true, mean.at(id.substr(0, id.find('/'))) + sd * z, "done"};
  }
};

ablate::stats::SequentialDesign design(int start, int max, double ci = 0.0) {
  ablate::stats::SequentialDesign d;
  d.n_start = start;
  d.n_max = max;
  d.ci_halfwidth = ci;
  return d;
}

}  // namespace

TEST_CASE("seeds on demand: the map gives seeds 0 to max - 1 and the rule's design", "[seed_rounds][sweep]") {
  const auto sweep = parse("seeds: {start: 3, max: 8, step: 2, alpha: 0.1, test: paired, until: {ci_halfwidth: 0.02}}\n");
  REQUIRE(sweep.seeds_on_demand);
  const auto& d = sweep.seeds_on_demand->design;
  CHECK(d.n_start == 3);
  CHECK(d.n_max == 8);
  CHECK(d.n_step == 2);
  CHECK(d.alpha == 0.1);
  CHECK(d.paired);
  CHECK(d.ci_halfwidth == 0.02);
  CHECK(sweep.seeds == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(sweep.runs.size() == 16);  // every arm at every seed a round may ask for
  CHECK(sweep.seeds_on_demand->where.line == 9);

  // Two arms: one comparison, so Bonferroni leaves α as it is; with a grid of 3 points, α / 3.
  std::size_t k = 0;
  CHECK(ablate::comparison_design(sweep, &k).alpha == 0.1);
  CHECK(k == 1);
  const auto grid = parse("seeds: {start: 3, max: 8}\ngrid: {train.optimizer.lr: [0.001, 0.002, 0.003]}\n");
  CHECK(grid.seeds_on_demand->bonferroni);
  CHECK(ablate::comparison_design(grid, &k).alpha == Approx(0.05 / 3));
  CHECK(k == 3);
  const auto uncorrected = parse("seeds: {start: 3, max: 8, correction: none}\ngrid: {train.optimizer.lr: [0.001, 0.002]}\n");
  CHECK(ablate::comparison_design(uncorrected, &k).alpha == 0.05);
  CHECK(k == 2);

  // A list of seeds is the fixed design, and the same run has the same id either way.
  const auto fixed = parse("seeds: [0, 1, 2]\n");
  CHECK_FALSE(fixed.seeds_on_demand);
  CHECK(fixed.runs.front().id == sweep.runs.front().id);
}

TEST_CASE("seeds on demand: a careless map is an error at its key or value", "[seed_rounds][sweep]") {
  int line = 0;
  CHECK_THAT(error_of(kSweep + "seeds: {start: 3}\n", &line), Catch::Contains("need 'start'") && Catch::Contains("'max'"));
  CHECK(line == 9);
  CHECK_THAT(error_of(kSweep + "seeds: {start: 3, max: 8, untill: {ci_halfwidth: 0.01}}\n", &line),
             Catch::Contains("unknown key 'seeds.untill'") && Catch::Contains("did you mean 'until'"));
  CHECK_THAT(error_of(kSweep + "seeds: {start: 9, max: 8}\n"), Catch::Contains("'seeds.start' must be an integer from 2 to 8"));
  CHECK_THAT(error_of(kSweep + "seeds: {start: 1, max: 8}\n"), Catch::Contains("'seeds.start' must be an integer from 2"));
  CHECK_THAT(error_of(kSweep + "seeds: {start: 3, max: 8, until: {ci_halfwidth: -1}}\n"),
             Catch::Contains("'seeds.until.ci_halfwidth' must be a positive number"));
  CHECK_THAT(error_of(kSweep + "seeds: {start: 3, max: 8, test: wilcoxon}\n"),
             Catch::Contains("'seeds.test' must be welch or paired"));
  CHECK_THAT(error_of(kSweep + "seeds: {start: 3, max: 8, alpha: 0.7}\n"), Catch::Contains("'seeds.alpha'"));
  CHECK_THAT(error_of(kSweep + "seeds: {start: 3, max: 8, correction: holm}\n"),
             Catch::Contains("'seeds.correction' must be bonferroni or none"));
  // One arm: nothing to compare, so no round could ever be decided.
  const std::string one_arm = R"(model: {d_model: 32, n_layers: 1, attention: {plugin: mha, n_heads: 2}, ffn: {plugin: swiglu, d_ff: 64}}
seeds: {start: 3, max: 8}
)";
  CHECK_THAT(error_of(one_arm, &line), Catch::Contains("has one arm"));
  CHECK(line == 2);
}

TEST_CASE("seed rounds: the first round asks for start seeds of every arm, and nothing is decided before it ends",
          "[seed_rounds]") {
  const auto c = candidates({"base", "a", "b"}, 6);
  SyntheticResults results;
  results.mean = {{"base", 3.0}, {"a", 3.0}, {"b", 3.5}};
  for (const auto& x : c) results.ended[x.id] = false;
  const auto rounds = ablate::replay_seed_rounds(design(3, 6), c, "base", std::cref(results));
  CHECK_FALSE(rounds.complete);
  CHECK(rounds.rounds.size() == 1);
  CHECK(rounds.wanted == std::vector<std::string>{"base/0", "base/1", "base/2", "a/0", "a/1", "a/2", "b/0", "b/1", "b/2"});
  CHECK(rounds.to_train == rounds.wanted);
  for (const auto& comparison : rounds.comparisons) CHECK_FALSE(comparison.decided);
}

TEST_CASE("seed rounds: a decided arm keeps its seeds while the baseline and the undecided arm get more",
          "[seed_rounds]") {
  const auto c = candidates({"base", "same", "far"}, 6);
  SyntheticResults results;
  results.mean = {{"base", 3.0}, {"same", 3.0}, {"far", 4.0}};  // far: 100 sd worse
  const auto rounds = ablate::replay_seed_rounds(design(3, 6), c, "base", std::cref(results));
  CHECK(rounds.complete);
  REQUIRE(rounds.comparisons.size() == 2);
  const auto& same = rounds.comparisons[0];
  const auto& far = rounds.comparisons[1];
  CHECK(far.arm == "far");
  CHECK(far.seeds == 3);
  CHECK(far.decision->outcome == ablate::stats::SequentialOutcome::stop_significant);
  CHECK_THAT(far.reason, Catch::StartsWith("stopped at 3 seeds: difference significant"));
  CHECK(same.seeds == 6);  // no true difference and no precision asked for: to the maximum
  CHECK(same.decision->outcome == ablate::stats::SequentialOutcome::stop_at_max);
  CHECK(same.looks.size() == 4);  // rounds of 3, 4, 5 and 6 seeds
  CHECK(rounds.rounds.size() == 4);
  CHECK(rounds.rounds[1].comparisons == std::vector<std::string>{"same"});
  CHECK(rounds.rounds[1].runs == 8);  // base and same at 4 seeds
  CHECK(rounds.wanted.size() == 6 + 6 + 3);
  CHECK(std::count(rounds.wanted.begin(), rounds.wanted.end(), "far/3") == 0);
  CHECK(rounds.to_train.empty());

  // The same results replay to the same rounds, decision for decision.
  const auto again = ablate::replay_seed_rounds(design(3, 6), c, "base", std::cref(results));
  CHECK(again.to_json() == rounds.to_json());

  // Round 2 in progress: only base/3 and same/3 are still to train.
  SyntheticResults partial = results;
  partial.ended["base/3"] = false;
  partial.ended["same/3"] = false;
  const auto in_progress = ablate::replay_seed_rounds(design(3, 6), c, "base", std::cref(partial));
  CHECK_FALSE(in_progress.complete);
  CHECK(in_progress.rounds.size() == 2);
  CHECK(in_progress.to_train == std::vector<std::string>{"base/3", "same/3"});
  CHECK(in_progress.comparisons[1].decided);  // far was decided in round 1
}

TEST_CASE("seed rounds: a precise enough interval stops a comparison before the maximum", "[seed_rounds]") {
  const auto c = candidates({"base", "same"}, 12);
  SyntheticResults results;
  results.mean = {{"base", 3.0}, {"same", 3.0}};
  // sd 0.01: the repeated 95% interval reaches ±0.03 after a few rounds, long before 12 seeds.
  const auto rounds = ablate::replay_seed_rounds(design(3, 12, 0.03), c, "base", std::cref(results));
  CHECK(rounds.complete);
  const auto& same = rounds.comparisons.at(0);
  CHECK(same.decision->outcome == ablate::stats::SequentialOutcome::stop_precise);
  CHECK(same.seeds < 12);
  CHECK(same.decision->repeated_halfwidth <= 0.03);
  CHECK_THAT(same.reason, Catch::Contains("precise enough"));
}

TEST_CASE("seed rounds: a run that ended without a result stops its comparison, undecided", "[seed_rounds]") {
  const auto c = candidates({"base", "a"}, 6);
  SyntheticResults results;
  results.mean = {{"base", 3.0}, {"a", 3.0}};
  results.fixed["a/1"] = {true, std::nullopt, "diverged"};
  const auto rounds = ablate::replay_seed_rounds(design(3, 6), c, "base", std::cref(results));
  CHECK(rounds.complete);
  CHECK(rounds.comparisons.at(0).decided);
  CHECK_FALSE(rounds.comparisons.at(0).decision);
  CHECK_THAT(rounds.comparisons.at(0).reason, Catch::Contains("a/1") && Catch::Contains("diverged") &&
                                                   Catch::Contains("not decided"));
  CHECK(rounds.to_json().at("comparisons").at(0).at("outcome") == "no_result");
}

TEST_CASE("seed rounds: comparisons stay within their grid point", "[seed_rounds]") {
  std::vector<SeedCandidate> c;
  for (const std::string g : {"{\"lr\":1}", "{\"lr\":2}"})
    for (const std::string arm : {"base", "a"})
      for (int s = 0; s < 5; ++s) c.push_back({arm + "/" + std::to_string(s) + g, arm, g, s});
  SyntheticResults results;
  results.mean = {{"base", 3.0}, {"a", 3.0}};
  // Ids end with the grid point; the mean is read from the arm before '/'.
  const auto rounds = ablate::replay_seed_rounds(design(3, 5), c, "base", std::cref(results));
  REQUIRE(rounds.comparisons.size() == 2);
  CHECK(rounds.comparisons[0].group == "{\"lr\":1}");
  CHECK(rounds.comparisons[1].group == "{\"lr\":2}");
  CHECK(rounds.wanted.size() == 20);  // A/A runs to the maximum at both points
  // Without a baseline at a grid point the rounds cannot be formed.
  c.erase(std::remove_if(c.begin(), c.end(), [](const SeedCandidate& x) { return x.arm == "base" && x.group == "{\"lr\":2}"; }),
          c.end());
  CHECK_THROWS_WITH(ablate::replay_seed_rounds(design(3, 5), c, "base", std::cref(results)),
                    Catch::Contains("the baseline 'base' has no runs"));
}

TEST_CASE("seeds on demand: plan counts the fewest, the most and the expected runs", "[seed_rounds]") {
  const auto sweep = parse("seeds: {start: 3, max: 8}\ngrid: {train.optimizer.lr: [0.001, 0.003]}\n");
  const auto plan = ablate::plan_seeds_on_demand(sweep);
  CHECK(plan.groups == 2);
  CHECK(plan.comparisons == 1);
  CHECK(plan.min_runs == 2 * 2 * 3);
  CHECK(plan.max_runs == 2 * 2 * 8);
  REQUIRE(plan.at.size() == 4);
  // With no difference nearly every comparison runs to the maximum; a large one stops most early.
  CHECK(plan.at[0].expected_runs <= plan.max_runs);
  CHECK(plan.at[0].expected_runs > 0.9 * plan.max_runs);
  CHECK(plan.at[0].significant < 0.07);
  CHECK(plan.at[3].expected_runs < plan.at[0].expected_runs);
  CHECK(plan.at[3].expected_runs >= plan.min_runs);
  CHECK(plan.at[3].significant > plan.at[2].significant);
  CHECK_THAT(plan.describe(), Catch::StartsWith("seeds on demand: 12 to 32 replication runs (2 grid point(s) x 2 arms)"));
}
