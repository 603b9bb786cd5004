// Muon (docs/components.md, "Training recipe: Muon"): momentum SGD whose update of each 2-D
// hidden matrix is orthogonalised by Newton–Schulz iterations. Used for hidden matrices only;
// embeddings, the LM head, norms and biases stay with AdamW (the trainer splits them).
//
//   Muon muon(hidden_matrices, {.momentum = 0.95, .ns_steps = 5});
//   muon.step(lr);   // after backward
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace ablate {

/// Orthogonalises G (rows × cols) by `steps` quintic Newton–Schulz iterations in bf16:
/// transpose if rows > cols; X ← X / (‖X‖_F + 1e-7); X ← aX + (bA + cA²)X with A = XXᵀ,
/// (a, b, c) = (3.4445, −4.7750, 2.0315). Returns G's shape and dtype; singular values end near 1.
at::Tensor newton_schulz(const at::Tensor& g, std::int64_t steps);

struct MuonOptions {
  double momentum = 0.95;  // μ
  std::int64_t ns_steps = 5;
};

class Muon {
 public:
  Muon(std::vector<at::Tensor> params, MuonOptions options);
  /// buf ← μ·buf + (1−μ)·g; g' ← (1−μ)·g + μ·buf (Nesterov); p ← p − lr·sqrt(max(1, rows/cols))·NS(g').
  void step(double lr);
  /// The two halves of step(), for a captured training step: stage_learning_rate() fills the
  /// device tensor on the host before each replay, apply_update() issues device work only.
  void stage_learning_rate(double lr);
  void apply_update();
  /// Momentum buffers (for checkpoints and tests), one per parameter.
  const std::vector<at::Tensor>& buffers() const { return buffers_; }
  /// Copies saved momentum buffers (a checkpoint's) into this optimizer's; throws
  /// std::invalid_argument when their number or shapes differ.
  void load_buffers(const std::vector<at::Tensor>& saved);

 private:
  std::vector<at::Tensor> params_;
  std::vector<at::Tensor> buffers_;
  MuonOptions options_;
  at::Tensor lr_;  // () float32 on the parameters' device, read by apply_update()
};

}  // namespace ablate
