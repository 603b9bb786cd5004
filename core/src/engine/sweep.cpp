// Sweep files: parse, merge arms and grid points into the base, validate against the host schema
// (sweep_schema.cpp) and the plugins' option schemas, expand into runs (see sweep.h).
//
// The pipeline of one run:
//   YAML text → LocatedNode tree (yaml_json.cpp, every key and value with its file:line:column)
//   base tree + the arm's overrides + the grid point's overrides → merged tree (still located)
//   merged tree → resolved JSON (types normalised, defaults filled), every error at its location
//   resolved JSON → plugins' cost functions (cross-option checks), + seed → config → id
#include "ablate/sweep.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <tuple>
#include <span>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "sweep_budget.h"
#include "sweep_schema.h"
#include "yaml_json.h"

namespace ablate {
namespace {

using nlohmann::json;
using sweep_schema::FieldType;
using sweep_schema::SchemaField;
using sweep_schema::did_you_mean;

// ---------------------------------------------------------------------------------------------
// small helpers

std::string join(const std::vector<std::string>& items, const char* separator = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out.empty() ? "(none)" : out;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> out;
  std::string part;
  std::stringstream ss(text);
  while (std::getline(ss, part, separator)) out.push_back(part);
  if (!text.empty() && text.back() == separator) out.emplace_back();
  return out;
}

std::vector<std::string> names_of(std::span<const SchemaField> fields) {
  std::vector<std::string> out;
  for (const auto& field : fields) out.emplace_back(field.name);
  return out;
}

std::string number_text(double v) { return fmt::format("{}", v); }

/// "≥ 1", "in [0, 1)", "> 0" or "" for an unbounded field.
std::string bounds_text(const SchemaField& f) {
  const bool lo = f.min != -sweep_schema::kInf, hi = f.max != sweep_schema::kInf;
  if (lo && hi)
    return fmt::format("in {}{}, {}{}", f.min_exclusive ? "(" : "[", number_text(f.min), number_text(f.max),
                       f.max_exclusive ? ")" : "]");
  if (lo) return fmt::format("{} {}", f.min_exclusive ? ">" : "≥", number_text(f.min));
  if (hi) return fmt::format("{} {}", f.max_exclusive ? "<" : "≤", number_text(f.max));
  return {};
}

bool in_bounds(const SchemaField& f, double v) {
  if (f.min_exclusive ? !(v > f.min) : !(v >= f.min)) return false;
  if (f.max_exclusive ? !(v < f.max) : !(v <= f.max)) return false;
  return true;
}

/// The kind among `kinds` that has a plugin named `name` (the first one when several do).
std::optional<sdk::Kind> find_kind(const PluginRegistry& registry, const std::vector<sdk::Kind>& kinds,
                                   const std::string& name) {
  for (sdk::Kind kind : kinds)
    if (registry.find(kind, name)) return kind;
  return std::nullopt;
}

std::string kinds_text(const std::vector<sdk::Kind>& kinds) {
  std::vector<std::string> names;
  for (sdk::Kind kind : kinds) names.emplace_back(sdk::kind_name(kind));
  return join(names, " or ");
}

std::string last_segment(const std::string& path) {
  const auto dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

/// The default of a field as a located node placed at `where` (the map that lacks the key).
LocatedNode default_node(const SchemaField& field, const SourceLocation& where) {
  LocatedNode node;
  const std::string text = field.default_value;
  if (text == "null" || text == "~") {
    node.type = LocatedNode::Type::null;
  } else if (field.type == FieldType::integer || field.type == FieldType::number ||
             field.type == FieldType::boolean || field.type == FieldType::string) {
    node.type = LocatedNode::Type::scalar;
    node.text = text;
    node.quoted = field.type == FieldType::string;
  } else {
    node = parse_located_yaml(text, where.file);
  }
  node.relocate(where);
  return node;
}

// ---------------------------------------------------------------------------------------------
// validation: located tree → resolved JSON

class Resolver {
 public:
  Resolver(const PluginRegistry& registry, std::filesystem::path base_dir,
           std::map<std::string, SourceLocation>& locations)
      : registry_(registry), base_dir_(std::move(base_dir)), locations_(locations) {}

  /// A section map (data, model, rope...): every key checked, every missing key defaulted.
  json section(const LocatedNode& node, std::span<const SchemaField> fields, const std::string& path) {
    if (!node.is_map() && !node.is_null())
      throw Error(fmt::format("'{}' must be a map, got {}", last_segment(path), node.describe()), {}, node.where);
    json out = json::object();
    for (const auto& entry : node.entries) {
      const SchemaField* field = sweep_schema::find_field(fields, entry.key);
      if (field == nullptr) throw unknown_key(entry, path, names_of(fields));
      out[entry.key] = value(entry.value, *field, join_path(path, entry.key));
    }
    for (const auto& field : fields) {
      if (out.contains(field.name)) continue;
      out[field.name] = missing(node, field, path);
    }
    return out;
  }

  json value(const LocatedNode& node, const SchemaField& field, const std::string& path) {
    record(path, node.where);
    const std::string name = field.name;
    if (node.is_null() && field.nullable) return nullptr;
    switch (field.type) {
      case FieldType::integer: {
        std::int64_t v = 0;
        if (!node.is_scalar() || node.quoted || !parse_yaml_integer(node.text, v))
          throw Error(fmt::format("'{}' must be an integer, got {}", name, node.describe()), {}, node.where);
        if (!in_bounds(field, static_cast<double>(v)))
          throw Error(fmt::format("'{}' must be {}, got {}", name, bounds_text(field), node.text), {}, node.where);
        return v;
      }
      case FieldType::number: {
        double v = 0;
        if (!node.is_scalar() || node.quoted || !parse_yaml_number(node.text, v))
          throw Error(fmt::format("'{}' must be a number, got {}", name, node.describe()), {}, node.where);
        if (!in_bounds(field, v))
          throw Error(fmt::format("'{}' must be {}, got {}", name, bounds_text(field), node.text), {}, node.where);
        return v;
      }
      case FieldType::boolean: {
        bool v = false;
        if (!node.is_scalar() || node.quoted || !parse_yaml_bool(node.text, v))
          throw Error(fmt::format("'{}' must be true or false, got {}", name, node.describe()), {}, node.where);
        return v;
      }
      case FieldType::string: {
        if (!node.is_scalar())
          throw Error(fmt::format("'{}' must be {}, got {}", name,
                                  field.choices ? sweep_schema::describe_type(field) : "a string", node.describe()),
                      {}, node.where);
        if (field.choices) {
          const auto choices = sweep_schema::split_choices(field.choices);
          if (std::find(choices.begin(), choices.end(), node.text) == choices.end())
            throw Error(fmt::format("'{}' must be one of {}, got {}", name, field.choices, node.describe()),
                        did_you_mean(node.text, choices), node.where);
        }
        return node.text;
      }
      case FieldType::section: return section(node, field.fields, path);
      case FieldType::component: return component(node, field, path);
      case FieldType::corpus: return corpus(node, path);
      case FieldType::tokenizer: return tokenizer(node, path);
    }
    return nullptr;
  }

  /// `{plugin: NAME, ...options}` checked against that plugin's option schema.
  json component(const LocatedNode& node, const SchemaField& field, const std::string& path) {
    const std::string name = field.name;
    const std::vector<sdk::Kind> kinds = sweep_schema::component_kinds(field.choices);
    if (!node.is_map())
      throw Error(fmt::format("'{}' must be a map {{plugin: NAME, ...options}} naming a {} plugin, got {}", name,
                              kinds_text(kinds), node.describe()),
                  node.is_scalar() ? fmt::format("write {{plugin: {}}}", node.text) : std::string(), node.where);

    // The plugin: written, or the slot's default plugin (`attention: {n_heads: 4}` is mha's).
    std::string plugin_name;
    SourceLocation plugin_where = node.where;
    if (const LocatedEntry* plugin = node.find("plugin")) {
      plugin_where = plugin->value.where;
      if (!plugin->value.is_scalar())
        throw Error(fmt::format("'plugin' must be a plugin name, got {}", plugin->value.describe()), {},
                    plugin_where);
      plugin_name = plugin->value.text;
      record(join_path(path, "plugin"), plugin_where);
    } else if (const std::string fallback = sweep_schema::default_plugin(field); !fallback.empty()) {
      plugin_name = fallback;
    } else {
      throw Error(fmt::format("'{}' has no 'plugin' key: which {} plugin?", name, kinds_text(kinds)),
                  fmt::format("loaded: {}", loaded_text(kinds)), node.where);
    }
    const std::optional<sdk::Kind> kind = find_kind(registry_, kinds, plugin_name);
    if (!kind) {
      std::vector<std::string> loaded;
      for (sdk::Kind k : kinds)
        for (const auto& n : registry_.names(k)) loaded.push_back(n);
      std::string hint = did_you_mean(plugin_name, loaded);
      if (hint.empty()) hint = "check the spelling, or add the plugin's directory with --plugin-dir";
      throw Error(fmt::format("no {} plugin named '{}' (loaded: {})", kinds_text(kinds), plugin_name,
                              loaded_text(kinds)),
                  hint, plugin_where);
    }
    const LoadedPlugin& plugin = registry_.get(*kind, plugin_name);
    const std::vector<sdk::OptionSpec> options = plugin.options();

    json out = json::object();
    out["plugin"] = plugin_name;
    for (const auto& entry : node.entries) {
      if (entry.key == "plugin") continue;
      const sdk::OptionSpec* option = plugin.option(entry.key);
      if (option == nullptr) {
        std::vector<std::string> known;
        for (const auto& o : options) known.emplace_back(o.name);
        std::string hint = did_you_mean(entry.key, known);
        if (hint.empty()) hint = fmt::format("`ablate plugins` lists every option of '{}'", plugin_name);
        throw Error(fmt::format("unknown option '{}' of {} plugin '{}' (known options: {})", entry.key,
                                sdk::kind_name(*kind), plugin_name, join(known)),
                    hint, entry.key_where);
      }
      out[entry.key] = value(entry.value, sweep_schema::option_field(*option), join_path(path, entry.key));
    }
    for (const auto& option : options) {
      if (out.contains(option.name)) continue;
      if (option.default_value == nullptr)
        throw Error(fmt::format("{} plugin '{}' needs option '{}', which '{}' does not set", sdk::kind_name(*kind),
                                plugin_name, option.name, name),
                    fmt::format("add {}: ... to {} ({}: {})", option.name, path, option.name, option.doc), node.where);
      try {
        out[option.name] = missing(node, sweep_schema::option_field(option), path);
      } catch (const Error& e) {
        throw Error(fmt::format("{} plugin '{}' declares an invalid default for '{}': {}",
                                sdk::kind_name(*kind), plugin_name, option.name, e.what()),
                    "report this to the plugin's author", node.where);
      }
    }
    return out;
  }

  /// kjv | {text: PATH} | {jsonl: PATH, field: NAME} | {tokens: PATH-OR-GLOB}; relative paths become absolute.
  json corpus(const LocatedNode& node, const std::string& path) {
    const std::string expected = "kjv, {text: PATH}, {jsonl: PATH, field: NAME} or {tokens: PATH-OR-GLOB}";
    if (node.is_scalar() && node.text == sweep_schema::kNamedCorpus) return sweep_schema::kNamedCorpus;
    const std::vector<std::string>& forms = sweep_schema::corpus_forms();
    std::string form;
    if (node.is_map())
      for (const auto& entry : node.entries)
        if (std::find(forms.begin(), forms.end(), entry.key) != forms.end()) {
          form = entry.key;
          break;
        }
    if (form.empty())
      throw Error(fmt::format("'corpus' must be {}, got {}", expected,
                              node.is_map() ? "a map with none of 'text', 'jsonl', 'tokens'" : node.describe()),
                  {}, node.where);
    json out = section(node, sweep_schema::corpus_fields(form), path);
    absolute_path(out, form, node);
    return out;
  }

  /// Makes the path in out[key] absolute, relative to the sweep file (a glob's pattern too).
  void absolute_path(json& out, const std::string& key, const LocatedNode& node) {
    std::filesystem::path file = out[key].get<std::string>();
    if (file.empty()) throw Error(fmt::format("'{}' must be a path, got ''", key), {}, node.find(key)->value.where);
    if (file.is_relative()) file = base_dir_ / file;
    out[key] = std::filesystem::absolute(file).lexically_normal().string();
  }

  /// {kind: bpe, vocab_size: N} | {kind: byte} | {kind: sentencepiece, model: PATH} | {kind: pretokenized, ...};
  /// `kind` defaults to bpe; a model PATH becomes absolute.
  json tokenizer(const LocatedNode& node, const std::string& path) {
    if (!node.is_map())
      throw Error(fmt::format("'tokenizer' must be {{kind: bpe, vocab_size: N}}, {{kind: byte}}, "
                              "{{kind: sentencepiece, model: PATH}} or {{kind: pretokenized, vocab_size: N}}, got {}",
                              node.describe()),
                  {}, node.where);
    std::string kind = sweep_schema::kDefaultTokenizerKind;
    if (const LocatedEntry* k = node.find("kind")) {
      const SchemaField& kind_field = *sweep_schema::find_field(sweep_schema::tokenizer_fields(kind), "kind");
      kind = value(k->value, kind_field, join_path(path, "kind")).get<std::string>();
    }
    json out = section(node, sweep_schema::tokenizer_fields(kind), path);
    if (kind == "sentencepiece") absolute_path(out, "model", node);
    return out;
  }

 private:
  static std::string join_path(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  Error unknown_key(const LocatedEntry& entry, const std::string& path, const std::vector<std::string>& known) {
    // A key that existed once: say what replaced it.
    const std::string hint =
        path == "train" && entry.key == "eval_batches"
            ? "'eval_batches' became 'eval_tokens', a token count (eval_batches × batch_size × seq_len gives the old "
              "set), so that every run scores the same tokens whatever its batch size"
            : did_you_mean(entry.key, known);
    return Error(fmt::format("unknown key '{}' in '{}' (known keys: {})", entry.key, path, join(known)), hint,
                 entry.key_where);
  }

  std::string loaded_text(const std::vector<sdk::Kind>& kinds) const {
    std::vector<std::string> loaded;
    for (sdk::Kind k : kinds)
      for (const auto& n : registry_.names(k)) loaded.push_back(n);
    return join(loaded);
  }

  /// The value of a key that `node` (a map) does not have: the field's default, or an error.
  json missing(const LocatedNode& node, const SchemaField& field, const std::string& path) {
    if (field.type == FieldType::section) {
      LocatedNode empty;
      empty.type = LocatedNode::Type::map;
      empty.where = node.where;
      ++defaults_depth_;
      json out = section(empty, field.fields, join_path(path, field.name));
      --defaults_depth_;
      return out;
    }
    if (field.default_value == nullptr)
      throw Error(fmt::format("'{}' needs the key '{}' ({})", last_segment(path), field.name, field.doc), {},
                  node.where);
    ++defaults_depth_;
    try {
      json out = value(default_node(field, node.where), field, join_path(path, field.name));
      --defaults_depth_;
      return out;
    } catch (...) {
      --defaults_depth_;
      throw;
    }
  }

  void record(const std::string& path, const SourceLocation& where) {
    if (defaults_depth_ == 0) locations_[path] = where;
  }

  const PluginRegistry& registry_;
  std::filesystem::path base_dir_;
  std::map<std::string, SourceLocation>& locations_;
  int defaults_depth_ = 0;  // > 0 while resolving a default: nothing was written there
};

// ---------------------------------------------------------------------------------------------
// the sweep file's own keys: arms, grid, seeds

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

/// Checks a dotted path's form and its first segment (data, model or train).
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

/// Writes `value` at `segments` in the tree, creating the maps on the way; the value replaces
/// whatever was there (a component map replaces the whole component).
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

/// `report: {target_loss: X}`: settings of the report only; they never change a run's id.
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

/// `trust: {accept_declared_cost: [NAME, ...]}`: plugins whose declared cost() is taken although the
/// host measured otherwise (docs/proofs.md, "Measured cost"). Never changes a run's id: it
/// changes nothing a run computes, only whether ablate agrees to train it; the report flags it.
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

/// `grid:` (or `tune.axes:`, named by `what`): dotted path → non-empty list of values.
std::vector<GridAxis> parse_grid(const LocatedEntry* entry, const char* what = "grid") {
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

/// Every grid point as one value index per axis; the last axis varies fastest.
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


/// `tune: {axes: {path: [values]}, seeds: [..], metric: val_loss|val_accuracy, halving: {rungs: [..], keep: f}}`.
/// Returns the spec and its axes (parsed like grid axes).
std::pair<TuneSpec, std::vector<GridAxis>> parse_tune(const LocatedEntry& entry, const std::vector<std::int64_t>& seeds) {
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

/// Checks across keys that the table cannot express, then every component's own cost function.
void check_model(const json& config, const RunSpec& where, const PluginRegistry& registry, const std::string& context) {
  const json& model = config.at("model");
  const std::int64_t n_layers = model.at("n_layers").get<std::int64_t>();
  const std::int64_t first_dense = model.at("first_dense_layers").get<std::int64_t>();
  if (first_dense > n_layers)
    throw Error(fmt::format("'first_dense_layers' ({}) must be at most n_layers ({})", first_dense, n_layers), context,
                where.location_of("model.first_dense_layers"));
  const sdk::Kind ffn_kind = registry.find(sdk::Kind::mlp, model.at("ffn").at("plugin").get<std::string>())
                                 ? sdk::Kind::mlp
                                 : sdk::Kind::moe;
  if (first_dense > 0 && ffn_kind == sdk::Kind::moe && model.at("dense_ffn").is_null())
    throw Error(fmt::format("'first_dense_layers' is {} but 'dense_ffn' is not set: with an MoE ffn the first "
                            "blocks need a dense MLP",
                            first_dense),
                "add model.dense_ffn: {plugin: swiglu, d_ff: ...}", where.location_of("model.first_dense_layers"));

  sdk::ModelContext ctx;
  ctx.d_model = model.at("d_model").get<std::int64_t>();
  ctx.n_layers = n_layers;
  ctx.layer_index = 0;
  ctx.seq_len = config.at("data").at("seq_len").get<std::int64_t>();
  ctx.dropout = model.at("dropout").get<double>();
  ctx.rope = rope_config(model.at("rope"));
  ctx = registry.bind(ctx);
  const std::pair<const char*, sdk::Kind> slots[] = {
      {"attention", sdk::Kind::attention}, {"ffn", ffn_kind}, {"dense_ffn", sdk::Kind::mlp}, {"norm", sdk::Kind::norm}};
  for (const auto& [slot, kind] : slots) {
    const json& component = model.at(slot);
    if (component.is_null()) continue;
    const std::string path = std::string("model.") + slot;
    try {
      registry.cost(component_spec(kind, component, registry), ctx);
    } catch (const Error& e) {
      throw Error(e.what(), context.empty() ? e.hint() : context, where.location_of(path));
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// public

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
  const std::string file_name = file.string();
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

  Sweep sweep;
  sweep.file = file;
  sweep.text = yaml_text;
  sweep.name = file.stem().string();
  if (const LocatedEntry* name = root.find("name")) {
    sweep.name = scalar_text(name->value, "name");
    if (sweep.name.empty() || sweep.name == "." || sweep.name == ".." ||
        sweep.name.find('/') != std::string::npos)
      throw Error(fmt::format("'name' must be a directory name (no '/'), got '{}'", sweep.name), {},
                  name->value.where);
  }
  sweep.target_loss = parse_report_target_loss(root.find("report"));
  sweep.accept_declared_cost = parse_trust(root.find("trust"), registry);
  sweep.budget = sweep_budget::parse(root.find("budget"));
  std::vector<SourceLocation> seed_where;
  sweep.seeds = parse_seeds(root.find("seeds"), seed_where);
  std::vector<Arm> arms = parse_arms(root.find("arms"));
  if (arms.empty()) arms.push_back({"base", root.where, {}});
  for (const auto& arm : arms) sweep.arms.push_back(arm.name);
  sweep.baseline = sweep.arms.front();
  if (const LocatedEntry* baseline = root.find("baseline")) {
    sweep.baseline = scalar_text(baseline->value, "baseline");
    if (std::find(sweep.arms.begin(), sweep.arms.end(), sweep.baseline) == sweep.arms.end())
      throw Error(fmt::format("baseline '{}' is not an arm (arms: {})", sweep.baseline, join(sweep.arms)),
                  did_you_mean(sweep.baseline, sweep.arms), baseline->value.where);
  }
  const std::vector<GridAxis> axes = parse_grid(root.find("grid"));
  std::vector<GridAxis> tune_axes;
  if (const LocatedEntry* tune = root.find("tune"); tune != nullptr && !tune->value.is_null()) {
    std::tie(sweep.tune, tune_axes) = parse_tune(*tune, sweep.seeds);
    for (const auto& t : tune_axes)
      for (const auto& g : axes)
        if (t.path == g.path)
          throw Error(fmt::format("'{}' is both a grid axis and a tune axis", t.path),
                      "a value is either compared (grid) or tuned per arm (tune), not both", t.key_where);
    sweep.tune->points = grid_points(tune_axes).size();
    sweep.replication_pending = choices == nullptr;
  }
  // A budget of steps, tokens or FLOPs decides train.steps: an arm or axis that sets it would be ignored.
  if (sweep.budget && sweep.budget->kind != "seconds") {
    const auto refuse = [&](const std::string& path, const SourceLocation& where) {
      if (path == "train.steps")
        throw Error(fmt::format("'train.steps' is set by the sweep's budget ({}), so it cannot be set here",
                                sweep.budget->kind),
                    "remove it, or remove the budget", where);
    };
    for (const auto& arm : arms)
      for (const auto& o : arm.overrides) refuse(o.path, o.key_where);
    for (const auto& axis : axes) refuse(axis.path, axis.key_where);
    for (const auto& axis : tune_axes) refuse(axis.path, axis.key_where);
  }

  // The base: the sections as written.
  LocatedNode base;
  base.type = LocatedNode::Type::map;
  base.where = root.where;
  for (const auto& entry : root.entries)
    if (sweep_schema::find_field(sweep_schema::host_sections(), entry.key)) base.entries.push_back(entry);

  const std::filesystem::path base_dir = file.parent_path();
  struct Seen {
    std::string arm, label;
  };
  std::map<std::string, Seen> seen;  // run id → where it first came from (duplicate runs are refused)
  // The resolved configuration of one tree (arm overrides, grid and tune values applied); records
  // where each value came from in spec.locations.
  const auto resolve = [&](const LocatedNode& tree, RunSpec& spec) {
    spec.locations.clear();
    spec.locations[""] = {file_name, 0, 0};
    Resolver resolver(registry, base_dir, spec.locations);
    json config = json::object();
    for (const auto& entry : tree.entries) {  // in file order, so the first error is the first reported
      const SchemaField* section = sweep_schema::find_field(sweep_schema::host_sections(), entry.key);
      spec.locations[entry.key] = entry.value.where;
      config[entry.key] = resolver.section(entry.value, section->fields, entry.key);
    }
    for (const auto& section : sweep_schema::host_sections()) {
      if (config.contains(section.name)) continue;
      LocatedNode empty;
      empty.type = LocatedNode::Type::map;
      empty.where = root.where;
      config[section.name] = resolver.section(empty, section.fields, section.name);
    }
    return config;
  };
  // One run per seed of a resolved configuration, appended to `out`. Equal runs are refused, at the
  // arm's name when they come from different arms, else at `same_arm_origin` (the axis that made them).
  const auto add_runs = [&](const json& config, const RunSpec& spec, const std::vector<std::int64_t>& seeds,
                            const std::vector<SourceLocation>& where, const std::string& label,
                            const SourceLocation& arm_origin, const SourceLocation& same_arm_origin,
                            std::vector<RunSpec>& out) {
    for (std::size_t s = 0; s < seeds.size(); ++s) {
      RunSpec run = spec;
      run.seed = seeds[s];
      run.config = config;
      run.config["seed"] = run.seed;
      if (s < where.size() && where[s].line > 0) run.locations["seed"] = where[s];
      run.id = run_id(run.config);
      if (auto [it, inserted] = seen.emplace(run.id, Seen{spec.arm, label}); !inserted)
        throw Error(fmt::format("{} is the same run as {} (id {}, seed {}): their resolved configurations are equal",
                                label, it->second.label, run.id, run.seed),
                    "drop one of them, or make them differ",
                    it->second.arm != spec.arm ? arm_origin : same_arm_origin);
      out.push_back(std::move(run));
    }
  };
  const auto tune_points = grid_points(tune_axes);
  for (const Arm& arm : arms) {
    for (const auto& point : grid_points(axes)) {
      LocatedNode tree = base;
      for (const auto& o : arm.overrides) apply_override(tree, o.segments, o.key_where, o.value, o.path);
      for (std::size_t a = 0; a < axes.size(); ++a)
        apply_override(tree, axes[a].segments, axes[a].key_where, axes[a].values[point[a]], axes[a].path);

      RunSpec spec;
      spec.arm = arm.name;
      json config = resolve(tree, spec);
      std::string point_text;  // "train.optimizer.lr=0.001, model.n_layers=2"
      for (std::size_t a = 0; a < axes.size(); ++a) {
        const json::json_pointer ptr("/" + join(axes[a].segments, "/"));
        spec.grid_point[axes[a].path] = config.contains(ptr) ? config.at(ptr) : axes[a].values[point[a]].to_json();
        point_text += fmt::format("{}{}={}", point_text.empty() ? "" : ", ", axes[a].path,
                                  spec.grid_point[axes[a].path].dump());
      }
      const std::string label =
          fmt::format("arm '{}'{}{}", arm.name, point_text.empty() ? "" : " at ", point_text);
      // For errors whose location is in the base: which run they concern.
      const std::string context = arms.size() > 1 || !axes.empty() ? "in " + label : std::string();
      const SourceLocation axis_origin = axes.empty() ? arm.key_where : axes.front().key_where;
      check_model(config, spec, registry, context);
      if (sweep.budget) sweep_budget::apply(*sweep.budget, config, registry, context, sweep.budget->where);
      if (!sweep.tune) {
        add_runs(config, spec, sweep.seeds, seed_where, label, arm.key_where, axis_origin, sweep.runs);
        continue;
      }

      // Tune stage: every tune point on the tuning split; the chosen one again, with the sweep's
      // seeds, on the final split.
      const auto chosen = choices ? choices->find(tune_group_key(arm.name, spec.grid_point)) : TuneChoices::const_iterator{};
      for (std::size_t t = 0; t < tune_points.size(); ++t) {
        LocatedNode tuned_tree = tree;
        for (std::size_t a = 0; a < tune_axes.size(); ++a)
          apply_override(tuned_tree, tune_axes[a].segments, tune_axes[a].key_where,
                         tune_axes[a].values[tune_points[t][a]], tune_axes[a].path);
        RunSpec tuned = spec;
        json tuned_config = resolve(tuned_tree, tuned);
        std::string tune_text;
        for (std::size_t a = 0; a < tune_axes.size(); ++a) {
          const json::json_pointer ptr("/" + join(tune_axes[a].segments, "/"));
          tuned.tune_point[tune_axes[a].path] = tuned_config.at(ptr);
          tune_text += fmt::format(", {}={}", tune_axes[a].path, tuned.tune_point[tune_axes[a].path].dump());
        }
        tuned.tune_index = t;
        check_model(tuned_config, tuned, registry, context);
        if (sweep.budget) sweep_budget::apply(*sweep.budget, tuned_config, registry, context, sweep.budget->where);
        json tuning = tuned_config;
        tuning["train"]["eval_split"] = "tuning";
        add_runs(tuning, tuned, sweep.tune->seeds, {}, label + " tuning" + tune_text, arm.key_where,
                 tune_axes.front().key_where, sweep.tune_runs);
        if (choices && chosen != choices->end() && chosen->second == t) {
          json final_config = tuned_config;
          final_config["train"]["eval_split"] = "final";
          add_runs(final_config, tuned, sweep.seeds, seed_where, label + tune_text, arm.key_where, axis_origin,
                   sweep.runs);
        }
      }
    }
  }
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

sdk::ComponentSpec component_spec(sdk::Kind kind, const nlohmann::json& component, const PluginRegistry& registry) {
  if (!component.is_object() || !component.contains("plugin") || !component.at("plugin").is_string())
    throw Error(fmt::format("a {} component must be an object with a 'plugin' name, got {}", sdk::kind_name(kind),
                            component.dump()));
  sdk::ComponentSpec spec;
  spec.kind = kind;
  spec.plugin = component.at("plugin").get<std::string>();
  const LoadedPlugin& plugin = registry.get(kind, spec.plugin);
  for (const sdk::OptionSpec& option : plugin.options()) {
    if (!component.contains(option.name))
      throw Error(fmt::format("{} component '{}' lacks option '{}'", sdk::kind_name(kind), spec.plugin, option.name),
                  "resolve configurations through load_sweep, which fills in every default");
    const json& v = component.at(option.name);
    const auto wrong = [&](const char* expected) {
      return Error(fmt::format("{} component '{}': option '{}' must be {}, got {}", sdk::kind_name(kind), spec.plugin,
                               option.name, expected, v.dump()));
    };
    switch (option.type) {
      case sdk::OptionType::integer:
        if (!v.is_number_integer()) throw wrong("an integer");
        spec.options.values[option.name] = v.get<std::int64_t>();
        break;
      case sdk::OptionType::number:
        if (!v.is_number()) throw wrong("a number");
        spec.options.values[option.name] = v.get<double>();
        break;
      case sdk::OptionType::boolean:
        if (!v.is_boolean()) throw wrong("a boolean");
        spec.options.values[option.name] = v.get<bool>();
        break;
      case sdk::OptionType::string:
        if (!v.is_string()) throw wrong("a string");
        spec.options.values[option.name] = v.get<std::string>();
        break;
      case sdk::OptionType::component: {
        if (!v.is_object() || !v.contains("plugin") || !v.at("plugin").is_string()) throw wrong("a component");
        const std::vector<sdk::Kind> kinds = sweep_schema::component_kinds(option.choices);
        const auto nested = find_kind(registry, kinds, v.at("plugin").get<std::string>());
        if (!nested)
          throw Error(fmt::format("no {} plugin named '{}' (loaded: {})", kinds_text(kinds),
                                  v.at("plugin").get<std::string>(),
                                  join(kinds.empty() ? std::vector<std::string>{} : registry.names(kinds.front()))));
        spec.options.values[option.name] =
            std::make_shared<const sdk::ComponentSpec>(component_spec(*nested, v, registry));
        break;
      }
    }
  }
  return spec;
}

nlohmann::json resolve_component(sdk::Kind kind, const std::string& plugin,
                                 const std::vector<std::pair<std::string, std::string>>& options,
                                 const PluginRegistry& registry) {
  // The tree a sweep file `{plugin: NAME, key: value, ...}` would give, each value located at its --set.
  LocatedNode node;
  node.type = LocatedNode::Type::map;
  LocatedEntry name;
  name.key = "plugin";
  name.value.type = LocatedNode::Type::scalar;
  name.value.text = plugin;
  node.entries.push_back(std::move(name));
  for (const auto& [key, text] : options) {
    // What a YAML map refuses by itself: a second `plugin`, or a key given twice.
    if (key == "plugin") throw Error("--set plugin=... is not an option: name the plugin as the second argument");
    if (node.find(key) != nullptr) throw Error(fmt::format("--set {} is given twice", key));
    LocatedEntry entry;
    entry.key = key;
    entry.key_where = {"--set " + key, 0, 0};
    entry.value = parse_located_yaml(text, entry.key_where.file);
    entry.value.relocate(entry.key_where);
    node.entries.push_back(std::move(entry));
  }
  std::map<std::string, SourceLocation> locations;
  Resolver resolver(registry, std::filesystem::current_path(), locations);
  const SchemaField slot{.name = sdk::kind_name(kind), .type = FieldType::component, .choices = sdk::kind_name(kind)};
  return resolver.component(node, slot, slot.name);
}

// ---------------------------------------------------------------------------------------------
// config → YAML

namespace {

bool needs_quotes(const std::string& s) {
  std::int64_t i = 0;
  double d = 0;
  bool b = false;
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL" || parse_yaml_integer(s, i) ||
         parse_yaml_number(s, d) || parse_yaml_bool(s, b);
}

void emit(YAML::Emitter& out, const json& j) {
  switch (j.type()) {
    case json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [key, value] : j.items()) {  // nlohmann's object is sorted by key
        out << YAML::Key << key << YAML::Value;
        emit(out, value);
      }
      out << YAML::EndMap;
      break;
    case json::value_t::array: {
      const bool flat = std::none_of(j.begin(), j.end(), [](const json& v) { return v.is_structured(); });
      if (flat) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& value : j) emit(out, value);
      out << YAML::EndSeq;
      break;
    }
    case json::value_t::string: {
      const std::string s = j.get<std::string>();
      if (needs_quotes(s)) out << YAML::DoubleQuoted;
      out << s;
      break;
    }
    case json::value_t::boolean: out << (j.get<bool>() ? "true" : "false"); break;
    case json::value_t::null: out << YAML::Null; break;  // "~" (yaml-cpp 0.7 quotes a plain null)
    default: out << j.dump(); break;  // numbers: JSON's shortest round-trip text (1e-08, 0.1, 10000.0)
  }
}

}  // namespace

std::string config_to_yaml(const nlohmann::json& config) {
  YAML::Emitter out;
  emit(out, config);
  return std::string(out.c_str()) + "\n";
}

sdk::RopeConfig rope_config(const json& j) {
  sdk::RopeConfig rope;
  rope.base = j.at("base").get<double>();
  rope.pairing = j.at("pairing").get<std::string>();
  rope.scaling = j.at("scaling").get<std::string>();
  rope.factor = j.at("factor").get<double>();
  rope.max_position = j.at("max_position").get<std::int64_t>();
  rope.original_max_position = j.at("original_max_position").get<std::int64_t>();
  rope.beta_fast = j.at("beta_fast").get<double>();
  rope.beta_slow = j.at("beta_slow").get<double>();
  rope.mscale = j.at("mscale").get<double>();
  rope.mscale_all_dim = j.at("mscale_all_dim").get<double>();
  return rope;
}

}  // namespace ablate
