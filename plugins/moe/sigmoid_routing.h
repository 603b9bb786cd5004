// Sigmoid-scored, group-limited MoE routing with auxiliary-loss-free bias balancing: the routing
// family of DeepSeek-V3 (moe `deepseek_v3`) and GLM-4.5 (moe `glm4`), shared by both plugins.
// Compiled once (sigmoid_routing.cpp) into an object library that both plugin libraries link.
//
// Per token x (docs/components.md, DeepSeek-V3 report §2.1.2, §2.1.3):
//   s_e   = sigmoid(x · w_e), computed in fp32                       affinity, (N, E)
//   c_e   = s_e + b_e                                                 selection score; b a buffer
//   groups: the E experts form n_group contiguous groups of E/n_group; a group's score is the sum
//           of its top-2 c_e (top-1 when a group holds one expert); the topk_group best groups are
//           kept and the c_e of every other expert is set to -inf (DeepSeek-V3's reference code;
//           Hugging Face's port fills 0 instead, which can pick a masked expert once biases go
//           negative);
//   chosen = the top_k experts by c_e;
//   g_e   = s_e (unbiased) of the chosen experts, / Σ_chosen s when norm_topk_prob,
//           × routed_scaling_factor;
//   y     = Σ_chosen g_e · expert_e(x) + shared(x).
// Shared experts: one expert MLP whose d_ff is n_shared · d_ff (DeepSeek-V3's and GLM-4.5's
// `shared_experts`); when the expert plugin has no d_ff option, n_shared separate experts.
//
// Balancing without an auxiliary loss: in training mode every forward adds its per-expert
// assignment counts to a device-side tally; after_optimizer_step() (the trainer calls it after
// each optimizer step) moves b_e ← b_e + γ · sign(mean_e load − load_e) over that tally and
// clears it. Nothing in the routing or the tally reads values back to the host.
//
// Optional sequence-wise balance loss (DeepSeek-V3 eq. 17–20), α = seq_aux_alpha, per sequence
// of T tokens:
//   f_i = E / (k·T) · Σ_t 1[i chosen for t]      (no gradient)
//   P_i = 1/T · Σ_t s_{i,t} / Σ_j s_{j,t}         (unbiased affinities, normalised over experts)
//   L   = α · Σ_i f_i · P_i, averaged over the B sequences of the batch.
// With α = 0 (the default) it is not computed and aux_loss() is undefined.
//
// Dispatch: the SDK's moe_dispatch, as moe `topk` (option `dispatch`: sorted or capacity).
#pragma once

#include <ablate/sdk/moe_dispatch.h>
#include <ablate/sdk/plugin.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace ablate::moe {

struct SigmoidMoeOptions {
  SigmoidMoeOptions(std::int64_t d_model, std::int64_t n_experts, std::int64_t top_k)
      : d_model_(d_model), n_experts_(n_experts), top_k_(top_k) {}
  /// the plugin's name, for printing ("deepseek_v3", "glm4")
  TORCH_ARG(std::string, name) = "sigmoid_moe";
  /// model width
  TORCH_ARG(std::int64_t, d_model);
  /// routed experts E
  TORCH_ARG(std::int64_t, n_experts);
  /// routed experts per token k
  TORCH_ARG(std::int64_t, top_k);
  /// expert groups; E must be divisible by it; default 1
  TORCH_ARG(std::int64_t, n_group) = 1;
  /// groups kept per token; default 1
  TORCH_ARG(std::int64_t, topk_group) = 1;
  /// factor on the routed experts' weights; default 1
  TORCH_ARG(double, routed_scaling_factor) = 1.0;
  /// divide the chosen experts' weights by their sum; default true
  TORCH_ARG(bool, norm_topk_prob) = true;
  /// γ of the bias balancing update; default 0.001
  TORCH_ARG(double, bias_update_rate) = 0.001;
  /// α of the sequence-wise balance loss; default 0 (off)
  TORCH_ARG(double, seq_aux_alpha) = 0.0;
  /// shared experts added for every token; default 1
  TORCH_ARG(std::int64_t, n_shared) = 1;
  /// token dispatch strategy and its capacity factor (moe_dispatch.h)
  TORCH_ARG(sdk::MoeDispatchOptions, dispatch) = {};
};

/// Throws std::invalid_argument when the options contradict each other.
void check(const SigmoidMoeOptions& options);

/// The routing of N tokens: (N, E) logits and the (E,) bias → chosen experts and their weights.
struct Routing {
  at::Tensor scores;   // (N, E) fp32 s_e, unbiased
  at::Tensor experts;  // (N, k) int64 chosen experts
  at::Tensor weights;  // (N, k) fp32 g_e
};
Routing route(const at::Tensor& logits, const at::Tensor& bias, const SigmoidMoeOptions& options);

/// The expert spec of the shared expert: `expert` with d_ff × n_shared; nullopt when the expert
/// plugin has no integer d_ff option (then n_shared copies of `expert` are built).
std::optional<sdk::ComponentSpec> widened_shared_expert(const sdk::ComponentSpec& expert, std::int64_t n_shared);

class SigmoidMoeImpl : public sdk::ComponentImpl {
 public:
  SigmoidMoeImpl(const SigmoidMoeOptions& options, const sdk::ComponentSpec& expert, const sdk::ModelContext& ctx);

  void reset();
  torch::Tensor forward(const torch::Tensor& x) override;
  torch::Tensor aux_loss() const override { return aux_; }
  torch::Tensor expert_load() const override { return load_; }
  void after_optimizer_step() override;
  void pretty_print(std::ostream& stream) const override;

  SigmoidMoeOptions options;
  torch::nn::Linear router{nullptr};
  torch::nn::ModuleList experts{nullptr};
  /// b, (E,) fp32: a buffer (saved with the model, no gradient), zero at start
  torch::Tensor e_score_correction_bias;

 private:
  sdk::ComponentSpec expert_spec_;
  sdk::ModelContext ctx_;
  std::vector<std::shared_ptr<sdk::ComponentImpl>> expert_modules_;
  std::vector<std::shared_ptr<sdk::ComponentImpl>> shared_modules_;
  torch::Tensor aux_, load_;
  torch::Tensor pending_counts_;  // (E,) fp32 assignments of the training forwards since the last update
};
TORCH_MODULE(SigmoidMoe);

/// Option rows shared by the plugins of this family; each plugin picks its own defaults.
namespace option {
using sdk::OptionSpec;
using sdk::OptionType;
constexpr OptionSpec n_experts(const char* default_value) {
  return {.name = "n_experts", .type = OptionType::integer, .default_value = default_value, .doc = "routed experts E", .min = 1};
}
constexpr OptionSpec top_k(const char* default_value) {
  return {.name = "top_k", .type = OptionType::integer, .default_value = default_value,
          .doc = "routed experts per token k", .min = 1};
}
constexpr OptionSpec n_group(const char* default_value) {
  return {.name = "n_group", .type = OptionType::integer, .default_value = default_value,
          .doc = "expert groups for group-limited routing (divides n_experts)", .min = 1};
}
constexpr OptionSpec topk_group(const char* default_value) {
  return {.name = "topk_group", .type = OptionType::integer, .default_value = default_value,
          .doc = "groups kept per token, ranked by the sum of their top-2 biased scores", .min = 1};
}
constexpr OptionSpec routed_scaling_factor(const char* default_value) {
  return {.name = "routed_scaling_factor", .type = OptionType::number, .default_value = default_value,
          .doc = "factor on the routed experts' weights", .min = 0.0};
}
constexpr OptionSpec norm_topk_prob(const char* default_value) {
  return {.name = "norm_topk_prob", .type = OptionType::boolean, .default_value = default_value,
          .doc = "divide the chosen experts' sigmoid scores by their sum"};
}
constexpr OptionSpec bias_update_rate(const char* default_value) {
  return {.name = "bias_update_rate", .type = OptionType::number, .default_value = default_value,
          .doc = "gamma of the loss-free balancing: b_e += gamma * sign(mean load - load_e) per step", .min = 0.0};
}
constexpr OptionSpec seq_aux_alpha(const char* default_value) {
  return {.name = "seq_aux_alpha", .type = OptionType::number, .default_value = default_value,
          .doc = "alpha of the sequence-wise balance loss (0: off)", .min = 0.0};
}
constexpr OptionSpec n_shared(const char* default_value) {
  return {.name = "n_shared", .type = OptionType::integer, .default_value = default_value,
          .doc = "shared experts for every token, built as one MLP of width n_shared * d_ff", .min = 0};
}
constexpr OptionSpec expert() {
  return {.name = "expert", .type = OptionType::component, .default_value = nullptr,
          .doc = "the expert MLP, e.g. {plugin: swiglu, d_ff: 1024} (required)", .choices = "mlp"};
}
}  // namespace option

/// The module options from validated plugin options (every option above present).
SigmoidMoeOptions options_of(const std::string& name, const sdk::ModelContext& ctx, const sdk::Options& o);

/// Builds the module; `name` is the plugin's.
std::shared_ptr<sdk::ComponentImpl> make(const std::string& name, const sdk::ModelContext& ctx, const sdk::Options& o);

/// Exact parameters (router d·E, E routed experts, shared expert(s)), active parameters
/// (router + k experts + shared) and forward FLOPs per token; checks the options.
sdk::Cost cost(const sdk::ModelContext& ctx, const sdk::Options& o);

}  // namespace ablate::moe
