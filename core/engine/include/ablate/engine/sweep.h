// Sweep files: YAML → validated sweep → expanded runs.
//
// A sweep file (docs/sweep-format.md) has a base (`data`, `model`, `train`), named `arms` of
// dotted-path overrides, a `grid` of dotted path → values (cartesian product applied to every
// arm) and `seeds`; optionally a `tune` stage (axes searched per arm and grid point on a tuning
// split before the replication runs), a `budget` (equal steps, tokens, FLOPs or seconds per run),
// and `report`, `trust`, `name`, `baseline`. Loading validates everything before anything trains:
// unknown keys at every level, types, bounds, plugin names and every plugin option against that
// plugin's schema, with defaults filled in; corpus and SentencePiece model paths must be on disk;
// then each run's keys against each other and each component's own cost function. Every error is
// an ablate::Error whose location is the file, line and column of the offending key or value (of
// the arm's, grid point's or tune point's entry when one of those set it), and whose message says
// what was expected (the known keys, the loaded plugins of that kind, the type).
//
// The resolved configuration of one run is a JSON object with exactly these sections:
//   { "data": {...}, "model": {...}, "train": {...}, "seed": N }
// with every default filled in (the keys are the host schema's, core/engine/src/sweep/schema.cpp).
// Components are objects `{"plugin": NAME, <every option of that plugin>}`. A run's id is a hash
// of the canonical dump of that object, so it does not depend on the sweep's name, arm name or file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ablate/engine/error.h"
#include "ablate/engine/plugin_registry.h"
#include "ablate/engine/sequential.h"

namespace ablate {

struct RunSpec {
  std::string id;           // 16 hex digits: XXH3-128 of config.dump() (sorted keys), truncated
  std::string arm;          // arm name ("base" when the sweep has no arms)
  std::int64_t seed = 0;
  std::map<std::string, nlohmann::json> grid_point;  // dotted path → value of this run's grid point
  nlohmann::json config;    // resolved configuration, see above
  /// dotted path ("model.attention.n_heads") → where that value was written, for later errors
  std::map<std::string, SourceLocation> locations;
  /// Sweeps with a tune stage: the tuned values (dotted path → value) of this run — the point
  /// searched (tuning runs) or the point chosen for its arm (replication runs); empty otherwise.
  nlohmann::json tune_point = nlohmann::json::object();
  std::size_t tune_index = 0;  // index of tune_point in the tune grid

  /// Where a dotted path (or its nearest written ancestor) came from.
  SourceLocation location_of(const std::string& dotted_path) const;
};

/// `budget:`: every run of the sweep trains the same amount of one unit (sweep-format.md).
struct Budget {
  std::string kind = "steps";  // steps | tokens | flops | seconds
  double value = 0.0;          // per run: steps, tokens, training FLOPs or seconds of training
  SourceLocation where;        // the budget map in the sweep file
};

/// `seeds: {start, max, step, alpha, test, until: {ci_halfwidth}}`: seeds on demand
/// (docs/seeds-on-demand.md). The sweep's seeds are then 0, 1, ..., max − 1 and its runs every arm
/// at every one of them; the runner trains them in rounds (seed_rounds.h) and stops each comparison
/// with the baseline once the group-sequential rule of `design` decides it.
struct SeedsOnDemand {
  stats::SequentialDesign design;  // alpha (the sweep's, over all its comparisons), n_start, n_max, n_step, ...
  /// `correction: bonferroni` (the default): each of the sweep's K comparisons with the baseline
  /// (arms besides it × grid points) is tested at alpha / K, so that the chance of any false
  /// "significant" in the sweep stays at alpha; `none`: each at alpha.
  bool bonferroni = true;
  SourceLocation where;            // the `seeds` map in the sweep file
};

/// `tune:`: axes searched for every arm (and grid point) before the replication runs, selected on a
/// tuning split that the final comparison never sees (sweep-format.md, "Tune").
struct TuneSpec {
  std::vector<std::string> paths;     // the tuned dotted paths, in file order
  std::vector<std::int64_t> seeds;    // tuning seeds (default: the sweep's first seed)
  std::string metric = "val_loss";    // val_loss (lower is better) | val_accuracy (higher is better)
  std::vector<double> rungs;          // successive halving: fractions of train.steps; empty = off
  double keep = 0.5;                  // fraction of the points seen at a rung that go on
  std::size_t points = 0;             // size of the tune grid
};

/// The chosen tune point (index into the tune grid) of each arm and grid point: tune_group_key → index.
using TuneChoices = std::map<std::string, std::size_t>;

/// The key of one arm at one grid point in TuneChoices.
std::string tune_group_key(const std::string& arm, const std::map<std::string, nlohmann::json>& grid_point);

struct Sweep {
  std::filesystem::path file;
  std::string name;                // `name:`, default: the file's stem
  std::vector<std::string> arms;   // in file order
  std::string baseline;            // `baseline:`, default the first arm
  std::vector<std::int64_t> seeds; // default [0]; with seeds on demand 0, 1, ..., max − 1
  std::optional<SeedsOnDemand> seeds_on_demand;  // `seeds: {start, max, ...}`
  std::vector<RunSpec> runs;       // arms × grid × seeds, in that nesting order
  std::optional<double> target_loss;  // `report.target_loss`: the fair comparisons' target
  /// `trust.accept_declared_cost`: plugins trained with their declared cost although the host's
  /// measurement disagrees (the report flags every run that uses one).
  std::vector<std::string> accept_declared_cost;
  std::optional<Budget> budget;       // `budget:`; already applied to every run's train.steps
  std::optional<TuneSpec> tune;       // `tune:`
  /// Tuning runs: arms × grid × tune points × tune seeds (evaluated on the tuning split).
  std::vector<RunSpec> tune_runs;
  /// True when the sweep has a tune stage but was expanded without choices: `runs` is empty until
  /// the tuning runs are done and the sweep is expanded again with their choices.
  bool replication_pending = false;
  std::string text;                   // the sweep file as given
};

/// Reads, validates and expands a sweep file. Throws ablate::Error with file:line:column. With a
/// tune stage, `choices` (from the tuning runs) makes the replication runs; without, they are pending.
Sweep load_sweep(const std::filesystem::path& file, const PluginRegistry& registry,
                 const TuneChoices* choices = nullptr);
/// Same, from text (tests); `file` only names it in errors.
Sweep parse_sweep(const std::string& yaml_text, const std::filesystem::path& file,
                  const PluginRegistry& registry, const TuneChoices* choices = nullptr);

/// The run id of a resolved configuration.
std::string run_id(const nlohmann::json& config);

/// A validated component object (`{"plugin": "mha", "n_heads": 4, ...}`) as the SDK's ComponentSpec.
sdk::ComponentSpec component_spec(sdk::Kind kind, const nlohmann::json& component,
                                  const PluginRegistry& registry);

/// One component given as option texts rather than a sweep file (`ablate check-plugin --set
/// n_heads=4` gives {"n_heads", "4"}; each value is YAML), validated against its plugin's schema by
/// the same code as a sweep's component, with every default filled in. Errors name `--set KEY`;
/// `plugin` among the options, or a key given twice, is refused as a YAML map would refuse it.
nlohmann::json resolve_component(sdk::Kind kind, const std::string& plugin,
                                 const std::vector<std::pair<std::string, std::string>>& options,
                                 const PluginRegistry& registry);

/// The `model.rope` section of a resolved configuration as the SDK's RopeConfig.
sdk::RopeConfig rope_config(const nlohmann::json& rope);

/// The resolved configuration as YAML text (for config.yaml in a run directory).
std::string config_to_yaml(const nlohmann::json& config);

}  // namespace ablate
