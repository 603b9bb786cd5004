// norm `layernorm`: (x − mean) / sqrt(var + eps) · w + b over the last dim, eps 1e-5
// (docs/components.md).
#include <ablate/sdk/plugin.h>

#include <ATen/ATen.h>

namespace {

using namespace ablate::sdk;

struct LayerNormOptions {
  LayerNormOptions(std::int64_t d_model) : d_model_(d_model) {}
  /// width of the normalised dimension
  TORCH_ARG(std::int64_t, d_model);
  /// added to the variance; default 1e-5
  TORCH_ARG(double, eps) = 1e-5;
};

class LayerNormImpl : public ComponentImpl {
 public:
  explicit LayerNormImpl(const LayerNormOptions& options) : options(options) { reset(); }

  void reset() {
    weight = register_parameter("weight", torch::ones({options.d_model()}));
    bias = register_parameter("bias", torch::zeros({options.d_model()}));
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    return at::layer_norm(x, {options.d_model()}, weight, bias, options.eps());
  }

  void pretty_print(std::ostream& stream) const override {
    stream << "ablate::layernorm(d_model=" << options.d_model() << ", eps=" << options.eps() << ")";
  }

  LayerNormOptions options;
  /// (d_model,), initialised to one and zero
  torch::Tensor weight, bias;
};
TORCH_MODULE(LayerNorm);

const OptionSpec kOptions[] = {
    {.name = "eps", .type = OptionType::number, .default_value = "1e-5", .doc = "added to the variance", .min = 0.0},
};

std::shared_ptr<ComponentImpl> make(const ModelContext& ctx, const Options& o) {
  return LayerNorm(LayerNormOptions(ctx.d_model).eps(o.number("eps"))).ptr();
}

Cost cost(const ModelContext& ctx, const Options&) {
  return {.params_total = 2 * ctx.d_model, .params_active = 2 * ctx.d_model, .flops_per_token = 0.0};
}

}  // namespace

ABLATE_PLUGIN(norm, "layernorm", "LayerNorm with weight and bias", kOptions, make, cost)
