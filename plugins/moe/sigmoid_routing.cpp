// The routing family of moe `deepseek_v3` and `glm4`; see sigmoid_routing.h for the formulas.
#include "sigmoid_routing.h"

#include <ablate/sdk/functional.h>

#include <limits>
#include <ostream>
#include <stdexcept>

#include <ATen/ATen.h>
#include <torch/nn/functional/linear.h>
#include <torch/utils.h>

namespace ablate::moe {

using namespace ablate::sdk;

void check(const SigmoidMoeOptions& o) {
  const auto str = [](std::int64_t v) { return std::to_string(v); };
  if (o.top_k() > o.n_experts())
    throw std::invalid_argument("top_k " + str(o.top_k()) + " is larger than n_experts " + str(o.n_experts()));
  if (o.n_experts() % o.n_group() != 0)
    throw std::invalid_argument("n_experts " + str(o.n_experts()) + " is not divisible by n_group " + str(o.n_group()));
  if (o.topk_group() > o.n_group())
    throw std::invalid_argument("topk_group " + str(o.topk_group()) + " is larger than n_group " + str(o.n_group()));
  const std::int64_t reachable = o.topk_group() * (o.n_experts() / o.n_group());
  if (o.top_k() > reachable)
    throw std::invalid_argument("top_k " + str(o.top_k()) + " is larger than the " + str(reachable) +
                                " experts in topk_group " + str(o.topk_group()) + " groups of " +
                                str(o.n_experts() / o.n_group()));
}

Routing route(const at::Tensor& logits, const at::Tensor& bias, const SigmoidMoeOptions& o) {
  const std::int64_t E = o.n_experts(), G = o.n_group();
  const auto scores = at::sigmoid(logits.to(at::kFloat));  // (N, E) s
  auto choice = scores + bias.to(at::kFloat);               // (N, E) s + b
  if (o.topk_group() < G) {
    const std::int64_t N = choice.size(0), per_group = E / G;
    const auto grouped = choice.view({N, G, per_group});
    const auto group_scores = std::get<0>(grouped.topk(std::min<std::int64_t>(2, per_group), -1)).sum(-1);  // (N, G)
    const auto kept = std::get<1>(group_scores.topk(o.topk_group(), -1));                                   // (N, kg)
    const auto keep = at::zeros({N, G}, choice.options().dtype(at::kBool)).scatter_(1, kept, true);         // (N, G)
    choice = grouped.masked_fill(keep.logical_not().unsqueeze(-1), -std::numeric_limits<float>::infinity())
                 .view({N, E});
  }
  const auto experts = std::get<1>(choice.topk(o.top_k(), -1));  // (N, k)
  auto weights = scores.gather(1, experts);                       // (N, k) unbiased s of the chosen
  if (o.norm_topk_prob()) weights = weights / (weights.sum(-1, true) + 1e-20);
  return {scores, experts, weights * o.routed_scaling_factor()};
}

std::optional<ComponentSpec> widened_shared_expert(const ComponentSpec& expert, std::int64_t n_shared) {
  const auto it = expert.options.values.find("d_ff");
  if (it == expert.options.values.end()) return std::nullopt;
  const auto* d_ff = std::get_if<std::int64_t>(&it->second);
  if (d_ff == nullptr) return std::nullopt;
  ComponentSpec widened = expert;
  widened.options.values["d_ff"] = *d_ff * n_shared;
  return widened;
}

SigmoidMoeImpl::SigmoidMoeImpl(const SigmoidMoeOptions& options, const ComponentSpec& expert, const ModelContext& ctx)
    : options(options), expert_spec_(expert), ctx_(ctx) {
  check(options);
  reset();
}

void SigmoidMoeImpl::reset() {
  router = register_module("router", make_linear(options.d_model(), options.n_experts(), false));
  e_score_correction_bias = register_buffer("e_score_correction_bias", at::zeros({options.n_experts()}, at::kFloat));
  experts = register_module("experts", torch::nn::ModuleList());
  expert_modules_.clear();
  for (std::int64_t e = 0; e < options.n_experts(); ++e) {
    auto expert = ctx_.build(expert_spec_, ctx_);
    experts->push_back(expert);
    expert_modules_.push_back(expert);
  }
  shared_modules_.clear();
  if (options.n_shared() == 0) return;
  if (const auto widened = widened_shared_expert(expert_spec_, options.n_shared())) {
    shared_modules_.push_back(register_module("shared_experts", ctx_.build(*widened, ctx_)));
  } else {
    auto list = register_module("shared_experts", torch::nn::ModuleList());
    for (std::int64_t i = 0; i < options.n_shared(); ++i) {
      auto shared = ctx_.build(expert_spec_, ctx_);
      list->push_back(shared);
      shared_modules_.push_back(shared);
    }
  }
}

torch::Tensor SigmoidMoeImpl::forward(const torch::Tensor& x) {
  const std::int64_t E = options.n_experts(), k = options.top_k(), d = options.d_model();
  const auto flat = x.reshape({-1, d});  // (N, d)
  const std::int64_t N = flat.size(0);
  const auto logits = torch::nn::functional::linear(flat.to(at::kFloat), router->weight.to(at::kFloat));  // (N, E)
  const Routing r = route(logits, e_score_correction_bias, options);

  // (N, E) one-hot of the chosen experts; its column sums are the per-expert counts (no sync).
  const auto chosen = at::zeros({N, E}, r.scores.options()).scatter_(1, r.experts, 1.0f);
  const auto counts = chosen.sum(0);  // (E,) fp32

  // (B, T, d): a capacity is per sequence, so no sequence of the batch sees another.
  const auto routed = moe_dispatch(x.dim() == 3 ? x : flat, r.experts, r.weights,
                                   moe_experts(expert_spec_, expert_modules_), options.dispatch());
  auto y = routed.output.view(x.sizes()).to(x.scalar_type());
  for (const auto& shared : shared_modules_) y = y + shared->forward(x);

  // What each expert computed: 1 − Σ load is the fraction dropped by capacity.
  load_ = ((counts - routed.dropped.to(counts.scalar_type())) / static_cast<double>(N * k)).detach();
  if (is_training()) {
    const auto detached = counts.detach();
    if (!pending_counts_.defined() || pending_counts_.device() != detached.device())
      pending_counts_ = at::zeros_like(detached);
    pending_counts_.add_(detached);
  }

  aux_ = torch::Tensor();
  if (options.seq_aux_alpha() > 0) {
    const std::int64_t B = x.dim() == 3 ? x.size(0) : 1, T = N / B;
    const auto f = chosen.view({B, T, E}).sum(1) * (static_cast<double>(E) / static_cast<double>(k * T));  // (B, E)
    const auto p = (r.scores / r.scores.sum(-1, true)).view({B, T, E}).mean(1);                            // (B, E)
    aux_ = options.seq_aux_alpha() * (f * p).sum(-1).mean();
  }
  return y;
}

void SigmoidMoeImpl::after_optimizer_step() {
  if (!pending_counts_.defined()) return;  // no training forward yet
  torch::NoGradGuard no_grad;
  const auto load = pending_counts_.to(e_score_correction_bias.device());
  const auto step = at::sign(load.mean() - load) * options.bias_update_rate();
  e_score_correction_bias.add_(step.to(e_score_correction_bias.scalar_type()));
  pending_counts_.zero_();
}

void SigmoidMoeImpl::pretty_print(std::ostream& stream) const {
  stream << "ablate::" << options.name() << "(d_model=" << options.d_model() << ", n_experts=" << options.n_experts()
         << ", top_k=" << options.top_k() << ", n_group=" << options.n_group()
         << ", topk_group=" << options.topk_group() << ", routed_scaling_factor=" << options.routed_scaling_factor()
         << ", norm_topk_prob=" << (options.norm_topk_prob() ? "true" : "false")
         << ", bias_update_rate=" << options.bias_update_rate() << ", seq_aux_alpha=" << options.seq_aux_alpha()
         << ", n_shared=" << options.n_shared()
         << ", dispatch=" << (options.dispatch().strategy == MoeDispatch::capacity ? "capacity" : "sorted")
           << ", capacity_factor=" << options.dispatch().capacity_factor << ", expert=" << expert_spec_.plugin << ")";
}

SigmoidMoeOptions options_of(const std::string& name, const ModelContext& ctx, const Options& o) {
  return SigmoidMoeOptions(ctx.d_model, o.integer("n_experts"), o.integer("top_k"))
      .name(name)
      .n_group(o.integer("n_group"))
      .topk_group(o.integer("topk_group"))
      .routed_scaling_factor(o.number("routed_scaling_factor"))
      .norm_topk_prob(o.boolean("norm_topk_prob"))
      .bias_update_rate(o.number("bias_update_rate"))
      .seq_aux_alpha(o.number("seq_aux_alpha"))
      .n_shared(o.integer("n_shared"))
      .dispatch({.strategy = parse_moe_dispatch(o.string("dispatch")), .capacity_factor = o.number("capacity_factor")});
}

std::shared_ptr<ComponentImpl> make(const std::string& name, const ModelContext& ctx, const Options& o) {
  return SigmoidMoe(options_of(name, ctx, o), o.component("expert"), ctx).ptr();
}

Cost cost(const ModelContext& ctx, const Options& o) {
  const SigmoidMoeOptions m = options_of("", ctx, o);
  check(m);
  const ComponentSpec& expert_spec = o.component("expert");
  const Cost expert = ctx.cost(expert_spec, ctx);
  Cost shared{};
  if (m.n_shared() > 0) {
    if (const auto widened = widened_shared_expert(expert_spec, m.n_shared())) {
      shared = ctx.cost(*widened, ctx);
    } else {
      shared = {.params_total = m.n_shared() * expert.params_total,
                .params_active = m.n_shared() * expert.params_active,
                .flops_per_token = static_cast<double>(m.n_shared()) * expert.flops_per_token};
    }
  }
  const std::int64_t router = flops::linear_params(m.d_model(), m.n_experts());
  return {.params_total = router + m.n_experts() * expert.params_total + shared.params_total,
          .params_active = router + m.top_k() * expert.params_active + shared.params_active,
          .flops_per_token = flops::linear(m.d_model(), m.n_experts()) +
                             moe_expert_rows_per_token(m.dispatch(), m.top_k(), m.n_experts(), ctx.seq_len) *
                                 expert.flops_per_token +
                             shared.flops_per_token};
}

}  // namespace ablate::moe
