// Decoding a resolved run configuration into typed structs (run_config.h). The keys are those of
// the host schema (sweep/schema.cpp); a configuration that lacks one or holds a value of another
// type was not resolved by this ablate's load_sweep, and the error names the key's dotted path.
#include "ablate/engine/run_config.h"

#include <utility>

#include <fmt/format.h>

#include "ablate/engine/error.h"
#include "ablate/engine/sweep.h"

namespace ablate {
namespace {

using json = nlohmann::json;

// One map of the resolved configuration, read key by key; errors name "train.optimizer.lr".
class Section {
 public:
  Section(const json& value, std::string path) : value_(value), path_(std::move(path)) {
    if (!value_.is_object()) throw wrong_type(value_, path_, "a map");
  }

  const json& raw() const { return value_; }
  bool has(const char* key) const { return value_.contains(key); }

  const json& any(const char* key) const {
    const auto it = value_.find(key);
    if (it == value_.end())
      throw Error(fmt::format("the run configuration has no '{}'", path_of(key)),
                  "run configurations are resolved by load_sweep, which fills in every key of the schema "
                  "(docs/sweep-format.md)");
    return *it;
  }
  Section section(const char* key) const { return Section(any(key), path_of(key)); }
  std::int64_t integer(const char* key) const {
    const json& v = any(key);
    if (!v.is_number_integer()) throw wrong_type(v, path_of(key), "an integer");
    return v.get<std::int64_t>();
  }
  double number(const char* key) const {
    const json& v = any(key);
    if (!v.is_number()) throw wrong_type(v, path_of(key), "a number");
    return v.get<double>();
  }
  bool boolean(const char* key) const {
    const json& v = any(key);
    if (!v.is_boolean()) throw wrong_type(v, path_of(key), "true or false");
    return v.get<bool>();
  }
  std::string string(const char* key) const {
    const json& v = any(key);
    if (!v.is_string()) throw wrong_type(v, path_of(key), "a string");
    return v.get<std::string>();
  }
  /// A component: {plugin: NAME, <options>}; its options are its plugin's to check.
  const json& component(const char* key) const {
    const json& v = any(key);
    if (!v.is_object()) throw wrong_type(v, path_of(key), "a component map {plugin: NAME, ...}");
    return v;
  }

 private:
  std::string path_of(const char* key) const { return path_ + "." + key; }
  static Error wrong_type(const json& v, const std::string& path, const char* expected) {
    return Error(fmt::format("the run configuration's '{}' must be {}, got {}", path, expected, v.dump()),
                 "run configurations are resolved by load_sweep, which gives every key its schema type "
                 "(docs/sweep-format.md)");
  }

  const json& value_;
  std::string path_;
};

Section top(const json& resolved, const char* key) {
  if (!resolved.is_object())
    throw Error(fmt::format("a run configuration must be a map of data, model, train and seed, got {}",
                            resolved.dump()));
  if (!resolved.contains(key))
    throw Error(fmt::format("the run configuration has no '{}' section", key),
                "run configurations are resolved by load_sweep (docs/sweep-format.md)");
  return Section(resolved.at(key), key);
}

json& train_section(json& resolved) {
  if (!resolved.is_object() || !resolved.contains("train") || !resolved["train"].is_object())
    throw Error("the run configuration has no 'train' section to write to");
  return resolved["train"];
}

OptimizerConfig decode_optimizer(const Section& o) {
  OptimizerConfig c;
  c.name = o.string("name");
  c.lr = o.number("lr");
  c.muon_lr = o.number("muon_lr");
  c.momentum = o.number("momentum");
  c.ns_steps = o.integer("ns_steps");
  c.beta1 = o.number("beta1");
  c.beta2 = o.number("beta2");
  c.eps = o.number("eps");
  c.weight_decay = o.number("weight_decay");
  return c;
}

}  // namespace

DataConfig decode_data_config(const json& resolved) {
  const Section d = top(resolved, "data");
  DataConfig c;
  c.section = d.raw();
  c.corpus = d.any("corpus");
  c.tokenizer = d.any("tokenizer");
  c.seq_len = d.integer("seq_len");
  c.val_fraction = d.number("val_fraction");
  c.split_seed = d.integer("split_seed");
  c.drop_near_duplicates = d.boolean("drop_near_duplicates");
  return c;
}

ModelConfig decode_model_config(const json& resolved) {
  const Section m = top(resolved, "model");
  ModelConfig c;
  c.section = m.raw();
  c.d_model = m.integer("d_model");
  c.n_layers = m.integer("n_layers");
  if (!m.any("vocab_size").is_null()) c.vocab_size = m.integer("vocab_size");
  c.dropout = m.number("dropout");
  c.embedding_scale = m.boolean("embedding_scale");
  c.tie_embeddings = m.boolean("tie_embeddings");
  c.first_dense_layers = m.integer("first_dense_layers");
  if (!m.any("dense_ffn").is_null()) c.dense_ffn.emplace(m.component("dense_ffn"));
  c.rope = rope_config(m.section("rope").raw());
  c.attention = m.component("attention");
  c.ffn = m.component("ffn");
  c.norm = m.component("norm");
  return c;
}

TrainConfig decode_train_config(const json& resolved) {
  const Section t = top(resolved, "train");
  TrainConfig c;
  c.steps = t.integer("steps");
  c.batch_size = t.integer("batch_size");
  c.grad_accum = t.integer("grad_accum");
  c.optimizer = decode_optimizer(t.section("optimizer"));
  c.warmup_fraction = t.number("warmup_fraction");
  c.min_lr_fraction = t.number("min_lr_fraction");
  c.grad_clip = t.number("grad_clip");
  c.eval_every = t.integer("eval_every");
  c.eval_tokens = t.integer("eval_tokens");
  c.log_every = t.integer("log_every");
  if (t.has("budget")) {  // written by the sweep's budget: (run_config.h)
    const Section b = t.section("budget");
    c.budget = BudgetConfig{.kind = b.string("kind"), .value = b.number("value")};
  }
  if (t.has("eval_split")) c.eval_split = t.string("eval_split");  // written by a tune stage
  return c;
}

RunConfig decode_run_config(const json& resolved) {
  RunConfig c;
  c.data = decode_data_config(resolved);
  c.model = decode_model_config(resolved);
  c.train = decode_train_config(resolved);
  const auto seed = resolved.find("seed");
  if (seed == resolved.end() || !seed->is_number_integer())
    throw Error(fmt::format("the run configuration's 'seed' must be an integer, got {}",
                            seed == resolved.end() ? std::string("nothing") : seed->dump()));
  c.seed = seed->get<std::int64_t>();
  return c;
}

void write_train_steps(json& resolved, std::int64_t steps) { train_section(resolved)["steps"] = steps; }

void write_budget(json& resolved, const BudgetConfig& budget) { train_section(resolved)["budget"] = budget.to_json(); }

void write_micro_batch(json& resolved, std::int64_t batch_size, std::int64_t grad_accum) {
  json& train = train_section(resolved);
  train["batch_size"] = batch_size;
  train["grad_accum"] = grad_accum;
}

}  // namespace ablate
