// norm `@NAME@`: RMS normalisation with a learned scale, x · rsqrt(mean(x²) + eps) · weight,
// computed in fp32 (training may run in bf16) and cast back. A starting point laid out as ablate's
// built-in plugins are: change forward(), keep cost() in step with what reset() registers, and run
// `ablate check-plugin norm @NAME@`.
#include <ablate/sdk/plugin.h>

namespace {

// Spelled out rather than `using namespace`: the classes below take the plugin's name, which must
// not hide an SDK type of the same name.
namespace sdk = ablate::sdk;

// Everything the module is built from, LibTorch style: each TORCH_ARG is a field with a chainable
// setter, `@CLASS@Options(d_model).eps(1e-5)`. options_of() fills it from a sweep.
struct @CLASS@Options {
  explicit @CLASS@Options(std::int64_t d_model) : d_model_(d_model) {}
  /// width of the normalised dimension
  TORCH_ARG(std::int64_t, d_model);
  /// added to the mean square before the square root
  TORCH_ARG(double, eps) = 1e-6;
};

class @CLASS@Impl : public sdk::ComponentImpl {
 public:
  explicit @CLASS@Impl(const @CLASS@Options& options) : options(options) { reset(); }

  // As in LibTorch's own modules, reset() creates every submodule and parameter from the options:
  // one place that says what the module holds, and so what cost() must count.
  void reset() { weight = register_parameter("weight", torch::ones({options.d_model()})); }

  torch::Tensor forward(const torch::Tensor& x) override {  // (B, T, d) -> (B, T, d)
    const auto x32 = x.to(torch::kFloat);
    const auto inv_rms = (x32.square().mean(-1, /*keepdim=*/true) + options.eps()).rsqrt();
    return (x32 * inv_rms * weight).to(x.scalar_type());
  }

  // A run records the printed model; the report flags arms whose printouts are identical as the
  // same model, so print every option that changes the module.
  void pretty_print(std::ostream& stream) const override {
    stream << "@NAME@(d_model=" << options.d_model() << ", eps=" << options.eps() << ")";
  }

  @CLASS@Options options;
  /// (d_model,), starts at one
  torch::Tensor weight;
};
TORCH_MODULE(@CLASS@);

// What a sweep may set (`norm: {plugin: @NAME@, eps: 1e-5}`): the host checks names, types and
// bounds against this table and fills in defaults before make() and cost() see the options.
const sdk::OptionSpec kOptions[] = {
    {.name = "eps", .type = sdk::OptionType::number, .default_value = "1e-6",
     .doc = "added to the mean square before the square root", .min = 0.0},
};

// The sweep's options and the model's context as the module's options: make() and cost() both start
// here, so they cannot disagree about the module.
@CLASS@Options options_of(const sdk::ModelContext& ctx, const sdk::Options& o) {
  return @CLASS@Options(ctx.d_model).eps(o.number("eps"));
}

std::shared_ptr<sdk::ComponentImpl> make(const sdk::ModelContext& ctx, const sdk::Options& o) {
  return @CLASS@(options_of(ctx, o)).ptr();
}

// Parameters and forward FLOPs per token, from the options alone: `ablate expand` adds them up
// without building anything, and the host refuses to train when the built module's parameter count
// differs. Elementwise work counts as 0 FLOPs, as in ablate/sdk/flops.h.
sdk::Cost cost(const sdk::ModelContext& ctx, const sdk::Options& o) {
  const std::int64_t params = options_of(ctx, o).d_model();  // the scale
  return {.params_total = params, .params_active = params, .flops_per_token = 0.0};
}

}  // namespace

// The one symbol the library exports: the host finds kind, name, description, options, make and
// cost through it.
ABLATE_PLUGIN(norm, "@NAME@", "RMS norm with a learned scale, in fp32", kOptions, make, cost)
