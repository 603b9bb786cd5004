// The resolved configuration as YAML (config.yaml in a run directory; see sweep.h): keys sorted,
// flat lists in flow style, strings quoted only where YAML would read them as something else, so
// that the text reads back to the same values.
#include <algorithm>
#include <cstdint>
#include <string>

#include <yaml-cpp/yaml.h>

#include "ablate/engine/sweep.h"
#include "sweep/yaml_json.h"

namespace ablate {

using nlohmann::json;

namespace {

bool needs_quotes(const std::string& s) {
  std::int64_t i = 0;
  double d = 0;
  bool b = false;
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL" || parse_yaml_integer(s, i) ||
         parse_yaml_number(s, d) || parse_yaml_bool(s, b);
}

void emit(YAML::Emitter& out, const json& j) {
  switch (j.type()) {
    case json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [key, value] : j.items()) {  // nlohmann's object is sorted by key
        out << YAML::Key << key << YAML::Value;
        emit(out, value);
      }
      out << YAML::EndMap;
      break;
    case json::value_t::array: {
      const bool flat = std::none_of(j.begin(), j.end(), [](const json& v) { return v.is_structured(); });
      if (flat) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& value : j) emit(out, value);
      out << YAML::EndSeq;
      break;
    }
    case json::value_t::string: {
      const std::string s = j.get<std::string>();
      if (needs_quotes(s)) out << YAML::DoubleQuoted;
      out << s;
      break;
    }
    case json::value_t::boolean: out << (j.get<bool>() ? "true" : "false"); break;
    case json::value_t::null: out << YAML::Null; break;  // "~" (yaml-cpp 0.7 quotes a plain null)
    default: out << j.dump(); break;  // numbers: JSON's shortest round-trip text (1e-08, 0.1, 10000.0)
  }
}

}  // namespace

std::string config_to_yaml(const nlohmann::json& config) {
  YAML::Emitter out;
  emit(out, config);
  return std::string(out.c_str()) + "\n";
}

}  // namespace ablate
