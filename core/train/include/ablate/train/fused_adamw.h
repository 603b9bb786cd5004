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
// step count is therefore kept twice: the device tensor, which the kernel advances (so a replayed
// graph counts too), and the host integer in AdamWParamState, which save() writes: it is copied from
// the device there (one read, at a checkpoint), and the device tensor is rebuilt from it after
// load(). Parameters without a gradient are skipped and their count stays, as in AdamW. Sparse
// gradients are refused.
//
// A captured training step calls the two halves of step() apart: stage_learning_rates() on the host
// before each replay (a fill of the device tensors), apply_update() inside the graph.
#pragma once

#include <unordered_map>
#include <vector>

#include <torch/optim/adamw.h>

namespace ablate {

class FusedAdamW : public torch::optim::AdamW {
 public:
  using torch::optim::AdamW::AdamW;
  /// stage_learning_rates() then apply_update().
  torch::Tensor step(LossClosure closure = nullptr) override;
  /// Writes each group's options().lr() into its device tensor. Outside a graph: a fill issued
  /// while recording would bake the value in.
  void stage_learning_rates();
  /// The update itself, from the staged learning rates; issues device work only (graph-safe once
  /// every state tensor exists, i.e. after one step()).
  void apply_update();
  /// Copies the device step counts into AdamWParamState (reads the device); save() calls it.
  void sync_step_counts();
  /// Every tensor of the optimizer's state (moments and device step counts), to snapshot and
  /// restore around a check of a recorded step.
  std::vector<torch::Tensor> state_tensors() const;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

 private:
  // Keyed like Optimizer::state_ (the parameter's TensorImpl).
  std::unordered_map<void*, torch::Tensor> device_steps_;  // () float32, on the parameter's device
  std::vector<torch::Tensor> group_lrs_;                    // () float32 per param group, on its device
};

}  // namespace ablate
