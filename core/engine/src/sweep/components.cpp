// A resolved configuration's pieces as the SDK's types (component_spec, rope_config), and one
// component resolved from option texts (resolve_component, for `ablate check-plugin --set`); see sweep.h.
#include <filesystem>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "ablate/engine/sweep.h"
#include "sweep/list_text.h"
#include "sweep/resolver.h"
#include "sweep/schema.h"
#include "sweep/yaml_json.h"

namespace ablate {

using nlohmann::json;
using sweep_internal::find_kind;
using sweep_internal::join;
using sweep_internal::kinds_text;

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
  sweep_internal::Resolver resolver(registry, std::filesystem::current_path(), locations);
  const sweep_schema::SchemaField slot{
      .name = sdk::kind_name(kind), .type = sweep_schema::FieldType::component, .choices = sdk::kind_name(kind)};
  return resolver.component(node, slot, slot.name);
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
