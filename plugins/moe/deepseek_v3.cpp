// moe `deepseek_v3` (DeepSeek-V3's DeepSeekMoE, docs/components.md): sigmoid affinities in fp32,
// group-limited top-k selection on the affinities plus a per-expert correction bias, weights from
// the unbiased affinities (normalised, times routed_scaling_factor), auxiliary-loss-free balancing
// of the bias after each optimizer step, optional sequence-wise balance loss, and shared experts.
// The routing is shared with moe `glm4`: sigmoid_routing.h has the formulas.
//
// Defaults are sized for this tool's small models (8 experts, k 2, one group, scaling 1); the
// published DeepSeek-V3 uses n_experts 256, top_k 8, n_group 8, topk_group 4,
// routed_scaling_factor 2.5, norm_topk_prob true, n_shared 1, bias_update_rate 0.001 (then 0 for
// the last 500B tokens) and seq_aux_alpha 0.0001.
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
  return ablate::moe::make("deepseek_v3", ctx, o);
}

Cost cost(const ModelContext& ctx, const Options& o) { return ablate::moe::cost(ctx, o); }

}  // namespace

ABLATE_PLUGIN(moe, "deepseek_v3",
              "DeepSeek-V3 MoE: sigmoid group-limited routing, loss-free bias balancing, shared experts", kOptions,
              make, cost)
