// AdamW through one multi-tensor kernel per parameter group (`at::_fused_adamw_`) instead of
// torch::optim::AdamW's ~10 small ops per parameter. Same update, same options, same state:
// it *is* a torch::optim::AdamW (param groups, AdamWOptions, AdamWParamState), so Optimizer::save
// and load write and read the same archive, and a checkpoint of either loads into the other.
//
//   FusedAdamW adamw(groups, torch::optim::AdamWOptions(3e-4).betas({0.9, 0.95}));
//   adamw.step();   // after backward; the learning rate is read from each group's options
//
// What the kernel needs that AdamW does not keep: the learning rate as a tensor on the device (so a
// captured CUDA graph reads the current value instead of baking one in) and each parameter's step
// count as a float tensor on the device, which the kernel reads for the bias corrections. The
// step count is therefore kept twice, advanced together every step without reading the device:
// the host integer in AdamWParamState (what save() writes) and the device tensor (rebuilt from the
// integer after load()). Parameters without a gradient are skipped and their count stays, as in
// AdamW. Sparse gradients are refused.
#pragma once

#include <unordered_map>
#include <vector>

#include <torch/optim/adamw.h>

namespace ablate {

class FusedAdamW : public torch::optim::AdamW {
 public:
  using torch::optim::AdamW::AdamW;
  torch::Tensor step(LossClosure closure = nullptr) override;
  void load(torch::serialize::InputArchive& archive) override;

 private:
  // Keyed like Optimizer::state_ (the parameter's TensorImpl).
  std::unordered_map<void*, torch::Tensor> device_steps_;  // () float32, on the parameter's device
  std::vector<torch::Tensor> group_lrs_;                    // () float32 per param group, on its device
};

}  // namespace ablate
