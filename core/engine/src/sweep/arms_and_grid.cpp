// Arms and grid (see sweep/arms_and_grid.h): their dotted paths checked, and an override written
// into a run's located tree.
#include "sweep/arms_and_grid.h"

#include <algorithm>

#include <fmt/format.h>

#include "sweep/list_text.h"
#include "sweep/schema.h"

namespace ablate::sweep_internal {

using sweep_schema::did_you_mean;

std::vector<std::string> dotted_path(const LocatedEntry& entry, const char* what) {
  std::vector<std::string> segments = split(entry.key, '.');
  if (segments.empty())  // an empty key (found by the fuzz test: it crashed the check below)
    throw Error(fmt::format("{} key '' is empty, not a dotted path like model.attention.n_heads", what), {},
                entry.key_where);
  for (const auto& segment : segments)
    if (segment.empty())
      throw Error(fmt::format("{} key '{}' is not a dotted path like model.attention.n_heads", what, entry.key), {},
                  entry.key_where);
  const auto sections = names_of(sweep_schema::host_sections());
  if (std::find(sections.begin(), sections.end(), segments.front()) == sections.end())
    throw Error(fmt::format("unknown key '{}' in {} path '{}' (known keys: {})", segments.front(), what, entry.key,
                            join(sections)),
                did_you_mean(segments.front(), sections), entry.key_where);
  return segments;
}

void apply_override(LocatedNode& tree, const std::vector<std::string>& segments, const SourceLocation& key_where,
                    const LocatedNode& value, const std::string& path) {
  LocatedNode* node = &tree;
  std::string prefix;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (node->is_null()) node->type = LocatedNode::Type::map;
    if (!node->is_map())
      throw Error(fmt::format("'{}' is {}, not a map, so '{}' does not exist", prefix, node->describe(), path), {},
                  key_where);
    prefix += (prefix.empty() ? "" : ".") + segments[i];
    LocatedEntry* entry = node->find(segments[i]);
    const bool last = i + 1 == segments.size();
    if (entry == nullptr) {
      LocatedEntry created;
      created.key = segments[i];
      created.key_where = key_where;
      created.value.type = LocatedNode::Type::map;
      created.value.where = key_where;
      node->entries.push_back(std::move(created));
      entry = &node->entries.back();
    }
    if (last) entry->value = value;
    node = &entry->value;
  }
}

std::vector<Arm> parse_arms(const LocatedEntry* entry) {
  std::vector<Arm> arms;
  if (entry == nullptr || entry->value.is_null()) return arms;
  if (!entry->value.is_map())
    throw Error(fmt::format("'arms' must be a map of arm name → overrides, got {}", entry->value.describe()),
                "e.g. arms: {base: {}, wide: {model.d_model: 512}}", entry->value.where);
  for (const auto& arm_entry : entry->value.entries) {  // duplicate names were refused by the parser
    Arm arm{arm_entry.key, arm_entry.key_where, {}};
    if (arm.name.empty()) throw Error("an arm's name must not be empty", {}, arm_entry.key_where);
    const LocatedNode& body = arm_entry.value;
    if (!body.is_map() && !body.is_null())
      throw Error(fmt::format("arm '{}' must be a map of dotted path → value ({{}} for the base), got {}",
                              arm.name, body.describe()),
                  {}, body.where);
    for (const auto& o : body.entries)
      arm.overrides.push_back({o.key, dotted_path(o, "override"), o.key_where, o.value});
    arms.push_back(std::move(arm));
  }
  return arms;
}

std::vector<GridAxis> parse_grid(const LocatedEntry* entry, const char* what) {
  std::vector<GridAxis> axes;
  if (entry == nullptr || entry->value.is_null()) return axes;
  if (!entry->value.is_map())
    throw Error(fmt::format("'{}' must be a map of dotted path → list of values, got {}", what, entry->value.describe()),
                fmt::format("e.g. {}: {{train.optimizer.lr: [1e-3, 3e-3]}}", what), entry->value.where);
  for (const auto& axis_entry : entry->value.entries) {
    GridAxis axis{axis_entry.key, dotted_path(axis_entry, what), axis_entry.key_where, {}};
    const LocatedNode& values = axis_entry.value;
    if (!values.is_sequence() || values.items.empty())
      throw Error(fmt::format("{} '{}' must be a non-empty list of values, got {}", what, axis.path,
                              values.is_sequence() ? "an empty list" : values.describe()),
                  fmt::format("e.g. {}: [a, b]", axis.path), values.where);
    axis.values = values.items;
    axes.push_back(std::move(axis));
  }
  return axes;
}

std::vector<std::vector<std::size_t>> grid_points(const std::vector<GridAxis>& axes) {
  std::vector<std::vector<std::size_t>> points{{}};
  for (const auto& axis : axes) {
    std::vector<std::vector<std::size_t>> next;
    for (const auto& point : points)
      for (std::size_t i = 0; i < axis.values.size(); ++i) {
        next.push_back(point);
        next.back().push_back(i);
      }
    points = std::move(next);
  }
  return points;
}

}  // namespace ablate::sweep_internal
