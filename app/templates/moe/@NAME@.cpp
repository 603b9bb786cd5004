// moe `@NAME@`: top-k routing over n_experts experts. Router Linear(d, E); each token goes to the
// k experts with the largest logits, weighted by a softmax over those k; the experts are any mlp
// plugin (option `expert`), built through the host and run by the SDK's moe_dispatch. A Switch
// auxiliary loss, aux_coef · E · Σ_e f_e · P_e (f_e: fraction of assignments to expert e, P_e: its
// mean router probability), keeps the load balanced. A starting point laid out as ablate's built-in
// plugins are; check it with `ablate check-plugin moe @NAME@`.
#include <ablate/sdk/functional.h>
#include <ablate/sdk/moe_dispatch.h>
#include <ablate/sdk/plugin.h>

#include <stdexcept>
#include <string>

#include <torch/nn/modules/container/modulelist.h>

namespace {

// Spelled out rather than `using namespace`: the classes below take the plugin's name, which must
// not hide an SDK type of the same name.
namespace sdk = ablate::sdk;

// Everything the module is built from, LibTorch style: each TORCH_ARG is a field with a chainable
// setter, `@CLASS@Options(d_model, 8, 2).aux_coef(0.0)`. options_of() fills it from a sweep; the
// expert, a component of its own, is passed beside it.
struct @CLASS@Options {
  @CLASS@Options(std::int64_t d_model, std::int64_t n_experts, std::int64_t top_k)
      : d_model_(d_model), n_experts_(n_experts), top_k_(top_k) {}
  /// model width
  TORCH_ARG(std::int64_t, d_model);
  /// routed experts E
  TORCH_ARG(std::int64_t, n_experts);
  /// experts per token k
  TORCH_ARG(std::int64_t, top_k);
  /// coefficient of the Switch auxiliary loss
  TORCH_ARG(double, aux_coef) = 0.01;
};

// The host has checked each option alone against kOptions; this checks them against each other.
// cost() calls it too, so a sweep that does not fit is refused before anything trains.
void check(const @CLASS@Options& o) {
  if (o.top_k() > o.n_experts())
    throw std::invalid_argument("top_k " + std::to_string(o.top_k()) + " is larger than n_experts " +
                                std::to_string(o.n_experts()));
}

class @CLASS@Impl : public sdk::ComponentImpl {
 public:
  @CLASS@Impl(const @CLASS@Options& options, const sdk::ComponentSpec& expert, const sdk::ModelContext& ctx)
      : options(options), expert_spec_(expert), ctx_(ctx) {
    check(options);
    reset();
  }

  // As in LibTorch's own modules, reset() creates every submodule and parameter from the options:
  // one place that says what the module holds, and so what cost() must count. The experts come
  // from their own plugin, through the host.
  void reset() {
    router = register_module("router", sdk::make_linear(options.d_model(), options.n_experts(), /*bias=*/false));
    experts = register_module("experts", torch::nn::ModuleList());
    expert_modules_.clear();
    for (std::int64_t e = 0; e < options.n_experts(); ++e) {
      auto expert = ctx_.build(expert_spec_, ctx_);
      experts->push_back(expert);  // registered, so its parameters train and print
      expert_modules_.push_back(expert);
    }
  }

  torch::Tensor forward(const torch::Tensor& x) override {  // (B, T, d) -> (B, T, d)
    const std::int64_t k = options.top_k();
    const auto flat = x.reshape({-1, x.size(-1)});              // (N, d)
    const auto logits = router(flat).to(torch::kFloat);         // (N, E), fp32 for the softmaxes
    const auto [top_logits, top_experts] = logits.topk(k, -1);  // (N, k) each
    const auto routed = sdk::moe_dispatch(flat, top_experts, top_logits.softmax(-1),
                                          sdk::moe_experts(expert_spec_, expert_modules_), {});
    const auto fraction = routed.counts.to(torch::kFloat) / static_cast<double>(flat.size(0) * k);  // f_e
    aux_ = options.aux_coef() * static_cast<double>(options.n_experts()) *
           (fraction * logits.softmax(-1).mean(0)).sum();
    load_ = fraction.detach();
    return routed.output.view(x.sizes()).to(x.scalar_type());
  }

  torch::Tensor aux_loss() const override { return aux_; }      // added to the training loss
  torch::Tensor expert_load() const override { return load_; }  // logged per expert

  // A run records the printed model; the report flags arms whose printouts are identical as the
  // same model, so print every option that changes the module (the experts print themselves).
  void pretty_print(std::ostream& stream) const override {
    stream << "@NAME@(d_model=" << options.d_model() << ", n_experts=" << options.n_experts()
           << ", top_k=" << options.top_k() << ", aux_coef=" << options.aux_coef()
           << ", expert=" << expert_spec_.plugin << ")";
  }

  @CLASS@Options options;
  torch::nn::Linear router{nullptr};
  torch::nn::ModuleList experts{nullptr};

 private:
  sdk::ComponentSpec expert_spec_;
  sdk::ModelContext ctx_;  // reset() builds the experts through it
  std::vector<std::shared_ptr<sdk::ComponentImpl>> expert_modules_;
  torch::Tensor aux_, load_;  // of the last forward
};
TORCH_MODULE(@CLASS@);

// What a sweep may set (`ffn: {plugin: @NAME@, expert: {plugin: silu, d_ff: 256}}`): the host
// checks names, types and bounds (the expert's options too) and fills in defaults.
const sdk::OptionSpec kOptions[] = {
    {.name = "n_experts", .type = sdk::OptionType::integer, .default_value = "4", .doc = "routed experts E", .min = 1},
    {.name = "top_k", .type = sdk::OptionType::integer, .default_value = "2", .doc = "experts per token k", .min = 1},
    {.name = "aux_coef", .type = sdk::OptionType::number, .default_value = "0.01",
     .doc = "coefficient of the Switch auxiliary balancing loss", .min = 0.0},
    {.name = "expert", .type = sdk::OptionType::component, .default_value = nullptr,
     .doc = "the expert MLP, e.g. {plugin: silu, d_ff: 256} (required)", .choices = "mlp"},
};

// The sweep's options and the model's context as the module's options: make() and cost() both start
// here, so they cannot disagree about the module.
@CLASS@Options options_of(const sdk::ModelContext& ctx, const sdk::Options& o) {
  return @CLASS@Options(ctx.d_model, o.integer("n_experts"), o.integer("top_k")).aux_coef(o.number("aux_coef"));
}

std::shared_ptr<sdk::ComponentImpl> make(const sdk::ModelContext& ctx, const sdk::Options& o) {
  return @CLASS@(options_of(ctx, o), o.component("expert"), ctx).ptr();
}

// Parameters (total, and active: what one token uses) and forward FLOPs per token, from the options
// alone: `ablate expand` adds them up without building anything, and the host refuses to train when
// the built module's parameter count differs. The experts' own cost comes from their plugin.
sdk::Cost cost(const sdk::ModelContext& ctx, const sdk::Options& o) {
  const @CLASS@Options m = options_of(ctx, o);
  check(m);
  const sdk::Cost expert = ctx.cost(o.component("expert"), ctx);
  const std::int64_t E = m.n_experts(), k = m.top_k();
  const std::int64_t router = sdk::flops::linear_params(m.d_model(), E);
  return {.params_total = router + E * expert.params_total,
          .params_active = router + k * expert.params_active,
          .flops_per_token =
              sdk::flops::linear(m.d_model(), E) + static_cast<double>(k) * expert.flops_per_token};
}

}  // namespace

// The one symbol the library exports: the host finds kind, name, description, options, make and
// cost through it.
ABLATE_PLUGIN(moe, "@NAME@", "top-k mixture of experts with a Switch auxiliary loss", kOptions, make, cost)
