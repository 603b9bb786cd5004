// The `mla` attention plugin (DeepSeek multi-head latent attention) against docs/components.md:
// output shape, causality on the CPU backends, keys shared across heads when qk_nope_head_dim is 0,
// parameter counts equal to their formula (exp1's `lora` and `enhanced` arms), and YaRN's m² on the
// softmax scale. The module is checked against a reference written here from its own parameters
// (RoPE included: the reference rotates by the formula, not by the SDK's RoPE that the module uses).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <ATen/ATen.h>

#include "ablate/train/causality.h"
#include "ablate/train/model.h"
#include "ablate/engine/plugin_registry.h"
#include "ablate/sdk/component.h"
#include "ablate/sdk/rope.h"
#include "catch_torch.h"
#include "component_helpers.h"

using namespace ablate;
using sdk::ComponentSpec;
using sdk::Kind;

namespace {

using component_test::context;
using component_test::registry;

// An mla spec with every option at its schema default, then `overrides`.
ComponentSpec mla(const sdk::Options& overrides = {}) { return component_test::spec(Kind::attention, "mla", overrides); }

// Option sets at d 32: q_lora 0 and > 0, nope 0 and > 0, v ≠ rope, bias and dropout.
struct Case {
  std::string name;
  sdk::Options options;
};
std::vector<Case> cases() {
  using I = std::int64_t;
  return {
      {"defaults (no q compression, nope 0, rope = v = d/H)", {{{"n_heads", I{4}}, {"kv_lora_rank", I{16}}}}},
      {"q_lora 16, nope 0", {{{"n_heads", I{4}}, {"q_lora_rank", I{16}}, {"kv_lora_rank", I{16}}}}},
      {"q_lora 16, nope 8, rope 4, v 6",
       {{{"n_heads", I{4}}, {"q_lora_rank", I{16}}, {"kv_lora_rank", I{12}}, {"qk_nope_head_dim", I{8}},
         {"qk_rope_head_dim", I{4}}, {"v_head_dim", I{6}}}}},
      {"no q compression, nope 4, rope 8, v 16, bias, dropout 0.1",
       {{{"n_heads", I{4}}, {"kv_lora_rank", I{8}}, {"qk_nope_head_dim", I{4}}, {"qk_rope_head_dim", I{8}},
         {"v_head_dim", I{16}}, {"bias", true}, {"attn_dropout", 0.1}}}},
  };
}

// The reference: MLA by the formulas of docs/components.md from the module's own parameters.
struct Reference {
  at::Tensor output;  // (B, T, d)
  at::Tensor keys;    // (B, H, T, nope + rope): the key each head attends with
};

at::Tensor linear(const torch::nn::Module& m, const std::string& name, const at::Tensor& x) {
  auto params = m.named_parameters();
  auto y = at::matmul(x, params[name + ".weight"].t());
  if (params.contains(name + ".bias")) y = y + params[name + ".bias"];
  return y;
}

at::Tensor rms(const at::Tensor& x, const at::Tensor& w) { return x * at::rsqrt(x.pow(2).mean(-1, true) + 1e-6) * w; }

// RoPE of docs/components.md written out here, not the SDK's rope_tables/apply_rope (the module
// under test calls those, so a reference built on them would agree with any mistake in them):
// angle t * θ'_i with θ_i = base^(-2i/D) (positions / f under linear; YaRN's ramp of dims), cos and
// sin times s_m, and each pair (a, b) -> (a cos − b sin, a sin + b cos). x: (..., T, D), in double.
at::Tensor rope_by_formula(const at::Tensor& x, const sdk::RopeConfig& c) {
  const std::int64_t T = x.size(-2), D = x.size(-1);
  REQUIRE((c.scaling == "none" || c.scaling == "linear" || c.scaling == "yarn"));
  const double pi = 3.14159265358979323846;
  // YaRN: c(β) = D ln(L_orig / (2πβ)) / (2 ln base); low = floor(c(beta_fast)), high = ceil(c(beta_slow)).
  const auto correction = [&](double beta) {
    return D * std::log(static_cast<double>(c.original_max_position) / (2.0 * pi * beta)) / (2.0 * std::log(c.base));
  };
  const double low = std::clamp(std::floor(correction(c.beta_fast)), 0.0, D - 1.0);
  double high = std::clamp(std::ceil(correction(c.beta_slow)), 0.0, D - 1.0);
  if (high == low) high += 0.001;
  const auto g = [](double s, double m) { return s <= 1.0 ? 1.0 : 0.1 * m * std::log(s) + 1.0; };
  const double s_m = c.scaling == "yarn" ? g(c.factor, c.mscale) / g(c.factor, c.mscale_all_dim) : 1.0;
  auto cos = at::empty({T, D / 2}, at::kDouble), sin = at::empty({T, D / 2}, at::kDouble);
  for (std::int64_t i = 0; i < D / 2; ++i) {
    double theta = std::pow(c.base, -2.0 * static_cast<double>(i) / static_cast<double>(D));
    if (c.scaling == "yarn") {
      const double r = std::clamp((static_cast<double>(i) - low) / (high - low), 0.0, 1.0);
      theta = theta / c.factor * r + theta * (1.0 - r);
    }
    for (std::int64_t t = 0; t < T; ++t) {
      const double position = c.scaling == "linear" ? static_cast<double>(t) / c.factor : static_cast<double>(t);
      cos[t][i] = s_m * std::cos(position * theta);
      sin[t][i] = s_m * std::sin(position * theta);
    }
  }
  const auto xd = x.to(at::kDouble);
  const bool interleaved = c.pairing == "interleaved";
  REQUIRE((interleaved || c.pairing == "half"));
  // interleaved: a = x_{2i}, b = x_{2i+1}; half: a = x_i, b = x_{i+D/2}
  const auto a = interleaved ? xd.slice(-1, 0, D, 2) : xd.slice(-1, 0, D / 2);
  const auto b = interleaved ? xd.slice(-1, 1, D, 2) : xd.slice(-1, D / 2, D);
  auto out = at::empty_like(xd);
  (interleaved ? out.slice(-1, 0, D, 2) : out.slice(-1, 0, D / 2)).copy_(a * cos - b * sin);
  (interleaved ? out.slice(-1, 1, D, 2) : out.slice(-1, D / 2, D)).copy_(a * sin + b * cos);
  return out.to(x.scalar_type());
}

Reference reference(const torch::nn::Module& m, const at::Tensor& x, std::int64_t H, std::int64_t nope,
                    std::int64_t rope, std::int64_t dv, const sdk::RopeConfig& rope_config, double scale) {
  auto params = m.named_parameters();
  const std::int64_t B = x.size(0), T = x.size(1), dqk = nope + rope;
  const bool q_lora = params.contains("q_a.weight");
  auto q = q_lora ? linear(m, "q_b", rms(linear(m, "q_a", x), params["q_a_norm_weight"])) : linear(m, "q", x);
  q = q.view({B, T, H, dqk}).transpose(1, 2);
  q = at::cat({q.slice(-1, 0, nope), rope_by_formula(q.slice(-1, nope, dqk), rope_config)}, -1);

  const auto ckv_krope = linear(m, "kv_a", x);  // (B, T, kv_lora + rope)
  const std::int64_t kv_lora = ckv_krope.size(-1) - rope;
  const auto k_rope = rope_by_formula(ckv_krope.slice(-1, kv_lora).unsqueeze(1), rope_config);
  const auto kv = linear(m, "kv_b", rms(ckv_krope.slice(-1, 0, kv_lora), params["kv_a_norm_weight"]))
                      .view({B, T, H, nope + dv})
                      .transpose(1, 2);
  const auto k = at::cat({kv.slice(-1, 0, nope), k_rope.expand({B, H, T, rope})}, -1);
  const auto v = kv.slice(-1, nope);

  auto scores = at::matmul(q, k.transpose(-2, -1)) * scale;
  const auto future = at::ones({T, T}, at::kBool).triu(1);
  scores = scores.masked_fill(future, -std::numeric_limits<double>::infinity());
  const auto y = at::matmul(at::softmax(scores, -1), v);  // (B, H, T, dv)
  return {linear(m, "out", y.transpose(1, 2).reshape({B, T, H * dv})), k};
}

}  // namespace

TEST_CASE("mla maps (B, T, d) to (B, T, d) for every option set", "[component][mla]") {
  for (const auto& c : cases()) {
    CAPTURE(c.name);
    auto attention = registry().create(mla(c.options), context(32));
    for (const std::int64_t T : {1, 7, 16}) {
      const auto y = attention->forward(at::randn({3, T, 32}));
      CHECK(y.sizes().vec() == std::vector<std::int64_t>{3, T, 32});
      CHECK(y.isfinite().all().item<bool>());
    }
  }
}

TEST_CASE("mla is causal in all four modes with the auto and math backends", "[component][mla][causal]") {
  const std::string backend = GENERATE("auto", "math");
  for (auto c : cases()) {
    c.options.values["backend"] = backend;
    auto attention = registry().create(mla(c.options), context(32));
    CAPTURE(c.name, backend);
    move_off_initialisation(*attention, 1);
    const auto verdict = check_component_causality(*attention, 32, {.seq_len = 16});
    INFO(verdict.describe());
    CHECK(verdict.passed);
  }
}

TEST_CASE("mla computes the formulas of docs/components.md on both backends and both RoPE pairings", "[component][mla]") {
  const std::string backend = GENERATE("auto", "math");
  const std::string pairing = GENERATE("interleaved", "half");
  sdk::RopeConfig rope;
  rope.pairing = pairing;
  for (auto c : cases()) {
    c.options.values["backend"] = backend;
    c.options.values["attn_dropout"] = 0.0;
    CAPTURE(c.name, backend, pairing);
    auto attention = registry().create(mla(c.options), context(32, 16, rope));
    const auto o = mla(c.options).options;
    const std::int64_t H = o.integer("n_heads"), nope = o.integer("qk_nope_head_dim");
    const std::int64_t r = o.integer("qk_rope_head_dim") == 0 ? 32 / H : o.integer("qk_rope_head_dim");
    const std::int64_t dv = o.integer("v_head_dim") == 0 ? 32 / H : o.integer("v_head_dim");
    const auto x = at::randn({2, 9, 32});
    const auto expected = reference(*attention, x, H, nope, r, dv, rope, 1.0 / std::sqrt(double(nope + r)));
    CHECK(at::allclose(attention->forward(x), expected.output, 1e-4, 1e-5));
  }
}

TEST_CASE("with qk_nope_head_dim 0 every head attends with the same key", "[component][mla]") {
  using I = std::int64_t;
  const I d = 32, H = 4, rope = 8, kv_lora = 16;
  const auto x = at::randn({2, 10, d});
  SECTION("nope 0: one rotated k_rope head, broadcast; the module agrees with the reference built on it") {
    auto attention = registry().create(mla({{{"n_heads", H}, {"kv_lora_rank", kv_lora}, {"q_lora_rank", I{8}}}}), context(d));
    // W_kva produces the latent and ONE rope head, not one per head.
    CHECK(attention->named_parameters()["kv_a.weight"].sizes().vec() == std::vector<I>{kv_lora + rope, d});
    const auto ref = reference(*attention, x, H, 0, rope, d / H, {}, 1.0 / std::sqrt(double(rope)));
    REQUIRE(at::allclose(attention->forward(x), ref.output, 1e-4, 1e-5));
    REQUIRE(ref.keys.size(-1) == rope);
    for (I h = 1; h < H; ++h) CHECK(at::equal(ref.keys.select(1, h), ref.keys.select(1, 0)));
  }
  SECTION("nope 4: the keys differ across heads (so the check above can fail)") {
    auto attention = registry().create(
        mla({{{"n_heads", H}, {"kv_lora_rank", kv_lora}, {"qk_nope_head_dim", I{4}}, {"qk_rope_head_dim", rope}}}), context(d));
    const auto ref = reference(*attention, x, H, 4, rope, d / H, {}, 1.0 / std::sqrt(double(4 + rope)));
    REQUIRE(at::allclose(attention->forward(x), ref.output, 1e-4, 1e-5));
    for (I h = 1; h < H; ++h) CHECK_FALSE(at::allclose(ref.keys.select(1, h), ref.keys.select(1, 0)));
    // ... while their rope part is still the one shared head.
    for (I h = 1; h < H; ++h) CHECK(at::equal(ref.keys.select(1, h).slice(-1, 4), ref.keys.select(1, 0).slice(-1, 4)));
  }
}

TEST_CASE("mla's parameter count equals its formula at exp1's lora and enhanced arms", "[component][mla][params]") {
  using I = std::int64_t;
  const I d = 512, H = 8, q_lora = 64, kv_lora = 128, rope = 64;
  SECTION("lora: q_lora 64, kv_lora 128, nope 0, rope 64, v 64, no bias") {
    const I v = 64;
    const I formula = d * q_lora + q_lora               // W_qa, its RMSNorm weight
                      + q_lora * H * rope               // W_qb
                      + d * (kv_lora + rope) + kv_lora  // W_kva, RMSNorm(c_kv) weight
                      + kv_lora * H * v                 // W_kvb (nope 0: values only)
                      + H * v * d;                      // W_o
    CHECK(formula == 491'712);
    const auto spec = mla({{{"n_heads", H}, {"q_lora_rank", q_lora}, {"kv_lora_rank", kv_lora},
                            {"qk_rope_head_dim", rope}, {"v_head_dim", v}}});
    const auto cost = registry().cost(spec, context(d, 512));
    CHECK(cost.params_total == formula);
    CHECK(cost.params_active == formula);
    CHECK(ablate::parameter_count(*registry().create(spec, context(d, 512))) == formula);
    // Six layers of it instead of mha's 4d² give the seeds' reported 128.81 M from 132,151,808.
    CHECK(132'151'808 - 6 * (4 * d * d - formula) == 128'810'624);
    // Forward FLOPs per token: 2 per multiply-add of each projection, plus scores and weighted sum over T.
    const double flops = 2.0 * (d * q_lora + q_lora * H * rope + d * (kv_lora + rope) + kv_lora * H * v + H * v * d) +
                         2.0 * H * 512 * (rope + v);
    CHECK(cost.flops_per_token == Approx(flops));
  }
  SECTION("enhanced: as lora with v 96 and bias on W_qa, W_kva, W_o") {
    const I v = 96;
    const I formula = (d * q_lora + q_lora) + q_lora        // W_qa with bias, RMSNorm weight
                      + q_lora * H * rope                   // W_qb, no bias
                      + (d * (kv_lora + rope) + kv_lora + rope) + kv_lora  // W_kva with bias, RMSNorm weight
                      + kv_lora * H * v                     // W_kvb, no bias
                      + (H * v * d + d);                    // W_o with bias
    CHECK(formula == 656'320);
    const auto spec = mla({{{"n_heads", H}, {"q_lora_rank", q_lora}, {"kv_lora_rank", kv_lora},
                            {"qk_rope_head_dim", rope}, {"v_head_dim", v}, {"bias", true}}});
    CHECK(registry().cost(spec, context(d, 512)).params_total == formula);
    CHECK(ablate::parameter_count(*registry().create(spec, context(d, 512))) == formula);
    CHECK(132'151'808 - 6 * (4 * d * d - formula) == 129'798'272);  // the seeds printed 129.80 M
  }
  SECTION("no query compression and nope > 0 (DeepSeek-V3's head layout at a small width)") {
    const I nope = 16, r = 8, v = 16, kv = 32, dm = 64, h = 4;
    const I formula = dm * h * (nope + r) + dm * (kv + r) + kv + kv * h * (nope + v) + h * v * dm;
    const auto spec = mla({{{"n_heads", h}, {"kv_lora_rank", kv}, {"qk_nope_head_dim", nope},
                            {"qk_rope_head_dim", r}, {"v_head_dim", v}}});
    CHECK(registry().cost(spec, context(dm)).params_total == formula);
    CHECK(ablate::parameter_count(*registry().create(spec, context(dm))) == formula);
  }
}

TEST_CASE("mla's cost rejects inconsistent options with a message", "[component][mla]") {
  using I = std::int64_t;
  CHECK_THROWS_WITH(registry().cost(mla({{{"n_heads", I{4}}, {"qk_rope_head_dim", I{5}}}}), context(32)),
                    Catch::Contains("qk_rope_head_dim = 5 must be even"));
  CHECK_THROWS_WITH(registry().cost(mla({{{"n_heads", I{5}}}}), context(32)),
                    Catch::Contains("d_model 32 is not divisible by n_heads 5"));
  CHECK_THROWS_WITH(registry().cost(mla({{{"n_heads", I{8}}}}), context(8)),  // d/H = 1 is odd
                    Catch::Contains("must be even"));
  // Explicit widths need no divisibility.
  CHECK_NOTHROW(registry().cost(mla({{{"n_heads", I{5}}, {"qk_rope_head_dim", I{4}}, {"v_head_dim", I{6}}}}), context(32)));
}

TEST_CASE("under yarn with mscale_all_dim set, mla multiplies the softmax scale by m squared", "[component][mla]") {
  using I = std::int64_t;
  const I d = 32, H = 4, rope = 8;
  sdk::RopeConfig yarn;
  yarn.scaling = "yarn";
  yarn.factor = 4.0;
  yarn.original_max_position = 64;
  yarn.mscale_all_dim = 1.0;
  // m = 0.1 · mscale_all_dim · ln(factor) + 1, by hand.
  const double m = 0.1 * 1.0 * std::log(4.0) + 1.0;
  CHECK(m == Approx(1.1386294361));
  CHECK(sdk::yarn_get_mscale(4.0, 1.0) == Approx(m));
  const double plain = 1.0 / std::sqrt(double(rope));

  const auto spec = mla({{{"n_heads", H}, {"kv_lora_rank", I{16}}}});
  const auto x = at::randn({2, 12, d}) * 4.0;  // large scores, so the scale shows in the softmax
  auto attention = registry().create(spec, context(d, 16, yarn));
  const auto y = attention->forward(x);
  CHECK(at::allclose(y, reference(*attention, x, H, 0, rope, d / H, yarn, plain * m * m).output, 1e-4, 1e-5));
  CHECK_FALSE(at::allclose(y, reference(*attention, x, H, 0, rope, d / H, yarn, plain).output, 1e-4, 1e-5));

  SECTION("mscale_all_dim 0 or factor <= 1 leave the scale at 1/sqrt(nope + rope)") {
    for (const auto& [factor, all_dim] : {std::pair{4.0, 0.0}, std::pair{1.0, 1.0}}) {
      CAPTURE(factor, all_dim);
      sdk::RopeConfig r = yarn;
      r.factor = factor;
      r.mscale_all_dim = all_dim;
      auto a = registry().create(spec, context(d, 16, r));
      CHECK(at::allclose(a->forward(x), reference(*a, x, H, 0, rope, d / H, r, plain).output, 1e-4, 1e-5));
    }
  }
  SECTION("linear scaling never touches the softmax scale") {
    sdk::RopeConfig r;
    r.scaling = "linear";
    r.factor = 2.0;
    r.mscale_all_dim = 1.0;
    auto a = registry().create(spec, context(d, 16, r));
    CHECK(at::allclose(a->forward(x), reference(*a, x, H, 0, rope, d / H, r, plain).output, 1e-4, 1e-5));
  }
}
