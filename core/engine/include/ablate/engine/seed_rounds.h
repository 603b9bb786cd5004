// Seeds on demand, the rounds: which runs of a sweep with `seeds: {start, max, ...}` are needed now,
// replayed from the results of the runs already ended. Every process (a restart, another shard, the
// report) replays the same rounds from the same run directories, so they agree on what to train next
// without talking to each other.
//
// Round r asks for the first n_r seeds (planned_looks: start, start + step, ..., max) of every arm
// whose comparison with the baseline is still undecided at its grid point, and of the baseline there.
// Once every run of the round has ended, each undecided comparison takes one look: Welch's test (or
// the paired t by seed) on the validation losses of the first n_r seeds of the arm and of the
// baseline, and the group-sequential rule (sequential.h) decides it or asks for the next round. A
// comparison once decided keeps its runs and takes no more seeds; a run that ended without a result
// (failed, diverged) stops its comparison, which the report then shows as not decided.
//
//   SeedRounds rounds = replay_seed_rounds(design, candidates, baseline, result_of);
//   if (!rounds.complete) train(rounds.to_train);   // then replay again
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "ablate/engine/sequential.h"
#include "ablate/engine/sweep.h"

namespace ablate {

/// One run a seeds-on-demand sweep may train.
struct SeedCandidate {
  std::string id;
  std::string arm;
  std::string group;     // the grid point (its JSON dump; "{}" without a grid): comparisons stay within it
  int seed_rank = 0;     // 0-based position of its seed in the sweep's seeds
};

/// What a run directory says: not ended (never started, training, or interrupted), or ended with its
/// validation loss, or ended without one (failed, diverged: `status` says which).
struct SeedRunResult {
  bool ended = false;
  std::optional<double> value;
  std::string status;
};

/// One arm's comparison with the baseline at one grid point.
struct SeedComparison {
  std::string arm, group;
  std::vector<stats::SequentialLook> looks;         // one per round it took part in
  std::optional<stats::SequentialDecision> decision;  // after its last look
  bool decided = false;
  std::string reason;  // why it stopped (decision->describe(), or the run without a result); "" while undecided
  int seeds = 0;       // seeds per arm it holds now

  /// "arm", or "arm at {grid point}" when the sweep has a grid.
  std::string label() const;
};

/// One round: its seeds per arm and the comparisons it held.
struct SeedRound {
  int seeds = 0;
  std::vector<std::string> comparisons;  // "arm" or "arm at {grid point}"
  std::size_t runs = 0;                  // runs it needed, new and old
};

struct SeedRounds {
  stats::SequentialDesign design;
  std::vector<int> planned;           // seeds per arm of each planned round
  std::vector<SeedRound> rounds;      // the rounds reached, the last one in progress unless complete
  bool complete = false;              // every comparison decided
  std::vector<std::string> wanted;    // ids of every run the rounds reached need, in candidate order
  std::vector<std::string> to_train;  // of those, the ones not ended yet
  std::vector<SeedComparison> comparisons;

  /// {"rule", "design": {...}, "planned", "rounds": [...], "complete", "comparisons": [{"arm",
  /// "grid_point", "decided", "reason", "seeds", "outcome", "looks": [{"n", "difference", "se", "df"}],
  /// "p", "boundary_p", "repeated_ci"}]} for seed_rounds.json and the report.
  nlohmann::json to_json() const;
};

/// Replays the rounds (see the top). `result_of` reads one run; `baseline` names the baseline arm.
/// Throws ablate::Error when a group has no baseline candidate or an arm lacks a seed rank below
/// design.n_max.
SeedRounds replay_seed_rounds(const stats::SequentialDesign& design, const std::vector<SeedCandidate>& candidates,
                              const std::string& baseline,
                              const std::function<SeedRunResult(const std::string& id)>& result_of);

/// The design each comparison of a seeds-on-demand sweep is tested with: the sweep's, with alpha
/// divided by the number of comparisons under the Bonferroni correction. `comparisons` receives that
/// number ((arms − 1) × grid points).
stats::SequentialDesign comparison_design(const Sweep& sweep, std::size_t* comparisons = nullptr);

/// comparison_design with the calibration of its spending (stats::calibrate_spending): where the
/// simulation finds more false positives than α, the boundaries spend the calibrated α' instead of
/// α. What `ablate run` decides with and what `ablate plan` simulates.
struct CalibratedDesign {
  stats::SequentialDesign design;  // spending_alpha set where calibration lowered it
  stats::SequentialCalibration calibration;
  std::size_t comparisons = 0;     // the sweep's comparisons with the baseline
};
CalibratedDesign calibrated_comparison_design(const Sweep& sweep);

/// What seeds on demand may cost a sweep, for `ablate plan`. Per grid point with K arms besides the
/// baseline: at least (K + 1) · start runs (every comparison decided in the first round), at most
/// (K + 1) · max. Expected: each comparison's stopping seeds simulated by plan_sequential (calibrated
/// α', no precision stop: that needs the seeds' noise, unknown before training, so the expected
/// counts are upper bounds when `until` is set), the K comparisons taken as independent, and the
/// baseline training as many seeds as its longest comparison.
struct SeedsOnDemandPlan {
  std::size_t groups = 0, comparisons = 0;  // grid points; comparisons per grid point
  std::size_t min_runs = 0, max_runs = 0;
  double spending_alpha = 0.0;
  bool paired = false;            // the effects are in sd of the per-seed differences, else of one arm's seeds
  struct AtEffect {
    double effect = 0.0;          // every arm's true difference from the baseline, in seed standard deviations
    double expected_runs = 0.0;   // of the whole sweep's replication runs
    double significant = 0.0;     // share of comparisons that stop significant
  };
  std::vector<AtEffect> at;       // effects 0, 0.5, 1, 2
  std::string describe() const;   // a few lines for `ablate plan`
};
SeedsOnDemandPlan plan_seeds_on_demand(const Sweep& sweep);

/// The candidates of a sweep's (replication) runs: seed rank = position of the run's seed in sweep.seeds.
std::vector<SeedCandidate> seed_candidates(const Sweep& sweep);

/// A run directory's result for the rounds: summary.json's status and its finite val_loss.
SeedRunResult seed_run_result(const std::filesystem::path& run_dir);

}  // namespace ablate
