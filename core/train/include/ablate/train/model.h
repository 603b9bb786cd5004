// The model skeleton (docs/components.md, "Model skeleton"): token embedding (scaled by sqrt(d)
// when asked), dropout, L pre-norm blocks  x += drop(attn(norm1(x))); x += drop(ffn(norm2(x))),
// final norm, LM head tied to the embedding (or not). Every component comes from a plugin, as the
// plan says.
//
//   Transformer model(plan, registry);
//   auto logits = model->forward(tokens);   // (B, T) int64 → (B, T, V)
#pragma once

#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include "ablate/engine/model_plan.h"
#include "ablate/sdk/component.h"

namespace ablate {

class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(const ModelPlan& plan, std::int64_t layer, const PluginRegistry& registry);
  torch::Tensor forward(const torch::Tensor& x);  // (B, T, d) → (B, T, d)

  std::shared_ptr<sdk::ComponentImpl> norm1, attention, norm2, ffn;
  torch::nn::Dropout drop{nullptr};
};
TORCH_MODULE(Block);

class TransformerImpl : public torch::nn::Module {
 public:
  TransformerImpl(const ModelPlan& plan, const PluginRegistry& registry);

  /// tokens: (B, T) int64 → logits (B, T, V)
  torch::Tensor forward(const torch::Tensor& tokens);
  /// The hidden states after the final norm (B, T, d), from the embedding's output (B, T, d) on:
  /// scale, dropout, blocks, final norm. The causality proof checks this map (causality.h): the
  /// embedding before it is a lookup per position, the LM head after it a Linear per position.
  torch::Tensor hidden_states(const torch::Tensor& embedded);
  /// Σ of the MoE auxiliary losses of the last forward; a zero scalar when there are none.
  torch::Tensor aux_loss() const;
  /// Per MoE block: expert load (E,) of the last forward.
  std::vector<torch::Tensor> expert_loads() const;
  /// Every plugin module with where it sits, in forward order (the causality proof names them).
  struct PlacedComponent {
    std::string name;     // "block 1 attention (attention 'mha')", "final norm (norm 'rmsnorm')"
    std::int64_t layer;   // block index; -1 for the final norm
    std::string config_key;  // the configuration key that chose it: "model.attention"...
    std::shared_ptr<sdk::ComponentImpl> module;
  };
  std::vector<PlacedComponent> placed_components() const;
  /// Forwards the trainer's "optimizer stepped" notice to every component.
  void after_optimizer_step();
  /// Trainable parameters of the built module (compared with the plan's count).
  std::int64_t parameter_count() const;
  /// The skeleton's own settings (RoPE included: two models that differ only there differ here).
  void pretty_print(std::ostream& stream) const override;

  ModelPlan plan;
  torch::nn::Embedding embedding{nullptr};
  torch::nn::Dropout drop{nullptr};
  torch::nn::ModuleList blocks{nullptr};
  std::shared_ptr<sdk::ComponentImpl> final_norm;
  torch::nn::Linear lm_head{nullptr};  // null when tied to the embedding

 private:
  std::vector<std::shared_ptr<sdk::ComponentImpl>> components_;  // every plugin module, for the hooks
  std::vector<Block> block_list_;
};
TORCH_MODULE(Transformer);

/// Trainable parameters of any built module (a whole model, one component).
std::int64_t parameter_count(const torch::nn::Module& module);

}  // namespace ablate
