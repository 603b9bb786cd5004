// The warm-up of `ablate plan` (plan.h): the trainer's step — forward, cross-entropy plus the MoE
// auxiliary loss (in the run's precision), backward, gradient clipping, fused AdamW (and Muon on the
// hidden matrices when the run uses it) — timed on random tokens, without data, evaluation files or a
// run directory. Like the trainer, the steps do not wait for the device: it is synchronised once
// before and once after the timed steps.
#include "ablate/plan.h"

#include <chrono>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/nn/functional/loss.h>
#include <torch/utils.h>

#include "ablate/data.h"
#include "ablate/device.h"
#include "ablate/error.h"
#include "ablate/fused_adamw.h"
#include "ablate/grad_clip.h"
#include "ablate/model.h"
#include "ablate/muon.h"
#include "ablate/precision.h"

namespace ablate {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

/// Random tokens in [0, vocab): inputs (B, T) and targets (B, T), made on the CPU and moved, as the
/// trainer's batches are (pinned for a GPU, copied without blocking).
std::pair<torch::Tensor, torch::Tensor> random_batch(std::int64_t vocab, std::int64_t B, std::int64_t T,
                                                     const c10::Device& device) {
  const auto window = at::randint(vocab, {B, T + 1}, at::TensorOptions(at::kLong).pinned_memory(device.is_cuda()))
                          .to(device, /*non_blocking=*/true);
  return {window.slice(1, 0, T), window.slice(1, 1, T + 1)};
}

}  // namespace

StepTiming measure_step_time(const RunSpec& run, const PluginRegistry& registry, const WarmupOptions& options) {
  if (options.steps < 1) throw Error("the warm-up needs at least 1 step", "pass --warmup-steps 1 or more");
  if (options.threads > 0) at::set_num_threads(options.threads);
  const c10::Device device = parse_device(options.device);
  const Precision precision = parse_precision(options.precision, device);
  const nlohmann::json& train = run.config.at("train");
  const nlohmann::json& optimizer = train.at("optimizer");
  const std::int64_t B = train.at("batch_size").get<std::int64_t>();
  const std::int64_t grad_accum = train.at("grad_accum").get<std::int64_t>();
  const double grad_clip = train.at("grad_clip").get<double>();
  const std::int64_t T = run.config.at("data").at("seq_len").get<std::int64_t>();
  const std::int64_t vocab = tokenizer_vocab_size(run.config.at("data"));

  torch::manual_seed(static_cast<std::uint64_t>(run.seed));
  Transformer model(plan_model(run.config, vocab, registry), registry);
  model->to(device);
  model->train();
  // The optimizers' work per step: Muon on the 2-D hidden matrices when the run uses it, AdamW on
  // the rest (the trainer's split of weight decay does not change the cost, so it is left out).
  const bool with_muon = optimizer.at("name").get<std::string>() == "muon";
  std::vector<torch::Tensor> hidden, rest;
  for (const auto& item : model->named_parameters()) {
    const bool is_hidden = item.value().dim() == 2 && item.key() != "embedding.weight" && item.key() != "lm_head.weight";
    (with_muon && is_hidden ? hidden : rest).push_back(item.value());
  }
  std::unique_ptr<Muon> muon;
  if (with_muon) muon = std::make_unique<Muon>(hidden, MuonOptions{.ns_steps = optimizer.at("ns_steps").get<std::int64_t>()});
  FusedAdamW adamw(rest, torch::optim::AdamWOptions(optimizer.at("lr").get<double>()));

  const auto train_step = [&] {
    model->zero_grad();
    for (std::int64_t micro = 0; micro < grad_accum; ++micro) {
      const auto [inputs, targets] = random_batch(vocab, B, T, device);
      torch::Tensor loss;
      {
        const AutocastScope autocast(device, precision);
        const auto logits = model->forward(inputs);
        loss = torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}).to(torch::kFloat),
                                                    targets.reshape({-1})) +
               model->aux_loss();
      }
      (loss / static_cast<double>(grad_accum)).backward();
    }
    if (grad_clip > 0) clip_grad_norm(model->parameters(), grad_clip);
    adamw.step();
    if (muon) muon->step(optimizer.at("muon_lr").get<double>());
    model->after_optimizer_step();
  };

  StepTiming timing;
  timing.steps = options.steps;
  timing.device = device_description(device);
  train_step();  // untimed: first-call allocations and kernel selection
  synchronize(device);
  const auto start = Clock::now();
  for (std::int64_t i = 0; i < options.steps; ++i) train_step();
  synchronize(device);
  timing.seconds_per_step = seconds_since(start) / static_cast<double>(options.steps);

  torch::NoGradGuard no_grad;
  model->eval();
  const auto eval_start = Clock::now();
  for (std::int64_t i = 0; i < options.steps; ++i) {
    const auto [inputs, targets] = random_batch(vocab, B, T, device);
    const auto logits = model->forward(inputs);
    (void)torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}).to(torch::kFloat),
                                               targets.reshape({-1}))
        .item<double>();
  }
  timing.seconds_per_eval_batch = seconds_since(eval_start) / static_cast<double>(options.steps);
  return timing;
}

std::int64_t evaluations_per_run(const nlohmann::json& run_config) {
  const auto& train = run_config.at("train");
  const std::int64_t steps = train.at("steps").get<std::int64_t>();
  const std::int64_t every = train.at("eval_every").get<std::int64_t>();
  return 1 + steps / every + (steps % every != 0 ? 1 : 0);
}

double estimated_run_seconds(const nlohmann::json& run_config, const StepTiming& timing) {
  const auto& train = run_config.at("train");
  return static_cast<double>(train.at("steps").get<std::int64_t>()) * timing.seconds_per_step +
         static_cast<double>(evaluations_per_run(run_config) * train.at("eval_batches").get<std::int64_t>()) *
             timing.seconds_per_eval_batch;
}

std::string timing_key(const nlohmann::json& run_config) {
  const auto& train = run_config.at("train");
  return nlohmann::json{run_config.at("model"), run_config.at("data"), train.at("batch_size"), train.at("grad_accum"),
                        train.at("eval_batches"), train.at("optimizer").at("name")}
      .dump();
}

}  // namespace ablate
