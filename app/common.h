// What every subcommand shares: the global options and loading the plugins they name.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include <CLI/CLI.hpp>

#include "ablate/engine/plugin_registry.h"

namespace ablate::app {

struct GlobalOptions {
  std::vector<std::filesystem::path> plugin_dirs;  // --plugin-dir, repeatable
};

/// The built-in plugin directory, ABLATE_PLUGIN_PATH and every --plugin-dir, loaded in that order.
std::unique_ptr<PluginRegistry> load_plugins(const GlobalOptions& global);

}  // namespace ablate::app
