// A sweep's overrides of its base: the `arms` (name → dotted path → value) and the `grid` (dotted
// path → list of values, every combination applied to every arm); `tune.axes` has the grid's form.
// Private to the sweep module.
//
//   arms:  {base: {}, wide: {model.d_model: 512}}
//   grid:  {train.optimizer.lr: [1e-3, 3e-3], model.n_layers: [2, 4]}
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ablate/engine/error.h"
#include "sweep/yaml_json.h"

namespace ablate::sweep_internal {

struct Override {
  std::string path;                   // "model.attention.n_heads"
  std::vector<std::string> segments;  // model, attention, n_heads
  SourceLocation key_where;           // where the dotted path was written
  LocatedNode value;
};

struct Arm {
  std::string name;
  SourceLocation key_where;
  std::vector<Override> overrides;
};

struct GridAxis {
  std::string path;
  std::vector<std::string> segments;
  SourceLocation key_where;
  std::vector<LocatedNode> values;
};

/// Checks a dotted path's form and its first segment (data, model or train). `what` names the
/// kind of key in errors ("override", "grid", "tune.axes").
std::vector<std::string> dotted_path(const LocatedEntry& entry, const char* what);

/// Writes `value` at `segments` in the tree, creating the maps on the way; the value replaces
/// whatever was there (a component map replaces the whole component).
void apply_override(LocatedNode& tree, const std::vector<std::string>& segments, const SourceLocation& key_where,
                    const LocatedNode& value, const std::string& path);

/// `arms:` in file order; empty when the sweep has none (null entry or no entry).
std::vector<Arm> parse_arms(const LocatedEntry* entry);

/// `grid:` (or `tune.axes:`, named by `what`): dotted path → non-empty list of values.
std::vector<GridAxis> parse_grid(const LocatedEntry* entry, const char* what = "grid");

/// Every grid point as one value index per axis; the last axis varies fastest.
std::vector<std::vector<std::size_t>> grid_points(const std::vector<GridAxis>& axes);

}  // namespace ablate::sweep_internal
