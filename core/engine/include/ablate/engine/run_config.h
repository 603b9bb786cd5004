// A run's resolved configuration (sweep.h: {"data", "model", "train", "seed"}, every default filled
// in) as typed structs, decoded in one place: a key renamed in the schema (sweep/schema.cpp) is
// renamed here, and the trainer, the plan and the budget read fields the compiler checks instead of
// looking keys up by name. Each field's comment is its row of docs/sweep-format.md.
//
//   const RunConfig config = decode_run_config(run.config);
//   const std::int64_t steps = config.train.steps;
//
// A section can be decoded alone (decode_train_config(run.config)) where the others are not
// needed. Component options and the corpus and tokenizer maps stay JSON: their plugins (and the
// data module) validate and read them. A missing key or a value of the wrong type throws
// ablate::Error naming its dotted path. Torch-free.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "ablate/sdk/rope_config.h"

namespace ablate {

/// `data`: corpus, tokenizer and split.
struct DataConfig {
  /// The section as resolved: what prepare_data and tokenizer_vocab_size read (data.h), and what
  /// runs that share their prepared data have in common.
  nlohmann::json section;
  nlohmann::json corpus;     // kjv | {text: PATH} | {jsonl: PATH, field: NAME} | {tokens: PATH-OR-GLOB, format: ...}
  /// {kind: bpe, vocab_size: N} | {kind: byte} | {kind: sentencepiece, model: PATH} | {kind: pretokenized, ...}
  nlohmann::json tokenizer;
  std::int64_t seq_len = 0;  // tokens per training window (T)
  double val_fraction = 0.0;  // fraction of the documents (by characters) held out for validation
  std::int64_t split_seed = 0;  // seed of the document shuffle that makes the split
  bool drop_near_duplicates = false;  // leave out of validation the documents with a near-twin in training
};

/// `model`: sizes, skeleton options, components. plan_model (model_plan.h) turns it into a plan.
struct ModelConfig {
  nlohmann::json section;  // the section as resolved (the model's identity for the proofs and the plan)
  std::int64_t d_model = 0;   // width of the residual stream (d)
  std::int64_t n_layers = 0;  // transformer blocks
  /// embedding rows; none (null) = the tokenizer's vocabulary (when set, at least that)
  std::optional<std::int64_t> vocab_size;
  double dropout = 0.0;         // dropout probability in training
  bool embedding_scale = true;  // multiply token embeddings by sqrt(d_model)
  bool tie_embeddings = true;   // the LM head shares the embedding matrix
  std::int64_t first_dense_layers = 0;  // the first N blocks use dense_ffn instead of ffn
  /// MLP of the first_dense_layers blocks (required when those are > 0 and ffn is an MoE); none = null.
  std::optional<nlohmann::json> dense_ffn;
  sdk::RopeConfig rope;      // rotary position embedding
  nlohmann::json attention;  // attention of every block: {plugin: NAME, <its options>}
  nlohmann::json ffn;        // feed-forward of every block: an MLP or an MoE plugin
  nlohmann::json norm;       // the pre-norms of every block and the final norm
};

/// `train.optimizer`: AdamW or Muon + AdamW settings.
struct OptimizerConfig {
  /// adamw: AdamW for everything; muon: Muon for 2-D hidden matrices, AdamW for the rest
  std::string name = "adamw";
  double lr = 0.0;             // peak learning rate of AdamW
  double muon_lr = 0.0;        // muon: peak learning rate of the Muon matrices
  double momentum = 0.0;       // muon: Nesterov momentum
  std::int64_t ns_steps = 0;   // muon: Newton-Schulz iterations
  double beta1 = 0.0;          // first-moment decay
  double beta2 = 0.0;          // second-moment decay
  double eps = 0.0;            // added to the denominator
  double weight_decay = 0.0;   // decoupled weight decay (matrices only)

  bool muon() const { return name == "muon"; }
};

/// `train.budget`, written by the sweep's `budget:` (sweep-format.md, "Budget") for every kind but
/// steps: the unit every run of the sweep gets the same amount of.
struct BudgetConfig {
  std::string kind;    // tokens | flops | seconds (steps budgets set train.steps alone)
  double value = 0.0;  // per run: tokens, training FLOPs or seconds of training

  bool seconds() const { return kind == "seconds"; }
  /// {"kind": ..., "value": ...}, as the configuration and summary.json hold it.
  nlohmann::json to_json() const { return {{"kind", kind}, {"value", value}}; }
};

/// `train`: optimisation and evaluation.
struct TrainConfig {
  std::int64_t steps = 0;       // optimizer steps (a time budget's cap)
  std::int64_t batch_size = 0;  // sequences per micro-batch (B)
  std::int64_t grad_accum = 0;  // micro-batches per optimizer step
  OptimizerConfig optimizer;    // AdamW or Muon + AdamW settings
  double warmup_fraction = 0.0;  // fraction of the steps with linear warmup
  double min_lr_fraction = 0.0;  // the cosine decay ends at this fraction of lr
  double grad_clip = 0.0;        // global gradient-norm clip; 0 = off
  std::int64_t eval_every = 0;   // steps between evaluations
  /// validation tokens scored at every evaluation, in whole windows of seq_len: the same tokens for
  /// every run whatever its batch size
  std::int64_t eval_tokens = 0;
  std::int64_t log_every = 0;    // steps between progress lines
  std::optional<BudgetConfig> budget;  // none: the run trains train.steps (a steps budget, or none)
  /// The validation documents the run is scored on (evaluation.h): validation (the whole split) or,
  /// in a sweep with a tune stage, tuning (tuning runs) and final (replication runs).
  std::string eval_split = "validation";

  std::int64_t tokens_per_step(std::int64_t seq_len) const { return batch_size * grad_accum * seq_len; }
};

struct RunConfig {
  DataConfig data;
  ModelConfig model;
  TrainConfig train;
  std::int64_t seed = 0;  // the run's seed: initialisation, dropout, batches
};

/// The whole resolved configuration; throws ablate::Error naming the first missing or mistyped key.
RunConfig decode_run_config(const nlohmann::json& resolved);
/// One section of it (the others may be absent).
DataConfig decode_data_config(const nlohmann::json& resolved);
ModelConfig decode_model_config(const nlohmann::json& resolved);
TrainConfig decode_train_config(const nlohmann::json& resolved);

/// The few values the host writes into a resolved configuration after the sweep resolved it,
/// beside their readers, so that each key is named in this one file.
/// train.steps: what a budget of steps, tokens or FLOPs comes to.
void write_train_steps(nlohmann::json& resolved, std::int64_t steps);
/// train.budget.
void write_budget(nlohmann::json& resolved, const BudgetConfig& budget);
/// train.batch_size and train.grad_accum (an out-of-memory retry halves one and doubles the other).
void write_micro_batch(nlohmann::json& resolved, std::int64_t batch_size, std::int64_t grad_accum);

}  // namespace ablate
