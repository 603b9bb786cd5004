// The templates of `ablate new plugin` (see plugin_templates.h). Each source is a complete,
// working component of its kind, kept short: it is the first ablate code a researcher reads.
#include "plugin_templates.h"

#include <regex>
#include <stdexcept>

namespace ablate::app {
namespace {

const char* const kCMakeLists = R"tpl(# The @KIND@ plugin `@NAME@`, built against an installed ablate (written by `ablate new plugin`).
#   cmake -S . -B build -DCMAKE_PREFIX_PATH="@PREFIX@"
#   cmake --build build && ctest --test-dir build
cmake_minimum_required(VERSION 3.25)
project(@NAME@_plugin LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)

find_package(Ablate @VERSION@ REQUIRED)  # ablate::sdk, ablate_add_plugin(), LibTorch, Ablate_EXECUTABLE

# The library goes into the build directory itself, so `ablate --plugin-dir build` loads it.
ablate_add_plugin(@NAME@_@KIND@ @KIND@ SOURCES @NAME@.cpp OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})

# ablate's generic checks on the built plugin: shape, finite outputs, gradients, parameter count
# (and causality, for attention).
enable_testing()
add_test(NAME "check-plugin @KIND@ @NAME@"
  COMMAND ${Ablate_EXECUTABLE} --plugin-dir ${CMAKE_BINARY_DIR} check-plugin @KIND@ @NAME@)
)tpl";

const char* const kReadme = R"tpl(# @NAME@: an ablate @KIND@ plugin

`@NAME@.cpp` is the whole plugin: the options a sweep may set (with defaults and docs), `cost()`
(parameters and FLOPs per token, computed from the options) and the LibTorch module. Change the
module, keep `cost()` in step with the parameters it registers, and check again.

```sh
# 1. build against the installed ablate (its prefix and LibTorch's)
cmake -S . -B build -DCMAKE_PREFIX_PATH="@PREFIX@"
cmake --build build
# 2. check it: shape, finite outputs, gradients, parameter count (and causality, for attention)
ablate --plugin-dir build check-plugin @KIND@ @NAME@     # or: ctest --test-dir build
# 3. train it two steps on the King James Bible, then grow sweep.yaml into a real comparison
ablate --plugin-dir build run sweep.yaml --out runs
```

Writing plugins: ablate's `docs/plugins.md`; every option of every loaded plugin: `ablate plugins`.
)tpl";

const char* const kSweep = R"tpl(# Trains `@NAME@` two steps in a tiny model: does it load, train and report?
#   ablate --plugin-dir build run sweep.yaml --out runs
# For a comparison, add arms (e.g. `baseline: {model.@SLOT@: {plugin: @BUILTIN@}}`) and seeds, and train longer.
name: @NAME@_smoke
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 32}
model:
  d_model: 32
  n_layers: 1
@MODEL@
train: {steps: 2, batch_size: 2, eval_every: 2, eval_tokens: 64}
)tpl";

const char* const kAttention = R"tpl(// attention `@NAME@`: causal multi-head attention with RoPE. Linear(d, 3d) gives q, k, v; RoPE
// rotates q and k; the SDK's causal_attention mixes positions (its mask is always causal);
// Linear(d, d) projects back. A starting point: change forward(), keep cost() in step with the
// parameters registered, and run `ablate check-plugin attention @NAME@`, which also proves causality.
#include <ablate/sdk/attention.h>
#include <ablate/sdk/functional.h>
#include <ablate/sdk/plugin.h>
#include <ablate/sdk/rope.h>

#include <stdexcept>
#include <string>

namespace {

namespace sdk = ablate::sdk;

class @CLASS@Impl : public sdk::ComponentImpl {
 public:
  @CLASS@Impl(const sdk::ModelContext& ctx, std::int64_t n_heads)
      : n_heads(n_heads), head_dim(ctx.d_model / n_heads), rope(ctx.rope) {
    qkv = register_module("qkv", sdk::make_linear(ctx.d_model, 3 * ctx.d_model, /*bias=*/false));
    out = register_module("out", sdk::make_linear(ctx.d_model, ctx.d_model, /*bias=*/false));
  }

  torch::Tensor forward(const torch::Tensor& x) override {  // (B, T, d) -> (B, T, d)
    const std::int64_t B = x.size(0), T = x.size(1), d = x.size(2);
    const auto heads = qkv(x).view({B, T, 3, n_heads, head_dim}).permute({2, 0, 3, 1, 4});  // (3, B, H, T, hd)
    const sdk::RopeTables tables = sdk::rope_tables(rope, head_dim, T, x.device());
    const auto q = sdk::apply_rope(heads[0], tables, rope.pairing);
    const auto k = sdk::apply_rope(heads[1], tables, rope.pairing);
    const auto y = sdk::causal_attention(q, k, heads[2], {.backend = "auto"});  // (B, H, T, hd)
    return out(y.transpose(1, 2).reshape({B, T, d}));
  }

  std::int64_t n_heads, head_dim;
  sdk::RopeConfig rope;  // the model's rotary settings (model.rope in a sweep)
  torch::nn::Linear qkv{nullptr}, out{nullptr};
};
TORCH_MODULE(@CLASS@);

// What a sweep may set (`attention: {plugin: @NAME@, n_heads: 4}`): the host checks names, types
// and bounds against this table and fills in defaults before make() and cost() see the options.
const sdk::OptionSpec kOptions[] = {
    {.name = "n_heads", .type = sdk::OptionType::integer, .default_value = "4",
     .doc = "attention heads; head width is d_model / n_heads", .min = 1},
};

// Parameters and forward FLOPs per token, from the options alone (`ablate expand` adds them up;
// the host checks the parameter count against the built module). Also where options are checked
// against each other: throw std::invalid_argument.
sdk::Cost cost(const sdk::ModelContext& ctx, const sdk::Options& o) {
  const std::int64_t d = ctx.d_model, H = o.integer("n_heads");
  if (d % H != 0 || (d / H) % 2 != 0)
    throw std::invalid_argument("d_model " + std::to_string(d) + " must be n_heads " + std::to_string(H) +
                                " times an even head width (RoPE rotates pairs of dimensions)");
  const std::int64_t params = sdk::flops::linear_params(d, 3 * d) + sdk::flops::linear_params(d, d);
  return {.params_total = params,
          .params_active = params,
          .flops_per_token = sdk::flops::linear(d, 3 * d) + sdk::flops::linear(d, d) +
                             sdk::flops::attention_scores(H, d / H, d / H, ctx.seq_len)};
}

std::shared_ptr<sdk::ComponentImpl> make(const sdk::ModelContext& ctx, const sdk::Options& o) {
  cost(ctx, o);  // the same checks of the options
  return @CLASS@(ctx, o.integer("n_heads")).ptr();
}

}  // namespace

ABLATE_PLUGIN(attention, "@NAME@", "causal multi-head attention with RoPE", kOptions, make, cost)
)tpl";

const char* const kMlp = R"tpl(// mlp `@NAME@`: W2 * GELU(W1 * x), hidden width d_ff, no biases. A starting point: change
// forward(), keep cost() in step with the parameters registered, and run
// `ablate check-plugin mlp @NAME@`.
#include <ablate/sdk/functional.h>
#include <ablate/sdk/plugin.h>

namespace {

namespace sdk = ablate::sdk;

class @CLASS@Impl : public sdk::ComponentImpl {
 public:
  @CLASS@Impl(std::int64_t d_model, std::int64_t d_ff) {
    w1 = register_module("w1", sdk::make_linear(d_model, d_ff, /*bias=*/false));
    w2 = register_module("w2", sdk::make_linear(d_ff, d_model, /*bias=*/false));
  }

  torch::Tensor forward(const torch::Tensor& x) override { return w2(torch::gelu(w1(x))); }  // (B, T, d)

  torch::nn::Linear w1{nullptr}, w2{nullptr};
};
TORCH_MODULE(@CLASS@);

// What a sweep may set (`ffn: {plugin: @NAME@, d_ff: 512}`): the host checks names, types and
// bounds against this table and fills in defaults before make() and cost() see the options.
const sdk::OptionSpec kOptions[] = {
    {.name = "d_ff", .type = sdk::OptionType::integer, .default_value = "0",
     .doc = "hidden width; 0 = 4 * d_model", .min = 0},
};

std::int64_t hidden_width(const sdk::ModelContext& ctx, const sdk::Options& o) {
  return o.integer("d_ff") > 0 ? o.integer("d_ff") : 4 * ctx.d_model;
}

// Parameters and forward FLOPs per token, from the options alone (`ablate expand` adds them up;
// the host checks the parameter count against the built module).
sdk::Cost cost(const sdk::ModelContext& ctx, const sdk::Options& o) {
  const std::int64_t d = ctx.d_model, f = hidden_width(ctx, o);
  const std::int64_t params = sdk::flops::linear_params(d, f) + sdk::flops::linear_params(f, d);
  return {.params_total = params, .params_active = params,
          .flops_per_token = sdk::flops::linear(d, f) + sdk::flops::linear(f, d)};
}

std::shared_ptr<sdk::ComponentImpl> make(const sdk::ModelContext& ctx, const sdk::Options& o) {
  return @CLASS@(ctx.d_model, hidden_width(ctx, o)).ptr();
}

}  // namespace

ABLATE_PLUGIN(mlp, "@NAME@", "GELU MLP: W2 * GELU(W1 * x)", kOptions, make, cost)
)tpl";

const char* const kMoe = R"tpl(// moe `@NAME@`: top-k routing over n_experts experts. Router Linear(d, E); each token goes to
// the k experts with the largest logits, weighted by a softmax over those k; the experts are any
// mlp plugin (option `expert`), built through the host and run by the SDK's moe_dispatch. A Switch
// auxiliary loss, aux_coef * E * sum_e f_e * P_e (f_e: fraction of assignments to expert e, P_e: its
// mean router probability), keeps the load balanced. Check with `ablate check-plugin moe @NAME@`.
#include <ablate/sdk/functional.h>
#include <ablate/sdk/moe_dispatch.h>
#include <ablate/sdk/plugin.h>

#include <stdexcept>
#include <string>

#include <torch/nn/modules/container/modulelist.h>

namespace {

namespace sdk = ablate::sdk;

class @CLASS@Impl : public sdk::ComponentImpl {
 public:
  @CLASS@Impl(const sdk::ModelContext& ctx, const sdk::Options& o)
      : top_k(o.integer("top_k")), aux_coef(o.number("aux_coef")), expert_spec(o.component("expert")) {
    router = register_module("router", sdk::make_linear(ctx.d_model, o.integer("n_experts"), /*bias=*/false));
    experts = register_module("experts", torch::nn::ModuleList());
    for (std::int64_t e = 0; e < o.integer("n_experts"); ++e) {
      expert_modules.push_back(ctx.build(expert_spec, ctx));  // the expert plugin, through the host
      experts->push_back(expert_modules.back());
    }
  }

  torch::Tensor forward(const torch::Tensor& x) override {  // (B, T, d) -> (B, T, d)
    const auto flat = x.reshape({-1, x.size(-1)});            // (N, d)
    const auto logits = router(flat).to(torch::kFloat);       // (N, E)
    const auto [top_logits, top_experts] = logits.topk(top_k, -1);  // (N, k) each
    const auto routed = sdk::moe_dispatch(flat, top_experts, top_logits.softmax(-1),
                                          sdk::moe_experts(expert_spec, expert_modules), {});
    const auto fraction = routed.counts.to(torch::kFloat) / static_cast<double>(flat.size(0) * top_k);
    aux = aux_coef * static_cast<double>(logits.size(1)) * (fraction * logits.softmax(-1).mean(0)).sum();
    load = fraction.detach();
    return routed.output.view(x.sizes()).to(x.scalar_type());
  }

  torch::Tensor aux_loss() const override { return aux; }       // added to the training loss
  torch::Tensor expert_load() const override { return load; }   // logged per expert

  std::int64_t top_k;
  double aux_coef;
  sdk::ComponentSpec expert_spec;
  torch::nn::Linear router{nullptr};
  torch::nn::ModuleList experts{nullptr};
  std::vector<std::shared_ptr<sdk::ComponentImpl>> expert_modules;
  torch::Tensor aux, load;
};
TORCH_MODULE(@CLASS@);

// What a sweep may set (`ffn: {plugin: @NAME@, expert: {plugin: silu, d_ff: 256}}`): the host
// checks names, types and bounds (the expert's options too) and fills in defaults.
const sdk::OptionSpec kOptions[] = {
    {.name = "n_experts", .type = sdk::OptionType::integer, .default_value = "4", .doc = "routed experts E", .min = 1},
    {.name = "top_k", .type = sdk::OptionType::integer, .default_value = "2", .doc = "experts per token k", .min = 1},
    {.name = "aux_coef", .type = sdk::OptionType::number, .default_value = "0.01",
     .doc = "coefficient of the Switch auxiliary balancing loss", .min = 0.0},
    {.name = "expert", .type = sdk::OptionType::component, .default_value = nullptr,
     .doc = "the expert MLP, e.g. {plugin: silu, d_ff: 256} (required)", .choices = "mlp"},
};

// Parameters (total, and active: what one token uses) and forward FLOPs per token, from the options
// alone; the experts' own cost comes from their plugin.
sdk::Cost cost(const sdk::ModelContext& ctx, const sdk::Options& o) {
  const std::int64_t E = o.integer("n_experts"), k = o.integer("top_k");
  if (k > E) throw std::invalid_argument("top_k " + std::to_string(k) + " is larger than n_experts " + std::to_string(E));
  const sdk::Cost expert = ctx.cost(o.component("expert"), ctx);
  const std::int64_t router = sdk::flops::linear_params(ctx.d_model, E);
  return {.params_total = router + E * expert.params_total,
          .params_active = router + k * expert.params_active,
          .flops_per_token = sdk::flops::linear(ctx.d_model, E) + static_cast<double>(k) * expert.flops_per_token};
}

std::shared_ptr<sdk::ComponentImpl> make(const sdk::ModelContext& ctx, const sdk::Options& o) {
  cost(ctx, o);  // the same checks of the options
  return @CLASS@(ctx, o).ptr();
}

}  // namespace

ABLATE_PLUGIN(moe, "@NAME@", "top-k mixture of experts with a Switch auxiliary loss", kOptions, make, cost)
)tpl";

const char* const kNorm = R"tpl(// norm `@NAME@`: RMS normalisation with a learned scale, x * rsqrt(mean(x^2) + eps) * weight,
// computed in fp32 (training may run in bf16) and cast back. A starting point: change forward(),
// keep cost() in step with the parameters registered, and run `ablate check-plugin norm @NAME@`.
#include <ablate/sdk/plugin.h>

namespace {

namespace sdk = ablate::sdk;

class @CLASS@Impl : public sdk::ComponentImpl {
 public:
  @CLASS@Impl(std::int64_t d_model, double eps) : eps(eps) {
    weight = register_parameter("weight", torch::ones({d_model}));
  }

  torch::Tensor forward(const torch::Tensor& x) override {  // (B, T, d) -> (B, T, d)
    const auto x32 = x.to(torch::kFloat);
    const auto inv_rms = (x32.square().mean(-1, /*keepdim=*/true) + eps).rsqrt();
    return (x32 * inv_rms * weight).to(x.scalar_type());
  }

  double eps;
  torch::Tensor weight;  // (d_model,), starts at one
};
TORCH_MODULE(@CLASS@);

// What a sweep may set (`norm: {plugin: @NAME@, eps: 1e-5}`): the host checks names, types and
// bounds against this table and fills in defaults before make() and cost() see the options.
const sdk::OptionSpec kOptions[] = {
    {.name = "eps", .type = sdk::OptionType::number, .default_value = "1e-6",
     .doc = "added to the mean square before the square root", .min = 0.0},
};

// Parameters and forward FLOPs per token (elementwise work counts as 0, as in ablate/sdk/flops.h).
sdk::Cost cost(const sdk::ModelContext& ctx, const sdk::Options&) {
  return {.params_total = ctx.d_model, .params_active = ctx.d_model, .flops_per_token = 0.0};
}

std::shared_ptr<sdk::ComponentImpl> make(const sdk::ModelContext& ctx, const sdk::Options& o) {
  return @CLASS@(ctx.d_model, o.number("eps")).ptr();
}

}  // namespace

ABLATE_PLUGIN(norm, "@NAME@", "RMS norm with a learned scale, in fp32", kOptions, make, cost)
)tpl";

struct KindTemplates {
  const char* source;
  const char* model;    // the sweep's component lines
  const char* slot;     // where the sweep puts the plugin
  const char* builtin;  // a built-in plugin of the kind, for a baseline arm
};

KindTemplates templates_of(sdk::Kind kind) {
  switch (kind) {
    case sdk::Kind::attention:
      return {kAttention, "  attention: {plugin: @NAME@, n_heads: 2}\n  ffn: {plugin: swiglu, d_ff: 64}",
              "attention", "mha"};
    case sdk::Kind::mlp:
      return {kMlp, "  attention: {plugin: mha, n_heads: 2}\n  ffn: {plugin: @NAME@, d_ff: 64}", "ffn",
              "swiglu, d_ff: 64"};
    case sdk::Kind::moe:
      return {kMoe, "  attention: {plugin: mha, n_heads: 2}\n  ffn: {plugin: @NAME@, expert: {plugin: silu, d_ff: 32}}",
              "ffn", "swiglu, d_ff: 64"};
    case sdk::Kind::norm:
      return {kNorm, "  attention: {plugin: mha, n_heads: 2}\n  ffn: {plugin: swiglu, d_ff: 64}\n  norm: {plugin: @NAME@}",
              "norm", "rmsnorm"};
  }
  throw std::logic_error("unknown plugin kind");
}

}  // namespace

std::vector<TemplateFile> plugin_project(sdk::Kind kind) {
  const KindTemplates t = templates_of(kind);
  std::string sweep = kSweep;
  // The sweep's own placeholders first: its component lines hold @NAME@ for the final pass.
  sweep = substitute(sweep, {{"NAME", "@NAME@"}, {"MODEL", t.model}, {"SLOT", t.slot}, {"BUILTIN", t.builtin}});
  return {{"CMakeLists.txt", kCMakeLists}, {"@NAME@.cpp", t.source}, {"README.md", kReadme}, {"sweep.yaml", sweep}};
}

std::string substitute(const std::string& text, const std::map<std::string, std::string>& values) {
  static const std::regex placeholder("@([A-Z_]+)@");
  std::string out;
  auto last = text.cbegin();
  for (auto it = std::sregex_iterator(text.begin(), text.end(), placeholder); it != std::sregex_iterator(); ++it) {
    const auto value = values.find((*it)[1].str());
    if (value == values.end()) throw std::logic_error("template placeholder " + it->str() + " has no value");
    out.append(last, text.cbegin() + it->position());
    out += value->second;
    last = text.cbegin() + it->position() + it->length();
  }
  out.append(last, text.cend());
  return out;
}

}  // namespace ablate::app
