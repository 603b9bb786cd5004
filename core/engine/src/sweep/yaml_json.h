// YAML text → a tree that remembers where every key and value was written (internal to the engine).
//
//   LocatedNode root = parse_located_yaml(text, "sweeps/a.yaml");   // throws ablate::Error
//   const LocatedEntry* model = root.find("model");                  // model->key_where: 4:1
//
// Scalars keep their text: the sweep schema decides what `1` means (an integer for `n_layers`, the
// number 1.0 for `lr`), so `lr: 1` and `lr: 1.0` resolve to the same value. Quoted scalars are
// always strings. Duplicate keys in a map are an error here (yaml-cpp 0.7 keeps both silently).
// Locations are 1-based (yaml-cpp's marks are 0-based).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ablate/engine/error.h"

namespace ablate {

struct LocatedEntry;

struct LocatedNode {
  enum class Type { null, scalar, map, sequence };
  Type type = Type::null;
  std::string text;       // scalar: its text as written (without quotes)
  bool quoted = false;    // scalar written in quotes: a string, never a number, bool or null
  SourceLocation where;   // where the value starts
  std::vector<LocatedEntry> entries;  // map, in file order
  std::vector<LocatedNode> items;     // sequence

  bool is_null() const { return type == Type::null; }
  bool is_scalar() const { return type == Type::scalar; }
  bool is_map() const { return type == Type::map; }
  bool is_sequence() const { return type == Type::sequence; }

  const LocatedEntry* find(const std::string& key) const;
  LocatedEntry* find(const std::string& key);
  /// "a map", "a list", "null" or the scalar's text in quotes: for "got ..." in messages.
  std::string describe() const;
  /// Untyped conversion (YAML core schema guesses: 1 → integer, 1.5 → number, true → bool).
  nlohmann::json to_json() const;
  /// Sets `where` of this node and every node below it (and their keys) to `loc`.
  void relocate(const SourceLocation& loc);
};

struct LocatedEntry {
  std::string key;
  SourceLocation key_where;  // where the key was written
  LocatedNode value;
};

/// Parses one YAML document. Malformed YAML and duplicate keys throw ablate::Error at their location.
/// An empty document is a null node at line 1, column 1.
LocatedNode parse_located_yaml(const std::string& text, const std::string& file);

/// YAML core-schema readings of a plain scalar; false when the text is not of that form.
bool parse_yaml_integer(const std::string& text, std::int64_t& out);
bool parse_yaml_number(const std::string& text, double& out);
bool parse_yaml_bool(const std::string& text, bool& out);

}  // namespace ablate
