// The built-in plugins (ABLATE_PLUGIN_DIR), loaded once per test binary for the tests that only
// read the registry. Never destroyed: modules and vtables made by a plugin point into its library.
#pragma once

#include "ablate/engine/plugin_registry.h"

namespace ablate::test {

inline const PluginRegistry& builtin_plugins() {
  static const PluginRegistry* registry = [] {
    auto* r = new PluginRegistry();
    r->load_directory(ABLATE_PLUGIN_DIR);
    return r;
  }();
  return *registry;
}

}  // namespace ablate::test
