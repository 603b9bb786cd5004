// The sweep's settings around its runs (see sweep/sweep_settings.h): seeds, the tune stage,
// report and trust.
#include "sweep/sweep_settings.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "sweep/list_text.h"
#include "sweep/schema.h"

namespace ablate::sweep_internal {

using sweep_schema::did_you_mean;

std::string scalar_text(const LocatedNode& node, const std::string& what) {
  if (!node.is_scalar())
    throw Error(fmt::format("'{}' must be a string, got {}", what, node.describe()), {}, node.where);
  return node.text;
}

std::vector<std::int64_t> parse_seeds(const LocatedEntry* entry, std::vector<SourceLocation>& where) {
  if (entry == nullptr) {
    where.push_back({});
    return {0};
  }
  const LocatedNode& node = entry->value;
  if (const auto on_demand = parse_seeds_on_demand(entry)) {  // 0, 1, ..., max − 1, all at the map
    std::vector<std::int64_t> seeds;
    for (int s = 0; s < on_demand->design.n_max; ++s) {
      seeds.push_back(s);
      where.push_back(node.where);
    }
    return seeds;
  }
  if (!node.is_sequence() || node.items.empty())
    throw Error(fmt::format("'seeds' must be a non-empty list of integers, got {}",
                            node.is_sequence() ? "an empty list" : node.describe()),
                "e.g. seeds: [0, 1, 2]", node.where);
  std::vector<std::int64_t> seeds;
  for (const auto& item : node.items) {
    std::int64_t seed = 0;
    if (!item.is_scalar() || item.quoted || !parse_yaml_integer(item.text, seed))
      throw Error(fmt::format("a seed must be an integer, got {}", item.describe()), {}, item.where);
    if (std::find(seeds.begin(), seeds.end(), seed) != seeds.end())
      throw Error(fmt::format("seed {} is listed twice", seed), "every seed of a sweep is distinct", item.where);
    seeds.push_back(seed);
    where.push_back(item.where);
  }
  return seeds;
}

namespace {

/// A positive integer of the `seeds` map, or an error at its value.
int seeds_integer(const LocatedEntry& e, std::int64_t min, std::int64_t max) {
  std::int64_t value = 0;
  if (!e.value.is_scalar() || e.value.quoted || !parse_yaml_integer(e.value.text, value) || value < min ||
      value > max)
    throw Error(fmt::format("'seeds.{}' must be an integer from {} to {}, got {}", e.key, min, max, e.value.describe()),
                {}, e.value.where);
  return static_cast<int>(value);
}

}  // namespace

std::optional<SeedsOnDemand> parse_seeds_on_demand(const LocatedEntry* entry) {
  if (entry == nullptr || !entry->value.is_map()) return std::nullopt;
  const LocatedNode& node = entry->value;
  const char* example = "e.g. seeds: {start: 3, max: 12, until: {ci_halfwidth: 0.01}}";
  const std::vector<std::string> known = {"start", "max", "step", "alpha", "test", "correction", "until"};
  SeedsOnDemand on_demand;
  on_demand.where = node.where;
  stats::SequentialDesign& design = on_demand.design;
  const LocatedEntry* start = node.find("start");
  const LocatedEntry* max = node.find("max");
  if (start == nullptr || max == nullptr)
    throw Error(fmt::format("seeds on demand need 'start' (seeds per arm in the first round) and 'max' (at most)"),
                example, node.where);
  // Up to 1000 seeds per arm: the rule's boundaries cost a little per look, and no CPU or GPU sweep
  // needs more.
  design.n_max = seeds_integer(*max, 2, 1000);
  design.n_start = seeds_integer(*start, 2, design.n_max);
  for (const auto& e : node.entries) {
    if (e.key == "start" || e.key == "max") continue;
    if (e.key == "step") {
      design.n_step = seeds_integer(e, 1, design.n_max);
    } else if (e.key == "alpha") {
      if (!e.value.is_scalar() || e.value.quoted || !parse_yaml_number(e.value.text, design.alpha) ||
          !(design.alpha > 0.0 && design.alpha < 0.5))
        throw Error(fmt::format("'seeds.alpha' must be a number in (0, 0.5), got {}", e.value.describe()),
                    "the two-sided false-positive rate over all rounds, e.g. alpha: 0.05", e.value.where);
    } else if (e.key == "test") {
      const std::string test = scalar_text(e.value, "seeds.test");
      if (test != "welch" && test != "paired")
        throw Error(fmt::format("'seeds.test' must be welch or paired, got '{}'", test),
                    did_you_mean(test, {"welch", "paired"}), e.value.where);
      design.paired = test == "paired";
    } else if (e.key == "correction") {
      const std::string correction = scalar_text(e.value, "seeds.correction");
      if (correction != "bonferroni" && correction != "none")
        throw Error(fmt::format("'seeds.correction' must be bonferroni or none, got '{}'", correction),
                    did_you_mean(correction, {"bonferroni", "none"}), e.value.where);
      on_demand.bonferroni = correction == "bonferroni";
    } else if (e.key == "until") {
      if (!e.value.is_map())
        throw Error(fmt::format("'seeds.until' must be a map, got {}", e.value.describe()),
                    "e.g. until: {ci_halfwidth: 0.01}", e.value.where);
      for (const auto& u : e.value.entries) {
        if (u.key != "ci_halfwidth")
          throw Error(fmt::format("unknown key 'seeds.until.{}' (known keys: ci_halfwidth)", u.key),
                      did_you_mean(u.key, {"ci_halfwidth"}), u.key_where);
        if (!u.value.is_scalar() || u.value.quoted || !parse_yaml_number(u.value.text, design.ci_halfwidth) ||
            !(design.ci_halfwidth > 0.0) || !std::isfinite(design.ci_halfwidth))
          throw Error(fmt::format("'seeds.until.ci_halfwidth' must be a positive number (the metric's units: nats "
                                  "of validation loss), got {}",
                                  u.value.describe()),
                      {}, u.value.where);
      }
    } else {
      throw Error(fmt::format("unknown key 'seeds.{}' (known keys: {})", e.key, join(known)), did_you_mean(e.key, known),
                  e.key_where);
    }
  }
  stats::validate(design);
  return on_demand;
}

std::optional<double> parse_report_target_loss(const LocatedEntry* entry) {
  if (entry == nullptr || entry->value.is_null()) return std::nullopt;
  const LocatedNode& node = entry->value;
  if (!node.is_map())
    throw Error(fmt::format("'report' must be a map, got {}", node.describe()), "e.g. report: {target_loss: 3.5}",
                node.where);
  std::optional<double> target;
  for (const auto& e : node.entries) {
    if (e.key != "target_loss")
      throw Error(fmt::format("unknown key 'report.{}' (known keys: target_loss)", e.key),
                  did_you_mean(e.key, {"target_loss"}), e.key_where);
    double value = 0.0;
    if (!e.value.is_scalar() || e.value.quoted || !parse_yaml_number(e.value.text, value) || !(value > 0.0))
      throw Error(fmt::format("'report.target_loss' must be a positive number (nats per token), got {}",
                              e.value.describe()),
                  {}, e.value.where);
    target = value;
  }
  return target;
}

std::vector<std::string> parse_trust(const LocatedEntry* entry, const PluginRegistry& registry) {
  std::vector<std::string> accepted;
  if (entry == nullptr || entry->value.is_null()) return accepted;
  const LocatedNode& node = entry->value;
  const char* example = "e.g. trust: {accept_declared_cost: [my_moe]}";
  if (!node.is_map()) throw Error(fmt::format("'trust' must be a map, got {}", node.describe()), example, node.where);
  for (const auto& e : node.entries) {
    if (e.key != "accept_declared_cost")
      throw Error(fmt::format("unknown key 'trust.{}' (known keys: accept_declared_cost)", e.key),
                  did_you_mean(e.key, {"accept_declared_cost"}), e.key_where);
    if (!e.value.is_sequence())
      throw Error(fmt::format("'trust.accept_declared_cost' must be a list of plugin names, got {}", e.value.describe()),
                  example, e.value.where);
    for (const auto& item : e.value.items) {
      const std::string name = scalar_text(item, "trust.accept_declared_cost");
      bool known = false;
      for (const auto& plugin : registry.plugins()) known = known || plugin.name() == name;
      if (!known) throw Error(fmt::format("trust.accept_declared_cost names '{}', which is no loaded plugin", name), {}, item.where);
      accepted.push_back(name);
    }
  }
  return accepted;
}

std::pair<TuneSpec, std::vector<GridAxis>> parse_tune(const LocatedEntry& entry,
                                                      const std::vector<std::int64_t>& seeds) {
  const LocatedNode& node = entry.value;
  const char* example = "e.g. tune: {axes: {train.optimizer.lr: [3e-4, 1e-3, 3e-3]}, seeds: [100]}";
  if (!node.is_map()) throw Error(fmt::format("'tune' must be a map, got {}", node.describe()), example, node.where);
  const std::vector<std::string> known = {"axes", "seeds", "metric", "halving"};
  for (const auto& e : node.entries)
    if (std::find(known.begin(), known.end(), e.key) == known.end())
      throw Error(fmt::format("unknown key 'tune.{}' (known keys: {})", e.key, join(known)), did_you_mean(e.key, known),
                  e.key_where);
  const LocatedEntry* axes_entry = node.find("axes");
  if (axes_entry == nullptr) throw Error("'tune' needs 'axes': the values to search for every arm", example, node.where);
  TuneSpec tune;
  std::vector<GridAxis> axes = parse_grid(axes_entry, "tune.axes");
  if (axes.empty()) throw Error("'tune.axes' must name at least one path", example, axes_entry->value.where);
  for (const auto& axis : axes) tune.paths.push_back(axis.path);
  std::vector<SourceLocation> where;
  // Default: one seed that no replication run uses (one past the largest). Tuning on a replication
  // seed would carry the selection's luck on that seed's trajectory into the compared result.
  tune.seeds = node.find("seeds") ? parse_seeds(node.find("seeds"), where)
                                  : std::vector<std::int64_t>{*std::max_element(seeds.begin(), seeds.end()) + 1};
  if (const LocatedEntry* metric = node.find("metric")) {
    tune.metric = scalar_text(metric->value, "tune.metric");
    const std::vector<std::string>& metrics = sweep_schema::tune_metrics();
    if (std::find(metrics.begin(), metrics.end(), tune.metric) == metrics.end())
      throw Error(fmt::format("'tune.metric' must be {}, got '{}'", join(metrics, " or "), tune.metric),
                  did_you_mean(tune.metric, metrics), metric->value.where);
  }
  if (const LocatedEntry* halving = node.find("halving")) {
    const LocatedNode& h = halving->value;
    if (!h.is_map())
      throw Error(fmt::format("'tune.halving' must be a map, got {}", h.describe()),
                  "e.g. halving: {rungs: [0.25, 0.5], keep: 0.5}", h.where);
    for (const auto& e : h.entries) {
      if (e.key == "rungs") {
        if (!e.value.is_sequence() || e.value.items.empty())
          throw Error(fmt::format("'tune.halving.rungs' must be a non-empty list of fractions of train.steps, got {}",
                                  e.value.describe()),
                      "e.g. rungs: [0.25, 0.5]", e.value.where);
        for (const auto& item : e.value.items) {
          double f = 0.0;
          if (!item.is_scalar() || item.quoted || !parse_yaml_number(item.text, f) || !(f > 0.0 && f < 1.0) ||
              (!tune.rungs.empty() && f <= tune.rungs.back()))
            throw Error(fmt::format("a rung must be a fraction of train.steps in (0, 1), increasing, got {}",
                                    item.describe()),
                        {}, item.where);
          tune.rungs.push_back(f);
        }
      } else if (e.key == "keep") {
        if (!e.value.is_scalar() || e.value.quoted || !parse_yaml_number(e.value.text, tune.keep) ||
            !(tune.keep > 0.0 && tune.keep < 1.0))
          throw Error(fmt::format("'tune.halving.keep' must be a fraction in (0, 1), got {}", e.value.describe()), {},
                      e.value.where);
      } else {
        throw Error(fmt::format("unknown key 'tune.halving.{}' (known keys: rungs, keep)", e.key),
                    did_you_mean(e.key, {"rungs", "keep"}), e.key_where);
      }
    }
    if (tune.rungs.empty()) throw Error("'tune.halving' needs 'rungs'", "e.g. halving: {rungs: [0.25, 0.5]}", h.where);
  }
  return {tune, axes};
}

}  // namespace ablate::sweep_internal
