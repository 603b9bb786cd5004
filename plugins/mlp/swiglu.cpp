// mlp `swiglu` (LLaMA's MLP, DeepseekV3MLP): W_down · (SiLU(W_gate · x) ⊙ W_up · x), three
// bias-free linears of width d_ff (docs/components.md).
#include <ablate/sdk/functional.h>
#include <ablate/sdk/plugin.h>

#include <torch/nn/functional/activation.h>
#include <torch/nn/modules/dropout.h>

namespace {

using namespace ablate::sdk;

struct SwigluMlpOptions {
  SwigluMlpOptions(std::int64_t d_model, std::int64_t d_ff) : d_model_(d_model), d_ff_(d_ff) {}
  /// input and output width
  TORCH_ARG(std::int64_t, d_model);
  /// width of the gate and the up projection
  TORCH_ARG(std::int64_t, d_ff);
  /// dropout on the gated activation; default 0
  TORCH_ARG(double, dropout) = 0.0;
};

class SwigluMlpImpl : public ComponentImpl {
 public:
  explicit SwigluMlpImpl(const SwigluMlpOptions& options) : options(options) { reset(); }

  void reset() {
    gate = register_module("gate", make_linear(options.d_model(), options.d_ff(), false));
    up = register_module("up", make_linear(options.d_model(), options.d_ff(), false));
    down = register_module("down", make_linear(options.d_ff(), options.d_model(), false));
    drop = register_module("drop", torch::nn::Dropout(options.dropout()));
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    return down(drop(torch::silu(gate(x)) * up(x)));  // (B, T, d) → (B, T, d_ff) → (B, T, d)
  }

  void pretty_print(std::ostream& stream) const override {
    stream << "ablate::swiglu(d_model=" << options.d_model() << ", d_ff=" << options.d_ff() << ")";
  }

  SwigluMlpOptions options;
  torch::nn::Linear gate{nullptr}, up{nullptr}, down{nullptr};
  torch::nn::Dropout drop{nullptr};
};
TORCH_MODULE(SwigluMlp);

const OptionSpec kOptions[] = {
    {.name = "d_ff", .type = OptionType::integer, .default_value = nullptr,
     .doc = "width of the gate and up projections (required)", .min = 1},
};

std::shared_ptr<ComponentImpl> make(const ModelContext& ctx, const Options& o) {
  return SwigluMlp(SwigluMlpOptions(ctx.d_model, o.integer("d_ff")).dropout(ctx.dropout)).ptr();
}

Cost cost(const ModelContext& ctx, const Options& o) {
  const std::int64_t d = ctx.d_model, f = o.integer("d_ff");
  const std::int64_t params = 2 * flops::linear_params(d, f) + flops::linear_params(f, d);
  return {.params_total = params, .params_active = params,
          .flops_per_token = 2 * flops::linear(d, f) + flops::linear(f, d)};
}

}  // namespace

ABLATE_PLUGIN(mlp, "swiglu", "gated MLP: W_down * (SiLU(W_gate * x) * W_up * x), no biases", kOptions,
              make, cost)
