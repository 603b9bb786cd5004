// Resolving one run's located tree against the host schema and the plugins' option schemas (see
// sweep/resolver.h): sections, typed values with their bounds and choices, components and the
// defaults of every key left out. The corpus and tokenizer forms are in resolve_data.cpp.
#include "sweep/resolver.h"

#include <algorithm>
#include <cstdint>

#include <fmt/format.h>

#include "sweep/list_text.h"

namespace ablate::sweep_internal {
namespace {

using nlohmann::json;
using sweep_schema::FieldType;
using sweep_schema::SchemaField;
using sweep_schema::did_you_mean;

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

}  // namespace

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

json Resolver::section(const LocatedNode& node, std::span<const SchemaField> fields, const std::string& path) {
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

json Resolver::value(const LocatedNode& node, const SchemaField& field, const std::string& path) {
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

json Resolver::component(const LocatedNode& node, const SchemaField& field, const std::string& path) {
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

Error Resolver::unknown_key(const LocatedEntry& entry, const std::string& path,
                             const std::vector<std::string>& known) const {
  // A key that existed once: say what replaced it.
  const std::string hint =
      path == "train" && entry.key == "eval_batches"
          ? "'eval_batches' became 'eval_tokens', a token count (eval_batches × batch_size × seq_len gives the old "
            "set), so that every run scores the same tokens whatever its batch size"
          : did_you_mean(entry.key, known);
  return Error(fmt::format("unknown key '{}' in '{}' (known keys: {})", entry.key, path, join(known)), hint,
               entry.key_where);
}

std::string Resolver::loaded_text(const std::vector<sdk::Kind>& kinds) const {
  std::vector<std::string> loaded;
  for (sdk::Kind k : kinds)
    for (const auto& n : registry_.names(k)) loaded.push_back(n);
  return join(loaded);
}

json Resolver::missing(const LocatedNode& node, const SchemaField& field, const std::string& path) {
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

}  // namespace ablate::sweep_internal
