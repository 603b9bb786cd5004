// Module state ↔ safetensors (safetensors_weights.h).
#include "ablate/train/safetensors_weights.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/nn/module.h>
#include <torch/utils.h>

#include "ablate/engine/error.h"

namespace ablate {

NamedTensors module_state(const torch::nn::Module& module) {
  NamedTensors state;
  for (const auto& item : module.named_parameters()) state.emplace_back(item.key(), item.value());
  for (const auto& item : module.named_buffers()) state.emplace_back(item.key(), item.value());
  return state;
}

void save_weights(const std::filesystem::path& file, const torch::nn::Module& module,
                  const std::map<std::string, std::string>& metadata) {
  write_safetensors(file, module_state(module), metadata);
}

std::map<std::string, std::string> load_weights(const std::filesystem::path& file, torch::nn::Module& module) {
  SafetensorsFile saved = read_safetensors(file);
  std::map<std::string, at::Tensor> by_name(saved.tensors.begin(), saved.tensors.end());
  std::vector<std::string> missing;
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : module_state(module)) {
    const auto found = by_name.find(name);
    if (found == by_name.end()) {
      missing.push_back(name);
      continue;
    }
    if (found->second.sizes() != target.sizes())
      throw Error(fmt::format("{}: '{}' has shape {} in the file but {} in the model", file.string(), name,
                              fmt::join(found->second.sizes(), "x"), fmt::join(target.sizes(), "x")),
                  "the weights belong to another model configuration");
    target.copy_(found->second);
    by_name.erase(found);
  }
  if (!missing.empty() || !by_name.empty()) {
    std::vector<std::string> unexpected;
    for (const auto& [name, tensor] : by_name) unexpected.push_back(name);
    throw Error(fmt::format("{}: the weights do not fit the model (missing: {}; unexpected: {})", file.string(),
                            missing.empty() ? "none" : fmt::format("{}", fmt::join(missing, ", ")),
                            unexpected.empty() ? "none" : fmt::format("{}", fmt::join(unexpected, ", "))),
                "the weights belong to another model configuration");
  }
  return saved.metadata;
}

}  // namespace ablate
