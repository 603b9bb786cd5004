// Plugin loading: the built-in plugins, a good plugin from another directory, a library with
// another ABI version, a library that is no plugin, and two plugins of the same kind and name.
#include <catch2/catch.hpp>

#include "ablate/engine/error.h"
#include "ablate/engine/plugin_registry.h"

using ablate::PluginRegistry;
using ablate::sdk::Kind;

namespace {
std::string load_error(PluginRegistry& registry, const std::string& dir) {
  try {
    registry.load_directory(dir);
  } catch (const ablate::Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("the built-in plugins load with their kinds, names and option schemas", "[plugin]") {
  PluginRegistry registry;
  registry.load_directory(ABLATE_PLUGIN_DIR);
  CHECK(registry.names(Kind::attention) == std::vector<std::string>{"mha", "mla"});
  CHECK(registry.names(Kind::mlp) == std::vector<std::string>{"gelu", "silu", "swiglu"});
  CHECK(registry.names(Kind::moe) == std::vector<std::string>{"deepseek_v3", "glm4", "topk"});
  CHECK(registry.names(Kind::norm) == std::vector<std::string>{"layernorm", "rmsnorm"});
  const auto& mha = registry.get(Kind::attention, "mha");
  REQUIRE(mha.option("n_heads") != nullptr);
  CHECK(std::string(mha.option("n_heads")->default_value) == "8");
  CHECK(mha.option("no_such_option") == nullptr);
  CHECK(registry.get(Kind::mlp, "silu").option("d_ff")->default_value == nullptr);  // required
}

TEST_CASE("a plugin built outside the plugin directory loads from its own directory", "[plugin]") {
  PluginRegistry registry;
  registry.load_directory(ABLATE_PLUGIN_DIR);
  registry.load_directory(std::string(ABLATE_TEST_PLUGIN_DIR) + "/good");
  CHECK(registry.find(Kind::norm, "fixture_scale") != nullptr);
  CHECK(registry.find(Kind::norm, "rmsnorm") != nullptr);
}

TEST_CASE("a plugin with another ABI major version is refused, naming the file and both versions", "[plugin]") {
  PluginRegistry registry;
  const std::string message = load_error(registry, std::string(ABLATE_TEST_PLUGIN_DIR) + "/wrong_abi");
  CHECK_THAT(message, Catch::Contains("libfixture_wrong_abi.so"));
  CHECK_THAT(message, Catch::Contains("incompatible ABI version 2.0"));
  CHECK_THAT(message, Catch::Contains("this ablate: 1.0"));
  CHECK(registry.plugins().empty());
}

TEST_CASE("a shared library that is not a plugin is refused by name", "[plugin]") {
  PluginRegistry registry;
  const std::string message = load_error(registry, std::string(ABLATE_TEST_PLUGIN_DIR) + "/not_a_plugin");
  CHECK_THAT(message, Catch::Contains("libfixture_not_a_plugin.so is not an ablate plugin"));
}

TEST_CASE("two plugins of the same kind and name are refused", "[plugin]") {
  PluginRegistry registry;
  registry.load_directory(ABLATE_PLUGIN_DIR);
  const std::string message = load_error(registry, ABLATE_PLUGIN_DIR);
  CHECK_THAT(message, Catch::Contains("two attention plugins are named 'mha'"));
}

TEST_CASE("asking for an unknown plugin lists the loaded ones", "[plugin]") {
  PluginRegistry registry;
  registry.load_directory(ABLATE_PLUGIN_DIR);
  try {
    registry.get(Kind::mlp, "geglu");
    FAIL("no error");
  } catch (const ablate::Error& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("no mlp plugin named 'geglu' is loaded (loaded: gelu, silu, swiglu)"));
  }
}

TEST_CASE("a missing plugin directory is an error naming it", "[plugin]") {
  PluginRegistry registry;
  CHECK_THAT(load_error(registry, "/no/such/dir"), Catch::Contains("/no/such/dir does not exist"));
}
