// The forms of `data.corpus` and `data.tokenizer` (see sweep/resolver.h). Their paths are made
// absolute, relative to the sweep file, and must be on disk: a missing corpus or SentencePiece
// model is refused at the line that names it, when the sweep is loaded, rather than when the data
// is prepared, after `ablate run` has already started proving its models causal.
#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "data/internal.h"
#include "sweep/resolver.h"

namespace ablate::sweep_internal {
namespace {

using nlohmann::json;
using sweep_schema::SchemaField;

/// The corpus path of `form` in `out` (already absolute) is on disk; `tokens` is expanded as the
/// loader expands it (a directory needs its .bin files, a glob at least one match).
void require_corpus_on_disk(const json& out, const std::string& form, const LocatedNode& node) {
  const std::string file = out[form].get<std::string>();
  const SourceLocation& where = node.find(form)->value.where;
  if (form == "tokens") {
    try {
      data_internal::expand_token_paths(file, out["format"].get<std::string>());
    } catch (const Error& e) {
      throw Error(e.what(), e.hint(), where);
    }
    return;
  }
  std::error_code ec;
  if (!std::filesystem::exists(file, ec))
    throw Error(fmt::format("{}: no such file or directory", file),
                fmt::format("corpus: {{{}: PATH}} needs an existing {}; a relative PATH is relative to the sweep "
                            "file's directory",
                            form, form == "text" ? ".txt file or directory of them" : ".jsonl file"),
                where);
}

/// The SentencePiece model in `out` (already absolute) is a file.
void require_model_on_disk(const json& out, const LocatedNode& node) {
  const std::string model = out["model"].get<std::string>();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(model, ec))
    throw Error(fmt::format("{}: {}", model,
                            std::filesystem::exists(model, ec) ? "not a file" : "no such SentencePiece model file"),
                "model: PATH names an existing .model file (written by spm_train); a relative PATH is "
                "relative to the sweep file's directory",
                node.find("model")->value.where);
}

}  // namespace

json Resolver::corpus(const LocatedNode& node, const std::string& path) {
  const std::string expected = "kjv, {text: PATH}, {jsonl: PATH, field: NAME} or {tokens: PATH-OR-GLOB}";
  if (node.is_scalar() && node.text == sweep_schema::kNamedCorpus) return sweep_schema::kNamedCorpus;
  const std::vector<std::string>& forms = sweep_schema::corpus_forms();
  std::string form;
  if (node.is_map())
    for (const auto& entry : node.entries)
      if (std::find(forms.begin(), forms.end(), entry.key) != forms.end()) {
        form = entry.key;
        break;
      }
  if (form.empty())
    throw Error(fmt::format("'corpus' must be {}, got {}", expected,
                            node.is_map() ? "a map with none of 'text', 'jsonl', 'tokens'" : node.describe()),
                {}, node.where);
  json out = section(node, sweep_schema::corpus_fields(form), path);
  absolute_path(out, form, node);
  require_corpus_on_disk(out, form, node);
  return out;
}

json Resolver::tokenizer(const LocatedNode& node, const std::string& path) {
  if (!node.is_map())
    throw Error(fmt::format("'tokenizer' must be {{kind: bpe, vocab_size: N}}, {{kind: byte}}, "
                            "{{kind: sentencepiece, model: PATH}} or {{kind: pretokenized, vocab_size: N}}, got {}",
                            node.describe()),
                {}, node.where);
  std::string kind = sweep_schema::kDefaultTokenizerKind;
  if (const LocatedEntry* k = node.find("kind")) {
    const SchemaField& kind_field = *sweep_schema::find_field(sweep_schema::tokenizer_fields(kind), "kind");
    kind = value(k->value, kind_field, join_path(path, "kind")).get<std::string>();
  }
  json out = section(node, sweep_schema::tokenizer_fields(kind), path);
  if (kind == "sentencepiece") {
    absolute_path(out, "model", node);
    require_model_on_disk(out, node);
  }
  return out;
}

void Resolver::absolute_path(json& out, const std::string& key, const LocatedNode& node) const {
  std::filesystem::path file = out[key].get<std::string>();
  if (file.empty()) throw Error(fmt::format("'{}' must be a path, got ''", key), {}, node.find(key)->value.where);
  if (file.is_relative()) file = base_dir_ / file;
  out[key] = std::filesystem::absolute(file).lexically_normal().string();
}

}  // namespace ablate::sweep_internal
