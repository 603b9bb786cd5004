// The host's sweep schema (see sweep/schema.h): one row per key.
#include "sweep/schema.h"

#include "ablate/engine/plugin_registry.h"

#include <algorithm>

#include <fmt/format.h>

#include "ablate/engine/error.h"
#include "sweep/yaml_json.h"

namespace ablate::sweep_schema {
namespace {

using T = FieldType;

// ---------------------------------------------------------------------------------------------
// data

const SchemaField kBpeTokenizer[] = {
    {.name = "kind", .type = T::string, .default_value = "bpe", .doc = "bpe: SentencePiece BPE trained on the training split",
     .choices = "bpe|byte|sentencepiece|pretokenized"},
    {.name = "vocab_size", .type = T::integer, .default_value = "2048", .doc = "pieces of the BPE vocabulary, end-of-text and 256 byte-fallback pieces included", .min = 259},
};
const SchemaField kByteTokenizer[] = {
    {.name = "kind", .type = T::string, .default_value = "byte", .doc = "byte: 256 bytes + end-of-text",
     .choices = "bpe|byte|sentencepiece|pretokenized"},
};

const SchemaField kSentencePieceTokenizer[] = {
    {.name = "kind", .type = T::string, .default_value = "sentencepiece",
     .doc = "sentencepiece: an existing SentencePiece .model", .choices = "bpe|byte|sentencepiece|pretokenized"},
    {.name = "model", .type = T::string, .default_value = nullptr,
     .doc = "the .model file; relative to the sweep file"},
    {.name = "eot", .type = T::integer, .default_value = "null",
     .doc = "end-of-text id; null = the model's </s> (else <eos>)", .min = 0, .nullable = true},
};
const SchemaField kPretokenizedTokenizer[] = {
    {.name = "kind", .type = T::string, .default_value = "pretokenized",
     .doc = "pretokenized: the corpus is token ids ({tokens: ...})", .choices = "bpe|byte|sentencepiece|pretokenized"},
    {.name = "vocab_size", .type = T::integer, .default_value = nullptr,
     .doc = "the vocabulary the tokens were made with (GPT-2: 50257); every token must be below it", .min = 2},
    {.name = "eot", .type = T::integer, .default_value = "null",
     .doc = "end-of-text id (GPT-2: 50256); null = none stated", .min = 0, .nullable = true},
};

const SchemaField kTokensCorpus[] = {
    {.name = "tokens", .type = T::string, .default_value = nullptr,
     .doc = "llm.c shards or nanoGPT .bin: a file, a directory or a glob; relative to the sweep file"},
    {.name = "format", .type = T::string, .default_value = "auto",
     .doc = "auto (llm.c when the header's magic says so) | llmc | nanogpt", .choices = "auto|llmc|nanogpt"},
};
const SchemaField kTextCorpus[] = {
    {.name = "text", .type = T::string, .default_value = nullptr,
     .doc = "a .txt file (one document) or a directory of them; relative to the sweep file"},
};
const SchemaField kJsonlCorpus[] = {
    {.name = "jsonl", .type = T::string, .default_value = nullptr,
     .doc = "a JSONL file, one document per line; relative to the sweep file"},
    {.name = "field", .type = T::string, .default_value = "text", .doc = "the field holding each document's text"},
};

const SchemaField kData[] = {
    {.name = "corpus", .type = T::corpus, .default_value = "kjv",
     .doc = "kjv | {text: PATH} | {jsonl: PATH, field: NAME} | {tokens: PATH-OR-GLOB, format: auto|llmc|nanogpt}"},
    {.name = "tokenizer", .type = T::tokenizer, .default_value = "{kind: bpe, vocab_size: 2048}",
     .doc = "{kind: bpe, vocab_size: N} | {kind: byte} | {kind: sentencepiece, model: PATH} | "
            "{kind: pretokenized, vocab_size: N, eot: ID}"},
    {.name = "seq_len", .type = T::integer, .default_value = "128", .doc = "tokens per training window (T)", .min = 2},
    {.name = "val_fraction", .type = T::number, .default_value = "0.1",
     .doc = "fraction of the documents (by characters) held out for validation", .min = 0, .max = 0.5,
     .min_exclusive = true},
    {.name = "split_seed", .type = T::integer, .default_value = "0",
     .doc = "seed of the document shuffle that makes the split", .min = 0},
    {.name = "drop_near_duplicates", .type = T::boolean, .default_value = "false",
     .doc = "leave out of validation the documents with a near-twin in training (word 5-gram Jaccard >= 0.2; "
            "text corpora only); counted either way"},
};

// ---------------------------------------------------------------------------------------------
// model

const SchemaField kRope[] = {
    {.name = "base", .type = T::number, .default_value = "10000", .doc = "theta_i = base^(-2i/D)", .min = 0,
     .min_exclusive = true},
    {.name = "pairing", .type = T::string, .default_value = "interleaved",
     .doc = "interleaved: dims (2i, 2i+1); half: dims (i, i + D/2)", .choices = "interleaved|half"},
    {.name = "scaling", .type = T::string, .default_value = "none", .doc = "position scaling",
     .choices = "none|linear|dynamic_ntk|yarn"},
    {.name = "factor", .type = T::number, .default_value = "1", .doc = "scaling factor (linear, dynamic_ntk, yarn)",
     .min = 1},
    {.name = "max_position", .type = T::integer, .default_value = "2048",
     .doc = "dynamic_ntk: scale only beyond this length", .min = 1},
    {.name = "original_max_position", .type = T::integer, .default_value = "4096",
     .doc = "yarn: the original context length", .min = 1},
    {.name = "beta_fast", .type = T::number, .default_value = "32", .doc = "yarn: ramp start (rotations)"},
    {.name = "beta_slow", .type = T::number, .default_value = "1", .doc = "yarn: ramp end (rotations)"},
    {.name = "mscale", .type = T::number, .default_value = "1", .doc = "yarn: attention temperature scale"},
    {.name = "mscale_all_dim", .type = T::number, .default_value = "0",
     .doc = "yarn (and MLA's softmax scale): mscale over all dims"},
};

const SchemaField kModel[] = {
    {.name = "d_model", .type = T::integer, .default_value = "256", .doc = "width of the residual stream (d)",
     .min = 1},
    {.name = "n_layers", .type = T::integer, .default_value = "4", .doc = "transformer blocks", .min = 1},
    {.name = "vocab_size", .type = T::integer, .default_value = "null",
     .doc = "embedding rows; null = the tokenizer's vocabulary (when set, at least that)", .min = 2,
     .nullable = true},
    {.name = "dropout", .type = T::number, .default_value = "0.0", .doc = "dropout probability in training",
     .min = 0, .max = 1, .max_exclusive = true},
    {.name = "embedding_scale", .type = T::boolean, .default_value = "true",
     .doc = "multiply token embeddings by sqrt(d_model)"},
    {.name = "tie_embeddings", .type = T::boolean, .default_value = "true",
     .doc = "the LM head shares the embedding matrix"},
    {.name = "first_dense_layers", .type = T::integer, .default_value = "0",
     .doc = "the first N blocks use dense_ffn instead of ffn", .min = 0},
    {.name = "dense_ffn", .type = T::component, .default_value = "null",
     .doc = "MLP of the first_dense_layers blocks (required when those are > 0 and ffn is an MoE)",
     .choices = "mlp", .nullable = true},
    {.name = "rope", .type = T::section, .doc = "rotary position embedding", .fields = kRope},
    {.name = "attention", .type = T::component, .default_value = "{plugin: mha}", .doc = "attention of every block",
     .choices = "attention"},
    {.name = "ffn", .type = T::component, .default_value = "{plugin: swiglu}",
     .doc = "feed-forward of every block: an MLP or an MoE plugin", .choices = "mlp|moe"},
    {.name = "norm", .type = T::component, .default_value = "{plugin: rmsnorm}",
     .doc = "the pre-norms of every block and the final norm", .choices = "norm"},
};

// ---------------------------------------------------------------------------------------------
// train

const SchemaField kOptimizer[] = {
    {.name = "name", .type = T::string, .default_value = "adamw",
     .doc = "adamw: AdamW for everything; muon: Muon for 2-D hidden matrices, AdamW for the rest",
     .choices = "adamw|muon"},
    {.name = "lr", .type = T::number, .default_value = "1e-3", .doc = "peak learning rate of AdamW", .min = 0,
     .min_exclusive = true},
    {.name = "muon_lr", .type = T::number, .default_value = "0.01",
     .doc = "muon: peak learning rate of the Muon matrices", .min = 0, .min_exclusive = true},
    {.name = "momentum", .type = T::number, .default_value = "0.95", .doc = "muon: Nesterov momentum", .min = 0,
     .max = 1, .max_exclusive = true},
    {.name = "ns_steps", .type = T::integer, .default_value = "5", .doc = "muon: Newton-Schulz iterations",
     .min = 1},
    {.name = "beta1", .type = T::number, .default_value = "0.9", .doc = "first-moment decay", .min = 0, .max = 1,
     .max_exclusive = true},
    {.name = "beta2", .type = T::number, .default_value = "0.999", .doc = "second-moment decay", .min = 0,
     .max = 1, .max_exclusive = true},
    {.name = "eps", .type = T::number, .default_value = "1e-8", .doc = "added to the denominator", .min = 0,
     .min_exclusive = true},
    {.name = "weight_decay", .type = T::number, .default_value = "0.1",
     .doc = "decoupled weight decay (matrices only)", .min = 0},
};

const SchemaField kTrain[] = {
    {.name = "steps", .type = T::integer, .default_value = "200", .doc = "optimizer steps", .min = 1},
    {.name = "batch_size", .type = T::integer, .default_value = "16", .doc = "sequences per micro-batch (B)",
     .min = 1},
    {.name = "grad_accum", .type = T::integer, .default_value = "1", .doc = "micro-batches per optimizer step",
     .min = 1},
    {.name = "optimizer", .type = T::section, .doc = "AdamW or Muon + AdamW settings", .fields = kOptimizer},
    {.name = "warmup_fraction", .type = T::number, .default_value = "0.05",
     .doc = "fraction of the steps with linear warmup", .min = 0, .max = 1},
    {.name = "min_lr_fraction", .type = T::number, .default_value = "0.1",
     .doc = "the cosine decay ends at this fraction of lr", .min = 0, .max = 1},
    {.name = "grad_clip", .type = T::number, .default_value = "1.0",
     .doc = "global gradient-norm clip; 0 = off", .min = 0},
    {.name = "eval_every", .type = T::integer, .default_value = "50", .doc = "steps between evaluations", .min = 1},
    {.name = "eval_tokens", .type = T::integer, .default_value = "16384",
     .doc = "validation tokens scored at every evaluation, in whole windows of seq_len: the same tokens for every "
            "run whatever its batch size",
     .min = 1},
    {.name = "log_every", .type = T::integer, .default_value = "10", .doc = "steps between progress lines",
     .min = 1},
};

const SchemaField kSections[] = {
    {.name = "data", .type = T::section, .doc = "corpus, tokenizer and split", .fields = kData},
    {.name = "model", .type = T::section, .doc = "the model: sizes, skeleton options, components",
     .fields = kModel},
    {.name = "train", .type = T::section, .doc = "optimisation and evaluation", .fields = kTrain},
};

std::string number_text(double v) {
  if (v == kInf) return "inf";
  if (v == -kInf) return "-inf";
  return fmt::format("{}", v);
}


}  // namespace


std::span<const SchemaField> host_sections() { return kSections; }

const std::vector<std::string>& top_level_keys() {
  static const std::vector<std::string> keys{"name", "baseline", "data", "model",  "train", "seeds",
                                             "arms", "grid",     "tune", "budget", "report", "trust"};
  return keys;
}

std::span<const SchemaField> tokenizer_fields(const std::string& kind) {
  if (kind == "bpe") return kBpeTokenizer;
  if (kind == "byte") return kByteTokenizer;
  if (kind == "sentencepiece") return kSentencePieceTokenizer;
  if (kind == "pretokenized") return kPretokenizedTokenizer;
  return {};
}

std::span<const SchemaField> corpus_fields(const std::string& form) {
  if (form == "text") return kTextCorpus;
  if (form == "jsonl") return kJsonlCorpus;
  if (form == "tokens") return kTokensCorpus;
  return {};
}

const std::vector<std::string>& corpus_forms() {
  static const std::vector<std::string> forms{"text", "jsonl", "tokens"};
  return forms;
}

const std::vector<std::string>& tune_metrics() {
  static const std::vector<std::string> metrics{"val_loss", "val_accuracy"};
  return metrics;
}

SchemaField option_field(const sdk::OptionSpec& option) {
  SchemaField f;
  f.name = option.name;
  f.doc = option.doc;
  f.default_value = option.default_value;
  f.choices = option.choices;
  f.min = option.min;
  f.max = option.max;
  switch (option.type) {
    case sdk::OptionType::integer: f.type = T::integer; break;
    case sdk::OptionType::number: f.type = T::number; break;
    case sdk::OptionType::boolean: f.type = T::boolean; break;
    case sdk::OptionType::string: f.type = T::string; break;
    case sdk::OptionType::component: f.type = T::component; break;
  }
  return f;
}

std::string default_plugin(const SchemaField& field) {
  const std::string text = field.default_value ? field.default_value : "";
  if (text.empty() || text == "null" || text == "~") return {};
  try {
    const LocatedNode node = parse_located_yaml(text, "default");
    const LocatedEntry* plugin = node.find("plugin");
    return plugin != nullptr && plugin->value.is_scalar() ? plugin->value.text : std::string();
  } catch (const Error&) {
    return {};
  }
}

std::vector<std::string> split_choices(const char* choices) {
  std::vector<std::string> out;
  std::string rest = choices ? choices : "";
  while (!rest.empty()) {
    const auto bar = rest.find('|');
    out.push_back(rest.substr(0, bar));
    rest = bar == std::string::npos ? std::string() : rest.substr(bar + 1);
  }
  return out;
}

std::vector<sdk::Kind> component_kinds(const char* choices) {
  std::vector<sdk::Kind> out;
  for (const std::string& name : split_choices(choices))
    if (const auto kind = kind_named(name)) out.push_back(*kind);
  return out;
}

const SchemaField* find_field(std::span<const SchemaField> fields, const std::string& name) {
  for (const auto& field : fields)
    if (name == field.name) return &field;
  return nullptr;
}

std::string field_names(std::span<const SchemaField> fields) {
  std::string out;
  for (const auto& field : fields) out += (out.empty() ? "" : ", ") + std::string(field.name);
  return out;
}

std::string describe_type(const SchemaField& field) {
  std::string out;
  switch (field.type) {
    case T::integer:
    case T::number: {
      out = field.type == T::integer ? "integer" : "number";
      const bool lo = field.min != -kInf, hi = field.max != kInf;
      if (lo && hi)
        out += fmt::format(" in {}{}, {}{}", field.min_exclusive ? "(" : "[", number_text(field.min),
                           number_text(field.max), field.max_exclusive ? ")" : "]");
      else if (lo)
        out += fmt::format(" {} {}", field.min_exclusive ? ">" : "≥", number_text(field.min));
      else if (hi)
        out += fmt::format(" {} {}", field.max_exclusive ? "<" : "≤", number_text(field.max));
      break;
    }
    case T::boolean: out = "boolean"; break;
    case T::string: out = field.choices ? fmt::format("one of {}", field.choices) : "string"; break;
    case T::section: out = "map"; break;
    case T::component: {
      std::string kinds = field.choices ? field.choices : "";
      for (auto pos = kinds.find('|'); pos != std::string::npos; pos = kinds.find('|')) kinds.replace(pos, 1, " or ");
      out = kinds + " component";
      break;
    }
    case T::corpus: out = "kjv, {text: PATH} or {jsonl: PATH, field: NAME}"; break;
    case T::tokenizer: out = "{kind: bpe, vocab_size: N} or {kind: byte}"; break;
  }
  if (field.nullable) out += " or null";
  return out;
}

}  // namespace ablate::sweep_schema
