// What a training checkpoint holds, and turning it into bytes and back (checkpoint_store.h keeps
// the bytes on disk). Everything needed to continue a run exactly as if it had not stopped: the
// model's parameters and buffers (MoE routing biases included), AdamW's state, Muon's momentum
// buffers, the train sampler's RNG, LibTorch's default CPU generator (dropout) and, on a GPU,
// that device's generator, and the loop's counters: step, timings, metrics so far, running loss.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include <c10/core/Device.h>

namespace torch::nn {
class Module;
}
namespace torch::optim {
class Optimizer;
}

namespace ablate {

class Muon;

/// The training loop's own state between two steps (trainer.cpp).
struct LoopState {
  std::int64_t step = 0;  // optimizer steps done
  double train_seconds = 0.0;
  double eval_seconds = 0.0;
  double recent_loss_sum = 0.0;  // train loss since the last evaluation
  std::int64_t recent_loss_count = 0;
  double last_train_loss = std::nan("");
  double last_val_loss = 0.0;
  double last_val_accuracy = 0.0;
  double best_val_loss = std::numeric_limits<double>::infinity();  // of best.safetensors
  std::string metrics_text;  // metrics.jsonl so far
  std::string sampler_rng;   // the train sampler's std::mt19937_64, streamed with operator<<
};

/// The parts of a run a checkpoint saves and restores.
struct TrainingParts {
  torch::nn::Module& model;
  torch::optim::Optimizer& adamw;
  Muon* muon = nullptr;  // null when the run does not use Muon
  c10::Device device{c10::kCPU};
};

std::string serialize_checkpoint(const LoopState& state, const TrainingParts& parts);

/// Restores `parts` in place from `bytes` and returns the loop state. Throws when the bytes do not
/// fit the parts (another model or optimizer).
LoopState restore_checkpoint(const std::string& bytes, const TrainingParts& parts);

}  // namespace ablate
