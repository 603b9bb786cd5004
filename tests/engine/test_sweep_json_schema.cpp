// The generated JSON Schema of sweep files (sweep_json_schema.h): its shape, read as a document.
// Whether it accepts and refuses the right files is checked by tests/schema/check_sweep_schema.py,
// which validates real sweep files with Python's jsonschema.
//
//   ./build/tests/test_engine "[schema]"
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "ablate/engine/plugin_registry.h"
#include "ablate/engine/sweep_json_schema.h"
#include "builtin_plugins.h"

using ablate::PluginRegistry;
using ablate::sdk::Kind;
using nlohmann::ordered_json;

namespace {

const ablate::PluginRegistry& plugins() { return ablate::test::builtin_plugins(); }

const ordered_json& schema() {
  static const ordered_json doc = ablate::sweep_json_schema(plugins());
  return doc;
}

/// Every object below `node` (the node included), except the conditions of if/then, which
/// constrain a map that is described elsewhere rather than describe one.
void each_object(const ordered_json& node, const std::function<void(const ordered_json&)>& visit) {
  if (node.is_object()) {
    visit(node);
    for (const auto& [key, child] : node.items())
      if (key != "if" && key != "then") each_object(child, visit);
  } else if (node.is_array()) {
    for (const auto& child : node) each_object(child, visit);
  }
}

/// The $defs entry a "#/$defs/NAME" reference names.
const ordered_json& resolve(const std::string& reference) {
  REQUIRE(reference.rfind("#/$defs/", 0) == 0);
  return schema().at("$defs").at(reference.substr(8));
}

/// The plugin names a slot's oneOf offers, and which of them need the `plugin` key.
std::map<std::string, bool> slot_plugins(const ordered_json& slot) {
  std::map<std::string, bool> out;
  for (const auto& variant : slot.at("oneOf")) {
    if (variant.contains("type")) continue;  // null, for a nullable slot
    const bool wrapped = variant.contains("allOf");
    const ordered_json& target = resolve((wrapped ? variant.at("allOf").at(0) : variant).at("$ref"));
    out[target.at("properties").at("plugin").at("const")] =
        wrapped && variant.at("allOf").at(1).at("required") == ordered_json::array({"plugin"});
  }
  return out;
}

}  // namespace

TEST_CASE("sweep schema: draft 2020-12, closed at the top, model required", "[schema]") {
  const ordered_json& s = schema();
  CHECK(s.at("$schema") == "https://json-schema.org/draft/2020-12/schema");
  CHECK(s.at("type") == "object");
  CHECK(s.at("additionalProperties") == false);
  CHECK(s.at("required") == ordered_json::array({"model"}));
  std::vector<std::string> keys;
  for (const auto& [key, value] : s.at("properties").items()) keys.push_back(key);
  CHECK(keys == std::vector<std::string>{"name", "baseline", "data", "model", "train", "seeds", "arms", "grid",
                                         "tune", "budget", "report", "trust"});
}

TEST_CASE("sweep schema: every map refuses unknown keys and every reference resolves", "[schema]") {
  std::size_t maps = 0, refs = 0;
  each_object(schema(), [&](const ordered_json& node) {
    if (node.contains("properties") && node.at("properties").is_object()) {
      ++maps;
      INFO(node.dump().substr(0, 200));
      CHECK(node.value("additionalProperties", ordered_json(true)) == false);
    }
    if (node.contains("$ref") && node.at("$ref").is_string()) {
      ++refs;
      const std::string reference = node.at("$ref");
      INFO(reference);
      CHECK(schema().at("$defs").contains(reference.substr(8)));
    }
  });
  CHECK(maps > 20);
  CHECK(refs > 20);
}

TEST_CASE("sweep schema: a plugin's options are typed, bounded, documented and closed", "[schema]") {
  const auto& mha = plugins().get(Kind::attention, "mha");
  const ordered_json& def = schema().at("$defs").at("plugin.attention.mha");
  CHECK(def.at("additionalProperties") == false);
  CHECK(def.at("properties").at("plugin").at("const") == "mha");

  const ablate::sdk::OptionSpec* n_heads = mha.option("n_heads");
  REQUIRE(n_heads != nullptr);
  REQUIRE(std::isfinite(n_heads->min));
  const ordered_json& option = def.at("properties").at("n_heads");
  CHECK(option.at("type") == "integer");
  CHECK(option.at("minimum").get<double>() == n_heads->min);
  CHECK(option.at("description") == n_heads->doc);
  CHECK(option.at("default") == std::stoll(n_heads->default_value));

  // required: exactly the options without a default (silu's d_ff); the schema lists each option once.
  const auto& silu = plugins().get(Kind::mlp, "silu");
  const ordered_json& silu_def = schema().at("$defs").at("plugin.mlp.silu");
  std::set<std::string> required;
  for (const auto& o : silu.options())
    if (o.default_value == nullptr) required.insert(o.name);
  REQUIRE(required.count("d_ff") == 1);
  CHECK(silu_def.at("required").get<std::set<std::string>>() == required);
  CHECK(silu_def.at("properties").size() == silu.options().size() + 1);  // + plugin
}

TEST_CASE("sweep schema: a slot is a oneOf over the plugins of its kinds, and only its default plugin may go unnamed",
          "[schema]") {
  const ordered_json& model = schema().at("$defs").at("model").at("properties");
  const auto attention = slot_plugins(model.at("attention"));
  CHECK(attention == std::map<std::string, bool>{{"mha", false}, {"mla", true}});

  // ffn takes mlp and moe plugins; its default is swiglu.
  std::map<std::string, bool> ffn_expected;
  for (Kind kind : {Kind::mlp, Kind::moe})
    for (const auto& name : plugins().names(kind)) ffn_expected[name] = name != "swiglu";
  CHECK(slot_plugins(model.at("ffn")) == ffn_expected);

  // dense_ffn may be null (its default); an MoE's expert is a nested slot of mlp plugins.
  const ordered_json& dense = model.at("dense_ffn");
  CHECK(dense.at("default").is_null());
  CHECK(std::count(dense.at("oneOf").begin(), dense.at("oneOf").end(), ordered_json{{"type", "null"}}) == 1);
  const ordered_json& expert = schema().at("$defs").at("plugin.moe.topk").at("properties").at("expert");
  std::map<std::string, bool> mlps;
  for (const auto& name : plugins().names(Kind::mlp)) mlps[name] = true;  // no default: always named
  CHECK(slot_plugins(expert) == mlps);
  CHECK(schema().at("$defs").at("plugin.moe.topk").at("required").get<std::set<std::string>>().count("expert") == 1);
}

TEST_CASE("sweep schema: a plugin loaded from another directory is offered in its slot", "[schema]") {
  PluginRegistry registry;
  registry.load_directory(ABLATE_PLUGIN_DIR);
  registry.load_directory(std::string(ABLATE_TEST_PLUGIN_DIR) + "/good");
  const ordered_json s = ablate::sweep_json_schema(registry);
  const ordered_json& norm_slot = s.at("$defs").at("model").at("properties").at("norm");
  bool offered = false;
  for (const auto& variant : norm_slot.at("oneOf"))
    offered |= variant.dump().find("plugin.norm.fixture_scale") != std::string::npos;
  CHECK(offered);
  CHECK(s.at("$defs").at("plugin.norm.fixture_scale").at("properties").at("unused").at("type") == "integer");
  CHECK_FALSE(schema().at("$defs").contains("plugin.norm.fixture_scale"));
}

TEST_CASE("sweep schema: the host's keys carry the table's types, bounds, nulls and defaults", "[schema]") {
  const ordered_json& defs = schema().at("$defs");
  const ordered_json& seq_len = defs.at("data").at("properties").at("seq_len");
  CHECK(seq_len.at("type") == "integer");
  CHECK(seq_len.at("minimum") == 2);
  CHECK(seq_len.at("default") == 128);
  const ordered_json& val_fraction = defs.at("data").at("properties").at("val_fraction");
  CHECK(val_fraction.at("exclusiveMinimum") == 0);
  CHECK(val_fraction.at("maximum") == 0.5);
  CHECK(defs.at("model").at("properties").at("vocab_size").at("type") == ordered_json::array({"integer", "null"}));
  CHECK(defs.at("train.optimizer").at("properties").at("name").at("enum") == ordered_json::array({"adamw", "muon"}));
  CHECK(defs.at("model").at("properties").at("attention").at("default") == ordered_json{{"plugin", "mha"}});
  // A section may be null (all defaults); the tokenizer's kind may be left out only for bpe.
  CHECK(defs.at("train").at("type") == ordered_json::array({"object", "null"}));
  for (const auto& form : defs.at("data.tokenizer").at("oneOf")) {
    const std::string kind = form.at("properties").at("kind").at("const");
    const bool kind_required = form.contains("required") && std::count(form.at("required").begin(),
                                                                       form.at("required").end(), "kind") == 1;
    CHECK(kind_required == (kind != "bpe"));
  }
}

TEST_CASE("sweep schema: overrides and grid axes type the host's paths and leave component options loose",
          "[schema]") {
  const ordered_json& overrides = schema().at("$defs").at("overrides");
  CHECK(overrides.at("properties").at("model.d_model").at("type") == "integer");
  CHECK(overrides.at("properties").at("train.optimizer.lr").at("type") == "number");
  CHECK(overrides.at("properties").contains("model.attention"));
  CHECK_FALSE(overrides.at("properties").contains("model.d_modle"));
  CHECK(overrides.at("additionalProperties") == false);
  const auto matches = [&](const std::string& path) {
    for (const auto& [pattern, value] : overrides.at("patternProperties").items())
      if (std::regex_search(path, std::regex(pattern, std::regex::ECMAScript))) return true;
    return false;
  };
  CHECK(matches("model.attention.n_heads"));
  CHECK(matches("model.ffn.expert.d_ff"));
  CHECK(matches("data.tokenizer.vocab_size"));
  CHECK_FALSE(matches("model.attention"));
  CHECK_FALSE(matches("model.d_model.x"));
  CHECK_FALSE(matches("model.attentionx.n_heads"));

  const ordered_json& axis = schema().at("$defs").at("axes").at("properties").at("train.optimizer.lr");
  CHECK(axis.at("type") == "array");
  CHECK(axis.at("minItems") == 1);
  CHECK(axis.at("items").at("type") == "number");
}
