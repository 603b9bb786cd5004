#include "common.h"

namespace ablate::app {

std::unique_ptr<PluginRegistry> load_plugins(const GlobalOptions& global) {
  auto registry = std::make_unique<PluginRegistry>();
  for (const auto& dir : plugin_search_path(global.plugin_dirs)) registry->load_directory(dir);
  return registry;
}

}  // namespace ablate::app
