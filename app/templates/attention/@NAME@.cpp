// attention `@NAME@`: causal multi-head attention with RoPE. Linear(d, 3d) gives q, k, v; RoPE
// rotates q and k; the SDK's causal_attention mixes positions (its mask is always causal);
// Linear(d, d) projects back. A starting point laid out as ablate's built-in plugins are: change
// forward(), keep cost() in step with what reset() registers, and run
// `ablate check-plugin attention @NAME@`, which also proves causality.
#include <ablate/sdk/attention.h>
#include <ablate/sdk/functional.h>
#include <ablate/sdk/plugin.h>
#include <ablate/sdk/rope.h>

#include <stdexcept>
#include <string>

namespace {

// Spelled out rather than `using namespace`: the classes below take the plugin's name, which must
// not hide an SDK type of the same name.
namespace sdk = ablate::sdk;

// Everything the module is built from, LibTorch style: each TORCH_ARG is a field with a chainable
// setter, `@CLASS@Options(d_model, n_heads).rope(r)`. options_of() fills it from a sweep.
struct @CLASS@Options {
  @CLASS@Options(std::int64_t d_model, std::int64_t n_heads) : d_model_(d_model), n_heads_(n_heads) {}
  /// model width; n_heads times an even head width
  TORCH_ARG(std::int64_t, d_model);
  /// attention heads H; head width hd = d_model / H
  TORCH_ARG(std::int64_t, n_heads);
  /// the model's rotary settings (model.rope in a sweep)
  TORCH_ARG(sdk::RopeConfig, rope);
};

std::int64_t head_dim(const @CLASS@Options& o) { return o.d_model() / o.n_heads(); }

// The host has checked each option alone against kOptions; this checks them against each other.
// cost() calls it too, so a sweep that does not fit is refused before anything trains.
void check(const @CLASS@Options& o) {
  if (o.d_model() % o.n_heads() != 0 || head_dim(o) % 2 != 0)
    throw std::invalid_argument("d_model " + std::to_string(o.d_model()) + " must be n_heads " +
                                std::to_string(o.n_heads()) +
                                " times an even head width (RoPE rotates pairs of dimensions)");
}

class @CLASS@Impl : public sdk::ComponentImpl {
 public:
  explicit @CLASS@Impl(const @CLASS@Options& options) : options(options) {
    check(options);
    reset();
  }

  // As in LibTorch's own modules, reset() creates every submodule and parameter from the options:
  // one place that says what the module holds, and so what cost() must count.
  void reset() {
    qkv = register_module("qkv", sdk::make_linear(options.d_model(), 3 * options.d_model(), /*bias=*/false));
    out = register_module("out", sdk::make_linear(options.d_model(), options.d_model(), /*bias=*/false));
  }

  torch::Tensor forward(const torch::Tensor& x) override {  // (B, T, d) -> (B, T, d)
    const std::int64_t B = x.size(0), T = x.size(1), H = options.n_heads(), hd = head_dim(options);
    const auto heads = qkv(x).view({B, T, 3, H, hd}).permute({2, 0, 3, 1, 4});  // (3, B, H, T, hd)
    const sdk::RopeTables tables = sdk::rope_tables(options.rope(), hd, T, x.device());
    const auto q = sdk::apply_rope(heads[0], tables, options.rope().pairing);
    const auto k = sdk::apply_rope(heads[1], tables, options.rope().pairing);
    // AttentionCall's defaults: LibTorch picks the backend, no dropout, scale 1/sqrt(hd).
    const auto y = sdk::causal_attention(q, k, heads[2], {});  // (B, H, T, hd)
    return out(y.transpose(1, 2).reshape({B, T, H * hd}));
  }

  // A run records the printed model; the report flags arms whose printouts are identical as the
  // same model, so print every option that changes the module.
  void pretty_print(std::ostream& stream) const override {
    stream << "@NAME@(d_model=" << options.d_model() << ", n_heads=" << options.n_heads() << ")";
  }

  @CLASS@Options options;
  torch::nn::Linear qkv{nullptr}, out{nullptr};
};
TORCH_MODULE(@CLASS@);

// What a sweep may set (`attention: {plugin: @NAME@, n_heads: 4}`): the host checks names, types
// and bounds against this table and fills in defaults before make() and cost() see the options.
const sdk::OptionSpec kOptions[] = {
    {.name = "n_heads", .type = sdk::OptionType::integer, .default_value = "4",
     .doc = "attention heads; head width is d_model / n_heads", .min = 1},
};

// The sweep's options and the model's context as the module's options: make() and cost() both start
// here, so they cannot disagree about the module.
@CLASS@Options options_of(const sdk::ModelContext& ctx, const sdk::Options& o) {
  return @CLASS@Options(ctx.d_model, o.integer("n_heads")).rope(ctx.rope);
}

std::shared_ptr<sdk::ComponentImpl> make(const sdk::ModelContext& ctx, const sdk::Options& o) {
  return @CLASS@(options_of(ctx, o)).ptr();
}

// Parameters and forward FLOPs per token, from the options alone: `ablate expand` adds them up
// without building anything, and the host refuses to train when the built module's parameter count
// differs.
sdk::Cost cost(const sdk::ModelContext& ctx, const sdk::Options& o) {
  const @CLASS@Options m = options_of(ctx, o);
  check(m);
  const std::int64_t d = m.d_model(), H = m.n_heads(), hd = head_dim(m);
  const std::int64_t params = sdk::flops::linear_params(d, 3 * d) + sdk::flops::linear_params(d, d);
  return {.params_total = params,
          .params_active = params,
          .flops_per_token = sdk::flops::linear(d, 3 * d) + sdk::flops::linear(d, d) +
                             sdk::flops::attention_scores(H, hd, hd, ctx.seq_len)};
}

}  // namespace

// The one symbol the library exports: the host finds kind, name, description, options, make and
// cost through it.
ABLATE_PLUGIN(attention, "@NAME@", "causal multi-head attention with RoPE", kOptions, make, cost)
