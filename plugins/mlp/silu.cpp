// mlp `silu` (the seed baseline's expert): W2 · drop(SiLU(W1 · x)), no biases (docs/components.md).
#include <ablate/sdk/functional.h>
#include <ablate/sdk/plugin.h>

#include <torch/nn/functional/activation.h>
#include <torch/nn/modules/dropout.h>

namespace {

using namespace ablate::sdk;

struct SiluMlpOptions {
  SiluMlpOptions(std::int64_t d_model, std::int64_t d_ff) : d_model_(d_model), d_ff_(d_ff) {}
  /// input and output width
  TORCH_ARG(std::int64_t, d_model);
  /// hidden width
  TORCH_ARG(std::int64_t, d_ff);
  /// dropout on the hidden activation; default 0
  TORCH_ARG(double, dropout) = 0.0;
};

class SiluMlpImpl : public ComponentImpl {
 public:
  explicit SiluMlpImpl(const SiluMlpOptions& options) : options(options) { reset(); }

  void reset() {
    w1 = register_module("w1", make_linear(options.d_model(), options.d_ff(), false));
    w2 = register_module("w2", make_linear(options.d_ff(), options.d_model(), false));
    drop = register_module("drop", torch::nn::Dropout(options.dropout()));
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    return w2(drop(torch::silu(w1(x))));  // (B, T, d) → (B, T, d_ff) → (B, T, d)
  }

  void pretty_print(std::ostream& stream) const override {
    stream << "ablate::silu(d_model=" << options.d_model() << ", d_ff=" << options.d_ff() << ")";
  }

  SiluMlpOptions options;
  torch::nn::Linear w1{nullptr}, w2{nullptr};
  torch::nn::Dropout drop{nullptr};
};
TORCH_MODULE(SiluMlp);

const OptionSpec kOptions[] = {
    {.name = "d_ff", .type = OptionType::integer, .default_value = nullptr,
     .doc = "hidden width (required)", .min = 1},
};

std::shared_ptr<ComponentImpl> make(const ModelContext& ctx, const Options& o) {
  return SiluMlp(SiluMlpOptions(ctx.d_model, o.integer("d_ff")).dropout(ctx.dropout)).ptr();
}

Cost cost(const ModelContext& ctx, const Options& o) {
  const std::int64_t d = ctx.d_model, f = o.integer("d_ff");
  const std::int64_t params = flops::linear_params(d, f) + flops::linear_params(f, d);
  return {.params_total = params, .params_active = params,
          .flops_per_token = flops::linear(d, f) + flops::linear(f, d)};
}

}  // namespace

ABLATE_PLUGIN(mlp, "silu", "plain MLP: W2 * SiLU(W1 * x), no biases", kOptions, make, cost)
