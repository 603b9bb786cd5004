// ablate SDK: what a plugin source file includes, and the macro that exports its descriptor.
//
//   static std::shared_ptr<ablate::sdk::ComponentImpl> make(const ModelContext& ctx, const Options& o);
//   static ablate::sdk::Cost cost(const ModelContext& ctx, const Options& o);   // may throw on bad options
//   static const ablate::sdk::OptionSpec kOptions[] = {{.name = "n_heads", ...}, ...};
//   ABLATE_PLUGIN(attention, "mha", "multi-head attention with RoPE", kOptions, make, cost)
//
// The macro wraps `make` and `cost` so that no exception crosses the library boundary: an
// exception becomes `false` plus its message, which the host reports with the plugin's name.
#pragma once

#include <exception>
#include <iterator>
#include <memory>
#include <string>

#include <torch/version.h>

#include "ablate/sdk/component.h"
#include "ablate/sdk/flops.h"
#include "ablate/sdk/options.h"
#include "ablate/sdk/plugin_abi.h"

#define ABLATE_EXPORT extern "C" __attribute__((visibility("default")))

namespace ablate::sdk::detail {

template <auto Make>
bool create_noexcept(const ModelContext& ctx, const Options& options,
                     std::shared_ptr<ComponentImpl>& out, std::string& error) noexcept {
  try {
    out = Make(ctx, options);
    if (!out) error = "factory returned no module";
    return out != nullptr;
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "unknown exception";
  }
  return false;
}

template <auto CostOf>
bool cost_noexcept(const ModelContext& ctx, const Options& options, Cost& out,
                   std::string& error) noexcept {
  try {
    out = CostOf(ctx, options);
    return true;
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "unknown exception";
  }
  return false;
}

}  // namespace ablate::sdk::detail

/// Exports the plugin's descriptor. KIND is attention | mlp | moe | norm.
#define ABLATE_PLUGIN(KIND, NAME, DESCRIPTION, OPTIONS, MAKE, COST)                           \
  ABLATE_EXPORT const ::ablate::sdk::PluginDescriptor* ablate_plugin_descriptor() {           \
    static const ::ablate::sdk::PluginDescriptor descriptor{                                   \
        .struct_size = sizeof(::ablate::sdk::PluginDescriptor),                                \
        .abi_version = ABLATE_ABI_VERSION,                                                     \
        .kind = ::ablate::sdk::Kind::KIND,                                                     \
        .name = NAME,                                                                          \
        .description = DESCRIPTION,                                                            \
        .torch_version = TORCH_VERSION,                                                        \
        .options = OPTIONS,                                                                    \
        .n_options = static_cast<std::uint32_t>(std::size(OPTIONS)),                           \
        .create = &::ablate::sdk::detail::create_noexcept<MAKE>,                               \
        .cost = &::ablate::sdk::detail::cost_noexcept<COST>,                                   \
    };                                                                                         \
    return &descriptor;                                                                        \
  }
