// The sweep file's keys that set how its runs are made, chosen and reported rather than what one
// run is: `seeds`, `tune`, `report` and `trust` (`budget` is sweep/budget.h). Each is parsed with
// its locations; errors are ablate::Error at the key or value at fault. Private to the sweep module.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ablate/engine/plugin_registry.h"
#include "ablate/engine/sweep.h"
#include "sweep/arms_and_grid.h"
#include "sweep/yaml_json.h"

namespace ablate::sweep_internal {

/// The text of a scalar; `what` names the key in the error when it is not one.
std::string scalar_text(const LocatedNode& node, const std::string& what);

/// `seeds: [..]`, distinct integers (default [0]); `where` receives each seed's location (an empty
/// location for the default).
std::vector<std::int64_t> parse_seeds(const LocatedEntry* entry, std::vector<SourceLocation>& where);

/// `seeds: {start: N, max: M, step: S, alpha: A, test: welch|paired, until: {ci_halfwidth: H}}`:
/// seeds on demand; nullopt when `seeds` is absent or a list.
std::optional<SeedsOnDemand> parse_seeds_on_demand(const LocatedEntry* entry);

/// `report: {target_loss: X}`: settings of the report only; they never change a run's id.
std::optional<double> parse_report_target_loss(const LocatedEntry* entry);

/// `trust: {accept_declared_cost: [NAME, ...]}`: plugins whose declared cost() is taken although the
/// host measured otherwise (docs/proofs.md, "Measured cost"). Never changes a run's id: it
/// changes nothing a run computes, only whether ablate agrees to train it; the report flags it.
std::vector<std::string> parse_trust(const LocatedEntry* entry, const PluginRegistry& registry);

/// `tune: {axes: {path: [values]}, seeds: [..], metric: val_loss|val_accuracy, halving: {rungs: [..], keep: f}}`.
/// Returns the spec and its axes (parsed like grid axes); `seeds` are the sweep's (replication) seeds.
std::pair<TuneSpec, std::vector<GridAxis>> parse_tune(const LocatedEntry& entry, const std::vector<std::int64_t>& seeds);

}  // namespace ablate::sweep_internal
