// attention `mha`: multi-head attention with RoPE (docs/components.md).
// One fused Linear(d, (H + 2·Hkv)·hd) gives q, k, v; RoPE on q and k; causal scaled-dot-product
// attention with scale 1/sqrt(hd); output Linear(H·hd, d). n_kv_heads < n_heads is grouped-query
// attention (1 = multi-query); qk_norm applies an RMSNorm per head to q and k before RoPE.
#include <ablate/sdk/attention.h>
#include <ablate/sdk/functional.h>
#include <ablate/sdk/plugin.h>
#include <ablate/sdk/rope.h>

#include <stdexcept>

#include <torch/nn/init.h>

namespace {

using namespace ablate::sdk;

struct MhaOptions {
  MhaOptions(std::int64_t d_model, std::int64_t n_heads) : d_model_(d_model), n_heads_(n_heads) {}
  /// model width; must be a multiple of n_heads
  TORCH_ARG(std::int64_t, d_model);
  /// query heads H; head width hd = d_model / H
  TORCH_ARG(std::int64_t, n_heads);
  /// key/value heads; 0 means n_heads (plain multi-head attention)
  TORCH_ARG(std::int64_t, n_kv_heads) = 0;
  /// biases on the qkv and output projections; default off
  TORCH_ARG(bool, bias) = false;
  /// RMSNorm (eps 1e-6) on q and k per head; default off
  TORCH_ARG(bool, qk_norm) = false;
  /// dropout on attention probabilities in training; default 0
  TORCH_ARG(double, attn_dropout) = 0.0;
  /// scaled-dot-product backend: auto | math | flash | efficient | cudnn
  TORCH_ARG(std::string, backend) = "auto";
  /// rotary embedding settings of the model
  TORCH_ARG(RopeConfig, rope);
};

std::int64_t head_dim(const MhaOptions& o) { return o.d_model() / o.n_heads(); }
std::int64_t kv_heads(const MhaOptions& o) { return o.n_kv_heads() == 0 ? o.n_heads() : o.n_kv_heads(); }

void check(const MhaOptions& o) {
  if (o.d_model() % o.n_heads() != 0)
    throw std::invalid_argument("d_model " + std::to_string(o.d_model()) + " is not divisible by n_heads " +
                                std::to_string(o.n_heads()));
  if (o.n_heads() % kv_heads(o) != 0)
    throw std::invalid_argument("n_heads " + std::to_string(o.n_heads()) + " is not a multiple of n_kv_heads " +
                                std::to_string(kv_heads(o)));
  if (head_dim(o) % 2 != 0)
    throw std::invalid_argument("head width d_model/n_heads = " + std::to_string(head_dim(o)) +
                                " must be even for RoPE");
}

class MhaImpl : public ComponentImpl {
 public:
  explicit MhaImpl(const MhaOptions& options) : options(options) {
    check(options);
    reset();
  }

  void reset() {
    const std::int64_t hd = head_dim(options);
    const std::int64_t qkv_width = (options.n_heads() + 2 * kv_heads(options)) * hd;
    qkv = register_module("qkv", make_linear(options.d_model(), qkv_width, options.bias()));
    out = register_module("out", make_linear(options.n_heads() * hd, options.d_model(), options.bias()));
    if (options.qk_norm()) {
      q_norm_weight = register_parameter("q_norm_weight", torch::ones({hd}));
      k_norm_weight = register_parameter("k_norm_weight", torch::ones({hd}));
    }
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    const std::int64_t B = x.size(0), T = x.size(1);
    const std::int64_t H = options.n_heads(), Hkv = kv_heads(options), hd = head_dim(options);
    auto parts = qkv(x).split({H * hd, Hkv * hd, Hkv * hd}, -1);
    auto q = parts[0].view({B, T, H, hd}).transpose(1, 2);    // (B, H, T, hd)
    auto k = parts[1].view({B, T, Hkv, hd}).transpose(1, 2);  // (B, Hkv, T, hd)
    auto v = parts[2].view({B, T, Hkv, hd}).transpose(1, 2);  // (B, Hkv, T, hd)
    if (options.qk_norm()) {
      q = rms_norm(q, q_norm_weight, 1e-6);
      k = rms_norm(k, k_norm_weight, 1e-6);
    }
    const RopeTables& tables = rope_for(T, x.device());
    q = apply_rope(q, tables, options.rope().pairing);
    k = apply_rope(k, tables, options.rope().pairing);
    auto y = causal_attention(q, k, v,
                              {.backend = options.backend(),
                               .dropout = is_training() ? options.attn_dropout() : 0.0,
                               .scale = std::nullopt});  // (B, H, T, hd)
    return out(y.transpose(1, 2).reshape({B, T, H * hd}));
  }

  void pretty_print(std::ostream& stream) const override {
    stream << "ablate::mha(d_model=" << options.d_model() << ", n_heads=" << options.n_heads()
           << ", n_kv_heads=" << kv_heads(options) << ", bias=" << options.bias()
           << ", qk_norm=" << options.qk_norm() << ", attn_dropout=" << options.attn_dropout()
           << ", backend=" << options.backend() << ")";
  }

  MhaOptions options;
  torch::nn::Linear qkv{nullptr}, out{nullptr};
  /// (hd,) RMSNorm weights of q and k; undefined unless qk_norm
  torch::Tensor q_norm_weight, k_norm_weight;

 private:
  // cos/sin tables are recomputed only when T or the device changes.
  const RopeTables& rope_for(std::int64_t T, const torch::Device& device) {
    if (!tables_.cos.defined() || tables_.cos.size(0) != T || tables_.cos.device() != device)
      tables_ = rope_tables(options.rope(), head_dim(options), T, device);
    return tables_;
  }
  RopeTables tables_;
};
TORCH_MODULE(Mha);

const OptionSpec kOptions[] = {
    {.name = "n_heads", .type = OptionType::integer, .default_value = "8",
     .doc = "query heads; head width is d_model / n_heads", .min = 1},
    {.name = "n_kv_heads", .type = OptionType::integer, .default_value = "0",
     .doc = "key/value heads (grouped-query attention); 0 = n_heads", .min = 0},
    {.name = "bias", .type = OptionType::boolean, .default_value = "false",
     .doc = "biases on the qkv and output projections"},
    {.name = "qk_norm", .type = OptionType::boolean, .default_value = "false",
     .doc = "RMSNorm on q and k per head"},
    {.name = "attn_dropout", .type = OptionType::number, .default_value = "0.0",
     .doc = "dropout on attention probabilities in training", .min = 0.0, .max = 1.0},
    {.name = "backend", .type = OptionType::string, .default_value = "auto",
     .doc = "scaled-dot-product backend (flash/efficient/cudnn need CUDA)", .choices = kAttentionBackends},
};

MhaOptions options_of(const ModelContext& ctx, const Options& o) {
  return MhaOptions(ctx.d_model, o.integer("n_heads"))
      .n_kv_heads(o.integer("n_kv_heads"))
      .bias(o.boolean("bias"))
      .qk_norm(o.boolean("qk_norm"))
      .attn_dropout(o.number("attn_dropout"))
      .backend(o.string("backend"))
      .rope(ctx.rope);
}

std::shared_ptr<ComponentImpl> make(const ModelContext& ctx, const Options& o) {
  return Mha(options_of(ctx, o)).ptr();
}

Cost cost(const ModelContext& ctx, const Options& o) {
  const MhaOptions m = options_of(ctx, o);
  check(m);
  const std::int64_t d = m.d_model(), hd = head_dim(m), H = m.n_heads();
  const std::int64_t qkv_width = (H + 2 * kv_heads(m)) * hd;
  const std::int64_t params = flops::linear_params(d, qkv_width, m.bias()) +
                              flops::linear_params(H * hd, d, m.bias()) + (m.qk_norm() ? 2 * hd : 0);
  const double f = flops::linear(d, qkv_width) + flops::linear(H * hd, d) +
                   flops::attention_scores(H, hd, hd, ctx.seq_len);
  return {.params_total = params, .params_active = params, .flops_per_token = f};
}

}  // namespace

ABLATE_PLUGIN(attention, "mha", "multi-head (grouped-query) causal attention with RoPE", kOptions, make, cost)
