// Loading and checking component plugins (see plugin_registry.h). Every check names the file.
#include "ablate/engine/plugin_registry.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <fmt/format.h>

#include "ablate/engine/error.h"

namespace ablate {
namespace {

// Libraries stay loaded until exit: never destroyed, so never unloaded (see the header).
std::vector<boost::dll::shared_library>& loaded_libraries() {
  static auto* libraries = new std::vector<boost::dll::shared_library>();
  return *libraries;
}

std::string version_string(std::uint32_t packed) {
  return fmt::format("{}.{}", packed >> 16, packed & 0xffffu);
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "(none)" : out;
}

void check_descriptor(const sdk::PluginDescriptor& d, const std::filesystem::path& path) {
  const std::uint32_t major = d.abi_version >> 16;
  const std::uint32_t minor = d.abi_version & 0xffffu;
  if (major != ABLATE_ABI_VERSION_MAJOR || minor > ABLATE_ABI_VERSION_MINOR) {
    throw Error(fmt::format("plugin {} has incompatible ABI version {} (this ablate: {})",
                            path.string(), version_string(d.abi_version),
                            version_string(ABLATE_ABI_VERSION)),
                "rebuild the plugin against this ablate's SDK (cmake --install puts it in the prefix)");
  }
  const auto missing = [&](const char* field) {
    throw Error(fmt::format("plugin {} has no '{}' in its descriptor", path.string(), field),
                "declare the plugin with the ABLATE_PLUGIN macro of <ablate/sdk/plugin.h>");
  };
  if (d.name == nullptr || d.name[0] == '\0') missing("name");
  if (d.create == nullptr) missing("create");
  if (d.cost == nullptr) missing("cost");
  if (d.n_options > 0 && d.options == nullptr) missing("options");
  if (static_cast<std::uint32_t>(d.kind) > static_cast<std::uint32_t>(sdk::Kind::norm))
    throw Error(fmt::format("plugin {} declares an unknown kind {}", path.string(),
                            static_cast<std::uint32_t>(d.kind)));
  for (std::uint32_t i = 0; i < d.n_options; ++i) {
    if (d.options[i].name == nullptr || d.options[i].doc == nullptr)
      throw Error(fmt::format("plugin {} ({}): option #{} has no name or no doc", path.string(),
                              d.name, i));
  }
}

}  // namespace

const sdk::OptionSpec* LoadedPlugin::option(const std::string& name) const {
  for (std::uint32_t i = 0; i < descriptor.n_options; ++i)
    if (name == descriptor.options[i].name) return &descriptor.options[i];
  return nullptr;
}

const LoadedPlugin& PluginRegistry::load_file(const std::filesystem::path& library) {
  boost::dll::shared_library lib;
  try {
    lib.load(library, boost::dll::load_mode::rtld_lazy | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    throw Error(fmt::format("cannot load plugin {}: {}", library.string(), e.what()),
                "is it a shared library built for this machine and LibTorch?");
  }
  if (!lib.has(sdk::kDescriptorSymbol)) {
    throw Error(fmt::format("{} is not an ablate plugin: it exports no '{}'", library.string(),
                            sdk::kDescriptorSymbol),
                "declare the plugin with the ABLATE_PLUGIN macro of <ablate/sdk/plugin.h>, or move "
                "other libraries out of the plugin directory");
  }
  const sdk::PluginDescriptor* exported = lib.get<sdk::DescriptorFn>(sdk::kDescriptorSymbol)();
  if (exported == nullptr)
    throw Error(fmt::format("plugin {} returned no descriptor", library.string()));

  // Size-stamped copy: a shorter (older) descriptor leaves the newer fields zero.
  LoadedPlugin plugin;
  plugin.path = library;
  std::memset(&plugin.descriptor, 0, sizeof(plugin.descriptor));
  std::memcpy(&plugin.descriptor, exported,
              std::min<std::size_t>(exported->struct_size, sizeof(sdk::PluginDescriptor)));
  check_descriptor(plugin.descriptor, library);

  if (const LoadedPlugin* other = find(plugin.kind(), plugin.name())) {
    throw Error(fmt::format("two {} plugins are named '{}': {} and {}",
                            sdk::kind_name(plugin.kind()), plugin.name(), other->path.string(),
                            library.string()),
                "remove one of them from the plugin path, or rename it");
  }
  loaded_libraries().push_back(std::move(lib));
  plugins_.push_back(std::move(plugin));
  return plugins_.back();
}

void PluginRegistry::load_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw Error(fmt::format("plugin directory {} does not exist", dir.string()),
                "pass an existing directory to --plugin-dir or ABLATE_PLUGIN_PATH");
  std::vector<std::filesystem::path> libraries;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().extension() == ".so") libraries.push_back(entry.path());
  std::sort(libraries.begin(), libraries.end());
  for (const auto& library : libraries) load_file(library);
}

const LoadedPlugin* PluginRegistry::find(sdk::Kind kind, const std::string& name) const {
  for (const auto& plugin : plugins_)
    if (plugin.kind() == kind && plugin.name() == name) return &plugin;
  return nullptr;
}

const LoadedPlugin& PluginRegistry::get(sdk::Kind kind, const std::string& name) const {
  if (const LoadedPlugin* plugin = find(kind, name)) return *plugin;
  throw Error(fmt::format("no {} plugin named '{}' is loaded (loaded: {})", sdk::kind_name(kind),
                          name, join(names(kind))),
              "check the spelling, or add the plugin's directory with --plugin-dir");
}

std::vector<std::string> PluginRegistry::names(sdk::Kind kind) const {
  std::vector<std::string> out;
  for (const auto& plugin : plugins_)
    if (plugin.kind() == kind) out.push_back(plugin.name());
  std::sort(out.begin(), out.end());
  return out;
}

std::shared_ptr<sdk::ComponentImpl> PluginRegistry::create(const sdk::ComponentSpec& spec,
                                                           const sdk::ModelContext& context) const {
  const LoadedPlugin& plugin = get(spec.kind, spec.plugin);
  std::shared_ptr<sdk::ComponentImpl> module;
  std::string error;
  if (!plugin.descriptor.create(bind(context), spec.options, module, error))
    throw Error(fmt::format("{} plugin '{}' ({}) failed to build: {}", sdk::kind_name(spec.kind),
                            spec.plugin, plugin.path.string(), error));
  return module;
}

sdk::Cost PluginRegistry::cost(const sdk::ComponentSpec& spec, const sdk::ModelContext& context) const {
  const LoadedPlugin& plugin = get(spec.kind, spec.plugin);
  sdk::Cost cost;
  std::string error;
  if (!plugin.descriptor.cost(bind(context), spec.options, cost, error))
    throw Error(fmt::format("{} plugin '{}': {}", sdk::kind_name(spec.kind), spec.plugin, error));
  return cost;
}

sdk::ModelContext PluginRegistry::bind(sdk::ModelContext context) const {
  context.build = [this](const sdk::ComponentSpec& spec, const sdk::ModelContext& ctx) {
    return create(spec, ctx);
  };
  context.cost = [this](const sdk::ComponentSpec& spec, const sdk::ModelContext& ctx) {
    return cost(spec, ctx);
  };
  return context;
}

namespace {
constexpr sdk::Kind kAllKinds[] = {sdk::Kind::attention, sdk::Kind::mlp, sdk::Kind::moe, sdk::Kind::norm};
}  // namespace

std::optional<sdk::Kind> kind_named(const std::string& name) {
  for (sdk::Kind kind : kAllKinds)
    if (name == sdk::kind_name(kind)) return kind;
  return std::nullopt;
}

std::vector<std::string> kind_names() {
  std::vector<std::string> names;
  for (sdk::Kind kind : kAllKinds) names.emplace_back(sdk::kind_name(kind));
  return names;
}

std::filesystem::path default_plugin_dir() {
  const std::filesystem::path exe_dir = boost::dll::program_location().parent_path();
  // The Debian package runs the binary as <libdir>/ablate/ablate (its /usr/bin/ablate is a wrapper
  // that finds LibTorch first), right beside the plugins.
  if (std::filesystem::is_directory(exe_dir / "plugins")) return exe_dir / "plugins";
  return exe_dir.parent_path() / "lib" / "ablate" / "plugins";
}

std::vector<std::filesystem::path> plugin_search_path(
    const std::vector<std::filesystem::path>& extra_dirs) {
  std::vector<std::filesystem::path> dirs{default_plugin_dir()};
  if (const char* env = std::getenv("ABLATE_PLUGIN_PATH")) {
    std::stringstream ss(env);
    std::string dir;
    while (std::getline(ss, dir, ':'))
      if (!dir.empty()) dirs.emplace_back(dir);
  }
  dirs.insert(dirs.end(), extra_dirs.begin(), extra_dirs.end());
  return dirs;
}

}  // namespace ablate
