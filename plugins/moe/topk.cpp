// moe `topk` (the seed baseline's MoE): noisy top-k routing with a Switch auxiliary loss
// (docs/components.md). Router Linear(d, E) without bias; in training Gaussian noise (noise_std) is
// added to the logits; p = softmax(logits) over all E; the k experts with the largest logits are
// chosen and weighted by a softmax over their k logits (k = 1: by p_e, as Switch Transformer, since a
// softmax over one logit is 1 and would not train the router); output Σ w_e · expert_e(x).
// Auxiliary loss: aux_coef · E · Σ_e f_e · P_e, with f_e the fraction of (token, slot)
// assignments to expert e and P_e the mean router probability of e.
//
// Dispatch: the SDK's moe_dispatch (option `dispatch`: sorted, or capacity with capacity_factor).
#include <ablate/sdk/functional.h>
#include <ablate/sdk/moe_dispatch.h>
#include <ablate/sdk/plugin.h>

#include <stdexcept>

#include <ATen/ATen.h>
#include <torch/nn/modules/container/modulelist.h>

namespace {

using namespace ablate::sdk;

struct TopkMoeOptions {
  TopkMoeOptions(std::int64_t d_model, std::int64_t n_experts, std::int64_t top_k)
      : d_model_(d_model), n_experts_(n_experts), top_k_(top_k) {}
  /// model width
  TORCH_ARG(std::int64_t, d_model);
  /// routed experts E
  TORCH_ARG(std::int64_t, n_experts);
  /// experts per token k
  TORCH_ARG(std::int64_t, top_k);
  /// std of the Gaussian noise added to router logits in training; default 0.1
  TORCH_ARG(double, noise_std) = 0.1;
  /// coefficient of the Switch auxiliary loss; default 0.01
  TORCH_ARG(double, aux_coef) = 0.01;
  /// token dispatch strategy and its capacity factor (moe_dispatch.h)
  TORCH_ARG(MoeDispatchOptions, dispatch) = {};
};

void check(const TopkMoeOptions& o) {
  if (o.top_k() > o.n_experts())
    throw std::invalid_argument("top_k " + std::to_string(o.top_k()) + " is larger than n_experts " +
                                std::to_string(o.n_experts()));
}

class TopkMoeImpl : public ComponentImpl {
 public:
  TopkMoeImpl(const TopkMoeOptions& options, const ComponentSpec& expert, const ModelContext& ctx)
      : options(options), expert_spec_(expert), ctx_(ctx) {
    check(options);
    reset();
  }

  void reset() {
    router = register_module("router", make_linear(options.d_model(), options.n_experts(), false));
    experts = register_module("experts", torch::nn::ModuleList());
    expert_modules_.clear();
    for (std::int64_t e = 0; e < options.n_experts(); ++e) {
      auto expert = ctx_.build(expert_spec_, ctx_);
      experts->push_back(expert);
      expert_modules_.push_back(expert);
    }
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    const std::int64_t E = options.n_experts(), k = options.top_k(), d = options.d_model();
    const auto flat = x.reshape({-1, d});                    // (N, d)
    const std::int64_t N = flat.size(0);
    auto logits = router(flat).to(at::kFloat);               // (N, E)
    if (is_training() && options.noise_std() > 0) logits = logits + at::randn_like(logits) * options.noise_std();
    const auto probs = at::softmax(logits, -1);              // (N, E)
    auto [top_logits, top_experts] = logits.topk(k, -1);     // (N, k) each
    // k > 1: a softmax over the k chosen logits. k = 1: that softmax is the constant 1, which would
    // leave the router to the auxiliary loss alone; Switch Transformer's p_e instead.
    const auto weights = k == 1 ? probs.gather(1, top_experts) : at::softmax(top_logits, -1);  // (N, k)

    // (B, T, d): a capacity is per sequence, so no sequence of the batch sees another.
    const auto routed = moe_dispatch(x.dim() == 3 ? x : flat, top_experts, weights,
                                     moe_experts(expert_spec_, expert_modules_), options.dispatch());
    const auto& counts = routed.counts;  // (E,) routed, before any capacity drop
    const auto fraction = counts.to(at::kFloat) / static_cast<double>(N * k);  // f_e
    aux_ = options.aux_coef() * static_cast<double>(E) * (fraction * probs.mean(0)).sum();
    // What each expert computed: 1 − Σ load is the fraction dropped by capacity.
    load_ = ((counts - routed.dropped).to(at::kFloat) / static_cast<double>(N * k)).detach();
    return routed.output.view(x.sizes()).to(x.scalar_type());
  }

  torch::Tensor aux_loss() const override { return aux_; }
  torch::Tensor expert_load() const override { return load_; }

  void pretty_print(std::ostream& stream) const override {
    stream << "ablate::topk(d_model=" << options.d_model() << ", n_experts=" << options.n_experts()
           << ", top_k=" << options.top_k() << ", noise_std=" << options.noise_std()
           << ", aux_coef=" << options.aux_coef()
           << ", dispatch=" << (options.dispatch().strategy == MoeDispatch::capacity ? "capacity" : "sorted")
           << ", capacity_factor=" << options.dispatch().capacity_factor << ", expert=" << expert_spec_.plugin << ")";
  }

  TopkMoeOptions options;
  torch::nn::Linear router{nullptr};
  torch::nn::ModuleList experts{nullptr};

 private:
  ComponentSpec expert_spec_;
  ModelContext ctx_;
  std::vector<std::shared_ptr<ComponentImpl>> expert_modules_;
  torch::Tensor aux_, load_;
};
TORCH_MODULE(TopkMoe);

const OptionSpec kOptions[] = {
    {.name = "n_experts", .type = OptionType::integer, .default_value = "8", .doc = "routed experts E", .min = 1},
    {.name = "top_k", .type = OptionType::integer, .default_value = "2", .doc = "experts per token k", .min = 1},
    {.name = "noise_std", .type = OptionType::number, .default_value = "0.1",
     .doc = "std of Gaussian noise on router logits in training", .min = 0.0},
    {.name = "aux_coef", .type = OptionType::number, .default_value = "0.01",
     .doc = "coefficient of the Switch auxiliary balancing loss", .min = 0.0},
    {.name = "expert", .type = OptionType::component, .default_value = nullptr,
     .doc = "the expert MLP, e.g. {plugin: silu, d_ff: 1024} (required)", .choices = "mlp"},
    moe_dispatch_option(),
    moe_capacity_factor_option(),
};

TopkMoeOptions options_of(const ModelContext& ctx, const Options& o) {
  return TopkMoeOptions(ctx.d_model, o.integer("n_experts"), o.integer("top_k"))
      .noise_std(o.number("noise_std"))
      .aux_coef(o.number("aux_coef"))
      .dispatch({.strategy = parse_moe_dispatch(o.string("dispatch")), .capacity_factor = o.number("capacity_factor")});
}

std::shared_ptr<ComponentImpl> make(const ModelContext& ctx, const Options& o) {
  return TopkMoe(options_of(ctx, o), o.component("expert"), ctx).ptr();
}

Cost cost(const ModelContext& ctx, const Options& o) {
  const TopkMoeOptions m = options_of(ctx, o);
  check(m);
  const Cost expert = ctx.cost(o.component("expert"), ctx);
  const std::int64_t router = flops::linear_params(m.d_model(), m.n_experts());
  return {.params_total = router + m.n_experts() * expert.params_total,
          .params_active = router + m.top_k() * expert.params_active,
          .flops_per_token = flops::linear(m.d_model(), m.n_experts()) +
                             moe_expert_rows_per_token(m.dispatch(), m.top_k(), m.n_experts(), ctx.seq_len) *
                                 expert.flops_per_token};
}

}  // namespace

ABLATE_PLUGIN(moe, "topk", "noisy top-k mixture of experts with a Switch auxiliary loss", kOptions, make, cost)
