// The typed view of a resolved run configuration (run_config.h): what a sweep writes is what the
// trainer reads, every key the sweep resolves is one the decoder reads, and a configuration that
// lacks a key or holds a value of another type is refused naming that key.
//
//   ./build/bin/test_engine "[run_config]"
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "ablate/engine/error.h"
#include "ablate/engine/run_config.h"
#include "ablate/engine/sweep.h"
#include "builtin_plugins.h"

using nlohmann::json;

namespace {

ablate::Sweep parse(const std::string& yaml, const ablate::TuneChoices* choices = nullptr) {
  return ablate::parse_sweep(yaml, "/sweeps/run_config.yaml", ablate::test::builtin_plugins(), choices);
}

const std::string kSweep = R"(data: {tokenizer: {kind: byte}, seq_len: 32, split_seed: 3}
model:
  d_model: 64
  n_layers: 2
  vocab_size: 300
  attention: {plugin: mha, n_heads: 4}
  ffn: {plugin: swiglu, d_ff: 128}
  rope: {pairing: half}
train:
  steps: 40
  batch_size: 4
  grad_accum: 2
  optimizer: {name: muon, lr: 2.0e-3, muon_lr: 0.02}
  eval_every: 10
  eval_tokens: 640
seeds: [5]
)";

// Every leaf key of the host's sections in a resolved configuration, as dotted paths: a component,
// the corpus and the tokenizer are leaves (their plugins and the data module read inside them).
void leaf_paths(const json& j, const std::string& path, std::vector<std::string>& out) {
  static const std::vector<std::string> opaque = {"data.corpus", "data.tokenizer", "model.attention", "model.ffn",
                                                  "model.norm", "model.dense_ffn"};
  if (!j.is_object() || std::find(opaque.begin(), opaque.end(), path) != opaque.end()) {
    out.push_back(path);
    return;
  }
  for (const auto& [key, value] : j.items()) leaf_paths(value, path.empty() ? key : path + "." + key, out);
}

json::json_pointer pointer_of(const std::string& dotted) {
  std::string p;
  for (char c : "/" + dotted) p += c == '.' ? '/' : c;
  return json::json_pointer(p);
}

}  // namespace

TEST_CASE("a resolved configuration decodes to the values written and the schema's defaults", "[run_config]") {
  const ablate::Sweep sweep = parse(kSweep + "budget: {kind: seconds, value: 30}\n");
  const ablate::RunConfig c = ablate::decode_run_config(sweep.runs.at(0).config);
  CHECK(c.seed == 5);
  CHECK(c.data.seq_len == 32);
  CHECK(c.data.split_seed == 3);
  CHECK(c.data.val_fraction == 0.1);
  CHECK_FALSE(c.data.drop_near_duplicates);
  CHECK(c.data.corpus == "kjv");
  CHECK(c.data.tokenizer == json{{"kind", "byte"}});
  CHECK(c.data.section == sweep.runs.at(0).config["data"]);
  CHECK(c.model.d_model == 64);
  CHECK(c.model.n_layers == 2);
  CHECK(c.model.vocab_size == 300);
  CHECK(c.model.dropout == 0.0);
  CHECK(c.model.embedding_scale);
  CHECK(c.model.tie_embeddings);
  CHECK(c.model.first_dense_layers == 0);
  CHECK_FALSE(c.model.dense_ffn.has_value());
  CHECK(c.model.rope.pairing == "half");
  CHECK(c.model.rope.base == 10000.0);
  CHECK(c.model.attention["plugin"] == "mha");
  CHECK(c.model.attention["n_heads"] == 4);
  CHECK(c.model.ffn["d_ff"] == 128);
  CHECK(c.model.norm["plugin"] == "rmsnorm");
  CHECK(c.train.steps == 40);
  CHECK(c.train.batch_size == 4);
  CHECK(c.train.grad_accum == 2);
  CHECK(c.train.tokens_per_step(c.data.seq_len) == 4 * 2 * 32);
  CHECK(c.train.optimizer.muon());
  CHECK(c.train.optimizer.lr == 2.0e-3);
  CHECK(c.train.optimizer.muon_lr == 0.02);
  CHECK(c.train.optimizer.momentum == 0.95);
  CHECK(c.train.optimizer.ns_steps == 5);
  CHECK(c.train.optimizer.beta1 == 0.9);
  CHECK(c.train.optimizer.beta2 == 0.999);
  CHECK(c.train.optimizer.eps == 1e-8);
  CHECK(c.train.optimizer.weight_decay == 0.1);
  CHECK(c.train.warmup_fraction == 0.05);
  CHECK(c.train.min_lr_fraction == 0.1);
  CHECK(c.train.grad_clip == 1.0);
  CHECK(c.train.eval_every == 10);
  CHECK(c.train.eval_tokens == 640);
  CHECK(c.train.log_every == 10);
  REQUIRE(c.train.budget.has_value());
  CHECK(c.train.budget->seconds());
  CHECK(c.train.budget->value == 30.0);
  CHECK(c.train.budget->to_json() == sweep.runs.at(0).config["train"]["budget"]);
  CHECK(c.train.eval_split == "validation");

  // Without a budget there is none; a tune stage's tuning runs are scored on the tuning split.
  const ablate::Sweep tuned = parse(kSweep + "tune: {axes: {train.optimizer.lr: [1.0e-3, 3.0e-3]}}\n");
  const ablate::TrainConfig tuning = ablate::decode_train_config(tuned.tune_runs.at(1).config);
  CHECK_FALSE(tuning.budget.has_value());
  CHECK(tuning.eval_split == "tuning");
  CHECK(tuning.optimizer.lr == 3.0e-3);
}

TEST_CASE("every key a sweep resolves is read by the decoder, which refuses its absence naming it", "[run_config]") {
  const json resolved = parse(kSweep + "budget: {kind: tokens, value: 25600}\n").runs.at(0).config;
  std::vector<std::string> paths;
  leaf_paths(resolved, "", paths);
  CHECK(paths.size() > 40);  // every section's keys, not a few
  for (const std::string& path : paths) {
    CAPTURE(path);
    json broken = resolved;
    const auto pointer = pointer_of(path);
    broken[pointer.parent_pointer()].erase(pointer.back());
    if (path.rfind("model.rope.", 0) == 0) {
      CHECK_THROWS(ablate::decode_run_config(broken));  // sweep.h's rope_config reads model.rope
      continue;
    }
    try {
      ablate::decode_run_config(broken);
      FAIL("decoded without " + path);
    } catch (const ablate::Error& e) {
      CHECK_THAT(e.what(), Catch::Contains("'" + path + "'"));
    }
  }
}

TEST_CASE("a value of another type than the schema's is refused naming its key", "[run_config]") {
  const json resolved = parse(kSweep).runs.at(0).config;
  const std::vector<std::pair<std::string, json>> wrong = {
      {"train.steps", 40.5},          {"train.optimizer.lr", "fast"}, {"data.drop_near_duplicates", 0},
      {"model.vocab_size", "300"},    {"train.optimizer.name", 1},    {"model.attention", "mha"},
      {"train.optimizer", json::array()}};
  for (const auto& [path, value] : wrong) {
    CAPTURE(path);
    json broken = resolved;
    broken[pointer_of(path)] = value;
    CHECK_THROWS_WITH(ablate::decode_run_config(broken), Catch::Contains("'" + path + "' must be"));
  }
  CHECK_THROWS_WITH(ablate::decode_run_config(json::array()), Catch::Contains("must be a map"));
  json no_seed = resolved;
  no_seed.erase("seed");
  CHECK_THROWS_WITH(ablate::decode_run_config(no_seed), Catch::Contains("'seed'"));
}

TEST_CASE("the values the host writes after resolution decode back", "[run_config]") {
  json config = parse(kSweep).runs.at(0).config;
  ablate::write_train_steps(config, 77);
  ablate::write_budget(config, {.kind = "flops", .value = 2.5e12});
  ablate::write_micro_batch(config, 2, 4);
  const ablate::TrainConfig train = ablate::decode_train_config(config);
  CHECK(train.steps == 77);
  REQUIRE(train.budget.has_value());
  CHECK(train.budget->kind == "flops");
  CHECK(train.budget->value == 2.5e12);
  CHECK(train.batch_size == 2);
  CHECK(train.grad_accum == 4);
  json no_train = {{"data", config["data"]}};
  CHECK_THROWS_AS(ablate::write_train_steps(no_train, 1), ablate::Error);
}
