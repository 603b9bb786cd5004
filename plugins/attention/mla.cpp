// attention `mla`: DeepSeek multi-head latent attention (DeepSeek-V2/V3, docs/components.md).
// Query: q = W_qb · RMSNorm(W_qa · x) when q_lora_rank > 0, else q = W_q · x; per head
// [q_nope | q_rope]. Key/value: W_kva · x = [c_kv | k_rope]; k_rope is ONE head shared by every
// head, rotated by RoPE; W_kvb · RMSNorm(c_kv) gives per head [k_nope | v]. Keys per head are
// [k_nope | k_rope]. Causal scaled-dot-product attention with scale 1/sqrt(nope + rope), times m²
// under yarn with mscale_all_dim set (m = yarn_get_mscale(factor, mscale_all_dim)); output
// W_o: H·v_head_dim → d. Both inner RMSNorms have eps 1e-6 and a learnable weight. `bias` puts
// biases on W_qa (or W_q), W_kva and W_o, never on W_qb or W_kvb.
//
// The query/key width (nope + rope) may differ from v_head_dim: scaled-dot-product attention
// accepts that. On the CPU, `auto` then runs the math kernel (the fused CPU kernel needs equal
// widths and LibTorch falls back by itself); `math` runs it explicitly.
#include <ablate/sdk/attention.h>
#include <ablate/sdk/functional.h>
#include <ablate/sdk/plugin.h>
#include <ablate/sdk/rope.h>

#include <cmath>
#include <stdexcept>

#include <torch/nn/init.h>

namespace {

using namespace ablate::sdk;

struct MlaOptions {
  MlaOptions(std::int64_t d_model, std::int64_t n_heads) : d_model_(d_model), n_heads_(n_heads) {}
  /// model width
  TORCH_ARG(std::int64_t, d_model);
  /// heads H
  TORCH_ARG(std::int64_t, n_heads);
  /// rank of the query compression W_qa: d → q_lora_rank; 0 means no compression (q = W_q · x)
  TORCH_ARG(std::int64_t, q_lora_rank) = 0;
  /// rank of the key/value latent c_kv
  TORCH_ARG(std::int64_t, kv_lora_rank) = 128;
  /// per-head query/key dims without RoPE; 0 makes the keys identical across heads
  TORCH_ARG(std::int64_t, qk_nope_head_dim) = 0;
  /// per-head query/key dims with RoPE (k_rope is shared by every head); 0 means d_model / H
  TORCH_ARG(std::int64_t, qk_rope_head_dim) = 0;
  /// per-head value width; 0 means d_model / H
  TORCH_ARG(std::int64_t, v_head_dim) = 0;
  /// biases on W_qa (or W_q), W_kva and W_o; default off
  TORCH_ARG(bool, bias) = false;
  /// dropout on attention probabilities in training; default 0
  TORCH_ARG(double, attn_dropout) = 0.0;
  /// scaled-dot-product backend: auto | math | flash | efficient | cudnn
  TORCH_ARG(std::string, backend) = "auto";
  /// rotary embedding settings of the model
  TORCH_ARG(RopeConfig, rope);
};

constexpr double kNormEps = 1e-6;

std::int64_t rope_dim(const MlaOptions& o) {
  return o.qk_rope_head_dim() == 0 ? o.d_model() / o.n_heads() : o.qk_rope_head_dim();
}
std::int64_t v_dim(const MlaOptions& o) { return o.v_head_dim() == 0 ? o.d_model() / o.n_heads() : o.v_head_dim(); }
std::int64_t qk_dim(const MlaOptions& o) { return o.qk_nope_head_dim() + rope_dim(o); }

/// The softmax scale: 1/sqrt(nope + rope), times m² under yarn with mscale_all_dim set.
double softmax_scale(const MlaOptions& o) {
  double scale = 1.0 / std::sqrt(static_cast<double>(qk_dim(o)));
  const RopeConfig& r = o.rope();
  if (r.scaling == "yarn" && r.mscale_all_dim != 0.0) {
    const double m = yarn_get_mscale(r.factor, r.mscale_all_dim);
    scale *= m * m;
  }
  return scale;
}

void check(const MlaOptions& o) {
  if ((o.qk_rope_head_dim() == 0 || o.v_head_dim() == 0) && o.d_model() % o.n_heads() != 0)
    throw std::invalid_argument("d_model " + std::to_string(o.d_model()) + " is not divisible by n_heads " +
                                std::to_string(o.n_heads()) +
                                " (qk_rope_head_dim or v_head_dim 0 means d_model / n_heads)");
  if (rope_dim(o) <= 0 || rope_dim(o) % 2 != 0)
    throw std::invalid_argument("qk_rope_head_dim = " + std::to_string(rope_dim(o)) +
                                " must be even and positive for RoPE");
  if (v_dim(o) <= 0)
    throw std::invalid_argument("v_head_dim = " + std::to_string(v_dim(o)) + " must be positive");
  if (o.kv_lora_rank() <= 0)
    throw std::invalid_argument("kv_lora_rank = " + std::to_string(o.kv_lora_rank()) + " must be positive");
  if (o.q_lora_rank() < 0 || o.qk_nope_head_dim() < 0)
    throw std::invalid_argument("q_lora_rank and qk_nope_head_dim must not be negative");
}

class MlaImpl : public ComponentImpl {
 public:
  explicit MlaImpl(const MlaOptions& options) : options(options) {
    check(options);
    reset();
  }

  void reset() {
    const std::int64_t d = options.d_model(), H = options.n_heads();
    const std::int64_t nope = options.qk_nope_head_dim(), rope = rope_dim(options), dv = v_dim(options);
    const std::int64_t q_lora = options.q_lora_rank(), kv_lora = options.kv_lora_rank();
    if (q_lora > 0) {
      q_a = register_module("q_a", make_linear(d, q_lora, options.bias()));
      q_a_norm_weight = register_parameter("q_a_norm_weight", torch::ones({q_lora}));
      q_b = register_module("q_b", make_linear(q_lora, H * (nope + rope), false));
    } else {
      q = register_module("q", make_linear(d, H * (nope + rope), options.bias()));
    }
    kv_a = register_module("kv_a", make_linear(d, kv_lora + rope, options.bias()));
    kv_a_norm_weight = register_parameter("kv_a_norm_weight", torch::ones({kv_lora}));
    kv_b = register_module("kv_b", make_linear(kv_lora, H * (nope + dv), false));
    out = register_module("out", make_linear(H * dv, d, options.bias()));
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    const std::int64_t B = x.size(0), T = x.size(1), H = options.n_heads();
    const std::int64_t nope = options.qk_nope_head_dim(), rope = rope_dim(options), dv = v_dim(options);
    const RopeTables& tables = rope_for(T, x.device());

    // Queries (B, H, T, nope + rope): RoPE on the last `rope` dims of each head.
    torch::Tensor queries = options.q_lora_rank() > 0 ? q_b(rms_norm(q_a(x), q_a_norm_weight, kNormEps)) : q(x);
    queries = queries.view({B, T, H, nope + rope}).transpose(1, 2);
    auto q_parts = queries.split({nope, rope}, -1);
    const auto q_rope = apply_rope(q_parts[1], tables, options.rope().pairing);
    queries = nope > 0 ? torch::cat({q_parts[0], q_rope}, -1) : q_rope;

    // Keys (B, H, T, nope + rope) and values (B, H, T, dv).
    auto [keys, values] = keys_values(x, tables);

    auto y = causal_attention(queries, keys, values,
                              {.backend = options.backend(),
                               .dropout = is_training() ? options.attn_dropout() : 0.0,
                               .scale = softmax_scale(options)});  // (B, H, T, dv)
    return out(y.transpose(1, 2).reshape({B, T, H * dv}));
  }

  void pretty_print(std::ostream& stream) const override {
    stream << "ablate::mla(d_model=" << options.d_model() << ", n_heads=" << options.n_heads()
           << ", q_lora_rank=" << options.q_lora_rank() << ", kv_lora_rank=" << options.kv_lora_rank()
           << ", qk_nope_head_dim=" << options.qk_nope_head_dim() << ", qk_rope_head_dim=" << rope_dim(options)
           << ", v_head_dim=" << v_dim(options) << ", bias=" << options.bias()
           << ", attn_dropout=" << options.attn_dropout() << ", backend=" << options.backend()
           << ")";
  }

  MlaOptions options;
  /// query path: q (no compression) or q_a → RMSNorm → q_b; the unused ones are null
  torch::nn::Linear q{nullptr}, q_a{nullptr}, q_b{nullptr};
  /// key/value path and output projection
  torch::nn::Linear kv_a{nullptr}, kv_b{nullptr}, out{nullptr};
  /// RMSNorm weights of the query latent (undefined without q_lora_rank) and of c_kv
  torch::Tensor q_a_norm_weight, kv_a_norm_weight;

 private:
  // keys: [k_nope | k_rope] with k_rope one rotated head broadcast to every head.
  std::pair<torch::Tensor, torch::Tensor> keys_values(const torch::Tensor& x, const RopeTables& tables) {
    const std::int64_t B = x.size(0), T = x.size(1), H = options.n_heads();
    const std::int64_t nope = options.qk_nope_head_dim(), rope = rope_dim(options), dv = v_dim(options);
    auto kv_parts = kv_a(x).split({options.kv_lora_rank(), rope}, -1);
    auto k_rope = kv_parts[1].view({B, T, 1, rope}).transpose(1, 2);  // (B, 1, T, rope)
    k_rope = apply_rope(k_rope, tables, options.rope().pairing).expand({B, H, T, rope});
    auto kv = kv_b(rms_norm(kv_parts[0], kv_a_norm_weight, kNormEps)).view({B, T, H, nope + dv}).transpose(1, 2);
    auto nope_v = kv.split({nope, dv}, -1);
    auto keys = nope > 0 ? torch::cat({nope_v[0], k_rope}, -1) : k_rope;
    return {keys, nope_v[1]};
  }

  // cos/sin tables are recomputed only when T or the device changes.
  const RopeTables& rope_for(std::int64_t T, const torch::Device& device) {
    if (!tables_.cos.defined() || tables_.cos.size(0) != T || tables_.cos.device() != device)
      tables_ = rope_tables(options.rope(), rope_dim(options), T, device);
    return tables_;
  }
  RopeTables tables_;
};
TORCH_MODULE(Mla);

const OptionSpec kOptions[] = {
    {.name = "n_heads", .type = OptionType::integer, .default_value = "8",
     .doc = "heads H", .min = 1},
    {.name = "q_lora_rank", .type = OptionType::integer, .default_value = "0",
     .doc = "query compression rank (W_qa, RMSNorm, W_qb); 0 = no compression (one W_q)", .min = 0},
    {.name = "kv_lora_rank", .type = OptionType::integer, .default_value = "128",
     .doc = "rank of the key/value latent c_kv (128: the seed experiments at d 512; DeepSeek-V3 512)", .min = 1},
    {.name = "qk_nope_head_dim", .type = OptionType::integer, .default_value = "0",
     .doc = "per-head query/key dims without RoPE; 0 = keys shared by every head", .min = 0},
    {.name = "qk_rope_head_dim", .type = OptionType::integer, .default_value = "0",
     .doc = "per-head query/key dims with RoPE (one key head shared by all), even; 0 = d_model / n_heads", .min = 0},
    {.name = "v_head_dim", .type = OptionType::integer, .default_value = "0",
     .doc = "per-head value width; 0 = d_model / n_heads", .min = 0},
    {.name = "bias", .type = OptionType::boolean, .default_value = "false",
     .doc = "biases on W_qa (or W_q), W_kva and W_o; never on W_qb, W_kvb"},
    {.name = "attn_dropout", .type = OptionType::number, .default_value = "0.0",
     .doc = "dropout on attention probabilities in training", .min = 0.0, .max = 1.0},
    {.name = "backend", .type = OptionType::string, .default_value = "auto",
     .doc = "scaled-dot-product backend (flash/efficient/cudnn need CUDA)", .choices = kAttentionBackends},
};

MlaOptions options_of(const ModelContext& ctx, const Options& o) {
  return MlaOptions(ctx.d_model, o.integer("n_heads"))
      .q_lora_rank(o.integer("q_lora_rank"))
      .kv_lora_rank(o.integer("kv_lora_rank"))
      .qk_nope_head_dim(o.integer("qk_nope_head_dim"))
      .qk_rope_head_dim(o.integer("qk_rope_head_dim"))
      .v_head_dim(o.integer("v_head_dim"))
      .bias(o.boolean("bias"))
      .attn_dropout(o.number("attn_dropout"))
      .backend(o.string("backend"))
      .rope(ctx.rope);
}

std::shared_ptr<ComponentImpl> make(const ModelContext& ctx, const Options& o) {
  return Mla(options_of(ctx, o)).ptr();
}

Cost cost(const ModelContext& ctx, const Options& o) {
  const MlaOptions m = options_of(ctx, o);
  check(m);
  const std::int64_t d = m.d_model(), H = m.n_heads(), dqk = qk_dim(m), dv = v_dim(m);
  const std::int64_t q_lora = m.q_lora_rank(), kv_lora = m.kv_lora_rank(), nope = m.qk_nope_head_dim();
  std::int64_t params = 0;
  double f = 0;
  if (q_lora > 0) {
    params += flops::linear_params(d, q_lora, m.bias()) + q_lora + flops::linear_params(q_lora, H * dqk);
    f += flops::linear(d, q_lora) + flops::linear(q_lora, H * dqk);
  } else {
    params += flops::linear_params(d, H * dqk, m.bias());
    f += flops::linear(d, H * dqk);
  }
  params += flops::linear_params(d, kv_lora + rope_dim(m), m.bias()) + kv_lora +
            flops::linear_params(kv_lora, H * (nope + dv)) + flops::linear_params(H * dv, d, m.bias());
  f += flops::linear(d, kv_lora + rope_dim(m)) + flops::linear(kv_lora, H * (nope + dv)) + flops::linear(H * dv, d) +
       flops::attention_scores(H, dqk, dv, ctx.seq_len);
  return {.params_total = params, .params_active = params, .flops_per_token = f};
}

}  // namespace

ABLATE_PLUGIN(attention, "mla", "DeepSeek multi-head latent attention (compressed q/kv, shared RoPE key)", kOptions,
              make, cost)
