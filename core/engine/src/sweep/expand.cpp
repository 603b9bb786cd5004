// Sweep files: read the top-level keys, then expand the base, its arms, grid points, tune points
// and seeds into runs, each resolved, checked and given its id (see sweep.h).
//
// The pipeline of one run:
//   YAML text → LocatedNode tree (yaml_json.cpp, every key and value with its file:line:column)
//   base tree + the arm's overrides + the grid point's (+ the tune point's) → merged tree (still located)
//   merged tree → resolved JSON (resolver.cpp: types normalised, defaults filled), every error at its location
//   resolved JSON → cross-key and plugin checks (model_checks.cpp), the budget's train.steps
//     (budget.cpp), + seed → config → id
//
// Besides the base (`data`, `model`, `train`), `arms` and `grid` (arms_and_grid.cpp), the file's
// keys are `name`, `baseline`, `seeds`, `tune`, `report`, `trust` (sweep_settings.cpp) and `budget`
// (budget.cpp). With `tune`, every arm and grid point first expands to tuning runs, one per tune
// point and tuning seed; its replication runs need the tuning runs' choices (`choices`) and stay
// pending without them.
#include "ablate/engine/sweep.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include <fmt/format.h>

#include "sweep/arms_and_grid.h"
#include "sweep/budget.h"
#include "sweep/list_text.h"
#include "sweep/model_checks.h"
#include "sweep/resolver.h"
#include "sweep/schema.h"
#include "sweep/sweep_settings.h"
#include "sweep/yaml_json.h"

namespace ablate {
namespace {

using nlohmann::json;
using sweep_internal::Arm;
using sweep_internal::GridAxis;
using sweep_internal::join;
using sweep_schema::did_you_mean;

/// Under a budget of steps, tokens or FLOPs the budget decides train.steps: an arm or axis that
/// sets it would be ignored, so it is refused at its key.
void refuse_steps_under_budget(const Budget& budget, const std::string& path, const SourceLocation& where) {
  if (path == "train.steps")
    throw Error(fmt::format("'train.steps' is set by the sweep's budget ({}), so it cannot be set here", budget.kind),
                "remove it, or remove the budget", where);
}

/// One arm at one grid point, before its seeds (and tune points) are applied.
struct ArmPoint {
  const Arm* arm = nullptr;
  LocatedNode tree;                     // the base with the arm's and the grid point's overrides
  RunSpec spec;                         // arm, grid_point and locations; no seed or config yet
  json config;                          // resolved and checked
  std::vector<std::string> overridden;  // the dotted paths the arm and the grid point set, in that order
  std::string label;                    // "arm 'a' at train.optimizer.lr=0.001": names its runs in errors
  std::string context;                  // "in " + label for errors located in the base; "" for a lone run
  SourceLocation axis_origin;           // where equal runs of one arm come from: the first axis, else the arm
};

/// Where a run id was first made: equal runs are refused, naming the first.
struct RunOrigin {
  std::string arm, label;
};

/// The runs of a parsed sweep: arms × grid points × seeds into sweep.runs, and with a tune stage
/// arms × grid points × tune points × tuning seeds into sweep.tune_runs (plus, given `choices`,
/// the replication runs at each arm and grid point's chosen tune point).
class Expansion {
 public:
  Expansion(Sweep& sweep, const PluginRegistry& registry, const TuneChoices* choices, LocatedNode base,
            std::vector<Arm> arms, std::vector<GridAxis> axes, std::vector<GridAxis> tune_axes,
            std::vector<SourceLocation> seed_where)
      : sweep_(sweep),
        registry_(registry),
        choices_(choices),
        base_(std::move(base)),
        arms_(std::move(arms)),
        axes_(std::move(axes)),
        tune_axes_(std::move(tune_axes)),
        seed_where_(std::move(seed_where)),
        tune_points_(sweep_internal::grid_points(tune_axes_)) {}

  void expand() {
    for (const Arm& arm : arms_)
      for (const auto& point : sweep_internal::grid_points(axes_)) {
        const ArmPoint at = arm_point(arm, point);
        if (!sweep_.tune)
          add_runs(at.config, at.spec, sweep_.seeds, seed_where_, at.label, arm.key_where, at.axis_origin,
                   sweep_.runs);
        else
          expand_tune_points(at);
      }
  }

 private:
  /// The resolved configuration of one tree (arm overrides, grid and tune values applied); records
  /// where each value came from in spec.locations.
  json resolve(const LocatedNode& tree, RunSpec& spec) const {
    spec.locations.clear();
    spec.locations[""] = {sweep_.file.string(), 0, 0};
    sweep_internal::Resolver resolver(registry_, sweep_.file.parent_path(), spec.locations);
    json config = json::object();
    for (const auto& entry : tree.entries) {  // in file order, so the first error is the first reported
      const auto* section = sweep_schema::find_field(sweep_schema::host_sections(), entry.key);
      spec.locations[entry.key] = entry.value.where;
      config[entry.key] = resolver.section(entry.value, section->fields, entry.key);
    }
    for (const auto& section : sweep_schema::host_sections()) {
      if (config.contains(section.name)) continue;
      LocatedNode empty;
      empty.type = LocatedNode::Type::map;
      empty.where = base_.where;
      config[section.name] = resolver.section(empty, section.fields, section.name);
    }
    return config;
  }

  /// Checks a resolved configuration and applies the budget to it.
  void check(json& config, const RunSpec& spec, const std::vector<std::string>& overridden,
             const std::string& context) const {
    sweep_internal::check_model(config, spec, overridden, registry_, context);
    if (sweep_.budget) sweep_budget::apply(*sweep_.budget, config, registry_, context, sweep_.budget->where);
  }

  /// `arm` at the grid point `point` (one value index per axis), resolved and checked.
  ArmPoint arm_point(const Arm& arm, const std::vector<std::size_t>& point) const {
    ArmPoint at;
    at.arm = &arm;
    at.tree = base_;
    for (const auto& o : arm.overrides)
      sweep_internal::apply_override(at.tree, o.segments, o.key_where, o.value, o.path);
    for (std::size_t a = 0; a < axes_.size(); ++a)
      sweep_internal::apply_override(at.tree, axes_[a].segments, axes_[a].key_where, axes_[a].values[point[a]],
                                     axes_[a].path);
    for (const auto& o : arm.overrides) at.overridden.push_back(o.path);
    for (const auto& axis : axes_) at.overridden.push_back(axis.path);

    at.spec.arm = arm.name;
    at.config = resolve(at.tree, at.spec);
    std::string point_text;  // "train.optimizer.lr=0.001, model.n_layers=2"
    for (std::size_t a = 0; a < axes_.size(); ++a) {
      const json::json_pointer ptr("/" + join(axes_[a].segments, "/"));
      at.spec.grid_point[axes_[a].path] =
          at.config.contains(ptr) ? at.config.at(ptr) : axes_[a].values[point[a]].to_json();
      point_text += fmt::format("{}{}={}", point_text.empty() ? "" : ", ", axes_[a].path,
                                at.spec.grid_point[axes_[a].path].dump());
    }
    at.label = fmt::format("arm '{}'{}{}", arm.name, point_text.empty() ? "" : " at ", point_text);
    at.context = arms_.size() > 1 || !axes_.empty() ? "in " + at.label : std::string();
    at.axis_origin = axes_.empty() ? arm.key_where : axes_.front().key_where;
    check(at.config, at.spec, at.overridden, at.context);
    return at;
  }

  /// The tune stage of one arm and grid point: every tune point on the tuning split, and the chosen
  /// one again, with the sweep's seeds, on the final split.
  void expand_tune_points(const ArmPoint& at) {
    const auto chosen = choices_ ? choices_->find(tune_group_key(at.arm->name, at.spec.grid_point))
                                 : TuneChoices::const_iterator{};
    for (std::size_t t = 0; t < tune_points_.size(); ++t) {
      LocatedNode tuned_tree = at.tree;
      for (std::size_t a = 0; a < tune_axes_.size(); ++a)
        sweep_internal::apply_override(tuned_tree, tune_axes_[a].segments, tune_axes_[a].key_where,
                                       tune_axes_[a].values[tune_points_[t][a]], tune_axes_[a].path);
      RunSpec tuned = at.spec;
      json tuned_config = resolve(tuned_tree, tuned);
      std::string tune_text;
      for (std::size_t a = 0; a < tune_axes_.size(); ++a) {
        const json::json_pointer ptr("/" + join(tune_axes_[a].segments, "/"));
        tuned.tune_point[tune_axes_[a].path] = tuned_config.at(ptr);
        tune_text += fmt::format(", {}={}", tune_axes_[a].path, tuned.tune_point[tune_axes_[a].path].dump());
      }
      tuned.tune_index = t;
      std::vector<std::string> overridden = at.overridden;
      for (const auto& axis : tune_axes_) overridden.push_back(axis.path);
      check(tuned_config, tuned, overridden, at.context);
      json tuning = tuned_config;
      tuning["train"]["eval_split"] = "tuning";
      add_runs(tuning, tuned, sweep_.tune->seeds, {}, at.label + " tuning" + tune_text, at.arm->key_where,
               tune_axes_.front().key_where, sweep_.tune_runs);
      if (choices_ && chosen != choices_->end() && chosen->second == t) {
        json final_config = tuned_config;
        final_config["train"]["eval_split"] = "final";
        add_runs(final_config, tuned, sweep_.seeds, seed_where_, at.label + tune_text, at.arm->key_where,
                 at.axis_origin, sweep_.runs);
      }
    }
  }

  /// One run per seed of a resolved configuration, appended to `out`. Equal runs are refused, at the
  /// arm's name when they come from different arms, else at `same_arm_origin` (the axis that made them).
  void add_runs(const json& config, const RunSpec& spec, const std::vector<std::int64_t>& seeds,
                const std::vector<SourceLocation>& where, const std::string& label, const SourceLocation& arm_origin,
                const SourceLocation& same_arm_origin, std::vector<RunSpec>& out) {
    for (std::size_t s = 0; s < seeds.size(); ++s) {
      RunSpec run = spec;
      run.seed = seeds[s];
      run.config = config;
      run.config["seed"] = run.seed;
      if (s < where.size() && where[s].line > 0) run.locations["seed"] = where[s];
      run.id = run_id(run.config);
      if (auto [it, inserted] = seen_.emplace(run.id, RunOrigin{spec.arm, label}); !inserted)
        throw Error(fmt::format("{} is the same run as {} (id {}, seed {}): their resolved configurations are equal",
                                label, it->second.label, run.id, run.seed),
                    "drop one of them, or make them differ",
                    it->second.arm != spec.arm ? arm_origin : same_arm_origin);
      out.push_back(std::move(run));
    }
  }

  Sweep& sweep_;
  const PluginRegistry& registry_;
  const TuneChoices* choices_;
  const LocatedNode base_;  // the sections as written
  const std::vector<Arm> arms_;
  const std::vector<GridAxis> axes_;
  const std::vector<GridAxis> tune_axes_;
  const std::vector<SourceLocation> seed_where_;
  const std::vector<std::vector<std::size_t>> tune_points_;
  std::map<std::string, RunOrigin> seen_;  // run id → where it first came from
};

/// The sweep file's root: a map of known top-level keys that has `model`.
LocatedNode parse_root(const std::string& yaml_text, const std::string& file_name) {
  LocatedNode root = parse_located_yaml(yaml_text, file_name);
  if (root.is_null()) {
    root.type = LocatedNode::Type::map;
    root.where = {file_name, 1, 1};
  }
  const auto& top_keys = sweep_schema::top_level_keys();
  if (!root.is_map())
    throw Error(fmt::format("a sweep file is a map with the keys {}, got {}", join(top_keys), root.describe()), {},
                root.where);
  for (const auto& entry : root.entries) {
    if (std::find(top_keys.begin(), top_keys.end(), entry.key) == top_keys.end())
      throw Error(fmt::format("unknown key '{}' (known keys: {})", entry.key, join(top_keys)),
                  did_you_mean(entry.key, top_keys), entry.key_where);
  }
  if (root.find("model") == nullptr)
    throw Error("missing required key 'model' (the model's sizes and components)",
                "e.g. model: {d_model: 128, n_layers: 2, ffn: {plugin: swiglu, d_ff: 344}}", root.where);
  return root;
}

}  // namespace

SourceLocation RunSpec::location_of(const std::string& dotted_path) const {
  std::string path = dotted_path;
  while (true) {
    if (auto it = locations.find(path); it != locations.end()) return it->second;
    if (path.empty()) return {};
    const auto dot = path.rfind('.');
    path = dot == std::string::npos ? std::string() : path.substr(0, dot);
  }
}

Sweep parse_sweep(const std::string& yaml_text, const std::filesystem::path& file, const PluginRegistry& registry,
                  const TuneChoices* choices) {
  const LocatedNode root = parse_root(yaml_text, file.string());

  Sweep sweep;
  sweep.file = file;
  sweep.text = yaml_text;
  sweep.name = file.stem().string();
  if (const LocatedEntry* name = root.find("name")) {
    sweep.name = sweep_internal::scalar_text(name->value, "name");
    if (sweep.name.empty() || sweep.name == "." || sweep.name == ".." ||
        sweep.name.find('/') != std::string::npos)
      throw Error(fmt::format("'name' must be a directory name (no '/'), got '{}'", sweep.name), {},
                  name->value.where);
  }
  sweep.target_loss = sweep_internal::parse_report_target_loss(root.find("report"));
  sweep.accept_declared_cost = sweep_internal::parse_trust(root.find("trust"), registry);
  sweep.budget = sweep_budget::parse(root.find("budget"));
  std::vector<SourceLocation> seed_where;
  sweep.seeds = sweep_internal::parse_seeds(root.find("seeds"), seed_where);
  sweep.seeds_on_demand = sweep_internal::parse_seeds_on_demand(root.find("seeds"));
  std::vector<Arm> arms = sweep_internal::parse_arms(root.find("arms"));
  if (arms.empty()) arms.push_back({"base", root.where, {}});
  for (const auto& arm : arms) sweep.arms.push_back(arm.name);
  sweep.baseline = sweep.arms.front();
  if (const LocatedEntry* baseline = root.find("baseline")) {
    sweep.baseline = sweep_internal::scalar_text(baseline->value, "baseline");
    if (std::find(sweep.arms.begin(), sweep.arms.end(), sweep.baseline) == sweep.arms.end())
      throw Error(fmt::format("baseline '{}' is not an arm (arms: {})", sweep.baseline, join(sweep.arms)),
                  did_you_mean(sweep.baseline, sweep.arms), baseline->value.where);
  }
  if (sweep.seeds_on_demand && sweep.arms.size() < 2)
    throw Error("seeds on demand add seeds until each arm's comparison with the baseline is decided, and this sweep "
                "has one arm",
                "add arms to compare, or give a list of seeds: seeds: [0, 1, 2]", sweep.seeds_on_demand->where);
  std::vector<GridAxis> axes = sweep_internal::parse_grid(root.find("grid"));
  std::vector<GridAxis> tune_axes;
  if (const LocatedEntry* tune = root.find("tune"); tune != nullptr && !tune->value.is_null()) {
    std::tie(sweep.tune, tune_axes) = sweep_internal::parse_tune(*tune, sweep.seeds);
    for (const auto& t : tune_axes)
      for (const auto& g : axes)
        if (t.path == g.path)
          throw Error(fmt::format("'{}' is both a grid axis and a tune axis", t.path),
                      "a value is either compared (grid) or tuned per arm (tune), not both", t.key_where);
    sweep.tune->points = sweep_internal::grid_points(tune_axes).size();
    sweep.replication_pending = choices == nullptr;
  }
  if (sweep.budget && sweep.budget->kind != "seconds") {
    for (const auto& arm : arms)
      for (const auto& o : arm.overrides) refuse_steps_under_budget(*sweep.budget, o.path, o.key_where);
    for (const auto& axis : axes) refuse_steps_under_budget(*sweep.budget, axis.path, axis.key_where);
    for (const auto& axis : tune_axes) refuse_steps_under_budget(*sweep.budget, axis.path, axis.key_where);
  }

  // The base: the sections as written.
  LocatedNode base;
  base.type = LocatedNode::Type::map;
  base.where = root.where;
  for (const auto& entry : root.entries)
    if (sweep_schema::find_field(sweep_schema::host_sections(), entry.key)) base.entries.push_back(entry);

  Expansion(sweep, registry, choices, std::move(base), std::move(arms), std::move(axes), std::move(tune_axes),
            std::move(seed_where))
      .expand();
  return sweep;
}

std::string tune_group_key(const std::string& arm, const std::map<std::string, nlohmann::json>& grid_point) {
  return arm + "\n" + json(grid_point).dump();
}

Sweep load_sweep(const std::filesystem::path& file, const PluginRegistry& registry, const TuneChoices* choices) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw Error(fmt::format("cannot read sweep file {}", file.string()), "check the path", {file.string(), 0, 0});
  std::stringstream text;
  text << in.rdbuf();
  return parse_sweep(text.str(), file, registry, choices);
}

}  // namespace ablate
