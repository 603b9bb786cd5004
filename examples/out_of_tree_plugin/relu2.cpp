// An out-of-tree mlp plugin: the squared-ReLU MLP of Primer (So et al., 2021),
// W2 · ReLU(W1 · x)², no biases. Everything a plugin needs comes from <ablate/sdk/...>.
#include <ablate/sdk/functional.h>
#include <ablate/sdk/plugin.h>

#include <torch/nn/functional/activation.h>

namespace {

using namespace ablate::sdk;

class Relu2MlpImpl : public ComponentImpl {
 public:
  Relu2MlpImpl(std::int64_t d_model, std::int64_t d_ff) : d_model(d_model), d_ff(d_ff) {
    w1 = register_module("w1", make_linear(d_model, d_ff, false));
    w2 = register_module("w2", make_linear(d_ff, d_model, false));
  }
  torch::Tensor forward(const torch::Tensor& x) override { return w2(torch::relu(w1(x)).square()); }
  void pretty_print(std::ostream& stream) const override {
    stream << "example::relu2(d_model=" << d_model << ", d_ff=" << d_ff << ")";
  }
  std::int64_t d_model, d_ff;
  torch::nn::Linear w1{nullptr}, w2{nullptr};
};
TORCH_MODULE(Relu2Mlp);

const OptionSpec kOptions[] = {
    {.name = "d_ff", .type = OptionType::integer, .default_value = nullptr, .doc = "hidden width (required)", .min = 1},
};

std::shared_ptr<ComponentImpl> make(const ModelContext& ctx, const Options& o) {
  return Relu2Mlp(ctx.d_model, o.integer("d_ff")).ptr();
}

Cost cost(const ModelContext& ctx, const Options& o) {
  const std::int64_t d = ctx.d_model, f = o.integer("d_ff");
  return {.params_total = 2 * d * f, .params_active = 2 * d * f,
          .flops_per_token = flops::linear(d, f) + flops::linear(f, d)};
}

}  // namespace

ABLATE_PLUGIN(mlp, "relu2", "squared-ReLU MLP (Primer): W2 * ReLU(W1 * x)^2", kOptions, make, cost)
