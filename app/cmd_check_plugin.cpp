// `ablate check-plugin KIND NAME [--set key=value ...] [--d-model D] [--seq-len T]`: builds one
// loaded plugin's component alone and runs the generic checks of plugin_check.h on it, one
// PASS/FAIL line each. Exit 1 when a check fails, 2 on bad input (unknown kind, plugin or option).
#include <iostream>

#include <fmt/format.h>

#include "ablate/engine/error.h"
#include "ablate/train/plugin_check.h"
#include "ablate/engine/plugin_registry.h"
#include "commands.h"

namespace ablate::app {
namespace {

struct CheckPluginOptions {
  std::string kind;
  std::string plugin;
  std::vector<std::string> set;  // key=value
  std::int64_t d_model = 64;
  std::int64_t seq_len = 32;
};

/// `--set key=value` → (key, value), in order (resolve_component refuses `plugin` and repeats).
std::vector<std::pair<std::string, std::string>> parse_set(const std::vector<std::string>& items) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error(fmt::format("--set '{}' is not key=value", item), "e.g. --set n_heads=4");
    out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  return out;
}

void run_check_plugin(const CheckPluginOptions& options, const GlobalOptions& global) {
  const auto registry = load_plugins(global);
  const PluginCheckRequest request{.kind = *kind_named(options.kind),
                                   .plugin = options.plugin,
                                   .set = parse_set(options.set),
                                   .d_model = options.d_model,
                                   .seq_len = options.seq_len};
  const PluginCheckReport report = check_plugin(*registry, request);
  std::cout << fmt::format("{} {} at d_model {}, seq_len {}, batch {}: {}\n", options.kind, options.plugin,
                           request.d_model, request.seq_len, request.batch, report.component.dump());
  for (const auto& value : report.filled_in)
    std::cout << fmt::format("  {} (required, no default: a stand-in for the check; --set to choose)\n", value);
  for (const CheckOutcome& check : report.checks)
    std::cout << fmt::format("{} {}: {}\n", check.passed ? "PASS" : "FAIL", check.name, check.detail);
  if (!report.passed()) throw CLI::RuntimeError(1);
}

}  // namespace

void setup_check_plugin(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<CheckPluginOptions>();
  auto* cmd = app.add_subcommand("check-plugin",
                                 "build one plugin's component alone and check shape, finite outputs, gradients, "
                                 "parameter count and causality");
  cmd->add_option("kind", options->kind, "attention, mlp, moe or norm")
      ->required()
      ->check(CLI::IsMember(kind_names()));
  cmd->add_option("name", options->plugin, "the plugin's name (`ablate plugins` lists them)")->required();
  cmd->add_option("--set", options->set, "an option of the plugin, key=value with a YAML value (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--d-model", options->d_model, "width of the model context")->check(CLI::Range(2, 1 << 16));
  cmd->add_option("--seq-len", options->seq_len, "sequence length T of the inputs")->check(CLI::Range(4, 1 << 16));
  cmd->callback([options, &global] { run_check_plugin(*options, global); });
}

}  // namespace ablate::app
