// ablate SDK: the module every component plugin builds.
//
// A component maps the residual stream (B, T, d_model) to (B, T, d_model). Plugins write it in
// LibTorch's own style: `struct MhaImpl : ablate::sdk::ComponentImpl {...}; TORCH_MODULE(Mha);`.
// The skeleton calls `forward` and, for MoE layers, reads `aux_loss` and `expert_load` after it.
#pragma once

#include <torch/nn/module.h>

namespace ablate::sdk {

class ComponentImpl : public torch::nn::Module {
 public:
  /// x: (B, T, d_model) → (B, T, d_model)
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;

  /// MoE: auxiliary balancing loss of the last forward (scalar tensor); undefined when none.
  virtual torch::Tensor aux_loss() const { return {}; }

  /// MoE: fraction of (token, slot) assignments per expert in the last forward, shape (E,);
  /// undefined for components that do not route.
  virtual torch::Tensor expert_load() const { return {}; }

  /// Called by the trainer after every optimizer step (e.g. auxiliary-loss-free bias balancing).
  virtual void after_optimizer_step() {}
};

}  // namespace ablate::sdk
