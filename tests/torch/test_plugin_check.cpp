// check_plugin (plugin_check.h): every built-in plugin passes all checks with its defaults, and each
// check fails for the defect it exists to catch (fixtures: leaky attention, throwing and defective norms).
#include "catch_torch.h"

#include <map>
#include <set>

#include "ablate/engine/error.h"
#include "ablate/train/plugin_check.h"
#include "ablate/engine/plugin_registry.h"
#include "builtin_plugins.h"

using namespace ablate;
using sdk::Kind;

namespace {

/// The built-in plugins and the fixture plugins of `fixture_subdir` (a registry of its own).
std::unique_ptr<PluginRegistry> registry_with(const std::string& fixture_subdir) {
  auto registry = std::make_unique<PluginRegistry>();
  registry->load_directory(ABLATE_PLUGIN_DIR);
  registry->load_directory(std::string(ABLATE_TEST_PLUGIN_DIR) + "/" + fixture_subdir);
  return registry;
}

/// check name → passed
std::map<std::string, bool> verdicts(const PluginCheckReport& report) {
  std::map<std::string, bool> out;
  for (const auto& c : report.checks) out[c.name] = c.passed;
  return out;
}

std::string describe(const PluginCheckReport& report) {
  std::string out = report.component.dump() + "\n";
  for (const auto& c : report.checks) out += (c.passed ? "PASS " : "FAIL ") + c.name + ": " + c.detail + "\n";
  return out;
}

}  // namespace

TEST_CASE("every built-in plugin passes check-plugin with its default options", "[plugin_check]") {
  const PluginRegistry* registry = &ablate::test::builtin_plugins();
  for (const Kind kind : {Kind::attention, Kind::mlp, Kind::moe, Kind::norm}) {
    for (const auto& name : registry->names(kind)) {
      CAPTURE(sdk::kind_name(kind), name);
      const PluginCheckReport report = check_plugin(*registry, {.kind = kind, .plugin = name});
      INFO(describe(report));
      CHECK(report.passed());
      const auto v = verdicts(report);
      for (const char* check : {"build", "params", "shape", "finite", "backward", "flops", "active params", "causal"})
        CHECK(v.count(check) == 1);
    }
  }
}

TEST_CASE("check-plugin fills a required expert or d_ff with a stand-in and resolves --set like a sweep",
          "[plugin_check]") {
  const PluginRegistry* registry = &ablate::test::builtin_plugins();
  const PluginCheckReport moe = check_plugin(*registry, {.kind = Kind::moe, .plugin = "topk", .d_model = 32});
  REQUIRE(moe.filled_in == std::vector<std::string>{"expert={plugin: silu, d_ff: 64}"});
  CHECK(moe.component["expert"] == nlohmann::json{{"plugin", "silu"}, {"d_ff", 64}});
  CHECK(moe.component["n_experts"] == 8);  // topk's default

  const PluginCheckReport set = check_plugin(
      *registry, {.kind = Kind::moe, .plugin = "topk", .set = {{"n_experts", "3"}, {"expert", "{plugin: gelu, d_ff: 40}"}}});
  CHECK(set.filled_in.empty());
  CHECK(set.component["n_experts"] == 3);
  CHECK(set.component["expert"]["plugin"] == "gelu");
  CHECK(set.passed());

  const PluginCheckReport mlp = check_plugin(*registry, {.kind = Kind::mlp, .plugin = "swiglu", .d_model = 48});
  CHECK(mlp.filled_in == std::vector<std::string>{"d_ff=96"});
}

TEST_CASE("check-plugin refuses bad input with ablate::Error before building anything", "[plugin_check]") {
  const PluginRegistry* registry = &ablate::test::builtin_plugins();
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(check_plugin(*registry, {.kind = Kind::attention, .plugin = "mhaa"}),
                    Contains("no attention plugin named 'mhaa'") && Contains("mha, mla"));
  CHECK_THROWS_WITH(check_plugin(*registry, {.kind = Kind::attention, .plugin = "mha", .set = {{"n_head", "4"}}}),
                    Contains("unknown option 'n_head'"));
  CHECK_THROWS_WITH(check_plugin(*registry, {.kind = Kind::attention, .plugin = "mha", .set = {{"n_heads", "zero"}}}),
                    Contains("'n_heads' must be an integer"));
  CHECK_THROWS_WITH(check_plugin(*registry, {.kind = Kind::attention, .plugin = "mha", .set = {{"plugin", "mla"}}}),
                    Contains("--set plugin=... is not an option"));
  CHECK_THROWS_WITH(
      check_plugin(*registry, {.kind = Kind::attention, .plugin = "mha", .set = {{"n_heads", "2"}, {"n_heads", "4"}}}),
      Contains("--set n_heads is given twice"));
  // mha's cost() refuses d_model 64 with 3 heads: options the plugin itself rejects are bad input too.
  CHECK_THROWS_WITH(check_plugin(*registry, {.kind = Kind::attention, .plugin = "mha", .set = {{"n_heads", "3"}}}),
                    Contains("not divisible by n_heads 3"));
  try {
    check_plugin(*registry, {.kind = Kind::attention, .plugin = "mha", .set = {{"bogus", "1"}}});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.where().file == "--set bogus");
  }
}

TEST_CASE("check-plugin fails the causality check of an attention that sees the future",
          "[plugin_check]") {
  const auto registry = registry_with("leaky");
  const PluginCheckReport report = check_plugin(*registry, {.kind = Kind::attention, .plugin = "fixture_leaky_mean"});
  INFO(describe(report));
  const auto v = verdicts(report);
  CHECK_FALSE(v.at("causal"));
  CHECK(v.at("shape"));
  CHECK(v.at("params"));
  CHECK(v.at("backward"));
}

TEST_CASE("each defect fails its own check and no other", "[plugin_check]") {
  const auto registry = registry_with("defective");
  // Some defects show twice: a parameter no gradient reaches is not active either; a wrong shape
  // cannot be measured (no token where it should be) and has no positions to line up; a NaN output is never causal
  // (non-finite is never a pass).
  const std::map<std::string, std::set<std::string>> failing = {
      {"none", {}},
      {"unreached", {"backward", "active params"}},
      {"wrong_cost", {"params"}},
      {"wrong_shape", {"shape", "flops", "active params", "causal"}},
      {"nan_in_eval", {"finite", "causal"}}};
  for (const auto& [defect, checks] : failing) {
    CAPTURE(defect);
    const PluginCheckReport report =
        check_plugin(*registry, {.kind = Kind::norm, .plugin = "fixture_defective", .set = {{"defect", defect}}});
    INFO(describe(report));
    REQUIRE(report.checks.size() == 8);
    for (const auto& c : report.checks) CHECK(c.passed == (checks.count(c.name) == 0));
  }
}

TEST_CASE("a plugin whose factory throws fails the build check with its message", "[plugin_check]") {
  const auto registry = registry_with("throwing");
  const PluginCheckReport report = check_plugin(*registry, {.kind = Kind::norm, .plugin = "fixture_throwing"});
  REQUIRE(report.checks.size() == 1);
  CHECK(report.checks[0].name == "build");
  CHECK_FALSE(report.checks[0].passed);
  CHECK_THAT(report.checks[0].detail, Catch::Contains("this factory always fails"));
}

TEST_CASE("check-plugin fails an MoE that computes every expert while declaring top-k, on FLOPs and active parameters",
          "[plugin_check][cost]") {
  const auto registry = registry_with("untrusted");
  const PluginCheckReport report = check_plugin(*registry, {.kind = Kind::moe, .plugin = "dense_moe"});
  INFO(describe(report));
  const auto v = verdicts(report);
  CHECK_FALSE(v.at("flops"));
  CHECK_FALSE(v.at("active params"));
  CHECK(v.at("params"));  // its total is honest: only what one token costs is a lie
  CHECK(v.at("causal"));
  for (const auto& c : report.checks)
    if (c.name == "flops") CHECK_THAT(c.detail, Catch::Contains("measured"));
}
