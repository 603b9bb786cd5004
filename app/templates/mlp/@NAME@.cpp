// mlp `@NAME@`: W2 · GELU(W1 · x), hidden width d_ff, no biases. A starting point laid out as
// ablate's built-in plugins are: change forward(), keep cost() in step with what reset() registers,
// and run `ablate check-plugin mlp @NAME@`.
#include <ablate/sdk/functional.h>
#include <ablate/sdk/plugin.h>

namespace {

// Spelled out rather than `using namespace`: the classes below take the plugin's name, which must
// not hide an SDK type of the same name.
namespace sdk = ablate::sdk;

// Everything the module is built from, LibTorch style: each TORCH_ARG is a field with a chainable
// setter. options_of() fills it from a sweep.
struct @CLASS@Options {
  @CLASS@Options(std::int64_t d_model, std::int64_t d_ff) : d_model_(d_model), d_ff_(d_ff) {}
  /// input and output width
  TORCH_ARG(std::int64_t, d_model);
  /// hidden width
  TORCH_ARG(std::int64_t, d_ff);
};

class @CLASS@Impl : public sdk::ComponentImpl {
 public:
  explicit @CLASS@Impl(const @CLASS@Options& options) : options(options) { reset(); }

  // As in LibTorch's own modules, reset() creates every submodule and parameter from the options:
  // one place that says what the module holds, and so what cost() must count.
  void reset() {
    w1 = register_module("w1", sdk::make_linear(options.d_model(), options.d_ff(), /*bias=*/false));
    w2 = register_module("w2", sdk::make_linear(options.d_ff(), options.d_model(), /*bias=*/false));
  }

  torch::Tensor forward(const torch::Tensor& x) override { return w2(torch::gelu(w1(x))); }  // (B, T, d)

  // A run records the printed model; the report flags arms whose printouts are identical as the
  // same model, so print every option that changes the module.
  void pretty_print(std::ostream& stream) const override {
    stream << "@NAME@(d_model=" << options.d_model() << ", d_ff=" << options.d_ff() << ")";
  }

  @CLASS@Options options;
  torch::nn::Linear w1{nullptr}, w2{nullptr};
};
TORCH_MODULE(@CLASS@);

// What a sweep may set (`ffn: {plugin: @NAME@, d_ff: 512}`): the host checks names, types and
// bounds against this table and fills in defaults before make() and cost() see the options.
const sdk::OptionSpec kOptions[] = {
    {.name = "d_ff", .type = sdk::OptionType::integer, .default_value = "0",
     .doc = "hidden width; 0 = 4 * d_model", .min = 0},
};

// The sweep's options and the model's context as the module's options: make() and cost() both start
// here, so they cannot disagree about the module.
@CLASS@Options options_of(const sdk::ModelContext& ctx, const sdk::Options& o) {
  // d_ff 0, the default, follows the model's width: the plugin fits any model without options.
  const std::int64_t d_ff = o.integer("d_ff") > 0 ? o.integer("d_ff") : 4 * ctx.d_model;
  return @CLASS@Options(ctx.d_model, d_ff);
}

std::shared_ptr<sdk::ComponentImpl> make(const sdk::ModelContext& ctx, const sdk::Options& o) {
  return @CLASS@(options_of(ctx, o)).ptr();
}

// Parameters and forward FLOPs per token, from the options alone: `ablate expand` adds them up
// without building anything, and the host refuses to train when the built module's parameter count
// differs.
sdk::Cost cost(const sdk::ModelContext& ctx, const sdk::Options& o) {
  const @CLASS@Options m = options_of(ctx, o);
  const std::int64_t d = m.d_model(), f = m.d_ff();
  const std::int64_t params = sdk::flops::linear_params(d, f) + sdk::flops::linear_params(f, d);
  return {.params_total = params, .params_active = params,
          .flops_per_token = sdk::flops::linear(d, f) + sdk::flops::linear(f, d)};
}

}  // namespace

// The one symbol the library exports: the host finds kind, name, description, options, make and
// cost through it.
ABLATE_PLUGIN(mlp, "@NAME@", "GELU MLP: W2 * GELU(W1 * x)", kOptions, make, cost)
