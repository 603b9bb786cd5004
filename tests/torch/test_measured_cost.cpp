// The measured cost of a component (measured_cost.h): the matmul FLOP counter on single operators,
// every built-in plugin's declared cost() against its measured cost, and a MoE that declares top-k
// but computes every expert, which the measurement must expose.
#include "catch_torch.h"
#include "component_helpers.h"

#include <cmath>
#include <iostream>

#include <ATen/ATen.h>
#include <torch/nn/modules/linear.h>

#include "ablate/engine/plugin_registry.h"
#include "ablate/sdk/component.h"
#include "measured_cost.h"

using namespace ablate;
using sdk::ComponentSpec;
using sdk::Kind;

namespace {

using component_test::context;
using component_test::registry;
using component_test::spec;

template <typename F>
double counted(F&& f) {
  MatmulFlopCounter counter;
  f();
  return counter.flops();
}

std::shared_ptr<const ComponentSpec> expert(const std::string& plugin, std::int64_t d_ff) {
  return std::make_shared<const ComponentSpec>(spec(Kind::mlp, plugin, {{{"d_ff", d_ff}}}));
}

}  // namespace

TEST_CASE("the matmul counter counts linear, mm, bmm and matmul exactly, and a product inside another once",
          "[measured_cost]") {
  const std::int64_t B = 3, T = 5, d = 16, f = 24;
  const bool grad = GENERATE(false, true);
  CAPTURE(grad);
  torch::AutoGradMode mode(grad);
  for (const bool bias : {false, true}) {
    torch::nn::Linear linear(torch::nn::LinearOptions(d, f).bias(bias));
    const auto x3 = at::randn({B, T, d}), x2 = at::randn({B * T, d});
    // 3-D input: linear → matmul → mm; 2-D input with bias: linear → addmm. Each once.
    CHECK(counted([&] { linear(x3); }) == 2.0 * B * T * d * f);
    CHECK(counted([&] { linear(x2); }) == 2.0 * B * T * d * f);
  }
  const auto a = at::randn({4, 5, 6}), b = at::randn({4, 6, 7});
  CHECK(counted([&] { at::mm(a[0], b[0]); }) == 2.0 * 5 * 6 * 7);
  CHECK(counted([&] { at::addmm(at::zeros({5, 7}), a[0], b[0]); }) == 2.0 * 5 * 6 * 7);
  CHECK(counted([&] { at::bmm(a, b); }) == 2.0 * 4 * 5 * 6 * 7);
  CHECK(counted([&] { at::baddbmm(at::zeros({4, 5, 7}), a, b); }) == 2.0 * 4 * 5 * 6 * 7);
  CHECK(counted([&] { at::matmul(a, b); }) == 2.0 * 4 * 5 * 6 * 7);
  // Broadcast batch dimensions (2, 1) and (3,) → 6 products; a 1-D left operand is one row.
  CHECK(counted([&] { at::matmul(at::randn({2, 1, 5, 6}), at::randn({3, 6, 7})); }) == 2.0 * 6 * 5 * 6 * 7);
  CHECK(counted([&] { at::matmul(at::randn({6}), at::randn({6, 7})); }) == 2.0 * 6 * 7);
  CHECK(counted([&] { at::mv(a[0], at::randn({6})); }) == 2.0 * 5 * 6);
  // _grouped_mm (the MoE dispatch's GEMM): rows jagged over 3 experts by their block ends, and a
  // batch of 3 equal groups. Its CPU fallback's own products are not counted again.
  const auto offsets = at::tensor({3, 7, 10}, at::kInt);
  CHECK(counted([&] { at::_grouped_mm(at::randn({10, 16}), at::randn({3, 16, 8}), offsets); }) == 2.0 * 10 * 16 * 8);
  CHECK(counted([&] { at::_grouped_mm(at::randn({3, 5, 16}), at::randn({3, 16, 8})); }) == 2.0 * 3 * 5 * 16 * 8);
  // einsum is not counted itself; the bmm it runs is.
  CHECK(counted([&] { at::einsum("bij,bjk->bik", {a, b}); }) == 2.0 * 4 * 5 * 6 * 7);
  // Elementwise work and reductions are not counted (sdk/flops.h).
  CHECK(counted([&] { at::softmax(a * 2 + 1, -1).sum(); }) == 0.0);

  // Counters nest: the outer one sees the inner one's operators too.
  MatmulFlopCounter outer;
  at::mm(a[0], b[0]);
  CHECK(counted([&] { at::bmm(a, b); }) == 2.0 * 4 * 5 * 6 * 7);
  CHECK(outer.flops() == 2.0 * 5 * 6 * 7 + 2.0 * 4 * 5 * 6 * 7);
}

TEST_CASE("scaled_dot_product_attention is counted over the full window of keys with every CPU backend",
          "[measured_cost]") {
  const std::int64_t B = 2, H = 4, L = 16, S = 16, E = 8;
  const bool causal = GENERATE(true, false);
  CAPTURE(causal);
  const auto q = at::randn({B, H, L, E}), k = at::randn({B, H, S, E}), v = at::randn({B, H, S, E});
  const double expected = 2.0 * B * H * L * S * (E + E);  // flops::attention_scores(H, E, E, S) per token
  CHECK(counted([&] { at::scaled_dot_product_attention(q, k, v, {}, 0.0, causal); }) == expected);
  CHECK(counted([&] { at::_scaled_dot_product_attention_math(q, k, v, {}, 0.0, causal); }) == expected);
  // Training-time autograd takes other kernels on the CPU; still counted once.
  const auto qg = q.clone().requires_grad_();
  CHECK(counted([&] { at::scaled_dot_product_attention(qg, k, v, {}, 0.0, causal); }) == expected);
  // Grouped-query: keys and values of 2 heads serve 4 query heads, counted over the query heads.
  const auto k2 = at::randn({B, 2, S, E}), v2 = at::randn({B, 2, S, E});
  CHECK(counted([&] { at::scaled_dot_product_attention(q, k2, v2, {}, 0.0, causal, std::nullopt, true); }) == expected);
  // Values of another width (MLA): q·k over E, p·v over Ev; fewer queries than keys.
  const std::int64_t Ev = 6, L2 = 4;
  const auto q2 = at::randn({B, H, L2, E}), v6 = at::randn({B, H, S, Ev});
  CHECK(counted([&] { at::_scaled_dot_product_attention_math(q2, k, v6, {}, 0.0, false); }) ==
        2.0 * B * H * L2 * S * (E + Ev));
}

TEST_CASE("every built-in plugin measures the FLOPs and active parameters its cost() declares",
          "[measured_cost][component]") {
  // Tolerance: FLOPs within 2% of the declared count (the measurement counts the same matmuls the
  // convention counts, so a sound plugin agrees exactly up to rounding; 2% leaves room for a small
  // product the convention leaves out, while a MoE that runs one extra expert of 8 is 50% off).
  // Parameters: exact.
  using I = std::int64_t;
  const std::int64_t d = 32, T = 16;
  const std::vector<ComponentSpec> specs = {
      spec(Kind::attention, "mha", {{{"n_heads", I{4}}}}),
      spec(Kind::attention, "mha", {{{"n_heads", I{4}}, {"n_kv_heads", I{1}}, {"bias", true}, {"qk_norm", true}}}),
      spec(Kind::attention, "mha", {{{"n_heads", I{4}}, {"backend", std::string("math")}}}),
      spec(Kind::attention, "mla", {{{"n_heads", I{4}}, {"kv_lora_rank", I{16}}}}),
      spec(Kind::attention, "mla", {{{"n_heads", I{4}}, {"q_lora_rank", I{16}}, {"kv_lora_rank", I{12}},
                                     {"qk_nope_head_dim", I{8}}, {"qk_rope_head_dim", I{4}}, {"v_head_dim", I{6}}}}),
      spec(Kind::mlp, "silu", {{{"d_ff", I{96}}}}),
      spec(Kind::mlp, "swiglu", {{{"d_ff", I{96}}}}),
      spec(Kind::mlp, "gelu", {{{"d_ff", I{96}}}}),
      spec(Kind::moe, "topk", {{{"expert", expert("silu", 64)}}}),
      spec(Kind::moe, "topk", {{{"n_experts", I{4}}, {"top_k", I{3}}, {"expert", expert("swiglu", 48)}}}),
      spec(Kind::moe, "deepseek_v3", {{{"expert", expert("swiglu", 48)}}}),
      spec(Kind::moe, "deepseek_v3", {{{"n_group", I{4}}, {"topk_group", I{2}}, {"n_shared", I{2}}, {"expert", expert("silu", 48)}}}),
      spec(Kind::moe, "glm4", {{{"expert", expert("gelu", 48)}}}),
      // Capacity dispatch computes every expert's C rows per sequence, padding included.
      spec(Kind::moe, "topk", {{{"dispatch", std::string("capacity")}, {"expert", expert("silu", 64)}}}),
      spec(Kind::moe, "glm4", {{{"dispatch", std::string("capacity")}, {"capacity_factor", 2.0}, {"expert", expert("swiglu", 48)}}}),
      spec(Kind::norm, "rmsnorm"),
      spec(Kind::norm, "layernorm"),
  };
  for (const auto& s : specs) {
    CAPTURE(s.plugin);
    const auto module = registry().create(s, context(d, T));
    const sdk::Cost declared = registry().cost(s, context(d, T));
    module->train(true);
    const MeasuredCost measured = measure_cost(*module, d, T);
    std::cout << "measured cost: " << s.plugin << " flops/token measured " << measured.flops_per_token << " declared "
              << declared.flops_per_token << "; active params measured " << measured.params_active << " declared "
              << declared.params_active << "; total " << measured.params_total << " declared " << declared.params_total
              << "\n";
    CAPTURE(measured.flops_per_token, declared.flops_per_token, measured.params_active, declared.params_active);
    CHECK(module->is_training());  // mode restored
    for (const auto& p : module->parameters()) CHECK_FALSE(p.grad().defined());  // .grad untouched
    CHECK(measured.flops_per_token == Approx(declared.flops_per_token).epsilon(0.02));
    // Under capacity dispatch too: the first token of a sequence is never dropped, and it is measured.
    CHECK(measured.params_active == declared.params_active);
    CHECK(measured.params_total == declared.params_total);
  }
}

TEST_CASE("topk with top_k 1 weights its expert by the router's probability, so the output trains the router",
          "[measured_cost][component][moe]") {
  // A softmax over the k chosen logits is the constant 1 when k = 1: the output would not depend on
  // the router, and only the auxiliary loss would train it. topk weights a single expert by its
  // probability over all E (Switch Transformer), and the measurement sees the router as active.
  const std::int64_t d = 32, T = 16, E = 4;
  const auto s = spec(Kind::moe, "topk", {{{"n_experts", E}, {"top_k", std::int64_t{1}}, {"expert", expert("swiglu", 48)}}});
  const auto module = registry().create(s, context(d, T));
  const sdk::Cost declared = registry().cost(s, context(d, T));
  const MeasuredCost measured = measure_cost(*module, d, T);
  CHECK(measured.flops_per_token == Approx(declared.flops_per_token).epsilon(1e-9));
  CHECK(measured.params_active == declared.params_active);  // router.weight (E, d) included
  CHECK(measured.params_total == declared.params_total);
}

namespace {

// A toy MoE of E experts y = x·W_e over (E, d, d) stacked weights, routed top-k by a router. Honest:
// each expert multiplies only its tokens. Dense: every expert multiplies every token and the
// unchosen results are weighted by zero: the same output, E/k times the FLOPs, and (since a zero
// weight sends no gradient) the same active parameters. Only the FLOPs can show the difference.
struct ToyMoe : sdk::ComponentImpl {
  ToyMoe(std::int64_t d, std::int64_t E, std::int64_t k, bool dense) : d(d), E(E), k(k), dense(dense) {
    router = register_parameter("router", at::randn({d, E}) / std::sqrt(static_cast<double>(d)));
    w = register_parameter("w", at::randn({E, d, d}) / std::sqrt(static_cast<double>(d)));
  }
  at::Tensor forward(const at::Tensor& x) override {
    const auto flat = x.reshape({-1, d});
    const auto [top, chosen] = at::mm(flat, router).topk(k, -1);  // (N, k)
    const auto gates = at::zeros({flat.size(0), E}).scatter(1, chosen, at::softmax(top, -1));  // (N, E), 0 if unchosen
    if (dense) return (at::matmul(flat, w) * gates.t().unsqueeze(-1)).sum(0).view(x.sizes());  // (E, N, d) computed
    auto out = at::zeros_like(flat);
    for (std::int64_t e = 0; e < E; ++e) {
      const auto rows = (chosen == e).any(-1).nonzero().squeeze(-1);
      if (rows.numel() == 0) continue;
      const auto y = at::mm(flat.index_select(0, rows), w[e]) * gates.index_select(0, rows).select(1, e).unsqueeze(-1);
      out = out.index_add(0, rows, y);
    }
    return out.view(x.sizes());
  }
  std::int64_t d, E, k;
  bool dense;
  at::Tensor router, w;
};

}  // namespace

TEST_CASE("a MoE that runs every expert while declaring top-k measures E/k times the expert FLOPs",
          "[measured_cost][moe]") {
  const std::int64_t d = 16, E = 8, k = 2, T = 12;
  ToyMoe honest(d, E, k, false), dense(d, E, k, true);
  const auto h = measure_cost(honest, d, T), f = measure_cost(dense, d, T);
  const double router = 2.0 * d * E, expert = 2.0 * d * d;
  CHECK(h.flops_per_token == Approx(router + k * expert));
  CHECK(f.flops_per_token == Approx(router + E * expert));
  CHECK((f.flops_per_token - router) / (h.flops_per_token - router) == Approx(static_cast<double>(E) / k));
  // Stacked experts count per expert slice: the router and k slices of w, for both, so the
  // gradient alone would not have caught the dense one.
  CHECK(h.params_active == d * E + k * d * d);
  CHECK(f.params_active == d * E + k * d * d);
  CHECK(h.params_total == d * E + E * d * d);
}
