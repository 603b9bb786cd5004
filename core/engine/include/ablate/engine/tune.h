// The tune stage of a sweep (sweep.h's TuneSpec), the part that needs no LibTorch: the successive-
// halving rule applied while tuning runs train, and the choice of each arm's point once they are
// done. The sweep runner trains; this module reads run directories and decides.
//
// Tuning runs live in OUT/<name>/tune/<id>/ (the same files as runs/<id>/), evaluate on the tuning
// split (the second half of the validation documents), and are never part of the report's
// comparisons. The choice is written to OUT/<name>/tune.json:
//   {"metric", "paths", "halving": {"rungs", "keep"} | null,
//    "groups": [{"arm", "grid_point", "chosen": index | null, "reason" (when null),
//                "points": [{"index", "values": {path: value}, "mean": x | null,
//                            "runs": [{"id", "seed", "status", "final", "stopped_reason"}]}]}]}
//
//   const TuneOutcome outcome = choose_tune_points(sweep, sweep_dir);   // after the tuning runs
//   const Sweep replication = load_sweep(file, registry, &outcome.choices);
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ablate/engine/sweep.h"

namespace ablate {

/// Directory of a tuning run: <sweep_dir>/tune/<id>.
std::filesystem::path tune_run_dir(const std::filesystem::path& sweep_dir, const RunSpec& run);

/// Successive halving (asynchronous: tuning runs train one after another). At the first
/// evaluation at or after each rung (a fraction of train.steps), `run`'s metric is ranked among the
/// tuning runs of the same arm, grid point and seed that came before it and reached that rung;
/// it goes on only within the best max(1, ceil(keep · count)) of those count runs. Returns why it
/// stops, or "" to go on (and always "" without halving or away from a rung).
std::string halving_verdict(const Sweep& sweep, const RunSpec& run, std::int64_t step, double val_loss,
                            double val_accuracy, const std::filesystem::path& sweep_dir);

/// A run an evaluation of `run` is ranked against, and the evaluation step of that run that is read.
struct HalvingPeer {
  const RunSpec* run = nullptr;
  std::int64_t step = 0;
};

/// What halving_verdict compares `run` with at `step`: the tuning runs of the same arm, grid point
/// and seed at earlier tune points, each at its own evaluation of the same rung. Empty without
/// halving or away from a rung. (The sweep runner waits for those its other workers are training.)
std::vector<HalvingPeer> halving_peers(const Sweep& sweep, const RunSpec& run, std::int64_t step);

struct TuneOutcome {
  TuneChoices choices;   // arms (and grid points) with a chosen point
  nlohmann::json table;  // tune.json's content
};

/// For every arm and grid point, the tune point with the best mean final metric over the tuning
/// seeds, among the points whose tuning runs all finished ("done"; stopped, failed and diverged
/// points are out). Reads <sweep_dir>/tune/<id>/summary.json; writes nothing.
TuneOutcome choose_tune_points(const Sweep& sweep, const std::filesystem::path& sweep_dir);

/// The choices of a tune.json table that sit at the edge of their grid: for every numeric tune axis
/// with at least 3 values, an arm (and grid point) whose chosen value is the smallest or the largest
/// tried. The best value may lie beyond it, so that arm's comparison may be with an untuned point.
/// One sentence each, e.g. "arm 'wide' chose train.optimizer.lr = 0.01, the largest value tried".
std::vector<std::string> tune_choices_at_grid_edge(const nlohmann::json& table);

}  // namespace ablate
