// moe `glm4` (GLM-4.5's MoE, docs/components.md): the routing family of moe `deepseek_v3`
// (sigmoid_routing.h) with GLM-4.5's defaults: sigmoid scores, a zero-initialised correction bias
// balanced after each optimizer step, no group limit (n_group = topk_group = 1), norm_topk_prob
// on, one shared expert. GLM-4.5 uses it with its first block(s) dense (the skeleton's
// `first_dense_layers`).
//
// routed_scaling_factor: 1.0, the default of Hugging Face's Glm4MoeConfig and GLM-4.5-Air's
// value (128 experts, k 8, first block dense: the configuration docs/components.md describes); the
// larger GLM-4.5 (355B, first 3 blocks dense) uses 2.5: set it per arm to reproduce that one.
// seq_aux_alpha defaults to 0, as for deepseek_v3. At these small defaults glm4 and deepseek_v3
// build the same module; they part at the published sizes (DeepSeek-V3: 8 groups, 4 kept, 2.5).
#include "sigmoid_routing.h"

namespace {

using namespace ablate::sdk;
namespace option = ablate::moe::option;

const OptionSpec kOptions[] = {
    option::n_experts("8"),
    option::top_k("2"),
    option::n_group("1"),
    option::topk_group("1"),
    option::routed_scaling_factor("1.0"),
    option::norm_topk_prob("true"),
    option::bias_update_rate("0.001"),
    option::seq_aux_alpha("0.0"),
    option::n_shared("1"),
    option::expert(),
    moe_dispatch_option(),
    moe_capacity_factor_option(),
};

std::shared_ptr<ComponentImpl> make(const ModelContext& ctx, const Options& o) {
  return ablate::moe::make("glm4", ctx, o);
}

Cost cost(const ModelContext& ctx, const Options& o) { return ablate::moe::cost(ctx, o); }

}  // namespace

ABLATE_PLUGIN(moe, "glm4", "GLM-4.5 MoE: sigmoid top-k routing, loss-free bias balancing, a shared expert",
              kOptions, make, cost)
