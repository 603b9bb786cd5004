// The JSON Schema (draft 2020-12) of sweep files, for editors (yaml-language-server completes and
// checks a sweep file against it) and other tools. It is generated, never written by hand: from the
// host's schema table (the keys of data, model and train with their types, bounds and docs) and
// from the option schema of every plugin in the registry, so a new plugin or option appears in it
// as soon as the plugin is loaded.
//
//   std::cout << sweep_json_schema(registry).dump(2);   // what `ablate schema` prints
//
// It checks what the loader checks key by key: unknown keys (additionalProperties: false at every
// level), types, bounds, choices, which plugins a component slot takes and each plugin's options.
// Checks across keys stay with the loader (`ablate expand`): baseline naming an arm, first_dense_layers
// ≤ n_layers, a plugin's own cost checks (d_model divisible by n_heads), duplicate runs.
#pragma once

#include <nlohmann/json_fwd.hpp>

namespace ablate {

class PluginRegistry;

/// The schema of a sweep file whose components are the plugins of `registry`; its objects keep the
/// order of the host's table (ordered_json), which is the order people read the keys in.
nlohmann::ordered_json sweep_json_schema(const PluginRegistry& registry);

}  // namespace ablate
