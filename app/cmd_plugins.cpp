// `ablate plugins [--json]`: every loaded plugin with its kind, name, file and option schema.
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"

namespace ablate::app {
namespace {

nlohmann::json option_json(const sdk::OptionSpec& o) {
  nlohmann::json j = {{"name", o.name},
                      {"type", sdk::option_type_name(o.type)},
                      {"required", o.default_value == nullptr},
                      {"doc", o.doc}};
  if (o.default_value) j["default"] = o.default_value;
  if (o.choices) j["choices"] = o.choices;
  if (std::isfinite(o.min)) j["min"] = o.min;
  if (std::isfinite(o.max)) j["max"] = o.max;
  return j;
}

void run_plugins(bool json, const GlobalOptions& global) {
  const auto registry = load_plugins(global);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : registry->plugins()) {
    nlohmann::json options = nlohmann::json::array();
    for (const auto& o : p.options()) options.push_back(option_json(o));
    out.push_back({{"kind", sdk::kind_name(p.kind())},
                   {"name", p.name()},
                   {"description", p.descriptor.description ? p.descriptor.description : ""},
                   {"file", p.path.string()},
                   {"abi_version", fmt::format("{}.{}", p.descriptor.abi_version >> 16, p.descriptor.abi_version & 0xffff)},
                   {"torch_version", p.descriptor.torch_version ? p.descriptor.torch_version : ""},
                   {"options", options}});
  }
  if (json) {
    std::cout << out.dump(2) << std::endl;
    return;
  }
  for (const auto& p : out) {
    std::cout << fmt::format("{} {}: {}\n  {}\n", p["kind"].get<std::string>(), p["name"].get<std::string>(),
                             p["description"].get<std::string>(), p["file"].get<std::string>());
    for (const auto& o : p["options"]) {
      const std::string def = o["required"].get<bool>() ? "required" : "default " + o["default"].get<std::string>();
      std::cout << fmt::format("    {:<18} {:<9} {:<16} {}{}\n", o["name"].get<std::string>(),
                               o["type"].get<std::string>(), def, o["doc"].get<std::string>(),
                               o.contains("choices") ? " [" + o["choices"].get<std::string>() + "]" : "");
    }
  }
}

}  // namespace

void setup_plugins(CLI::App& app, const GlobalOptions& global) {
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("plugins", "list every loaded plugin with its options, types, defaults and docs");
  cmd->add_flag("--json", *json, "print one JSON array");
  cmd->callback([json, &global] { run_plugins(*json, global); });
}

}  // namespace ablate::app
