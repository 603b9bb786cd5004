// The model skeleton (see model.h).
#include "ablate/train/model.h"

#include <cmath>

#include <fmt/format.h>
#include <torch/nn/functional/linear.h>
#include <torch/nn/init.h>

#include "ablate/engine/error.h"

namespace ablate {

BlockImpl::BlockImpl(const ModelPlan& plan, std::int64_t layer, const PluginRegistry& registry) {
  const auto ctx = plan.context(layer);
  norm1 = register_module("norm1", registry.create(plan.norm, ctx));
  attention = register_module("attention", registry.create(plan.attention, ctx));
  norm2 = register_module("norm2", registry.create(plan.norm, ctx));
  ffn = register_module("ffn", registry.create(plan.ffn_of(layer), ctx));
  drop = register_module("drop", torch::nn::Dropout(plan.dropout));
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x) {
  auto h = x + drop(attention->forward(norm1->forward(x)));
  return h + drop(ffn->forward(norm2->forward(h)));
}

TransformerImpl::TransformerImpl(const ModelPlan& plan_, const PluginRegistry& registry) : plan(plan_) {
  embedding = register_module("embedding", torch::nn::Embedding(plan.vocab_size, plan.d_model));
  {
    torch::NoGradGuard no_grad;
    torch::nn::init::normal_(embedding->weight, 0.0, 0.02);
  }
  drop = register_module("drop", torch::nn::Dropout(plan.dropout));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (std::int64_t layer = 0; layer < plan.n_layers; ++layer) {
    Block block(plan, layer, registry);
    blocks->push_back(block);
    block_list_.push_back(block);
    for (const auto& c : {block->norm1, block->attention, block->norm2, block->ffn}) components_.push_back(c);
  }
  final_norm = register_module("final_norm", registry.create(plan.norm, plan.context(-1)));
  components_.push_back(final_norm);
  if (!plan.tie_embeddings) {
    lm_head = register_module("lm_head", torch::nn::Linear(torch::nn::LinearOptions(plan.d_model, plan.vocab_size).bias(false)));
    torch::NoGradGuard no_grad;
    torch::nn::init::normal_(lm_head->weight, 0.0, 0.02);
  }
  const std::int64_t built = parameter_count();
  if (built != plan.total.params_total)
    throw Error(fmt::format("the built model has {} parameters but its plugins' cost functions add up to {}",
                            built, plan.total.params_total),
                "a plugin's cost() disagrees with the module it builds: fix the plugin");
}

torch::Tensor TransformerImpl::forward(const torch::Tensor& tokens) {
  return torch::nn::functional::linear(hidden_states(embedding(tokens)),
                                       plan.tie_embeddings ? embedding->weight : lm_head->weight);
}

torch::Tensor TransformerImpl::hidden_states(const torch::Tensor& embedded) {
  auto x = embedded;  // (B, T, d)
  if (plan.embedding_scale) x = x * std::sqrt(static_cast<double>(plan.d_model));
  x = drop(x);
  for (auto& block : block_list_) x = block->forward(x);
  return final_norm->forward(x);
}

torch::Tensor TransformerImpl::aux_loss() const {
  torch::Tensor total;
  for (const auto& c : components_) {
    const auto aux = c->aux_loss();
    if (aux.defined()) total = total.defined() ? total + aux : aux;
  }
  return total.defined() ? total : torch::zeros({}, embedding->weight.options());
}

std::vector<torch::Tensor> TransformerImpl::expert_loads() const {
  std::vector<torch::Tensor> loads;
  for (const auto& c : components_) {
    const auto load = c->expert_load();
    if (load.defined()) loads.push_back(load);
  }
  return loads;
}

std::vector<TransformerImpl::PlacedComponent> TransformerImpl::placed_components() const {
  const auto named = [](const std::string& slot, const sdk::ComponentSpec& spec) {
    return fmt::format("{} ({} '{}')", slot, sdk::kind_name(spec.kind), spec.plugin);
  };
  std::vector<PlacedComponent> placed;
  for (std::int64_t layer = 0; layer < plan.n_layers; ++layer) {
    const Block& block = block_list_[static_cast<std::size_t>(layer)];
    const std::string at = fmt::format("block {} ", layer);
    const bool dense = layer < plan.first_dense_layers && plan.dense_ffn;
    placed.push_back({named(at + "norm1", plan.norm), layer, "model.norm", block->norm1});
    placed.push_back({named(at + "attention", plan.attention), layer, "model.attention", block->attention});
    placed.push_back({named(at + "norm2", plan.norm), layer, "model.norm", block->norm2});
    placed.push_back({named(at + "ffn", plan.ffn_of(layer)), layer, dense ? "model.dense_ffn" : "model.ffn", block->ffn});
  }
  placed.push_back({named("final norm", plan.norm), -1, "model.norm", final_norm});
  return placed;
}

void TransformerImpl::after_optimizer_step() {
  for (const auto& c : components_) c->after_optimizer_step();
}

void TransformerImpl::pretty_print(std::ostream& stream) const {
  const auto& r = plan.rope;
  stream << fmt::format(
      "ablate::Transformer(vocab_size={}, d_model={}, n_layers={}, seq_len={}, dropout={}, embedding_scale={}, "
      "tie_embeddings={}, first_dense_layers={}, rope=(base={}, pairing={}, scaling={}, factor={}, max_position={}, "
      "original_max_position={}, beta_fast={}, beta_slow={}, mscale={}, mscale_all_dim={}))",
      plan.vocab_size, plan.d_model, plan.n_layers, plan.seq_len, plan.dropout, plan.embedding_scale,
      plan.tie_embeddings, plan.first_dense_layers, r.base, r.pairing, r.scaling, r.factor, r.max_position,
      r.original_max_position, r.beta_fast, r.beta_slow, r.mscale, r.mscale_all_dim);
}

std::int64_t TransformerImpl::parameter_count() const { return ablate::parameter_count(*this); }

std::int64_t parameter_count(const torch::nn::Module& module) {
  std::int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace ablate
