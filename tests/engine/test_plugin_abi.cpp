// The ABI rules of plugin_abi.h at the loader, with fixture libraries built against this SDK but
// stamped otherwise: a newer minor of the same major is refused (a plugin may only need what this
// host has), and descriptors are size-stamped: the loader reads min(struct_size, its own size)
// bytes, so a field beyond a short stamp is never read and an unknown tail is ignored.
#include <catch2/catch.hpp>

#include <string>

#include "ablate/engine/error.h"
#include "ablate/engine/plugin_registry.h"

using ablate::PluginRegistry;
using ablate::sdk::Kind;

namespace {
std::string load_error(PluginRegistry& registry, const std::string& fixture_dir) {
  try {
    registry.load_directory(std::string(ABLATE_TEST_PLUGIN_DIR) + "/" + fixture_dir);
  } catch (const ablate::Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("a plugin of this ABI major with a newer minor is refused, naming the file and both versions",
          "[plugin][abi]") {
  PluginRegistry registry;
  const std::string message = load_error(registry, "newer_minor");
  const std::string plugin_version =
      std::to_string(ABLATE_ABI_VERSION_MAJOR) + "." + std::to_string(ABLATE_ABI_VERSION_MINOR + 1);
  const std::string host_version =
      std::to_string(ABLATE_ABI_VERSION_MAJOR) + "." + std::to_string(ABLATE_ABI_VERSION_MINOR);
  CHECK_THAT(message, Catch::Contains("libfixture_newer_minor.so"));
  CHECK_THAT(message, Catch::Contains("incompatible ABI version " + plugin_version));
  CHECK_THAT(message, Catch::Contains("this ablate: " + host_version));
  CHECK(registry.plugins().empty());
}

TEST_CASE("a descriptor stamped shorter than a field is read only up to its stamp, so the field is missing",
          "[plugin][abi]") {
  // The fixture's struct_size ends before `cost`, which it does set: the zero-filled copy has none.
  PluginRegistry registry;
  const std::string message = load_error(registry, "short_descriptor");
  CHECK_THAT(message, Catch::Contains("libfixture_short_descriptor.so has no 'cost' in its descriptor"));
  CHECK(registry.plugins().empty());
}

TEST_CASE("a descriptor stamped longer than this host's loads, its known fields intact", "[plugin][abi]") {
  PluginRegistry registry;
  CHECK(load_error(registry, "long_descriptor").empty());
  const ablate::LoadedPlugin* plugin = registry.find(Kind::norm, "fixture_long_descriptor");
  REQUIRE(plugin != nullptr);
  CHECK(plugin->descriptor.struct_size > sizeof(ablate::sdk::PluginDescriptor));  // the stamp as written
  CHECK(std::string(plugin->descriptor.description) ==
        "test fixture: a descriptor with fields this host does not know");
  // The function pointers are the plugin's: its cost comes back through the registry.
  const ablate::sdk::Cost cost =
      registry.cost({.kind = Kind::norm, .plugin = "fixture_long_descriptor", .options = {}}, {.d_model = 8});
  CHECK(cost.params_total == 42);
  CHECK(cost.params_active == 7);
  CHECK(cost.flops_per_token == 3.0);
}
