// A model's weights as a safetensors file and back. The tensors are the module's state: every
// parameter and buffer under its LibTorch name ("blocks.0.attention.qkv.weight"), the names
// docs/checkpoints.md lists, so `load_state_dict` of a PyTorch module with the same names takes
// them as they are.
//
//   save_weights(run_dir / "model.safetensors", *model, {{"step", "800"}});
//   load_weights(run_dir / "model.safetensors", *model);   // exact names and shapes, or an error
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "ablate/train/safetensors.h"

namespace torch::nn {
class Module;
}

namespace ablate {

/// Parameters, then buffers, by name (recursively), as the module holds them.
NamedTensors module_state(const torch::nn::Module& module);

void save_weights(const std::filesystem::path& file, const torch::nn::Module& module,
                  const std::map<std::string, std::string>& metadata);

/// Copies the file's tensors into `module`'s parameters and buffers (converting dtype and device).
/// Throws ablate::Error naming the file when a name is missing or unexpected, or a shape differs.
/// Returns the file's metadata.
std::map<std::string, std::string> load_weights(const std::filesystem::path& file, torch::nn::Module& module);

}  // namespace ablate
