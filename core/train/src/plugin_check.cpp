// The checks of `ablate check-plugin` (see plugin_check.h).
#include "ablate/train/plugin_check.h"

#include <algorithm>
#include <functional>
#include <optional>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/utils.h>

#include "ablate/train/causality.h"
#include "ablate/train/cost_check.h"
#include "ablate/engine/error.h"
#include "ablate/train/model.h"
#include "ablate/engine/sweep.h"
#include "measured_cost.h"

namespace ablate {
namespace {

/// YAML text of the check's stand-in for a required option, or "" when it has none.
std::string stand_in(const sdk::OptionSpec& option, std::int64_t d_model) {
  if (option.type == sdk::OptionType::component && option.choices != nullptr && std::string(option.choices) == "mlp")
    return fmt::format("{{plugin: silu, d_ff: {}}}", 2 * d_model);
  if (option.type == sdk::OptionType::integer && std::string(option.name) == "d_ff")
    return std::to_string(2 * d_model);
  return {};
}

/// --set overrides plus stand-ins for the required options they leave out.
std::vector<std::pair<std::string, std::string>> with_stand_ins(const LoadedPlugin& plugin,
                                                                 const PluginCheckRequest& request,
                                                                 std::vector<std::string>& filled_in) {
  auto options = request.set;
  for (const sdk::OptionSpec& option : plugin.options()) {
    const bool given = std::any_of(options.begin(), options.end(), [&](const auto& kv) { return kv.first == option.name; });
    if (option.default_value != nullptr || given) continue;
    const std::string value = stand_in(option, request.d_model);
    if (value.empty())
      throw Error(fmt::format("{} plugin '{}' needs option '{}' ({}), which has no default", sdk::kind_name(plugin.kind()),
                              plugin.name(), option.name, option.doc),
                  fmt::format("give it a value: --set {}=...", option.name));
    options.emplace_back(option.name, value);
    filled_in.push_back(fmt::format("{}={}", option.name, value));
  }
  return options;
}

/// What a plugin's code threw, for one line: LibTorch's message without its C++ backtrace.
std::string message_of(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string text = c10_error != nullptr ? c10_error->what_without_backtrace() : e.what();
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

std::string shape_text(at::IntArrayRef sizes) { return fmt::format("({})", fmt::join(sizes, ", ")); }

/// Records `check()`'s outcome, or a failure named `name` when it throws.
void record(PluginCheckReport& report, const std::string& name, const std::function<CheckOutcome()>& check) {
  try {
    report.checks.push_back(check());
  } catch (const std::exception& e) {
    report.checks.push_back({name, false, "threw: " + message_of(e)});
  }
}

std::int64_t count_non_finite(const at::Tensor& t) { return (~at::isfinite(t)).sum().item<std::int64_t>(); }

CheckOutcome shape_check(const at::Tensor& x, const at::Tensor& y) {
  const bool same = y.sizes() == x.sizes();
  return {"shape", same, fmt::format("input {} -> output {}", shape_text(x.sizes()), shape_text(y.sizes()))};
}

CheckOutcome finite_check(sdk::ComponentImpl& module, const at::Tensor& x, const at::Tensor& y_train) {
  at::Tensor y_eval;
  {
    torch::NoGradGuard no_grad;
    module.eval();
    y_eval = module.forward(x);
    module.train();
  }
  const std::int64_t bad_train = count_non_finite(y_train), bad_eval = count_non_finite(y_eval);
  if (bad_train == 0 && bad_eval == 0)
    return {"finite", true, fmt::format("all {} outputs finite in training and evaluation mode", y_train.numel())};
  return {"finite", false, fmt::format("NaN or infinite outputs: {} of {} in training mode, {} of {} in evaluation mode",
                                       bad_train, y_train.numel(), bad_eval, y_eval.numel())};
}

/// A random weighting of the outputs plus an MoE's auxiliary loss (both of the same forward),
/// back-propagated: every parameter must get a finite gradient that is nonzero somewhere.
CheckOutcome backward_check(sdk::ComponentImpl& module, const at::Tensor& y, const at::Tensor& aux,
                            at::Generator& generator) {
  at::Tensor loss = (y * at::randn(y.sizes(), generator)).sum();
  if (aux.defined()) loss = loss + aux;
  loss.backward();
  std::int64_t n = 0;
  std::vector<std::string> unreached, non_finite;
  for (const auto& item : module.named_parameters()) {
    const at::Tensor& p = item.value();
    if (!p.requires_grad()) continue;
    ++n;
    const at::Tensor& g = p.grad();
    if (!g.defined() || !g.ne(0).any().item<bool>()) unreached.push_back(item.key());
    else if (count_non_finite(g) > 0) non_finite.push_back(item.key());
  }
  const auto list = [](const std::vector<std::string>& names) {
    std::string out;
    for (std::size_t i = 0; i < std::min<std::size_t>(names.size(), 5); ++i) out += (i ? ", " : "") + names[i];
    return names.size() > 5 ? fmt::format("{} and {} more", out, names.size() - 5) : out;
  };
  if (unreached.empty() && non_finite.empty())
    return {"backward", true, fmt::format("all {} parameter tensors get a finite, nonzero gradient", n)};
  std::string detail = fmt::format("{} of {} parameter tensors get a finite, nonzero gradient", n - unreached.size() - non_finite.size(), n);
  if (!unreached.empty()) detail += "; none reaches " + list(unreached);
  if (!non_finite.empty()) detail += "; NaN or infinite in " + list(non_finite);
  return {"backward", false, detail};
}

CheckOutcome params_check(const sdk::ComponentImpl& module, const sdk::Cost& cost) {
  const std::int64_t built = parameter_count(module);
  return {"params", built == cost.params_total,
          fmt::format("built module has {} parameters, cost() says params_total {}", built, cost.params_total)};
}

}  // namespace

bool PluginCheckReport::passed() const {
  return std::all_of(checks.begin(), checks.end(), [](const CheckOutcome& c) { return c.passed; });
}

PluginCheckReport check_plugin(const PluginRegistry& registry, const PluginCheckRequest& request) {
  if (request.d_model < 2 || request.seq_len < 4 || request.batch < 1)
    throw Error(fmt::format("check-plugin needs d_model ≥ 2, seq_len ≥ 4 and batch ≥ 1, got {}, {}, {}",
                            request.d_model, request.seq_len, request.batch));
  const LoadedPlugin& plugin = registry.get(request.kind, request.plugin);
  PluginCheckReport report;
  report.component = resolve_component(request.kind, request.plugin, with_stand_ins(plugin, request, report.filled_in),
                                        registry);
  const sdk::ComponentSpec spec = component_spec(request.kind, report.component, registry);
  sdk::ModelContext context;
  context.d_model = request.d_model;
  context.n_layers = 1;
  context.layer_index = 0;
  context.seq_len = request.seq_len;
  context = registry.bind(context);
  sdk::Cost cost;
  try {
    cost = registry.cost(spec, context);
  } catch (const Error& e) {  // options the plugin itself refuses: bad input
    throw Error(e.what(), "choose other options with --set, or another --d-model / --seq-len");
  }

  torch::manual_seed(0);
  std::shared_ptr<sdk::ComponentImpl> module;
  record(report, "build", [&]() -> CheckOutcome {
    module = registry.create(spec, context);
    const std::size_t n = module->parameters().size();
    return {"build", true, fmt::format("{} parameter tensor{}", n, n == 1 ? "" : "s")};
  });
  if (!module) return report;
  record(report, "params", [&] { return params_check(*module, cost); });

  auto generator = at::make_generator<at::CPUGeneratorImpl>(1234);
  const at::Tensor x = at::randn({request.batch, request.seq_len, request.d_model}, generator);
  at::Tensor y, aux;
  module->train();
  record(report, "shape", [&] {
    y = module->forward(x);
    aux = module->aux_loss();
    return shape_check(x, y);
  });
  if (!y.defined()) return report;
  record(report, "finite", [&] { return finite_check(*module, x, y); });
  record(report, "backward", [&] { return backward_check(*module, y, aux, generator); });
  // Measured against declared cost: the FLOPs the module spends and the parameters one token uses.
  std::optional<MeasuredCost> measured;
  const auto measure = [&] {
    if (!measured) measured = measure_cost(*module, request.d_model, request.seq_len, request.batch);
    return *measured;
  };
  record(report, "flops", [&]() -> CheckOutcome {
    const CostCheck c{.declared_flops = cost.flops_per_token, .measured_flops = measure().flops_per_token};
    return {"flops", c.flops_match(),
            fmt::format("forward FLOPs per token: cost() says {:.6g}, measured {:.6g} (matrix products counted as "
                        "LibTorch dispatches them; tolerance {:.0f} %)",
                        c.declared_flops, c.measured_flops, 100 * kCostTolerance)};
  });
  record(report, "active params", [&]() -> CheckOutcome {
    const CostCheck c{.declared_active = cost.params_active, .measured_active = measure().params_active};
    return {"active params", c.params_match(),
            fmt::format("cost() says params_active {}, measured {} (parameters the gradient of one token's output "
                        "reaches; tolerance {:.0f} %)",
                        c.declared_active, c.measured_active, 100 * kCostTolerance)};
  });
  // Every kind, not only attention: a norm over the time axis or an MLP with a token shift sees the
  // future as surely as a leaky attention. Off its initialisation, so a zero-initialised gate
  // cannot hide a leak.
  record(report, "causal", [&]() -> CheckOutcome {
    move_off_initialisation(*module, 4321);
    const CausalityVerdict verdict =
        check_component_causality(*module, request.d_model, {.seq_len = request.seq_len, .device = c10::kCPU});
    return {"causal", verdict.passed, verdict.describe()};
  });
  return report;
}

}  // namespace ablate
