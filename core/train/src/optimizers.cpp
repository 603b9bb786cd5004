// A run's optimizers (optimizers.h).
#include "optimizers.h"

#include <string>
#include <vector>

namespace ablate {
namespace {

// Muon takes the 2-D hidden matrices; the embedding (and LM head) stay with AdamW.
bool is_hidden_matrix(const std::string& name, const torch::Tensor& p) {
  return p.dim() == 2 && name != "embedding.weight" && name != "lm_head.weight";
}

}  // namespace

RunOptimizers make_optimizers(Transformer& model, const OptimizerConfig& optimizer) {
  const bool with_muon = optimizer.muon();
  std::vector<torch::Tensor> hidden, decay, no_decay;
  for (const auto& item : model->named_parameters()) {
    if (with_muon && is_hidden_matrix(item.key(), item.value()))
      hidden.push_back(item.value());
    else
      (item.value().dim() >= 2 ? decay : no_decay).push_back(item.value());
  }
  const auto adamw_options = [&](double weight_decay) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(optimizer.lr)
            .betas({optimizer.beta1, optimizer.beta2})
            .eps(optimizer.eps)
            .weight_decay(weight_decay));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, adamw_options(optimizer.weight_decay));
  groups.emplace_back(no_decay, adamw_options(0.0));
  RunOptimizers optimizers;
  optimizers.adamw = std::make_unique<FusedAdamW>(std::move(groups), *adamw_options(0.0));
  if (with_muon)
    optimizers.muon =
        std::make_unique<Muon>(hidden, MuonOptions{.momentum = optimizer.momentum, .ns_steps = optimizer.ns_steps});
  return optimizers;
}

}  // namespace ablate
