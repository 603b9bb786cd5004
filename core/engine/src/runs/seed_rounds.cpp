// Seeds on demand, the rounds (seed_rounds.h): replayed from the runs that have ended.
#include "ablate/engine/seed_rounds.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ablate/engine/error.h"
#include "ablate/engine/json_file.h"
#include "ablate/engine/stats.h"

namespace ablate {
namespace {

using nlohmann::json;

const char* outcome_name(stats::SequentialOutcome outcome) {
  switch (outcome) {
    case stats::SequentialOutcome::add_seeds: return "add_seeds";
    case stats::SequentialOutcome::stop_significant: return "significant";
    case stats::SequentialOutcome::stop_precise: return "precise";
    case stats::SequentialOutcome::stop_at_max: return "max_seeds";
  }
  return "add_seeds";
}

json number_or_null(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }

/// The candidates of one group, by arm and seed rank.
struct Group {
  std::string key;
  std::map<std::string, std::vector<const SeedCandidate*>> by_arm;  // arm → by seed rank
};

/// The look of one comparison at n seeds per arm, or why there is none.
stats::Maybe<stats::SequentialLook> look_at(const stats::SequentialDesign& design, const std::vector<double>& arm,
                                            const std::vector<double>& base) {
  if (design.paired) {
    const auto test = stats::paired_test(arm, base);
    if (!test) return stats::Maybe<stats::SequentialLook>::undefined(test.reason);
    return stats::Maybe<stats::SequentialLook>{stats::look_of(*test), {}};
  }
  const auto test = stats::welch_test(arm, base);
  if (!test) return stats::Maybe<stats::SequentialLook>::undefined(test.reason);
  return stats::Maybe<stats::SequentialLook>{stats::look_of(*test, arm.size(), base.size()), {}};
}

}  // namespace

std::string SeedComparison::label() const { return group.empty() || group == "{}" ? arm : arm + " at " + group; }

SeedRounds replay_seed_rounds(const stats::SequentialDesign& design, const std::vector<SeedCandidate>& candidates,
                              const std::string& baseline,
                              const std::function<SeedRunResult(const std::string& id)>& result_of) {
  stats::validate(design);
  SeedRounds out;
  out.design = design;
  out.planned = stats::planned_looks(design);

  // Groups and arms in the order the candidates come (the sweep's order).
  std::vector<Group> groups;
  std::vector<std::string> arm_order;
  for (const auto& c : candidates) {
    auto g = std::find_if(groups.begin(), groups.end(), [&](const Group& x) { return x.key == c.group; });
    if (g == groups.end()) g = groups.insert(groups.end(), Group{c.group, {}});
    auto& ranks = g->by_arm[c.arm];
    if (c.seed_rank < 0) throw Error(fmt::format("run {} has a negative seed rank", c.id));
    if (ranks.size() <= static_cast<std::size_t>(c.seed_rank)) ranks.resize(c.seed_rank + 1, nullptr);
    ranks[c.seed_rank] = &c;
    if (std::find(arm_order.begin(), arm_order.end(), c.arm) == arm_order.end()) arm_order.push_back(c.arm);
  }
  struct Pending {
    std::size_t comparison;
    const Group* group;
  };
  std::vector<Pending> comparisons;
  for (const auto& g : groups) {
    if (!g.by_arm.count(baseline))
      throw Error(fmt::format("seeds on demand: the baseline '{}' has no runs at {}", baseline, g.key));
    for (const auto& arm : arm_order) {
      if (arm == baseline || !g.by_arm.count(arm)) continue;
      out.comparisons.push_back({arm, g.key, {}, std::nullopt, false, {}, 0});
      comparisons.push_back({out.comparisons.size() - 1, &g});
    }
  }
  // The first n seed ranks of one arm in one group; every one must exist.
  const auto first_runs = [&](const Group& g, const std::string& arm, int n) {
    const auto& ranks = g.by_arm.at(arm);
    std::vector<const SeedCandidate*> runs;
    for (int s = 0; s < n; ++s) {
      if (static_cast<std::size_t>(s) >= ranks.size() || ranks[s] == nullptr)
        throw Error(fmt::format("seeds on demand: arm '{}' at {} has no run with seed rank {} (max {})", arm, g.key, s,
                                design.n_max));
      runs.push_back(ranks[s]);
    }
    return runs;
  };

  std::set<std::string> wanted;
  std::map<std::string, SeedRunResult> results;  // read once per replay
  const auto result = [&](const std::string& id) -> const SeedRunResult& {
    auto it = results.find(id);
    if (it == results.end()) it = results.emplace(id, result_of(id)).first;
    return it->second;
  };
  out.complete = true;
  for (const int n : out.planned) {
    std::vector<Pending> active;
    for (const auto& p : comparisons)
      if (!out.comparisons[p.comparison].decided) active.push_back(p);
    if (active.empty()) break;
    SeedRound round;
    round.seeds = n;
    std::set<std::string> round_runs;
    for (const auto& p : active) {
      SeedComparison& c = out.comparisons[p.comparison];
      round.comparisons.push_back(c.label());
      c.seeds = n;
      for (const std::string& arm : {c.arm, baseline})
        for (const auto* run : first_runs(*p.group, arm, n)) round_runs.insert(run->id);
    }
    round.runs = round_runs.size();
    wanted.insert(round_runs.begin(), round_runs.end());
    out.rounds.push_back(round);
    bool ended = true;
    for (const auto& id : round_runs) ended = ended && result(id).ended;
    if (!ended) {
      out.complete = false;
      break;
    }
    for (const auto& p : active) {
      SeedComparison& c = out.comparisons[p.comparison];
      std::vector<double> arm_values, base_values;
      std::string missing;
      const auto collect = [&](const std::string& arm, std::vector<double>& values) {
        for (const auto* run : first_runs(*p.group, arm, n)) {
          const SeedRunResult& r = result(run->id);
          if (r.value)
            values.push_back(*r.value);
          else if (missing.empty())
            missing = fmt::format("run {} ({}, seed rank {}) ended {} without a validation loss", run->id, arm,
                                  run->seed_rank, r.status.empty() ? "failed" : r.status);
        }
      };
      collect(c.arm, arm_values);
      collect(baseline, base_values);
      if (!missing.empty()) {
        c.decided = true;
        c.reason = fmt::format("stopped at {} seeds, not decided: {}", n, missing);
        continue;
      }
      const auto look = look_at(design, arm_values, base_values);
      if (!look) {
        c.decided = true;
        c.reason = fmt::format("stopped at {} seeds, not decided: the {} test is not defined ({})", n,
                               design.paired ? "paired t" : "Welch", look.reason);
        continue;
      }
      c.looks.push_back(*look);
      c.decision = stats::sequential_decision(design, c.looks);
      if (c.decision->stopped()) {
        c.decided = true;
        c.reason = c.decision->describe();
      }
    }
  }
  for (const auto& c : out.comparisons) out.complete = out.complete && c.decided;
  for (const auto& c : candidates)
    if (wanted.count(c.id)) {
      out.wanted.push_back(c.id);
      if (!result(c.id).ended) out.to_train.push_back(c.id);
    }
  return out;
}

json SeedRounds::to_json() const {
  json rounds_json = json::array();
  for (const auto& r : rounds)
    rounds_json.push_back({{"seeds", r.seeds}, {"comparisons", r.comparisons}, {"runs", r.runs}});
  json comparisons_json = json::array();
  for (const auto& c : comparisons) {
    json looks = json::array();
    for (const auto& l : c.looks) looks.push_back({{"n", l.n}, {"difference", l.difference}, {"se", l.se}, {"df", l.df}});
    json j = {{"arm", c.arm},         {"grid_point", json::parse(c.group.empty() ? "{}" : c.group)},
              {"decided", c.decided}, {"reason", c.reason},
              {"seeds", c.seeds},     {"looks", looks}};
    if (c.decision) {
      const auto& d = *c.decision;
      j["outcome"] = c.decided && !d.stopped() ? "no_result" : outcome_name(d.outcome);
      j["p"] = d.p;
      j["boundary_p"] = d.nominal_p;
      j["difference"] = d.difference;
      j["repeated_ci"] = {number_or_null(d.repeated_ci.lo), number_or_null(d.repeated_ci.hi)};
      j["alpha_spent"] = d.spent;
      j["description"] = d.describe();
    } else {
      j["outcome"] = c.decided ? "no_result" : "add_seeds";
    }
    comparisons_json.push_back(j);
  }
  return {{"rule", "group-sequential, O'Brien-Fleming-type Lan-DeMets alpha spending (docs/seeds-on-demand.md)"},
          {"design",
           {{"alpha", design.alpha},
            {"spending_alpha", design.spent_alpha()},
            {"start", design.n_start},
            {"max", design.n_max},
            {"step", design.n_step},
            {"ci_halfwidth", design.ci_halfwidth > 0.0 ? json(design.ci_halfwidth) : json(nullptr)},
            {"test", design.paired ? "paired" : "welch"}}},
          {"planned", planned},
          {"rounds", rounds_json},
          {"complete", complete},
          {"runs_wanted", wanted.size()},
          {"runs_to_train", to_train.size()},
          {"comparisons", comparisons_json}};
}

namespace {

/// The grid points of a sweep's runs. Before a tune stage has chosen, the replication runs do not
/// exist yet; the tuning runs have the same grid points.
std::size_t grid_point_count(const Sweep& sweep) {
  std::set<std::string> groups;
  for (const auto* runs : {&sweep.runs, &sweep.tune_runs})
    for (const auto& run : *runs) groups.insert(json(run.grid_point).dump());
  return groups.size();
}

}  // namespace

stats::SequentialDesign comparison_design(const Sweep& sweep, std::size_t* comparisons) {
  if (!sweep.seeds_on_demand) throw Error("comparison_design: the sweep has no seeds on demand");
  stats::SequentialDesign design = sweep.seeds_on_demand->design;
  const std::size_t k = (sweep.arms.size() - 1) * std::max<std::size_t>(1, grid_point_count(sweep));
  if (comparisons) *comparisons = k;
  if (sweep.seeds_on_demand->bonferroni && k > 1) design.alpha /= static_cast<double>(k);
  return design;
}

CalibratedDesign calibrated_comparison_design(const Sweep& sweep) {
  CalibratedDesign out;
  out.design = comparison_design(sweep, &out.comparisons);
  out.calibration = stats::calibrate_spending(out.design);
  // Where the simulation finds no excess over α, the boundaries spend α itself (and say so).
  if (out.calibration.spending_alpha < out.design.alpha) out.design.spending_alpha = out.calibration.spending_alpha;
  return out;
}

SeedsOnDemandPlan plan_seeds_on_demand(const Sweep& sweep) {
  // The calibration leaves precision stops out (they only lower the rate), so the sweep's α' holds
  // for the simulation without them.
  stats::SequentialDesign design = calibrated_comparison_design(sweep).design;
  design.ci_halfwidth = 0.0;
  SeedsOnDemandPlan plan;
  plan.spending_alpha = design.spent_alpha();
  plan.paired = design.paired;
  plan.groups = grid_point_count(sweep);
  plan.comparisons = sweep.arms.size() - 1;
  const std::size_t arms = sweep.arms.size();
  plan.min_runs = plan.groups * arms * static_cast<std::size_t>(design.n_start);
  plan.max_runs = plan.groups * arms * static_cast<std::size_t>(design.n_max);
  for (const double effect : {0.0, 0.5, 1.0, 2.0}) {
    const auto oc = stats::plan_sequential(design, effect).at_effect;
    // E[n] per comparison, and E[max of K] for the baseline from the cumulative stop shares.
    double expected_seeds = 0.0, expected_baseline = 0.0, below = 0.0;
    for (std::size_t j = 0; j < oc.looks.size(); ++j) {
      expected_seeds += oc.stop_share[j] * oc.looks[j];
      const double upto = std::min(1.0, below + oc.stop_share[j]);
      expected_baseline += (std::pow(upto, plan.comparisons) - std::pow(below, plan.comparisons)) * oc.looks[j];
      below = upto;
    }
    plan.at.push_back({effect, plan.groups * (plan.comparisons * expected_seeds + expected_baseline),
                       oc.rejection_rate});
  }
  return plan;
}

std::string SeedsOnDemandPlan::describe() const {
  std::string out = fmt::format(
      "seeds on demand: {} to {} replication runs ({} grid point(s) x {} arms); expected, if every arm differs from "
      "the baseline by",
      min_runs, max_runs, groups, comparisons + 1);
  for (const auto& a : at)
    out += fmt::format("\n  {:g} sd: {:.1f} runs, {:.1f}% of the comparisons significant", a.effect, a.expected_runs,
                       100.0 * a.significant);
  out += fmt::format(
      "\n  (sd: {}; each comparison tested with the calibrated α' = {:.4g}; arms taken as independent; a precision stop, when "
      "asked for, only lowers these counts)",
      paired ? "of the per-seed differences, for the paired test" : "of one arm's seeds", spending_alpha);
  return out;
}

std::vector<SeedCandidate> seed_candidates(const Sweep& sweep) {
  std::vector<SeedCandidate> out;
  for (const auto& run : sweep.runs) {
    const auto rank = std::find(sweep.seeds.begin(), sweep.seeds.end(), run.seed) - sweep.seeds.begin();
    out.push_back({run.id, run.arm, json(run.grid_point).dump(), static_cast<int>(rank)});
  }
  return out;
}

SeedRunResult seed_run_result(const std::filesystem::path& run_dir) {
  SeedRunResult r;
  r.status = run_status(run_dir);
  r.ended = run_ended(r.status);
  if (r.status != "done") return r;
  const json summary = read_json_file(run_dir / "summary.json");
  if (const auto it = summary.find("val_loss"); it != summary.end() && it->is_number() &&
                                                 std::isfinite(it->get<double>()))
    r.value = it->get<double>();
  return r;
}

}  // namespace ablate
