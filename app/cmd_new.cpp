// `ablate new plugin --kind KIND --name NAME DIR`: writes a complete out-of-tree plugin project
// (plugin_templates.h) into DIR, which must be empty or absent, and says how to build, check and
// train it. The project builds against the installed SDK only (find_package(Ablate)).
#include <cctype>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "ablate/engine/build_info.h"
#include "ablate/engine/error.h"
#include "ablate/engine/plugin_registry.h"
#include "commands.h"
#include "plugin_templates.h"

namespace ablate::app {
namespace {

struct NewPluginOptions {
  std::string kind;
  std::string name;
  std::filesystem::path dir;
};

bool is_c_identifier(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (const char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

/// my_attention → MyAttention: the module class of the template (Impl and TORCH_MODULE).
std::string camel_case(const std::string& name) {
  std::string out;
  bool upper = true;
  for (const char c : name) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out.empty() || !std::isalpha(static_cast<unsigned char>(out[0])) ? "Plugin" + out : out;
}

/// The prefix ablate is installed in, for CMAKE_PREFIX_PATH; a placeholder when this ablate runs
/// from a build tree, which has no CMake package.
std::string install_prefix() {
  const auto prefix = default_plugin_dir().parent_path().parent_path().parent_path();
  if (std::filesystem::exists(prefix / "lib" / "cmake" / "Ablate" / "AblateConfig.cmake")) return prefix.string();
  return "ABLATE_PREFIX";
}

/// "0.1": the major.minor find_package asks for.
std::string major_minor(const std::string& version) {
  const auto first = version.find('.');
  return version.substr(0, first == std::string::npos ? first : version.find('.', first + 1));
}

void check_target_dir(const std::filesystem::path& dir) {
  if (!std::filesystem::exists(dir)) return;
  if (!std::filesystem::is_directory(dir))
    throw Error(fmt::format("{} exists and is not a directory", dir.string()), "name a new or empty directory");
  if (!std::filesystem::is_empty(dir))
    throw Error(fmt::format("{} is not empty: ablate new plugin writes only into a new or empty directory", dir.string()),
                "name a new directory");
}

void run_new_plugin(const NewPluginOptions& options, const GlobalOptions& global) {
  const sdk::Kind kind = *kind_named(options.kind);
  if (!is_c_identifier(options.name))
    throw Error(fmt::format("--name '{}' is not a C identifier (letters, digits and _, not starting with a digit)",
                            options.name),
                "e.g. --name my_" + options.kind);
  const auto registry = load_plugins(global);
  if (const LoadedPlugin* loaded = registry->find(kind, options.name))
    throw Error(fmt::format("{} plugin '{}' is already loaded ({}); two plugins of a kind cannot share a name",
                            options.kind, options.name, loaded->path.string()),
                "choose another --name");
  check_target_dir(options.dir);

  const std::map<std::string, std::string> values = {{"NAME", options.name},
                                                     {"CLASS", camel_case(options.name)},
                                                     {"KIND", options.kind},
                                                     {"VERSION", major_minor(ablate_version())},
                                                     {"PREFIX", install_prefix()}};
  std::filesystem::create_directories(options.dir);
  for (const TemplateFile& file : plugin_project(kind)) {
    const auto path = options.dir / substitute(file.path, values);
    std::ofstream out(path, std::ios::binary);
    out << substitute(file.text, values);
    if (!out) throw Error(fmt::format("cannot write {}", path.string()));
    std::cout << "wrote " << path.string() << "\n";
  }
  const std::string dir = options.dir.string();
  std::cout << fmt::format(
      "\nnext, in {}:\n"
      "  cmake -S . -B build -DCMAKE_PREFIX_PATH=\"{}\"\n"
      "  cmake --build build\n"
      "  ablate --plugin-dir build check-plugin {} {}\n"
      "  ablate --plugin-dir build run sweep.yaml --out runs\n",
      dir, values.at("PREFIX"), options.kind, options.name);
  if (values.at("PREFIX") == "ABLATE_PREFIX")
    std::cout << "(this ablate runs from a build tree: install it first, cmake --install BUILD --prefix ABLATE_PREFIX)\n";
}

}  // namespace

void setup_new(CLI::App& app, const GlobalOptions& global) {
  auto* cmd = app.add_subcommand("new", "start something new from a template");
  cmd->require_subcommand(1);
  auto options = std::make_shared<NewPluginOptions>();
  auto* plugin = cmd->add_subcommand("plugin", "write an out-of-tree component plugin project: CMakeLists.txt, "
                                               "NAME.cpp, README.md, sweep.yaml");
  plugin->add_option("--kind", options->kind, "attention, mlp, moe or norm")
      ->required()
      ->check(CLI::IsMember(kind_names()));
  plugin->add_option("--name", options->name, "the plugin's name, a C identifier")->required();
  plugin->add_option("dir", options->dir, "a new or empty directory for the project")->required();
  plugin->callback([options, &global] { run_new_plugin(*options, global); });
}

}  // namespace ablate::app
