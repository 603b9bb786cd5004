// Components against their formulas (docs/components.md), causality of every loaded attention
// plugin, and built parameter counts equal to the plugins' cost functions.
#include "catch_torch.h"
#include "component_helpers.h"

#include <sstream>

#include <ATen/ATen.h>
#include <torch/nn/functional/activation.h>

#include "ablate/train/causality.h"
#include "ablate/train/model.h"
#include "ablate/engine/plugin_registry.h"
#include "ablate/sdk/component.h"

using namespace ablate;
using sdk::ComponentSpec;
using sdk::Kind;

namespace {

using component_test::context;
using component_test::context_in;
using component_test::registry;
using component_test::spec;
using component_test::spec_in;

at::Tensor param(const torch::nn::Module& m, const std::string& name) { return m.named_parameters()[name]; }

}  // namespace

TEST_CASE("every loaded attention plugin, built-in or dropped in, is causal in all four modes",
          "[component][causal]") {
  PluginRegistry with_outside;
  with_outside.load_directory(ABLATE_PLUGIN_DIR);
  with_outside.load_directory(std::string(ABLATE_TEST_PLUGIN_DIR) + "/good");  // an attention built outside
  REQUIRE(with_outside.find(Kind::attention, "fixture_running_mean") != nullptr);
  for (const auto& plugin : with_outside.names(Kind::attention)) {
    CAPTURE(plugin);
    sdk::Options options;
    if (with_outside.get(Kind::attention, plugin).option("n_heads")) options.values["n_heads"] = std::int64_t{4};
    auto attention = with_outside.create(spec_in(with_outside, Kind::attention, plugin, options), context_in(with_outside, 32));
    move_off_initialisation(*attention, 1);
    const auto verdict = check_component_causality(*attention, 32, {.seq_len = 16});
    INFO(verdict.describe());
    CHECK(verdict.passed);
  }
}

TEST_CASE("mha is causal with every CPU backend and with grouped-query heads", "[component][causal]") {
  const std::string backend = GENERATE("auto", "math");
  const std::int64_t kv_heads = GENERATE(0, 1, 2);
  CAPTURE(backend, kv_heads);
  auto attention = registry().create(
      spec(Kind::attention, "mha", {{{"n_heads", std::int64_t{4}}, {"n_kv_heads", kv_heads}, {"backend", backend}}}),
      context(32));
  const auto verdict = check_component_causality(*attention, 32, {.seq_len = 16});
  INFO(verdict.describe());
  CHECK(verdict.passed);
}

TEST_CASE("the causality check catches an attention that sees the future", "[component][causal]") {
  // A module that mixes every position into every other: the check must say it is not causal.
  struct Leaky : sdk::ComponentImpl {
    at::Tensor forward(const at::Tensor& x) override { return x + x.mean(1, true); }
  };
  Leaky leaky;
  const auto verdict = check_component_causality(leaky, 8, {.seq_len = 16});
  CHECK_FALSE(verdict.passed);
  CHECK(verdict.test == "future positions");
  CHECK(verdict.position == 0);  // the first output already sees position 1
  CHECK(verdict.source == 1);
}

TEST_CASE("flash attention on the CPU is an error that says so, not a silent fallback", "[component]") {
  auto attention = registry().create(spec(Kind::attention, "mha", {{{"n_heads", std::int64_t{4}}, {"backend", std::string("flash")}}}),
                                     context(32));
  CHECK_THROWS_WITH(attention->forward(at::randn({1, 8, 32})), Catch::Contains("needs a CUDA device"));
}

TEST_CASE("each plugin builds exactly the parameters its cost function counts", "[component][params]") {
  const std::vector<ComponentSpec> specs = {
      spec(Kind::attention, "mha", {{{"n_heads", std::int64_t{4}}}}),
      spec(Kind::attention, "mha", {{{"n_heads", std::int64_t{4}}, {"n_kv_heads", std::int64_t{1}}, {"bias", true}, {"qk_norm", true}}}),
      spec(Kind::mlp, "silu", {{{"d_ff", std::int64_t{96}}}}),
      spec(Kind::mlp, "swiglu", {{{"d_ff", std::int64_t{96}}}}),
      spec(Kind::norm, "rmsnorm"),
      spec(Kind::moe, "topk", {{{"expert", std::make_shared<const ComponentSpec>(spec(Kind::mlp, "silu", {{{"d_ff", std::int64_t{64}}}}))}}}),
  };
  for (const auto& s : specs) {
    CAPTURE(s.plugin);
    const auto module = registry().create(s, context(32));
    const auto cost = registry().cost(s, context(32));
    CHECK(ablate::parameter_count(*module) == cost.params_total);
    CHECK(cost.params_active <= cost.params_total);
  }
}

TEST_CASE("mha with H query heads and 1 or H key/value heads has the formula's parameters", "[component][params]") {
  const std::int64_t d = 64, H = 8, hd = d / H;
  CHECK(registry().cost(spec(Kind::attention, "mha", {{{"n_heads", H}}}), context(d)).params_total == 4 * d * d);
  CHECK(registry().cost(spec(Kind::attention, "mha", {{{"n_heads", H}, {"n_kv_heads", std::int64_t{1}}}}), context(d))
            .params_total == d * (H * hd + 2 * hd) + H * hd * d);
  CHECK_THROWS_WITH(registry().cost(spec(Kind::attention, "mha", {{{"n_heads", std::int64_t{5}}}}), context(d)),
                    Catch::Contains("d_model 64 is not divisible by n_heads 5"));
}

TEST_CASE("rmsnorm computes x * rsqrt(mean(x^2) + eps) * w", "[component]") {
  // A random weight (a weight of ones would hide a missing or misplaced w) and inputs where eps is
  // most of the denominator: x ~ 1e-4 gives mean(x^2) ~ 1e-8 against eps 1e-6 (or 1e-3).
  const double eps = GENERATE(1e-6, 1e-3);
  const double size = GENERATE(1.0, 1e-4);
  CAPTURE(eps, size);
  auto norm = registry().create(spec(Kind::norm, "rmsnorm", {{{"eps", eps}}}), context(8));
  const auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
  {
    at::NoGradGuard no_grad;
    param(*norm, "weight").copy_(at::randn({8}, gen));
  }
  const auto x = at::randn({2, 3, 8}, gen) * size;
  const auto xd = x.to(at::kDouble), w = param(*norm, "weight").detach().to(at::kDouble);
  const auto expected = xd / at::sqrt(xd.pow(2).mean(-1, true) + eps) * w;
  const auto y = norm->forward(x).to(at::kDouble);
  INFO("max |y - expected| = " << (y - expected).abs().max().item<double>());
  // fp32 arithmetic on values of order 1: a few float ulps.
  CHECK(at::allclose(y, expected, 1e-5, 1e-6));
  if (size < 1.0) {
    // eps really decides these: the formula without it, or with eps inside the sqrt left out, is far off.
    CHECK_FALSE(at::allclose(y, xd / at::sqrt(xd.pow(2).mean(-1, true)) * w, 1e-2, 1e-3));
  }
}

TEST_CASE("swiglu computes W_down (SiLU(W_gate x) * W_up x) and silu computes W2 SiLU(W1 x)", "[component]") {
  const auto x = at::randn({2, 3, 16});
  auto swiglu = registry().create(spec(Kind::mlp, "swiglu", {{{"d_ff", std::int64_t{24}}}}), context(16));
  const auto expected_swiglu =
      at::matmul(at::silu(at::matmul(x, param(*swiglu, "gate.weight").t())) * at::matmul(x, param(*swiglu, "up.weight").t()),
                 param(*swiglu, "down.weight").t());
  CHECK(at::allclose(swiglu->forward(x), expected_swiglu, 1e-5, 1e-6));
  auto silu = registry().create(spec(Kind::mlp, "silu", {{{"d_ff", std::int64_t{24}}}}), context(16));
  silu->eval();
  const auto expected_silu = at::matmul(at::silu(at::matmul(x, param(*silu, "w1.weight").t())), param(*silu, "w2.weight").t());
  CHECK(at::allclose(silu->forward(x), expected_silu, 1e-5, 1e-6));
}

TEST_CASE("topk routes each token to its k largest logits with softmax weights over them", "[component][moe]") {
  auto expert = std::make_shared<const ComponentSpec>(spec(Kind::mlp, "silu", {{{"d_ff", std::int64_t{8}}}}));
  auto moe = registry().create(
      spec(Kind::moe, "topk", {{{"n_experts", std::int64_t{4}}, {"top_k", std::int64_t{2}}, {"expert", expert}}}), context(8));
  moe->eval();  // no router noise
  const auto x = at::randn({1, 5, 8});
  const auto y = moe->forward(x);
  // Reference: loop over tokens and experts by the formula.
  const auto logits = at::matmul(x.view({5, 8}), param(*moe, "router.weight").t());
  auto reference = at::zeros({5, 8});
  auto children = moe->named_children();
  auto experts = moe->named_modules("", false);
  for (int n = 0; n < 5; ++n) {
    auto [top, idx] = logits[n].topk(2);
    const auto w = at::softmax(top, 0);
    for (int j = 0; j < 2; ++j) {
      const auto e = idx[j].item<std::int64_t>();
      auto& mod = *experts["experts." + std::to_string(e)]->as<sdk::ComponentImpl>();
      reference[n] += w[j] * mod.forward(x[0][n].view({1, 1, 8})).view({8});
    }
  }
  CHECK(at::allclose(y.view({5, 8}), reference, 1e-5, 1e-6));
  const auto load = moe->expert_load();
  REQUIRE(load.defined());
  CHECK(load.sum().item<double>() == Approx(1.0));
  CHECK(moe->aux_loss().defined());
}

TEST_CASE("a component's printed tree names every option that changes what it computes", "[component]") {
  // The report flags two arms whose model trees are equal as "the override did not change the model":
  // an option missing from the tree would raise that flag falsely.
  const auto tree = [](const ComponentSpec& s) {
    std::ostringstream out;
    registry().create(s, context(32))->pretty_print(out);
    return out.str();
  };
  CHECK(tree(spec(Kind::attention, "mha", {{{"n_heads", std::int64_t{4}}, {"attn_dropout", 0.1}}})) !=
        tree(spec(Kind::attention, "mha", {{{"n_heads", std::int64_t{4}}, {"attn_dropout", 0.0}}})));
  CHECK(tree(spec(Kind::attention, "mla", {{{"attn_dropout", 0.1}}})) != tree(spec(Kind::attention, "mla")));
  const auto expert = std::make_shared<const ComponentSpec>(spec(Kind::mlp, "silu", {{{"d_ff", std::int64_t{16}}}}));
  for (const char* moe : {"topk", "deepseek_v3", "glm4"}) {
    CAPTURE(moe);
    const auto with = [&](double factor) {
      return tree(spec(Kind::moe, moe, {{{"n_experts", std::int64_t{4}}, {"expert", expert},
                                          {"dispatch", std::string("capacity")}, {"capacity_factor", factor}}}));
    };
    CHECK(with(1.0) != with(2.0));
  }
}
