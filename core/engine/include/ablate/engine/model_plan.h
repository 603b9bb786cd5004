// What a run's model is made of, worked out from its resolved configuration before anything is
// built: the component of every slot, and the parameters and FLOPs of each part from the
// plugins' own cost functions. `ablate expand` prints it; the trainer builds exactly this plan and
// checks that the built module has the parameter count the plan says.
//
// Torch-free.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ablate/engine/plugin_registry.h"

namespace ablate {

/// One kind of part of the model, present `count` times (e.g. the attention of every block).
struct PartCost {
  std::string part;            // "embedding", "attention", "ffn", "dense_ffn", "norm", "lm_head"
  std::string plugin;          // plugin name, or "core" for the skeleton's own parts
  nlohmann::json options;      // the component's resolved options (plugin included)
  std::int64_t count = 1;      // how many of these the model has
  sdk::Cost cost;              // of one
};

struct ModelPlan {
  std::int64_t vocab_size = 0;
  std::int64_t d_model = 0;
  std::int64_t n_layers = 0;
  std::int64_t seq_len = 0;
  std::int64_t first_dense_layers = 0;  // blocks [0, first_dense_layers) use dense_ffn
  double dropout = 0.0;
  bool embedding_scale = true;
  bool tie_embeddings = true;
  sdk::RopeConfig rope;
  sdk::ComponentSpec attention, ffn, norm;
  std::optional<sdk::ComponentSpec> dense_ffn;
  std::vector<PartCost> parts;
  sdk::Cost total;  // Σ count · cost over parts (LM-head FLOPs included, tied or not)

  /// The context handed to the component plugins of block `layer` (-1: the final norm).
  sdk::ModelContext context(std::int64_t layer) const;
  /// The feed-forward component of block `layer`.
  const sdk::ComponentSpec& ffn_of(std::int64_t layer) const;
};

/// Training FLOPs per forward FLOP: forward + backward ≈ 3 forward passes (the backward pass costs
/// about twice the forward), the one rule of FLOP budgets, summaries, plan and plots.
inline constexpr double kTrainFlopsPerForwardFlop = 3.0;
/// Training FLOPs of `tokens` tokens through a model of `flops_per_token` forward FLOPs per token.
inline double train_flops(double flops_per_token, double tokens) {
  return kTrainFlopsPerForwardFlop * flops_per_token * tokens;
}

/// Plans the model of a resolved run configuration (sweep.h). `vocab_size` is the tokenizer's;
/// model.vocab_size, when set, must be at least that. Throws ablate::Error on inconsistent options.
ModelPlan plan_model(const nlohmann::json& run_config, std::int64_t tokenizer_vocab_size,
                     const PluginRegistry& registry);
/// The same with the vocabulary of the run's own tokenizer (data.h: tokenizer_vocab_size), for a
/// plan made before its data is prepared.
ModelPlan plan_model(const nlohmann::json& run_config, const PluginRegistry& registry);

}  // namespace ablate
