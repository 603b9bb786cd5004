// The host's table of loaded component plugins.
//
// Loads every `*.so` of a directory with Boost.DLL, checks its descriptor (symbol present, ABI major
// equal and minor not newer, required fields set, no other plugin of the same kind and name) and
// keeps the library loaded until the process exits: modules, autograd nodes and vtables created
// by a plugin point into its code, so unloading it would leave them dangling.
//
//   PluginRegistry registry;
//   registry.load_directory(default_plugin_dir());
//   const LoadedPlugin* mha = registry.find(Kind::attention, "mha");
//
// Torch-free: `create` hands back the module behind a forward-declared ComponentImpl.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ablate/sdk/plugin_abi.h"

namespace ablate {

struct LoadedPlugin {
  std::filesystem::path path;          // the library it came from
  sdk::PluginDescriptor descriptor;    // zero-filled copy of the plugin's descriptor

  sdk::Kind kind() const { return descriptor.kind; }
  std::string name() const { return descriptor.name; }
  std::vector<sdk::OptionSpec> options() const {
    return {descriptor.options, descriptor.options + descriptor.n_options};
  }
  const sdk::OptionSpec* option(const std::string& name) const;
};

class PluginRegistry {
 public:
  PluginRegistry() = default;
  PluginRegistry(const PluginRegistry&) = delete;
  PluginRegistry& operator=(const PluginRegistry&) = delete;

  /// Loads one library; throws ablate::Error naming the file if it is not a usable plugin.
  const LoadedPlugin& load_file(const std::filesystem::path& library);
  /// Loads every `*.so` in `dir` (sorted by name). A missing directory is an error.
  void load_directory(const std::filesystem::path& dir);

  /// nullptr when no plugin of that kind and name is loaded.
  const LoadedPlugin* find(sdk::Kind kind, const std::string& name) const;
  /// Like find, but throws ablate::Error listing the loaded plugins of that kind.
  const LoadedPlugin& get(sdk::Kind kind, const std::string& name) const;
  /// Names of the loaded plugins of one kind, sorted, e.g. "mha, mla".
  std::vector<std::string> names(sdk::Kind kind) const;
  const std::vector<LoadedPlugin>& plugins() const { return plugins_; }

  /// Builds a component through its plugin (nested components are built through this registry too).
  std::shared_ptr<sdk::ComponentImpl> create(const sdk::ComponentSpec& spec,
                                             const sdk::ModelContext& context) const;
  /// Costs a component and checks its options against each other; throws ablate::Error.
  sdk::Cost cost(const sdk::ComponentSpec& spec, const sdk::ModelContext& context) const;
  /// A context whose `build` and `cost` callbacks go through this registry.
  sdk::ModelContext bind(sdk::ModelContext context) const;

 private:
  std::vector<LoadedPlugin> plugins_;
};

/// The kind called `name` ("attention", "mlp", "moe", "norm"); nullopt for any other text.
std::optional<sdk::Kind> kind_named(const std::string& name);
/// Every kind's name, in that order (the choices of a --kind flag).
std::vector<std::string> kind_names();

/// The directory of the plugins built with ablate: `<prefix>/lib/ablate/plugins` beside the
/// running executable's `<prefix>/bin` (build tree, `cmake --install`), or `plugins/` in the
/// executable's own directory (the Debian package's `/usr/lib/ablate/ablate`).
std::filesystem::path default_plugin_dir();

/// Built-in directory, then `ABLATE_PLUGIN_PATH` (colon-separated), then `extra_dirs`.
std::vector<std::filesystem::path> plugin_search_path(const std::vector<std::filesystem::path>& extra_dirs);

}  // namespace ablate
