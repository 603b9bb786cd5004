// What the component tests share: the built-in plugins, a model context, a component spec with
// every option at its schema default (plus overrides). A module's parameter count is
// ablate::parameter_count (model.h).
//
//   auto mha = registry().create(spec(Kind::attention, "mha", {{{"n_heads", std::int64_t{4}}}}), context(32));
#pragma once

#include <cstdint>
#include <string>

#include <torch/nn/module.h>

#include "ablate/engine/plugin_registry.h"
#include "builtin_plugins.h"
#include "ablate/sdk/component.h"
#include "ablate/sdk/rope_config.h"

namespace component_test {

/// The built-in plugins, loaded once and never unloaded (builtin_plugins.h).
inline const ablate::PluginRegistry& registry() { return ablate::test::builtin_plugins(); }

/// One layer of width `d_model` over `seq_len` positions, bound to `reg` (nested components).
inline ablate::sdk::ModelContext context_in(const ablate::PluginRegistry& reg, std::int64_t d_model,
                                            std::int64_t seq_len = 16, const ablate::sdk::RopeConfig& rope = {}) {
  ablate::sdk::ModelContext ctx;
  ctx.d_model = d_model;
  ctx.n_layers = 1;
  ctx.seq_len = seq_len;
  ctx.rope = rope;
  return reg.bind(ctx);
}

inline ablate::sdk::ModelContext context(std::int64_t d_model, std::int64_t seq_len = 16,
                                         const ablate::sdk::RopeConfig& rope = {}) {
  return context_in(registry(), d_model, seq_len, rope);
}

/// A spec of `plugin` with every option at its schema default, then `overrides`.
inline ablate::sdk::ComponentSpec spec_in(const ablate::PluginRegistry& reg, ablate::sdk::Kind kind,
                                          const std::string& plugin, const ablate::sdk::Options& overrides = {}) {
  ablate::sdk::ComponentSpec s{kind, plugin, {}};
  for (const auto& o : reg.get(kind, plugin).options()) {
    if (!o.default_value) continue;
    const std::string text = o.default_value;
    switch (o.type) {
      case ablate::sdk::OptionType::integer: s.options.values[o.name] = std::int64_t{std::stoll(text)}; break;
      case ablate::sdk::OptionType::number: s.options.values[o.name] = std::stod(text); break;
      case ablate::sdk::OptionType::boolean: s.options.values[o.name] = text == "true"; break;
      case ablate::sdk::OptionType::string: s.options.values[o.name] = text; break;
      case ablate::sdk::OptionType::component: break;
    }
  }
  for (const auto& [k, v] : overrides.values) s.options.values[k] = v;
  return s;
}

inline ablate::sdk::ComponentSpec spec(ablate::sdk::Kind kind, const std::string& plugin,
                                       const ablate::sdk::Options& overrides = {}) {
  return spec_in(registry(), kind, plugin, overrides);
}

}  // namespace component_test
