// norm `rmsnorm`: x · rsqrt(mean(x²) + eps) · w, in fp32 and cast back (docs/components.md).
#include <ablate/sdk/functional.h>
#include <ablate/sdk/plugin.h>

#include <torch/nn/init.h>

namespace {

using namespace ablate::sdk;

struct RmsNormOptions {
  RmsNormOptions(std::int64_t d_model) : d_model_(d_model) {}
  /// width of the normalised dimension
  TORCH_ARG(std::int64_t, d_model);
  /// added to the mean square before the square root; default 1e-6
  TORCH_ARG(double, eps) = 1e-6;
};

class RmsNormImpl : public ComponentImpl {
 public:
  explicit RmsNormImpl(const RmsNormOptions& options) : options(options) { reset(); }

  void reset() {
    weight = register_parameter("weight", torch::ones({options.d_model()}));
  }

  torch::Tensor forward(const torch::Tensor& x) override { return rms_norm(x, weight, options.eps()); }

  void pretty_print(std::ostream& stream) const override {
    stream << "ablate::rmsnorm(d_model=" << options.d_model() << ", eps=" << options.eps() << ")";
  }

  RmsNormOptions options;
  /// (d_model,), initialised to one
  torch::Tensor weight;
};
TORCH_MODULE(RmsNorm);

const OptionSpec kOptions[] = {
    {.name = "eps", .type = OptionType::number, .default_value = "1e-6",
     .doc = "added to the mean square before the square root", .min = 0.0},
};

std::shared_ptr<ComponentImpl> make(const ModelContext& ctx, const Options& o) {
  return RmsNorm(RmsNormOptions(ctx.d_model).eps(o.number("eps"))).ptr();
}

Cost cost(const ModelContext& ctx, const Options&) {
  return {.params_total = ctx.d_model, .params_active = ctx.d_model, .flops_per_token = 0.0};
}

}  // namespace

ABLATE_PLUGIN(norm, "rmsnorm", "RMSNorm: x * rsqrt(mean(x^2) + eps) * w, in fp32", kOptions, make, cost)
