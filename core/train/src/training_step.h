// The training step of one run: zero the gradients, forward and backward over grad_accum
// micro-batches, clip, update. It reads its batches from static input tensors and its learning
// rates from device tensors, so on a GPU it can be recorded once as a CUDA graph (step_graph.h)
// and replayed: one launch per step instead of hundreds.
//
//   TrainingStep step(parts, CudaGraphPolicy::automatic, warn);
//   step.load(batches);                          // grad_accum batches
//   torch::Tensor losses = step.run(lr, muon_lr);  // (grad_accum,) on the device, not read
//
// A recorded graph is trusted only after it has agreed with an eager step: the first kWarmupSteps
// steps run eagerly (lazy state, cuBLAS handles and autotuning settle), then the graph is recorded;
// on the next step the state is copied, the step runs eagerly, the copy is put back and the graph
// replays the same step; the losses and the parameter updates must agree (within the noise of
// atomic adds), or the run goes on without the graph. A graph that had baked in a learning rate
// or a batch would fail this check, since both differ between recording and checking.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <c10/core/Device.h>

#include "ablate/train/fused_adamw.h"
#include "ablate/train/model.h"
#include "ablate/train/muon.h"
#include "ablate/train/precision.h"
#include "ablate/train/step_graph.h"
#include "ablate/train/trainer.h"
#include "evaluation.h"

namespace ablate {

struct StepParts {
  Transformer& model;
  FusedAdamW& adamw;
  Muon* muon = nullptr;  // the hidden matrices' optimizer, when the run uses Muon
  c10::Device device{c10::kCPU};
  Precision precision = Precision::fp32;
  std::int64_t grad_accum = 1, batch_size = 1, seq_len = 1;
  double grad_clip = 0.0;  // 0: no clipping
  std::int64_t steps_before = 0;  // steps trained before this one's first (a resumed run's), for messages
};

/// Records a step into a graph (record_step_graph, or a test's stand-in).
using StepRecorder = std::function<std::unique_ptr<StepGraph>(const c10::Device&, const std::function<void()>&)>;

class TrainingStep {
 public:
  static constexpr std::int64_t kWarmupSteps = 3;

  /// `warn` prints a warning line (a fallback to eager steps). Without a `recorder` the step is
  /// recorded by record_step_graph, and under CudaGraphPolicy::automatic on CUDA devices only; a
  /// given recorder (a test's) records on any device.
  TrainingStep(StepParts parts, CudaGraphPolicy policy, std::function<void(const std::string&)> warn,
               StepRecorder recorder = nullptr);
  ~TrainingStep();

  /// Copies the next step's micro-batches, grad_accum of (batch_size, seq_len), into the static inputs.
  void load(const std::vector<Batch>& batches);
  /// One optimizer step at these learning rates (AdamW's and Muon's); returns the language-model
  /// loss of each micro-batch, (grad_accum,) float32, left on the device.
  torch::Tensor run(double lr, double muon_lr);
  /// For summary.json: "replayed from step N" (the run's step), "off", or "not used: <reason>".
  const std::string& graph_status() const { return graph_status_; }
  /// True once the steps run in their steady state: after the first step (first-call allocations,
  /// kernel selection), and with a graph after it was recorded and checked. The trainer times the
  /// steps before apart from training (warm-up).
  bool settled() const { return steps_run_ >= 1 && (phase_ == Phase::eager || phase_ == Phase::replaying); }

 private:
  torch::Tensor compute();  // the step itself, from the static inputs and staged learning rates
  void record();
  torch::Tensor check_and_replay();
  void fall_back(const std::string& reason);

  StepParts parts_;
  CudaGraphPolicy policy_;
  std::function<void(const std::string&)> warn_;
  StepRecorder recorder_;
  torch::Tensor inputs_, targets_;  // (grad_accum, B, T) int64 on the device
  enum class Phase { warming_up, recorded, replaying, eager } phase_;
  std::int64_t steps_run_ = 0;
  std::unique_ptr<StepGraph> graph_;
  torch::Tensor graph_losses_;  // the graph's output, rewritten by each replay
  std::string graph_status_;
};

}  // namespace ablate
