// How many seeds each comparison of a sweep directory needs: the power analysis of stats.h
// (two-sided two-sample t-test, α = 0.05, power 0.8) applied to the final validation loss of every
// non-baseline group against its baseline at the same grid point, as the report compares them.
// The report's "How many seeds" section and `ablate plan --from DIR` both print this.
//
//   for (const auto& a : seeds_advice(sweep_dir)) std::cout << a.arm << ": " << a.verdict << "\n";
//   // gqa: difference within noise: 3 seeds can detect only |Δ| ≥ 0.1135; about 122 seeds per arm
//   //      would be needed for the observed 0.0133
//
// Torch-free; reads only files (like the report). Limits: those of stats::power_analysis — the
// observed Δ and standard deviation are themselves estimates from few seeds.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "ablate/engine/stats.h"

namespace ablate {

struct SeedsAdvice {
  std::string arm;       // the group's label: "arm" or "arm @ path=value, ..."
  std::string baseline;  // the baseline group's label
  stats::Maybe<stats::PowerAnalysis> power;
  /// One plain sentence: "difference within noise: ...", "detectable: ..." or "not defined: ...".
  std::string verdict;
};

/// The advice of every comparison of validation loss in `sweep_dir` (OUT/<sweep name>/), in the
/// report's order. Throws ablate::Error when sweep.json is missing.
std::vector<SeedsAdvice> seeds_advice(const std::filesystem::path& sweep_dir);

/// The verdict sentence of one power analysis (`power` undefined: "not defined: <reason>").
std::string seeds_verdict(const stats::Maybe<stats::PowerAnalysis>& power);

}  // namespace ablate
