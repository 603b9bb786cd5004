// The host's part of the sweep schema as a table: the keys of `data`, `model` and `train`, each
// with its type, default (YAML text), bounds and one-line doc. Component slots name the plugin
// kind(s) they take; their options come from the plugins themselves (plugin_abi.h: OptionSpec).
//
//   for (const SchemaField& f : host_sections()) ...          // data, model, train
//   const SchemaField* lr = find_field(train_fields(), "optimizer");
//
// Adding a key is adding a row (and reading it where it is used); docs/sweep-format.md lists
// the same rows for people.
#pragma once

#include <limits>
#include <span>
#include <string>
#include <vector>

#include "ablate/engine/spelling.h"
#include "ablate/sdk/plugin_abi.h"

namespace ablate::sweep_schema {

enum class FieldType {
  integer,    // JSON integer
  number,     // JSON double (an integer written in YAML is accepted and stored as a double)
  boolean,
  string,     // `choices`: allowed values "a|b"
  section,    // a map of its own `fields`
  component,  // `{plugin: NAME, ...options}`; `choices`: the kinds it takes, "mlp|moe"
  corpus,     // kjv | {text: PATH} | {jsonl: PATH, field: NAME} | {tokens: PATH-OR-GLOB, format: ...}
  tokenizer,  // {kind: bpe, vocab_size: N} | {kind: byte} | {kind: sentencepiece, model: PATH} | {kind: pretokenized, ...}
};

inline constexpr double kInf = std::numeric_limits<double>::infinity();

struct SchemaField {
  const char* name = nullptr;
  FieldType type = FieldType::integer;
  const char* default_value = nullptr;  // YAML text; nullptr for sections (their fields' defaults)
  const char* doc = nullptr;
  const char* choices = nullptr;        // string: "a|b"; component: kinds "mlp|moe"
  double min = -kInf;                   // integer / number bounds
  double max = kInf;
  bool min_exclusive = false;           // (0, 0.5] rather than [0, 0.5]
  bool max_exclusive = false;
  bool nullable = false;                // null is a valid value (e.g. vocab_size: null)
  std::span<const SchemaField> fields;  // section: its keys
};

/// The three sections of a sweep's base: data, model, train.
std::span<const SchemaField> host_sections();
/// The top-level keys of a sweep file, in the order error messages list them.
const std::vector<std::string>& top_level_keys();

/// The keys of each form of `data.tokenizer` ("bpe", "byte") and `data.corpus` ("text", "jsonl");
/// empty for an unknown form.
std::span<const SchemaField> tokenizer_fields(const std::string& kind);
std::span<const SchemaField> corpus_fields(const std::string& form);
/// The corpus given by name alone (`corpus: kjv`), and the keys that name a corpus map's form, in
/// the order the loader looks for them ("text", "jsonl", "tokens").
inline constexpr const char* kNamedCorpus = "kjv";
/// The tokenizer kind of a `data.tokenizer` map that leaves `kind` out.
inline constexpr const char* kDefaultTokenizerKind = "bpe";
const std::vector<std::string>& corpus_forms();
/// What `tune.metric` may select on: val_loss (lower is better) or val_accuracy (higher is better).
const std::vector<std::string>& tune_metrics();

/// The values of a `choices` text: "a|b" → a, b; nullptr → none.
std::vector<std::string> split_choices(const char* choices);
/// The host's view of a plugin option (a component option's `choices` is its kind).
SchemaField option_field(const sdk::OptionSpec& option);
/// The plugin a component field's default names (`{plugin: mha}` → "mha"); "" when it has none.
std::string default_plugin(const SchemaField& field);
/// The plugin kinds a component field takes ("mlp|moe" → mlp, moe); unknown names are skipped.
std::vector<sdk::Kind> component_kinds(const char* choices);

const SchemaField* find_field(std::span<const SchemaField> fields, const std::string& name);
/// "seq_len, val_fraction, ...": the names of `fields` in table order.
std::string field_names(std::span<const SchemaField> fields);
/// "integer", "number in (0, 0.5]", "one of interleaved|half", "mlp or moe component"...
std::string describe_type(const SchemaField& field);

using ablate::did_you_mean;  // spelling.h: "did you mean 'model'?" for a misspelt key


}  // namespace ablate::sweep_schema
