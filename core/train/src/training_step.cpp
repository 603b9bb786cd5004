// TrainingStep (see training_step.h).
#include "training_step.h"

#include <cmath>
#include <exception>
#include <mutex>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/nn/functional/loss.h>
#include <torch/utils.h>

#include "ablate/train/device.h"
#include "ablate/engine/error.h"
#include "ablate/train/grad_clip.h"

namespace ablate {
namespace {

// How far a replay may stray from the eager step it is checked against: the same kernels in the
// same order, so only atomic adds (embedding and MoE gradients) reorder sums. A wrong graph (a
// baked-in learning rate or batch, a stale cast) misses by orders of magnitude more.
constexpr double kLossTolerance = 1e-3;    // relative, per micro-batch loss
constexpr double kUpdateTolerance = 5e-2;  // ‖Δ_graph − Δ_eager‖ / ‖Δ_eager‖ over all parameters

}  // namespace

CudaGraphPolicy parse_cuda_graph_policy(const std::string& text) {
  if (text == "auto") return CudaGraphPolicy::automatic;
  if (text == "on") return CudaGraphPolicy::required;
  if (text == "off") return CudaGraphPolicy::off;
  throw Error("unknown --cuda-graph value '" + text + "'", "use auto, on or off");
}

TrainingStep::TrainingStep(StepParts parts, CudaGraphPolicy policy, std::function<void(const std::string&)> warn,
                           StepRecorder recorder)
    : parts_(parts), policy_(policy), warn_(std::move(warn)), recorder_(recorder ? recorder : StepRecorder(record_step_graph)) {
  const auto options = at::TensorOptions(at::kLong).device(parts_.device);
  inputs_ = at::zeros({parts_.grad_accum, parts_.batch_size, parts_.seq_len}, options);
  targets_ = at::zeros_like(inputs_);
  const bool records = policy_ == CudaGraphPolicy::required ||
                       (policy_ == CudaGraphPolicy::automatic && (parts_.device.is_cuda() || recorder));
  phase_ = records ? Phase::warming_up : Phase::eager;
  graph_status_ = policy_ == CudaGraphPolicy::off ? "off"
                  : records                       ? fmt::format("not recorded (the run had {} steps or fewer)", kWarmupSteps)
                                                  : "off (CUDA graphs need a GPU)";
}

TrainingStep::~TrainingStep() = default;

void TrainingStep::load(const std::vector<Batch>& batches) {
  if (static_cast<std::int64_t>(batches.size()) != parts_.grad_accum)
    throw std::logic_error("TrainingStep::load: one batch per micro-step expected");
  torch::NoGradGuard no_grad;
  for (std::int64_t m = 0; m < parts_.grad_accum; ++m) {
    inputs_[m].copy_(batches[m].inputs, /*non_blocking=*/true);
    targets_[m].copy_(batches[m].targets, /*non_blocking=*/true);
  }
}

torch::Tensor TrainingStep::compute() {
  auto& model = parts_.model;
  {
    torch::NoGradGuard no_grad;
    // In place rather than set to none: a replayed graph accumulates into the same memory.
    for (auto& p : model->parameters())
      if (p.grad().defined()) p.grad().zero_();
  }
  std::vector<torch::Tensor> losses;
  for (std::int64_t m = 0; m < parts_.grad_accum; ++m) {
    torch::Tensor lm_loss, loss;
    {
      const AutocastScope autocast(parts_.device, parts_.precision);
      const auto logits = model->forward(inputs_[m]);
      lm_loss = torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}).to(torch::kFloat),
                                                     targets_[m].reshape({-1}));
      loss = (lm_loss + model->aux_loss()) / static_cast<double>(parts_.grad_accum);
    }
    loss.backward();
    losses.push_back(lm_loss.detach());
  }
  if (parts_.grad_clip > 0) clip_grad_norm(model->parameters(), parts_.grad_clip);
  parts_.adamw.apply_update();
  if (parts_.muon) parts_.muon->apply_update();
  model->after_optimizer_step();
  return at::stack(losses);
}

torch::Tensor TrainingStep::run(double lr, double muon_lr) {
  for (auto& group : parts_.adamw.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  parts_.adamw.stage_learning_rates();
  if (parts_.muon) parts_.muon->stage_learning_rate(muon_lr);
  ++steps_run_;
  switch (phase_) {
    case Phase::replaying:
      graph_->replay();
      return graph_losses_.clone();  // the next replay rewrites graph_losses_
    case Phase::recorded:
      return check_and_replay();
    case Phase::warming_up:
      if (steps_run_ > kWarmupSteps) record();  // runs nothing: this step still runs eagerly below
      return compute();
    case Phase::eager:
      break;
  }
  return compute();
}

void TrainingStep::record() {
  // The graph gets a memory pool of its own: hand the eager steps' cached blocks back first, so
  // the two do not sit side by side in the device's memory.
  release_cached_memory(parts_.device);
  try {
    graph_ = recorder_(parts_.device, [this] { graph_losses_ = compute(); });
    phase_ = Phase::recorded;
  } catch (const std::exception& e) {
    fall_back(e.what());
  }
}

void TrainingStep::fall_back(const std::string& reason) {
  graph_.reset();
  graph_losses_ = torch::Tensor();
  phase_ = Phase::eager;
  if (policy_ == CudaGraphPolicy::required)
    throw Error("--cuda-graph on: " + reason, "--cuda-graph auto trains on without the graph");
  graph_status_ = "not used: " + reason;
  warn_(fmt::format("the training step runs without a CUDA graph: {}", reason));
}

torch::Tensor TrainingStep::check_and_replay() {
  auto& model = parts_.model;
  // Everything a step changes: parameters first (their updates are compared), then buffers and
  // optimizer state, and the random generator the step draws from.
  std::vector<torch::Tensor> live;
  for (const auto& p : model->parameters()) live.push_back(p);
  const std::size_t n_params = live.size();
  for (const auto& b : model->buffers()) live.push_back(b);
  for (const auto& s : parts_.adamw.state_tensors()) live.push_back(s);
  if (parts_.muon)
    for (const auto& b : parts_.muon->buffers()) live.push_back(b);
  at::Generator generator = at::globalContext().defaultGenerator(parts_.device);
  std::vector<torch::Tensor> before;
  for (const auto& t : live) before.push_back(t.detach().clone());
  const at::Tensor rng_before = [&] {
    const std::lock_guard lock(generator.mutex());  // as LibTorch's own state reads do
    return generator.get_state();
  }();
  const auto restore = [&] {
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < live.size(); ++i) live[i].detach().copy_(before[i]);
    const std::lock_guard lock(generator.mutex());
    generator.set_state(rng_before);
  };

  const at::Tensor eager_losses = compute();
  std::vector<torch::Tensor> eager_params;
  for (std::size_t i = 0; i < n_params; ++i) eager_params.push_back(live[i].detach().clone());
  restore();
  graph_->replay();
  if (!graph_losses_.defined()) {  // a recording that never reached the loss
    restore();
    fall_back(fmt::format("its replay produced no losses at step {}", parts_.steps_before + steps_run_));
    return compute();
  }
  const at::Tensor replay_losses = graph_losses_.clone();
  torch::NoGradGuard no_grad;

  const double loss_gap =
      ((replay_losses - eager_losses).abs().max() / eager_losses.abs().max().clamp_min(1.0)).item<double>();
  at::Tensor gap_sq = at::zeros({}, eager_losses.options().dtype(at::kDouble));
  at::Tensor update_sq = at::zeros_like(gap_sq);
  for (std::size_t i = 0; i < n_params; ++i) {
    const auto replayed = live[i].detach().to(at::kDouble), eager = eager_params[i].to(at::kDouble);
    gap_sq += (replayed - eager).pow(2).sum();
    update_sq += (eager - before[i].to(at::kDouble)).pow(2).sum();
  }
  const double update_gap = std::sqrt(gap_sq.item<double>() / std::max(update_sq.item<double>(), 1e-300));
  if (!(loss_gap <= kLossTolerance && update_gap <= kUpdateTolerance)) {
    restore();
    fall_back(fmt::format("its replay disagreed with an eager step at step {} (loss gap {:.2e}, "
                          "update gap {:.2e}; tolerated {:.0e} and {:.0e})",
                          parts_.steps_before + steps_run_, loss_gap, update_gap, kLossTolerance, kUpdateTolerance));
    const at::AutoGradMode grad_mode(true);
    return compute();
  }
  phase_ = Phase::replaying;
  graph_status_ = fmt::format("replayed from step {}", parts_.steps_before + steps_run_);
  before.clear();
  eager_params.clear();
  reset_peak_memory(parts_.device);  // the copies above are not what a step needs
  return replay_losses;
}

}  // namespace ablate
