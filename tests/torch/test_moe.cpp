// The sigmoid-routed MoEs (`deepseek_v3`, `glm4`) against their formulas (docs/components.md,
// plugins/moe/sigmoid_routing.h): hand-made router scores, the correction bias, group-limited
// routing, the balancing update, the sequence-wise loss, and parameter counts; and the SDK's
// shared dispatch (ablate/sdk/moe_dispatch.h) against a per-token reference, both strategies.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "ablate/train/causality.h"
#include "ablate/train/model.h"
#include "ablate/engine/plugin_registry.h"
#include "ablate/sdk/component.h"
#include "ablate/sdk/moe_dispatch.h"

#include "catch_torch.h"
#include "component_helpers.h"

using namespace ablate;
using sdk::ComponentSpec;
using sdk::Kind;

namespace {

using component_test::context;
using component_test::registry;
using component_test::spec;

std::shared_ptr<const ComponentSpec> expert_spec(const std::string& plugin, std::int64_t d_ff) {
  return std::make_shared<const ComponentSpec>(spec(Kind::mlp, plugin, {{{"d_ff", d_ff}}}));
}


at::Tensor param(const torch::nn::Module& m, const std::string& name) { return m.named_parameters()[name]; }
at::Tensor bias_of(const torch::nn::Module& m) { return m.named_buffers()["e_score_correction_bias"]; }

sdk::ComponentImpl& submodule(const torch::nn::Module& m, const std::string& name) {
  return *m.named_modules("", false)[name]->as<sdk::ComponentImpl>();
}

// An MoE whose router is the identity: d_model = E, so a token's input row is its router logits.
std::shared_ptr<sdk::ComponentImpl> identity_router_moe(const std::string& plugin, const sdk::Options& overrides) {
  const std::int64_t E = std::get<std::int64_t>(overrides.values.at("n_experts"));
  sdk::Options o = overrides;
  o.values["expert"] = expert_spec("silu", 6);
  auto moe = registry().create(spec(Kind::moe, plugin, o), context(E));
  at::NoGradGuard no_grad;
  param(*moe, "router.weight").copy_(at::eye(E));
  return moe;
}

// Σ_j weight_j · expert_{experts_j}(x) for one token row x of width d.
at::Tensor mix(const torch::nn::Module& moe, const at::Tensor& x, const std::vector<std::int64_t>& experts,
               const std::vector<double>& weights) {
  const std::int64_t d = x.size(0);
  auto out = at::zeros({d});
  for (std::size_t j = 0; j < experts.size(); ++j)
    out += weights[j] * submodule(moe, "experts." + std::to_string(experts[j])).forward(x.view({1, 1, d})).view({d});
  return out;
}

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

}  // namespace

TEST_CASE("deepseek_v3 picks the top-k sigmoid scores and weights them by normalised unbiased scores times the scaling factor",
          "[component][moe]") {
  const double scale = 2.5;
  auto moe = identity_router_moe("deepseek_v3", {{{"n_experts", std::int64_t{8}}, {"top_k", std::int64_t{2}},
                                                  {"routed_scaling_factor", scale}, {"n_shared", std::int64_t{0}}}});
  moe->eval();
  // Token 0's two largest logits are experts 1 and 3; token 1's are 7 and 0.
  const auto x = at::tensor({0.1f, 2.0f, -1.0f, 1.5f, 0.0f, 0.3f, -0.5f, 0.2f,  //
                             0.9f, -2.0f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 1.2f})
                     .view({1, 2, 8});
  const auto y = moe->forward(x).view({2, 8});
  const double s1 = sigmoid(2.0), s3 = sigmoid(1.5), s7 = sigmoid(1.2), s0 = sigmoid(0.9);
  CHECK(at::allclose(y[0], mix(*moe, x[0][0], {1, 3}, {scale * s1 / (s1 + s3), scale * s3 / (s1 + s3)}), 1e-5, 1e-6));
  CHECK(at::allclose(y[1], mix(*moe, x[0][1], {7, 0}, {scale * s7 / (s0 + s7), scale * s0 / (s0 + s7)}), 1e-5, 1e-6));

  const auto load = moe->expert_load();
  REQUIRE(load.defined());
  CHECK(load.sum().item<double>() == Approx(1.0));
  CHECK(at::allclose(load, at::tensor({0.25f, 0.25f, 0.0f, 0.25f, 0.0f, 0.0f, 0.0f, 0.25f})));
  CHECK_FALSE(moe->aux_loss().defined());  // seq_aux_alpha 0

  SECTION("without norm_topk_prob the weights are the raw scores times the factor") {
    auto raw = identity_router_moe("deepseek_v3", {{{"n_experts", std::int64_t{8}}, {"top_k", std::int64_t{2}},
                                                   {"routed_scaling_factor", scale}, {"norm_topk_prob", false},
                                                   {"n_shared", std::int64_t{0}}}});
    raw->eval();
    CHECK(at::allclose(raw->forward(x).view({2, 8})[0], mix(*raw, x[0][0], {1, 3}, {scale * s1, scale * s3}), 1e-5, 1e-6));
  }
}

TEST_CASE("the correction bias changes which experts deepseek_v3 picks but not their weights", "[component][moe]") {
  auto moe = identity_router_moe("deepseek_v3", {{{"n_experts", std::int64_t{8}}, {"top_k", std::int64_t{2}},
                                                  {"n_shared", std::int64_t{0}}}});
  moe->eval();
  const auto x = at::tensor({0.1f, 2.0f, -1.0f, 1.5f, 0.0f, 0.3f, -0.5f, 0.2f}).view({1, 1, 8});
  const auto unbiased = moe->forward(x).view({8});
  const double s1 = sigmoid(2.0), s3 = sigmoid(1.5), s6 = sigmoid(-0.5);

  at::NoGradGuard no_grad;
  // A bias on the already chosen experts leaves choice and weights alone.
  bias_of(*moe).copy_(at::tensor({0.0f, 0.4f, 0.0f, 0.7f, 0.0f, 0.0f, 0.0f, 0.0f}));
  CHECK(at::allclose(moe->forward(x).view({8}), unbiased, 1e-6, 1e-7));
  // A bias that lifts expert 6 over expert 3: experts 6 and 1 are chosen, weighted by their
  // UNBIASED scores (s6 is small although 6 was picked first).
  bias_of(*moe).copy_(at::tensor({0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 3.0f, 0.0f}));
  const auto biased = moe->forward(x).view({8});
  CHECK(at::allclose(biased, mix(*moe, x[0][0], {1, 6}, {s1 / (s1 + s6), s6 / (s1 + s6)}), 1e-5, 1e-6));
  CHECK_FALSE(at::allclose(biased, mix(*moe, x[0][0], {1, 3}, {s1 / (s1 + s3), s3 / (s1 + s3)}), 1e-5, 1e-6));
  CHECK(at::allclose(moe->expert_load(), at::tensor({0.0f, 0.5f, 0.0f, 0.0f, 0.0f, 0.0f, 0.5f, 0.0f})));
}

TEST_CASE("deepseek_v3 keeps the topk_group groups with the largest sums of top-2 biased scores", "[component][moe]") {
  // 8 experts in 4 groups of 2: {0,1} {2,3} {4,5} {6,7}; keep 2 groups, pick 3 experts.
  auto moe = identity_router_moe("deepseek_v3", {{{"n_experts", std::int64_t{8}}, {"top_k", std::int64_t{3}},
                                                  {"n_group", std::int64_t{4}}, {"topk_group", std::int64_t{2}},
                                                  {"n_shared", std::int64_t{0}}}});
  moe->eval();
  // Group sums of sigmoid scores: {0,1} 1.000, {2,3} 1.442, {4,5} 1.336, {6,7} 0.538. Without
  // groups the top 3 would be 0, 2, 3; within groups {2,3} and {4,5} they are 2, 3, 4.
  const std::vector<float> logits = {3.0f, -3.0f, 1.0f, 0.9f, 0.8f, 0.6f, -1.0f, -1.0f};
  const auto x = at::tensor(logits).view({1, 1, 8});
  const auto s = [&](int e) { return sigmoid(logits[e]); };
  const auto weights = [&](std::vector<std::int64_t> chosen) {
    double sum = 0;
    for (auto e : chosen) sum += s(static_cast<int>(e));
    std::vector<double> w;
    for (auto e : chosen) w.push_back(s(static_cast<int>(e)) / sum);
    return w;
  };
  const auto y = moe->forward(x).view({8});
  CHECK(at::allclose(y, mix(*moe, x[0][0], {2, 3, 4}, weights({2, 3, 4})), 1e-5, 1e-6));
  CHECK_FALSE(at::allclose(y, mix(*moe, x[0][0], {0, 2, 3}, weights({0, 2, 3})), 1e-5, 1e-6));
  const auto load = moe->expert_load();
  CHECK(at::allclose(load, at::tensor({0.0f, 0.0f, 1.0f, 1.0f, 1.0f, 0.0f, 0.0f, 0.0f}) / 3.0));

  // The groups are ranked on biased scores: +1 on expert 1 makes {0,1} the best group (0.953 +
  // 1.047), so the kept groups are {0,1} and {2,3} and the picks 1, 0, 2, weighted unbiased.
  at::NoGradGuard no_grad;
  bias_of(*moe).copy_(at::tensor({0.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f}));
  CHECK(at::allclose(moe->forward(x).view({8}), mix(*moe, x[0][0], {0, 1, 2}, weights({0, 1, 2})), 1e-5, 1e-6));
}

TEST_CASE("deepseek_v3 rejects routing options that contradict each other", "[component][moe]") {
  const auto cost_of = [](std::int64_t E, std::int64_t k, std::int64_t G, std::int64_t kg) {
    return registry().cost(spec(Kind::moe, "deepseek_v3", {{{"n_experts", E}, {"top_k", k}, {"n_group", G},
                                                             {"topk_group", kg}, {"expert", expert_spec("silu", 8)}}}),
                           context(16));
  };
  CHECK_THROWS_WITH(cost_of(4, 5, 1, 1), Catch::Contains("top_k 5 is larger than n_experts 4"));
  CHECK_THROWS_WITH(cost_of(8, 2, 3, 1), Catch::Contains("n_experts 8 is not divisible by n_group 3"));
  CHECK_THROWS_WITH(cost_of(8, 2, 2, 3), Catch::Contains("topk_group 3 is larger than n_group 2"));
  CHECK_THROWS_WITH(cost_of(8, 3, 4, 1), Catch::Contains("top_k 3 is larger than the 2 experts"));
  CHECK_NOTHROW(cost_of(8, 4, 4, 2));
}

TEST_CASE("the balancing bias moves toward balance after each optimizer step", "[component][moe]") {
  const double gamma = 0.01;
  const std::string plugin = GENERATE("deepseek_v3", "glm4");
  CAPTURE(plugin);
  auto moe = identity_router_moe(plugin, {{{"n_experts", std::int64_t{4}}, {"top_k", std::int64_t{1}},
                                          {"bias_update_rate", gamma}}});
  // The bias is a buffer saved with the model, not a trained parameter.
  REQUIRE(bias_of(*moe).defined());
  CHECK(moe->named_parameters().find("e_score_correction_bias") == nullptr);
  CHECK(at::equal(bias_of(*moe), at::zeros({4})));

  // 6 tokens on expert 0, 2 on expert 1, none on 2 and 3: mean load 2.
  std::vector<float> rows;
  for (int t = 0; t < 8; ++t) {
    const int e = t < 6 ? 0 : 1;
    for (int j = 0; j < 4; ++j) rows.push_back(j == e ? 2.0f : -2.0f);
  }
  const auto x = at::tensor(rows).view({2, 4, 4});
  moe->train();
  moe->forward(x);
  CHECK(at::equal(bias_of(*moe), at::zeros({4})));  // only the step moves it
  moe->after_optimizer_step();
  const auto b = bias_of(*moe);
  CHECK(b[0].item<double>() == Approx(-gamma));  // overloaded: down
  CHECK(b[1].item<double>() == Approx(0.0));     // at the mean: unchanged
  CHECK(b[2].item<double>() == Approx(gamma));   // underloaded: up
  CHECK(b[3].item<double>() == Approx(gamma));

  // The load is counted over the forwards since the last update, in training mode only.
  const auto before = b.clone();
  moe->after_optimizer_step();  // no forward since: no change
  CHECK(at::equal(bias_of(*moe), before));
  moe->eval();
  moe->forward(x);
  moe->after_optimizer_step();  // evaluation forwards do not count
  CHECK(at::equal(bias_of(*moe), before));
  moe->train();
  moe->forward(x);
  moe->forward(x);
  moe->after_optimizer_step();
  CHECK(bias_of(*moe)[0].item<double>() == Approx(-2 * gamma));
  CHECK(bias_of(*moe)[2].item<double>() == Approx(2 * gamma));
}

TEST_CASE("the sequence-wise balance loss follows DeepSeek-V3's formula", "[component][moe]") {
  const double alpha = 0.3;
  const std::int64_t E = 4, k = 2, B = 2, T = 3;
  auto moe = identity_router_moe("deepseek_v3", {{{"n_experts", E}, {"top_k", k}, {"seq_aux_alpha", alpha}}});
  moe->eval();
  const auto x = at::randn({B, T, E});
  moe->forward(x);
  const auto aux = moe->aux_loss();
  REQUIRE(aux.defined());
  // By hand: per sequence, f_i = E/(kT) · #tokens choosing i, P_i = mean_t s_i / Σ_j s_j.
  double expected = 0;
  for (std::int64_t b = 0; b < B; ++b) {
    std::vector<double> f(E, 0.0), p(E, 0.0);
    for (std::int64_t t = 0; t < T; ++t) {
      std::vector<double> s(E);
      double sum = 0;
      for (std::int64_t e = 0; e < E; ++e) sum += s[e] = sigmoid(x[b][t][e].item<double>());
      for (std::int64_t e = 0; e < E; ++e) p[e] += s[e] / sum / static_cast<double>(T);
      std::vector<std::int64_t> order = {0, 1, 2, 3};
      std::sort(order.begin(), order.end(), [&](auto a, auto c) { return s[a] > s[c]; });
      for (std::int64_t j = 0; j < k; ++j) f[order[j]] += static_cast<double>(E) / static_cast<double>(k * T);
    }
    for (std::int64_t e = 0; e < E; ++e) expected += alpha * f[e] * p[e] / static_cast<double>(B);
  }
  CHECK(aux.item<double>() == Approx(expected).epsilon(1e-5));
  // It trains the router: its gradient reaches the router weight.
  moe->train();
  moe->forward(x);
  moe->aux_loss().backward();
  CHECK(param(*moe, "router.weight").grad().abs().sum().item<double>() > 0);
}

TEST_CASE("glm4 really routes: each token's output is the sum over exactly k of E experts plus the shared expert",
          "[component][moe]") {
  const std::int64_t E = 8, k = 2, d = 16, N = 6;
  auto moe = registry().create(spec(Kind::moe, "glm4", {{{"n_experts", E}, {"top_k", k},
                                                         {"expert", expert_spec("swiglu", 12)}}}),
                               context(d));
  moe->eval();
  const auto x = at::randn({1, N, d});
  const auto y = moe->forward(x).view({N, d});
  // Reference loop: sigmoid scores, top-k, normalised weights (scaling 1), plus the shared expert.
  const auto scores = at::sigmoid(at::matmul(x.view({N, d}), param(*moe, "router.weight").t()));
  auto& shared = submodule(*moe, "shared_experts");
  for (std::int64_t n = 0; n < N; ++n) {
    auto [top, idx] = scores[n].topk(k);
    const auto w = top / top.sum();
    std::vector<std::int64_t> chosen;
    std::vector<double> weights;
    for (std::int64_t j = 0; j < k; ++j) {
      chosen.push_back(idx[j].item<std::int64_t>());
      weights.push_back(w[j].item<double>());
    }
    const auto reference = mix(*moe, x[0][n], chosen, weights) + shared.forward(x[0][n].view({1, 1, d})).view({d});
    CHECK(at::allclose(y[n], reference, 1e-5, 1e-6));
  }
  const auto load = moe->expert_load();
  REQUIRE(load.defined());
  CHECK(load.numel() == E);
  CHECK(load.sum().item<double>() == Approx(1.0));

  // The counts show E experts built and k (plus the shared one) active.
  const auto cost = registry().cost(spec(Kind::moe, "glm4", {{{"n_experts", E}, {"top_k", k},
                                                             {"expert", expert_spec("swiglu", 12)}}}),
                                    context(d));
  const std::int64_t expert = 3 * d * 12;
  CHECK(cost.params_total == d * E + E * expert + expert);
  CHECK(cost.params_active == d * E + k * expert + expert);
  CHECK(cost.flops_per_token == Approx(2.0 * (d * E + k * expert + expert)));
}

TEST_CASE("deepseek_v3 and glm4 build exactly the parameters their cost functions count", "[component][moe][params]") {
  const std::string plugin = GENERATE("deepseek_v3", "glm4");
  const std::string expert = GENERATE("silu", "swiglu");
  const std::int64_t n_shared = GENERATE(0, 1, 2);
  CAPTURE(plugin, expert, n_shared);
  const std::int64_t d = 32, E = 4, k = 2, d_ff = 24;
  const auto s = spec(Kind::moe, plugin, {{{"n_experts", E}, {"top_k", k}, {"n_shared", n_shared},
                                           {"expert", expert_spec(expert, d_ff)}}});
  const auto module = registry().create(s, context(d));
  const auto cost = registry().cost(s, context(d));
  const std::int64_t per_expert = (expert == "silu" ? 2 : 3) * d * d_ff;
  CHECK(ablate::parameter_count(*module) == cost.params_total);
  CHECK(cost.params_total == d * E + (E + n_shared) * per_expert);
  CHECK(cost.params_active == d * E + (k + n_shared) * per_expert);
  CHECK(cost.params_active < cost.params_total);
  // The shared experts are one MLP of width n_shared · d_ff.
  const auto named = module->named_parameters();
  if (n_shared > 0) {
    const auto first = named[expert == "silu" ? "shared_experts.w1.weight" : "shared_experts.gate.weight"];
    CHECK(first.size(0) == n_shared * d_ff);
  } else {
    CHECK(module->named_modules("", false).find("shared_experts") == nullptr);
  }
  // Forward works and the output has the input's shape.
  const auto y = module->forward(at::randn({2, 5, d}));
  CHECK(y.sizes() == at::IntArrayRef({2, 5, d}));
  CHECK(module->expert_load().sum().item<double>() == Approx(1.0));
}

namespace {

struct Experts {
  std::vector<std::shared_ptr<sdk::ComponentImpl>> modules;
  std::vector<at::Tensor> parameters;
};

Experts build_experts(const std::string& plugin, std::int64_t E, std::int64_t d, std::int64_t d_ff) {
  Experts experts;
  for (std::int64_t e = 0; e < E; ++e) {
    experts.modules.push_back(registry().create(*expert_spec(plugin, d_ff), context(d)));
    for (const auto& p : experts.modules.back()->parameters()) experts.parameters.push_back(p);
  }
  return experts;
}

// The definition, token by token: y_n = Σ_j w_{n,j} · expert_{e_{n,j}}(x_n), each expert applied
// to all N tokens through its own module (no sorting, no buffers).
at::Tensor reference_moe(const Experts& experts, const at::Tensor& x, const at::Tensor& index, const at::Tensor& w) {
  std::vector<at::Tensor> all;  // E × (N, d)
  for (const auto& m : experts.modules) all.push_back(m->forward(x.unsqueeze(0)).squeeze(0));
  std::vector<at::Tensor> rows;
  for (std::int64_t n = 0; n < x.size(0); ++n) {
    at::Tensor row = at::zeros({x.size(1)});
    for (std::int64_t j = 0; j < index.size(1); ++j) row = row + w[n][j] * all[index[n][j].item<std::int64_t>()][n];
    rows.push_back(row);
  }
  return at::stack(rows);
}

}  // namespace

TEST_CASE("moe_dispatch: sorted and capacity strategies give the reference's outputs and gradients",
          "[component][moe][dispatch]") {
  const std::string plugin = GENERATE("silu", "swiglu", "gelu");
  const bool stacked = GENERATE(true, false);  // built-in stacked weights, or per-expert module calls
  const std::string strategy = GENERATE("sorted", "capacity");
  CAPTURE(plugin, stacked, strategy);
  const std::int64_t N = 12, d = 8, E = 4, k = 2, d_ff = 6;
  at::manual_seed(7);
  const Experts experts = build_experts(plugin, E, d, d_ff);
  const auto x = at::randn({N, d}).requires_grad_(true);
  const auto index = std::get<1>(at::randn({N, E}).topk(k, -1));  // k distinct experts per token
  const auto w = at::softmax(at::randn({N, k}), -1).requires_grad_(true);

  sdk::MoeExperts dispatch_experts = sdk::moe_experts(*expert_spec(plugin, d_ff), experts.modules);
  REQUIRE(dispatch_experts.stacked.has_value());  // every built-in MLP is recognised
  if (!stacked) dispatch_experts.stacked.reset();
  // capacity_factor E: C = N·k, more than any expert can receive, so nothing is dropped
  const sdk::MoeDispatchOptions options{.strategy = sdk::parse_moe_dispatch(strategy),
                                        .capacity_factor = static_cast<double>(E)};
  const auto result = sdk::moe_dispatch(x, index, w, dispatch_experts, options);
  const auto reference = reference_moe(experts, x, index, w);
  REQUIRE(result.output.sizes() == reference.sizes());
  CHECK(at::allclose(result.output, reference, 1e-5, 1e-6));
  CHECK(result.dropped.sum().item<std::int64_t>() == 0);
  // counts: assignments per expert, as an independent bincount of the index
  CHECK(at::equal(result.counts, at::bincount(index.flatten(), {}, E)));

  // Gradients of one fixed projection of the output, w.r.t. the input, the weights and every expert parameter.
  std::vector<at::Tensor> inputs = {x, w};
  inputs.insert(inputs.end(), experts.parameters.begin(), experts.parameters.end());
  const auto probe = at::randn({N, d});
  const auto got = torch::autograd::grad({(result.output * probe).sum()}, inputs);
  const auto want = torch::autograd::grad({(reference * probe).sum()}, inputs);
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(at::allclose(got[i], want[i], 1e-5, 1e-6));
  }
}

TEST_CASE("moe_dispatch capacity drops the assignments over an expert's capacity, in token order",
          "[component][moe][dispatch]") {
  const std::int64_t N = 8, d = 4, E = 2, k = 1, d_ff = 5;
  CHECK(sdk::moe_capacity(N, k, E, 1.0) == 4);
  CHECK(sdk::moe_capacity(10, 2, 4, 1.25) == 7);  // ceil(6.25)
  at::manual_seed(3);
  const Experts experts = build_experts("silu", E, d, d_ff);
  const auto x = at::randn({N, d});
  // Tokens 0,1,2,4,5,7 pick expert 0 (six, capacity 4: tokens 5 and 7 are dropped); 3 and 6 pick expert 1.
  const auto index = at::tensor(std::vector<std::int64_t>{0, 0, 0, 1, 0, 0, 1, 0}).view({N, k});
  const auto w = at::ones({N, k});
  const auto result = sdk::moe_dispatch(x, index, w, sdk::moe_experts(*expert_spec("silu", d_ff), experts.modules),
                                        {.strategy = sdk::MoeDispatch::capacity, .capacity_factor = 1.0});
  CHECK(at::equal(result.dropped, at::tensor(std::vector<std::int64_t>{2, 0})));  // per expert
  const auto reference = reference_moe(experts, x, index, w);
  for (std::int64_t n = 0; n < N; ++n) {
    CAPTURE(n);
    if (n == 5 || n == 7)
      CHECK(at::equal(result.output[n], at::zeros({d})));  // dropped: nothing added
    else
      CHECK(at::allclose(result.output[n], reference[n], 1e-5, 1e-6));
  }
  // The sorted strategy never drops.
  const auto sorted = sdk::moe_dispatch(x, index, w, sdk::moe_experts(*expert_spec("silu", d_ff), experts.modules), {});
  CHECK(sorted.dropped.sum().item<std::int64_t>() == 0);
  CHECK(at::allclose(sorted.output, reference, 1e-5, 1e-6));
}

TEST_CASE("every MoE plugin gives the same output with either dispatch when nothing is dropped",
          "[component][moe][dispatch]") {
  const std::string plugin = GENERATE("topk", "deepseek_v3", "glm4");
  CAPTURE(plugin);
  const std::int64_t E = 4, d = 16;
  const auto build = [&](const std::string& dispatch) {
    at::manual_seed(11);  // same seed: same parameters in both modules
    auto m = registry().create(spec(Kind::moe, plugin, {{{"n_experts", E}, {"expert", expert_spec("swiglu", 12)},
                                                         {"dispatch", dispatch}, {"capacity_factor", double(E)}}}),
                               context(d));
    m->eval();  // topk: no router noise
    return m;
  };
  const auto sorted = build("sorted"), capacity = build("capacity");
  const auto x = at::randn({2, 5, d});
  CHECK(at::allclose(sorted->forward(x), capacity->forward(x), 1e-5, 1e-6));
  CHECK(at::equal(sorted->expert_load(), capacity->expert_load()));
  CHECK_THROWS_AS(sdk::parse_moe_dispatch("grouped"), std::invalid_argument);
}

TEST_CASE("moe_dispatch capacity is per sequence: one sequence's routing never drops another's tokens",
          "[component][moe][dispatch][causal]") {
  const std::int64_t B = 2, T = 4, d = 4, E = 2, k = 1, d_ff = 5;
  at::manual_seed(5);
  const Experts experts = build_experts("silu", E, d, d_ff);
  const auto experts_of = sdk::moe_experts(*expert_spec("silu", d_ff), experts.modules);
  const sdk::MoeDispatchOptions capacity{.strategy = sdk::MoeDispatch::capacity, .capacity_factor = 1.0};  // C = 2
  const auto x = at::randn({B, T, d});
  const auto w = at::ones({B * T, k});
  // Sequence 0 sends every token to expert 0 (two dropped); sequence 1 splits 2 / 2 (none dropped).
  const auto index = at::tensor(std::vector<std::int64_t>{0, 0, 0, 0, 0, 1, 0, 1}).view({B * T, k});
  const auto result = sdk::moe_dispatch(x, index, w, experts_of, capacity);
  CHECK(at::equal(result.dropped, at::tensor(std::vector<std::int64_t>{2, 0})));
  const auto reference = reference_moe(experts, x.view({B * T, d}), index, w);
  const auto out = result.output.view({B * T, d});
  for (std::int64_t n = 0; n < B * T; ++n) {
    CAPTURE(n);
    if (n == 2 || n == 3)
      CHECK(at::equal(out[n], at::zeros({d})));  // the third and fourth of sequence 0 to expert 0
    else
      CHECK(at::allclose(out[n], reference[n], 1e-5, 1e-6));
  }
  // The same tokens flattened to one sequence share one capacity of 4: sequence 1's token 4 is dropped.
  const auto shared = sdk::moe_dispatch(x.view({B * T, d}), index, w, experts_of, capacity);
  CHECK(at::equal(shared.dropped, at::tensor(std::vector<std::int64_t>{2, 0})));
  CHECK(at::equal(shared.output[4], at::zeros({d})));
}

TEST_CASE("every MoE plugin with capacity dispatch passes the causality proof, and its load counts what was computed",
          "[component][moe][dispatch][causal]") {
  const std::string plugin = GENERATE("topk", "deepseek_v3", "glm4");
  CAPTURE(plugin);
  const std::int64_t E = 4, d = 16;
  auto moe = registry().create(spec(Kind::moe, plugin, {{{"n_experts", E}, {"expert", expert_spec("swiglu", 12)},
                                                         {"dispatch", std::string("capacity")},
                                                         {"capacity_factor", 0.5}}}),
                               context(d, 16));
  move_off_initialisation(*moe, 2);
  const auto verdict = check_component_causality(*moe, d, {.seq_len = 16});
  INFO(verdict.describe());
  CHECK(verdict.passed);
  moe->eval();
  moe->forward(at::randn({3, 16, d}));
  // Capacity 0.5: at most half of the assignments fit, so at least half are dropped.
  const double computed = moe->expert_load().sum().item<double>();
  CHECK(computed <= 0.5 + 1e-6);
  CHECK(computed > 0.0);
}
