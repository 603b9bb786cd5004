// YAML → located tree (see yaml_json.h).
#include "sweep/yaml_json.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <regex>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace ablate {
namespace {

SourceLocation at(const std::string& file, const YAML::Mark& mark) {
  if (mark.line < 0) return {file, 0, 0};
  return {file, mark.line + 1, mark.column + 1};
}

LocatedNode convert(const YAML::Node& node, const std::string& file, const SourceLocation& fallback) {
  LocatedNode out;
  out.where = node.Mark().line < 0 ? fallback : at(file, node.Mark());
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out.type = LocatedNode::Type::null;
      out.where = fallback;  // an empty value's mark points past the key's line
      break;
    case YAML::NodeType::Scalar:
      out.type = LocatedNode::Type::scalar;
      out.text = node.Scalar();
      out.quoted = node.Tag() == "!";
      break;
    case YAML::NodeType::Sequence:
      out.type = LocatedNode::Type::sequence;
      for (const auto& item : node) out.items.push_back(convert(item, file, out.where));
      break;
    case YAML::NodeType::Map:
      out.type = LocatedNode::Type::map;
      for (auto it = node.begin(); it != node.end(); ++it) {
        LocatedEntry entry;
        entry.key_where = at(file, it->first.Mark());
        if (!it->first.IsScalar())
          throw Error("a key must be a plain name, not a map or a list", {}, entry.key_where);
        entry.key = it->first.Scalar();
        if (const LocatedEntry* first = out.find(entry.key))
          throw Error(fmt::format("duplicate key '{}' (first written at line {}, column {})", entry.key,
                                  first->key_where.line, first->key_where.column),
                      "a key may appear once per map; rename or merge the two entries", entry.key_where);
        entry.value = convert(it->second, file, entry.key_where);
        out.entries.push_back(std::move(entry));
      }
      break;
  }
  return out;
}

}  // namespace

const LocatedEntry* LocatedNode::find(const std::string& key) const {
  for (const auto& entry : entries)
    if (entry.key == key) return &entry;
  return nullptr;
}

LocatedEntry* LocatedNode::find(const std::string& key) {
  for (auto& entry : entries)
    if (entry.key == key) return &entry;
  return nullptr;
}

std::string LocatedNode::describe() const {
  switch (type) {
    case Type::null: return "null";
    case Type::map: return "a map";
    case Type::sequence: return "a list";
    case Type::scalar: return "'" + text + "'";
  }
  return "?";
}

nlohmann::json LocatedNode::to_json() const {
  switch (type) {
    case Type::null: return nullptr;
    case Type::scalar: {
      if (quoted) return text;
      std::int64_t i = 0;
      double d = 0;
      bool b = false;
      if (parse_yaml_integer(text, i)) return i;
      if (parse_yaml_number(text, d)) return d;
      if (parse_yaml_bool(text, b)) return b;
      return text;
    }
    case Type::sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : items) out.push_back(item.to_json());
      return out;
    }
    case Type::map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& entry : entries) out[entry.key] = entry.value.to_json();
      return out;
    }
  }
  return nullptr;
}

void LocatedNode::relocate(const SourceLocation& loc) {
  where = loc;
  for (auto& entry : entries) {
    entry.key_where = loc;
    entry.value.relocate(loc);
  }
  for (auto& item : items) item.relocate(loc);
}

LocatedNode parse_located_yaml(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw Error(fmt::format("malformed YAML: {}", e.msg), "check the indentation and the brackets",
                at(file, e.mark));
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("malformed YAML: {}", e.msg), {}, at(file, e.mark));
  }
  try {
    return convert(root, file, SourceLocation{file, 1, 1});
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("malformed YAML: {}", e.msg), {}, at(file, e.mark));
  }
}

bool parse_yaml_integer(const std::string& text, std::int64_t& out) {
  static const std::regex kInteger("[-+]?[0-9]+");
  if (!std::regex_match(text, kInteger)) return false;
  const char* begin = text.data() + (text[0] == '+' ? 1 : 0);
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(begin, end, out);
  return ec == std::errc() && ptr == end;
}

bool parse_yaml_number(const std::string& text, double& out) {
  static const std::regex kNumber("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  if (!std::regex_match(text, kNumber)) return false;
  errno = 0;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && errno != ERANGE && std::isfinite(out);
}

bool parse_yaml_bool(const std::string& text, bool& out) {
  if (text == "true" || text == "True" || text == "TRUE") {
    out = true;
    return true;
  }
  if (text == "false" || text == "False" || text == "FALSE") {
    out = false;
    return true;
  }
  return false;
}

}  // namespace ablate
