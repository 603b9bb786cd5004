// A located tree (one run's base with its arm, grid and tune overrides applied) → the resolved
// JSON of that run: every key checked against the host schema (sweep/schema.h) or its plugin's
// option schema, types normalised, defaults filled in, relative paths made absolute. Every error
// is an ablate::Error at the file:line:column of the key or value at fault. Private to the sweep
// module; resolver.cpp walks the schema, resolve_data.cpp holds the corpus and tokenizer forms.
//
//   std::map<std::string, SourceLocation> locations;   // filled: dotted path → where it was written
//   Resolver resolver(registry, sweep_dir, locations);
//   json model = resolver.section(model_node, model_field.fields, "model");
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ablate/engine/error.h"
#include "ablate/engine/plugin_registry.h"
#include "sweep/schema.h"
#include "sweep/yaml_json.h"

namespace ablate::sweep_internal {

/// The kind among `kinds` that has a plugin named `name` (the first one when several do).
std::optional<sdk::Kind> find_kind(const PluginRegistry& registry, const std::vector<sdk::Kind>& kinds,
                                   const std::string& name);
/// "mlp or moe".
std::string kinds_text(const std::vector<sdk::Kind>& kinds);

class Resolver {
 public:
  /// `base_dir`: what relative paths are relative to (the sweep file's directory). `locations`
  /// receives the location of every value written in the tree (not of the defaults filled in).
  Resolver(const PluginRegistry& registry, std::filesystem::path base_dir,
           std::map<std::string, SourceLocation>& locations)
      : registry_(registry), base_dir_(std::move(base_dir)), locations_(locations) {}

  /// A section map (data, model, rope...): every key checked, every missing key defaulted.
  nlohmann::json section(const LocatedNode& node, std::span<const sweep_schema::SchemaField> fields,
                         const std::string& path);
  /// One value of the type `field` declares.
  nlohmann::json value(const LocatedNode& node, const sweep_schema::SchemaField& field, const std::string& path);
  /// `{plugin: NAME, ...options}` checked against that plugin's option schema.
  nlohmann::json component(const LocatedNode& node, const sweep_schema::SchemaField& field, const std::string& path);
  /// kjv | {text: PATH} | {jsonl: PATH, field: NAME} | {tokens: PATH-OR-GLOB}; relative paths become
  /// absolute, and a path that is not on disk is refused at its line (resolve_data.cpp).
  nlohmann::json corpus(const LocatedNode& node, const std::string& path);
  /// {kind: bpe, vocab_size: N} | {kind: byte} | {kind: sentencepiece, model: PATH} | {kind: pretokenized, ...};
  /// `kind` defaults to bpe; a model PATH becomes absolute and must be on disk (resolve_data.cpp).
  nlohmann::json tokenizer(const LocatedNode& node, const std::string& path);

 private:
  static std::string join_path(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }
  Error unknown_key(const LocatedEntry& entry, const std::string& path, const std::vector<std::string>& known) const;
  std::string loaded_text(const std::vector<sdk::Kind>& kinds) const;
  /// The value of a key that `node` (a map) does not have: the field's default, or an error.
  nlohmann::json missing(const LocatedNode& node, const sweep_schema::SchemaField& field, const std::string& path);
  void record(const std::string& path, const SourceLocation& where) {
    if (defaults_depth_ == 0) locations_[path] = where;
  }
  /// Makes the path in out[key] absolute, relative to the sweep file (a glob's pattern too).
  void absolute_path(nlohmann::json& out, const std::string& key, const LocatedNode& node) const;

  const PluginRegistry& registry_;
  std::filesystem::path base_dir_;
  std::map<std::string, SourceLocation>& locations_;
  int defaults_depth_ = 0;  // > 0 while resolving a default: nothing was written there
};

}  // namespace ablate::sweep_internal
