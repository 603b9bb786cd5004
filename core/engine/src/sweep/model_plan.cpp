// Planning a model from its configuration (see model_plan.h).
#include "ablate/engine/model_plan.h"

#include <fmt/format.h>

#include "ablate/engine/data.h"
#include "ablate/engine/error.h"
#include "ablate/engine/run_config.h"
#include "ablate/sdk/flops.h"
#include "ablate/engine/sweep.h"

namespace ablate {
namespace {

// The feed-forward slot takes an MLP or an MoE plugin: the name says which.
sdk::Kind ffn_kind(const nlohmann::json& component, const PluginRegistry& registry) {
  const std::string name = component.at("plugin").get<std::string>();
  if (registry.find(sdk::Kind::mlp, name)) return sdk::Kind::mlp;
  if (registry.find(sdk::Kind::moe, name)) return sdk::Kind::moe;
  throw Error(fmt::format("no mlp or moe plugin named '{}'", name));
}

}  // namespace

sdk::ModelContext ModelPlan::context(std::int64_t layer) const {
  sdk::ModelContext ctx;
  ctx.d_model = d_model;
  ctx.n_layers = n_layers;
  ctx.layer_index = layer;
  ctx.seq_len = seq_len;
  ctx.dropout = dropout;
  ctx.rope = rope;
  return ctx;
}

const sdk::ComponentSpec& ModelPlan::ffn_of(std::int64_t layer) const {
  return (layer < first_dense_layers && dense_ffn) ? *dense_ffn : ffn;
}

ModelPlan plan_model(const nlohmann::json& run_config, std::int64_t tokenizer_vocab_size,
                     const PluginRegistry& registry) {
  const ModelConfig m = decode_model_config(run_config);
  ModelPlan plan;
  plan.vocab_size = tokenizer_vocab_size;
  if (m.vocab_size) {
    plan.vocab_size = *m.vocab_size;
    if (plan.vocab_size < tokenizer_vocab_size)
      throw Error(fmt::format("model.vocab_size {} is smaller than the tokenizer's vocabulary {}",
                              plan.vocab_size, tokenizer_vocab_size),
                  "leave model.vocab_size unset to use the tokenizer's");
  }
  plan.d_model = m.d_model;
  plan.n_layers = m.n_layers;
  plan.seq_len = decode_data_config(run_config).seq_len;
  plan.first_dense_layers = m.first_dense_layers;
  plan.dropout = m.dropout;
  plan.embedding_scale = m.embedding_scale;
  plan.tie_embeddings = m.tie_embeddings;
  plan.rope = m.rope;
  plan.attention = component_spec(sdk::Kind::attention, m.attention, registry);
  plan.ffn = component_spec(ffn_kind(m.ffn, registry), m.ffn, registry);
  plan.norm = component_spec(sdk::Kind::norm, m.norm, registry);
  if (plan.first_dense_layers > plan.n_layers)
    throw Error(fmt::format("model.first_dense_layers {} is larger than n_layers {}", plan.first_dense_layers,
                            plan.n_layers));
  const std::int64_t n_dense = m.dense_ffn ? plan.first_dense_layers : 0;
  if (m.dense_ffn)
    plan.dense_ffn = component_spec(sdk::Kind::mlp, *m.dense_ffn, registry);
  else if (plan.first_dense_layers > 0 && plan.ffn.kind == sdk::Kind::moe)
    throw Error("model.first_dense_layers > 0 needs model.dense_ffn (the MLP of those blocks)");

  const std::int64_t d = plan.d_model, V = plan.vocab_size;
  // Active parameters count every dense parameter (the convention: total minus idle experts).
  const sdk::Cost embedding{V * d, V * d, 0.0};
  const sdk::Cost lm_head{plan.tie_embeddings ? 0 : V * d, plan.tie_embeddings ? 0 : V * d,
                          sdk::flops::linear(d, V)};
  const auto ctx = registry.bind(plan.context(0));
  plan.parts.push_back({"embedding", "core", nullptr, 1, embedding});
  plan.parts.push_back({"attention", plan.attention.plugin, m.attention, plan.n_layers,
                        registry.cost(plan.attention, ctx)});
  plan.parts.push_back({"ffn", plan.ffn.plugin, m.ffn, plan.n_layers - n_dense, registry.cost(plan.ffn, ctx)});
  if (n_dense > 0)
    plan.parts.push_back({"dense_ffn", plan.dense_ffn->plugin, *m.dense_ffn, n_dense,
                          registry.cost(*plan.dense_ffn, ctx)});
  plan.parts.push_back({"norm", plan.norm.plugin, m.norm, 2 * plan.n_layers + 1, registry.cost(plan.norm, ctx)});
  plan.parts.push_back({"lm_head", "core", nullptr, 1, lm_head});
  for (const auto& part : plan.parts) {
    plan.total.params_total += part.count * part.cost.params_total;
    plan.total.params_active += part.count * part.cost.params_active;
    plan.total.flops_per_token += static_cast<double>(part.count) * part.cost.flops_per_token;
  }
  return plan;
}

ModelPlan plan_model(const nlohmann::json& run_config, const PluginRegistry& registry) {
  return plan_model(run_config, tokenizer_vocab_size(decode_data_config(run_config).section), registry);
}

}  // namespace ablate
