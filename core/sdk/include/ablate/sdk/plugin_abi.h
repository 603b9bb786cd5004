// ablate SDK: the one thing a plugin library exports, and the version rules around it.
//
// A plugin `.so` exports exactly one symbol, `ablate_plugin_descriptor`, returning a pointer to a
// static `PluginDescriptor`. Write it with the ABLATE_PLUGIN macro (plugin.h), never by hand.
//
// Version rules (OBS's rule, packed as major << 16 | minor):
//   - major: bump when the descriptor, ModelContext, Options or ComponentImpl change incompatibly.
//     The host refuses a plugin whose major differs from its own.
//   - minor: bump when something is added that old plugins need not know. The host accepts a plugin
//     whose minor is at most its own. Reset to 0 with each major bump.
// Descriptors are size-stamped: the host copies min(struct_size, sizeof(PluginDescriptor)) bytes
// into a zero-filled copy, so a plugin built against an older, shorter descriptor still loads.
//
// Changelog
//   1.0  first version: kind, name, description, option schema, create, cost.
//
// Torch-free: the host's catalogue code includes this without LibTorch.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>

#include "ablate/sdk/options.h"
#include "ablate/sdk/rope_config.h"

#define ABLATE_ABI_VERSION_MAJOR 1
#define ABLATE_ABI_VERSION_MINOR 0
#define ABLATE_ABI_VERSION ((ABLATE_ABI_VERSION_MAJOR << 16) | ABLATE_ABI_VERSION_MINOR)

namespace ablate::sdk {

class ComponentImpl;  // component.h: the torch::nn::Module every component derives from

/// The type of one option in a plugin's schema.
enum class OptionType : std::uint32_t {
  integer = 0,
  number = 1,
  boolean = 2,
  string = 3,     // `choices` may restrict it: "interleaved|half"
  component = 4,  // a nested component map; `choices` names its kind: "mlp"
};

inline const char* option_type_name(OptionType type) {
  switch (type) {
    case OptionType::integer: return "integer";
    case OptionType::number: return "number";
    case OptionType::boolean: return "boolean";
    case OptionType::string: return "string";
    case OptionType::component: return "component";
  }
  return "unknown";
}

/// One option of a plugin: the host validates a sweep against these before anything trains.
struct OptionSpec {
  const char* name = nullptr;           // e.g. "n_heads"
  OptionType type = OptionType::integer;
  const char* default_value = nullptr;  // YAML scalar text, e.g. "8"; nullptr: the option is required
  const char* doc = nullptr;            // one line for `ablate plugins`
  const char* choices = nullptr;        // string: allowed values "a|b"; component: its kind
  double min = -std::numeric_limits<double>::infinity();  // integer / number: inclusive bounds
  double max = std::numeric_limits<double>::infinity();
};

/// Parameter and compute cost of a component, computed from options alone (before building).
struct Cost {
  std::int64_t params_total = 0;   // every trainable parameter
  std::int64_t params_active = 0;  // those one token uses (MoE: k of E experts)
  double flops_per_token = 0;      // forward FLOPs per token (multiply-add = 2)
};

/// What the skeleton tells a component about the model it sits in.
struct ModelContext {
  std::int64_t d_model = 0;      // width of the residual stream
  std::int64_t n_layers = 0;
  std::int64_t layer_index = 0;  // 0-based block index; -1 for the final norm
  std::int64_t seq_len = 0;      // training sequence length T
  double dropout = 0.0;          // the model's dropout probability
  RopeConfig rope;               // attention: rotary embedding settings
  /// Builds a nested component (an MoE's expert MLP) through the host's plugin registry.
  std::function<std::shared_ptr<ComponentImpl>(const ComponentSpec&, const ModelContext&)> build;
  /// Costs a nested component through the host's plugin registry.
  std::function<Cost(const ComponentSpec&, const ModelContext&)> cost;
};

/// Builds the module. Never throws: failures are returned as false with `error` set.
using CreateFn = bool (*)(const ModelContext&, const Options&, std::shared_ptr<ComponentImpl>& out,
                          std::string& error) noexcept;
/// Computes the cost and checks options against each other (d_model divisible by n_heads...).
/// Never throws: an inconsistency is returned as false with `error` set.
using CostFn = bool (*)(const ModelContext&, const Options&, Cost& out, std::string& error) noexcept;

struct PluginDescriptor {
  std::uint32_t struct_size = 0;  // sizeof(PluginDescriptor) when the plugin was built
  std::uint32_t abi_version = 0;  // ABLATE_ABI_VERSION when the plugin was built
  Kind kind = Kind::attention;
  const char* name = nullptr;           // unique per kind, e.g. "mha"
  const char* description = nullptr;    // one line
  const char* torch_version = nullptr;  // TORCH_VERSION the plugin was built against
  const OptionSpec* options = nullptr;
  std::uint32_t n_options = 0;
  CreateFn create = nullptr;  // Required
  CostFn cost = nullptr;      // Required
};

/// The exported symbol's name and signature.
inline constexpr const char* kDescriptorSymbol = "ablate_plugin_descriptor";
using DescriptorFn = const PluginDescriptor*();

}  // namespace ablate::sdk
