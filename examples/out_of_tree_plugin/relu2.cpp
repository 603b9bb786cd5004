// An out-of-tree mlp plugin: the squared-ReLU MLP of Primer (So et al., 2021),
// W2 · ReLU(W1 · x)², no biases. Everything a plugin needs comes from <ablate/sdk/...>; the layout
// is that of ablate's built-in plugins (and of `ablate new plugin`'s templates).
#include <ablate/sdk/functional.h>
#include <ablate/sdk/plugin.h>

#include <torch/nn/functional/activation.h>

namespace {

using namespace ablate::sdk;

// Everything the module is built from, LibTorch style: each TORCH_ARG is a field with a chainable
// setter. options_of() fills it from a sweep.
struct Relu2MlpOptions {
  Relu2MlpOptions(std::int64_t d_model, std::int64_t d_ff) : d_model_(d_model), d_ff_(d_ff) {}
  /// input and output width
  TORCH_ARG(std::int64_t, d_model);
  /// hidden width
  TORCH_ARG(std::int64_t, d_ff);
};

class Relu2MlpImpl : public ComponentImpl {
 public:
  explicit Relu2MlpImpl(const Relu2MlpOptions& options) : options(options) { reset(); }

  // As in LibTorch's own modules, reset() creates every submodule and parameter from the options:
  // one place that says what the module holds, and so what cost() must count.
  void reset() {
    w1 = register_module("w1", make_linear(options.d_model(), options.d_ff(), /*bias=*/false));
    w2 = register_module("w2", make_linear(options.d_ff(), options.d_model(), /*bias=*/false));
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    return w2(torch::relu(w1(x)).square());  // (B, T, d) → (B, T, d_ff) → (B, T, d)
  }

  // A run records the printed model; the report flags arms whose printouts are identical as the
  // same model, so print every option that changes the module.
  void pretty_print(std::ostream& stream) const override {
    stream << "example::relu2(d_model=" << options.d_model() << ", d_ff=" << options.d_ff() << ")";
  }

  Relu2MlpOptions options;
  torch::nn::Linear w1{nullptr}, w2{nullptr};
};
TORCH_MODULE(Relu2Mlp);

// What a sweep may set (`ffn: {plugin: relu2, d_ff: 64}`): the host checks names, types and bounds
// against this table and fills in defaults before make() and cost() see the options.
const OptionSpec kOptions[] = {
    {.name = "d_ff", .type = OptionType::integer, .default_value = nullptr, .doc = "hidden width (required)", .min = 1},
};

// The sweep's options and the model's context as the module's options: make() and cost() both start
// here, so they cannot disagree about the module.
Relu2MlpOptions options_of(const ModelContext& ctx, const Options& o) {
  return Relu2MlpOptions(ctx.d_model, o.integer("d_ff"));
}

std::shared_ptr<ComponentImpl> make(const ModelContext& ctx, const Options& o) {
  return Relu2Mlp(options_of(ctx, o)).ptr();
}

// Parameters and forward FLOPs per token, from the options alone: `ablate expand` adds them up
// without building anything, and the host refuses to train when the built module's parameter count
// differs.
Cost cost(const ModelContext& ctx, const Options& o) {
  const Relu2MlpOptions m = options_of(ctx, o);
  const std::int64_t d = m.d_model(), f = m.d_ff();
  const std::int64_t params = flops::linear_params(d, f) + flops::linear_params(f, d);
  return {.params_total = params, .params_active = params,
          .flops_per_token = flops::linear(d, f) + flops::linear(f, d)};
}

}  // namespace

ABLATE_PLUGIN(mlp, "relu2", "squared-ReLU MLP (Primer): W2 * ReLU(W1 * x)^2", kOptions, make, cost)
