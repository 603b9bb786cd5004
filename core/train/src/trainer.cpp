// One run, written out top to bottom like llm.c's main loop: set-up (or resuming from the newest
// good checkpoint), then the loop with its periodic evaluation and checkpoints, then the summary.
// Deterministic on the CPU for a given seed and thread count: every random draw (initialisation,
// dropout, batches) comes from the run's seed, and a checkpoint carries every generator's state,
// so a stopped and resumed run ends bit-identical to one trained straight through.
// A training step never waits for the device: losses stay on it until a sync point (a log line,
// an evaluation, a checkpoint, the end), where they are read at once and the time is taken.
#include "ablate/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <numbers>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>

#include <stdlib.h>  // getloadavg

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/utils.h>
#include <torch/version.h>

#include "ablate/engine/atomic_file.h"
#include "ablate/engine/build_info.h"
#include "ablate/train/causality.h"
#include "ablate/train/checkpoint.h"
#include "ablate/engine/checkpoint_store.h"
#include "ablate/train/device.h"
#include "ablate/engine/error.h"
#include "ablate/train/fused_adamw.h"
#include "ablate/engine/json_file.h"
#include "ablate/engine/run_config.h"
#include "ablate/engine/sweep_clock.h"
#include "ablate/train/generator_lock.h"
#include "ablate/train/mfu.h"
#include "ablate/train/model.h"
#include "ablate/train/muon.h"
#include "ablate/train/precision.h"
#include "ablate/train/safetensors_weights.h"
#include "batch_loader.h"
#include "evaluation.h"
#include "optimizers.h"
#include "training_step.h"

namespace ablate {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The training loss of each micro-step, left on the device until a sync point reads them all in
// one transfer. The per-step losses come out summed in double in micro-step order, exactly as
// reading each one with .item() would give them.
class PendingLosses {
 public:
  explicit PendingLosses(std::int64_t grad_accum) : grad_accum_(grad_accum) {}
  /// One step's micro-batch losses, (grad_accum,).
  void add(const torch::Tensor& step_losses) { steps_.push_back(step_losses.detach()); }
  std::int64_t steps() const { return static_cast<std::int64_t>(steps_.size()); }
  // The mean loss of each step since the last read, oldest first; empties the list.
  std::vector<double> read() {
    std::vector<double> losses;
    if (steps_.empty()) return losses;
    const auto host = at::cat(steps_).to(torch::kCPU, torch::kDouble).contiguous();
    const double* value = host.data_ptr<double>();
    for (std::int64_t s = 0; s < steps(); ++s) {
      double step_loss = 0.0;
      for (std::int64_t m = 0; m < grad_accum_; ++m)
        step_loss += value[s * grad_accum_ + m] / static_cast<double>(grad_accum_);
      losses.push_back(step_loss);
    }
    steps_.clear();
    return losses;
  }

 private:
  std::int64_t grad_accum_;
  std::vector<torch::Tensor> steps_;  // (grad_accum,) float32 each, on the device
};

// Steps after which the trainer reads the pending losses even when nothing else is due.
constexpr std::int64_t kMaxUnreadSteps = 1000;

double mean_of(const nlohmann::json& numbers) {
  double sum = 0.0;
  for (const auto& v : numbers) sum += v.get<double>();
  return numbers.empty() ? 0.0 : sum / static_cast<double>(numbers.size());
}

nlohmann::json components_of(const ModelPlan& plan) {
  nlohmann::json parts = nlohmann::json::array();
  for (const auto& part : plan.parts) {
    parts.push_back({{"part", part.part},
                     {"plugin", part.plugin},
                     {"options", part.options},
                     {"count", part.count},
                     {"params_total", part.cost.params_total},
                     {"params_active", part.cost.params_active},
                     {"flops_per_token", part.cost.flops_per_token}});
  }
  return parts;
}

nlohmann::json data_of(const PreparedData& data) {
  nlohmann::json j = {{"corpus", data.corpus_description},       {"tokenizer", data.tokenizer_description},
                      {"split_rule", data.split_rule},           {"vocab_size", data.vocab_size},
                      {"train_documents", data.train_stats.documents}, {"train_tokens", data.train_stats.tokens},
                      {"val_documents", data.val_stats.documents},     {"val_tokens", data.val_stats.tokens},
                      {"overlap_documents", data.overlap_documents}};
  // Validation documents with a near-verbatim twin in training (docs/data.md): counted, and left
  // out of validation when the sweep asks.
  if (!data.near_duplicate_rule.empty()) {
    nlohmann::json examples = nlohmann::json::array();
    for (const auto& e : data.near_duplicate_examples)
      examples.push_back({{"val_document", e.val_document}, {"train_document", e.train_document}, {"jaccard", e.jaccard}});
    j["near_duplicates"] = {{"rule", data.near_duplicate_rule},
                            {"documents", data.near_duplicate_documents},
                            {"dropped", data.near_duplicates_dropped},
                            {"examples", examples}};
  }
  return j;
}

}  // namespace

double scheduled_lr_at(double progress, double warmup_fraction, double peak, double min_fraction) {
  progress = std::clamp(progress, 0.0, 1.0);
  if (progress < warmup_fraction) return peak * std::max(progress / warmup_fraction, 1e-3);
  const double decay = warmup_fraction < 1.0 ? (progress - warmup_fraction) / (1.0 - warmup_fraction) : 1.0;
  const double floor = peak * min_fraction;
  return floor + (peak - floor) * 0.5 * (1.0 + std::cos(std::numbers::pi * decay));
}

double scheduled_lr(std::int64_t step, std::int64_t total_steps, std::int64_t warmup_steps, double peak,
                    double min_fraction) {
  if (step < warmup_steps) return peak * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  const double span = std::max<std::int64_t>(1, total_steps - warmup_steps);
  const double progress = std::min(1.0, static_cast<double>(step - warmup_steps) / span);
  const double floor = peak * min_fraction;
  return floor + (peak - floor) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

nlohmann::json train_run(const RunSpec& run, const PreparedData& data, const PluginRegistry& registry,
                         const TrainSettings& settings) {
  // -------------------------------------------------------------------------------------------
  // set-up
  const auto print = settings.print ? settings.print : [](const std::string& line) { std::cout << line << std::endl; };
  const RunConfig config = decode_run_config(run.config);
  const TrainConfig& train = config.train;
  const std::int64_t steps = train.steps;
  const std::int64_t batch_size = train.batch_size;
  const std::int64_t grad_accum = train.grad_accum;
  const double peak_lr = train.optimizer.lr;
  const auto warmup_steps = static_cast<std::int64_t>(std::round(train.warmup_fraction * static_cast<double>(steps)));
  // A wall-clock budget (sweep budget kind "seconds"): train.steps is only the cap, the run stops
  // after that much training time, and the learning-rate schedule follows elapsed time.
  std::optional<double> time_budget;
  if (train.budget && train.budget->seconds()) time_budget = train.budget->value;
  const std::int64_t T = config.data.seq_len;
  if (data.train.size() < static_cast<std::size_t>(T) + 2)
    throw Error(fmt::format("the training split has {} tokens, fewer than seq_len + 2 = {}", data.train.size(), T + 2),
                "lower data.seq_len or use a larger corpus");

  std::unique_lock generator_lock(default_generator_mutex());  // until the model is built and restored
  seed_default_generators(static_cast<std::uint64_t>(run.seed), settings.device);
  const ModelPlan plan = plan_model(run.config, data.vocab_size, registry);
  Transformer model(plan, registry);
  model->to(settings.device);
  model->train();
  const RunOptimizers optimizers = make_optimizers(model, train.optimizer);
  FusedAdamW& adamw = *optimizers.adamw;
  Muon* const muon = optimizers.muon.get();
  const std::string& eval_split = train.eval_split;
  const EvaluationSet eval_set = evaluation_set(data.val, evaluation_range(data, eval_split), T, train.eval_tokens);
  const auto val_batches = evaluation_batches(data.val, eval_set, batch_size, settings.device);
  std::ostringstream tree;
  tree << *model;

  const auto metrics_path = settings.run_dir / "metrics.jsonl";
  const auto checkpoint_dir = settings.run_dir / "checkpoints";
  const TrainingParts parts{.model = *model, .adamw = adamw, .muon = muon, .device = settings.device};
  LoopState state;  // everything the loop carries from step to step; a checkpoint restores it
  const auto resumed = load_newest_checkpoint(checkpoint_dir, [&](const std::string& warning) {
    print(fmt::format("[{}] warning: {}", settings.label, warning));
  });
  if (resumed) {
    state = restore_checkpoint(resumed->bytes, parts);
    print(fmt::format("[{}] resuming from step {} ({})", settings.label, state.step, resumed->file.string()));
  } else if (newest_checkpoint_step(checkpoint_dir)) {
    print(fmt::format("[{}] warning: no usable checkpoint, training from scratch", settings.label));
  }
  generator_lock.unlock();
  nlohmann::json summary = {{"id", run.id},
                            {"arm", run.arm},
                            {"seed", run.seed},
                            {"grid_point", run.grid_point},
                            {"status", "running"},
                            {"device", device_description(settings.device)},
                            {"precision", precision_name(settings.precision)},
                            {"ablate_version", ablate_version()},
                            {"ablate_git_commit", ablate_git_commit()},
                            {"torch_version", TORCH_VERSION},
                            {"params_total", plan.total.params_total},
                            {"params_active", plan.total.params_active},
                            {"flops_per_token", plan.total.flops_per_token},
                            {"model_tree", tree.str()},
                            {"components", components_of(plan)},
                            {"data", data_of(data)},
                            {"eval_split", eval_split},
                            {"eval_set", {{"windows", eval_set.windows}, {"tokens", eval_set.target_tokens()},
                                          {"seq_len", T}, {"hash", eval_set.hash}}}};
  if (resumed) summary["resumed_from_step"] = state.step;
  if (!settings.cost_check.is_null()) summary["cost_check"] = settings.cost_check;
  write_file_atomic(settings.run_dir / "summary.json", summary.dump(2));

  // -------------------------------------------------------------------------------------------
  // the training loop
  reset_peak_memory(settings.device);
  const std::int64_t tokens_per_step = train.tokens_per_step(T);

  // What the weight files say about themselves (docs/checkpoints.md).
  const auto weights_metadata = [&](std::int64_t step, const Evaluation& eval) -> std::map<std::string, std::string> {
    return {{"format", "ablate-weights/1"},
            {"run_id", run.id},
            {"arm", run.arm},
            {"seed", std::to_string(run.seed)},
            {"step", std::to_string(step)},
            {"val_loss", fmt::format("{}", eval.loss)},
            {"val_accuracy", fmt::format("{}", eval.accuracy)},
            {"ablate_version", ablate_version()},
            {"config", run.config.dump()}};
  };
  // MoE: the mean over blocks of the fraction dropped by capacity at the last evaluation (the final
  // evaluation always runs, so a resumed run needs no checkpointed copy).
  nlohmann::json last_dropped_fraction = nullptr;
  const auto record = [&](std::int64_t step, double lr) {
    const auto eval_start = Clock::now();
    const Evaluation eval = evaluate(model, val_batches);  // .item() synchronises the device
    state.eval_seconds += seconds_since(eval_start);
    state.last_val_loss = eval.loss;
    state.last_val_accuracy = eval.accuracy;
    const double train_loss = state.recent_loss_count > 0
                                  ? state.recent_loss_sum / static_cast<double>(state.recent_loss_count)
                                  : std::nan("");
    nlohmann::json line = {{"step", step},
                           {"tokens", step * tokens_per_step},
                           {"seconds", state.train_seconds},
                           {"train_loss", std::isnan(train_loss) ? nlohmann::json(nullptr) : nlohmann::json(train_loss)},
                           {"val_loss", eval.loss},
                           {"val_accuracy", eval.accuracy},
                           {"val_perplexity", std::exp(eval.loss)},
                           {"lr", lr}};
    // Per MoE block, what each expert computed in the evaluation's last batch; the rest of the
    // (token, slot) assignments were dropped by a capacity (moe_dispatch.h).
    for (const auto& load : model->expert_loads()) {
      const auto cpu = load.to(torch::kCPU, torch::kDouble).contiguous();
      line["expert_load"].push_back(std::vector<double>(cpu.data_ptr<double>(), cpu.data_ptr<double>() + cpu.numel()));
      line["moe_dropped_fraction"].push_back(std::max(0.0, 1.0 - cpu.sum().item<double>()));
    }
    last_dropped_fraction = line.contains("moe_dropped_fraction")
                                      ? nlohmann::json(mean_of(line["moe_dropped_fraction"]))
                                      : nlohmann::json(nullptr);
    state.metrics_text += line.dump() + "\n";
    write_file_atomic(metrics_path, state.metrics_text);
    // The best weights so far, as a researcher would pick them (by validation loss).
    if (step > 0 && std::isfinite(eval.loss) && eval.loss < state.best_val_loss) {
      state.best_val_loss = eval.loss;
      save_weights(settings.run_dir / "best.safetensors", *model, weights_metadata(step, eval));
    }
    state.recent_loss_sum = 0.0;
    state.recent_loss_count = 0;
  };
  auto last_checkpoint = Clock::now();
  const auto save_checkpoint = [&] {
    store_checkpoint(checkpoint_dir, state.step, serialize_checkpoint(state, parts));
    last_checkpoint = Clock::now();
    if (settings.heartbeat) settings.heartbeat();
  };
  const auto checkpoint_due = [&] {
    return (settings.checkpoint_every > 0 && state.step % settings.checkpoint_every == 0) ||
           (settings.checkpoint_minutes > 0 && seconds_since(last_checkpoint) >= 60.0 * settings.checkpoint_minutes);
  };

  if (state.step == 0) record(0, scheduled_lr(0, steps, warmup_steps, peak_lr, train.min_lr_fraction));
  std::string status = "done";
  // What ends the run when it reaches train.steps: the budget those steps were derived from.
  std::string stopped_by = train.budget ? train.budget->kind : "steps";
  if (stopped_by == "seconds") stopped_by = "steps (the cap of a time budget)";
  // Time is taken at sync points only: train_seconds adds the wall time from the end of one sync
  // point's work (evaluation, checkpoint) to the next sync point, once the device has finished.
  // Between sync points the host runs ahead of the device (at most a few steps: the launch queue
  // is bounded), and a time budget's schedule and stop use the host's clock: the approximation is
  // that lag, and the train_seconds recorded at the end may pass the budget by as much.
  PendingLosses pending(grad_accum);
  BatchLoader loader(data.train,
                     {.seq_len = T,
                      .batch_size = batch_size,
                      .grad_accum = grad_accum,
                      .seed = static_cast<std::uint64_t>(run.seed) * 0x9E3779B97F4A7C15ULL + 1,
                      .pinned = settings.device.is_cuda()},
                     state.sampler_rng);
  TrainingStep step(StepParts{.model = model,
                              .adamw = adamw,
                              .muon = muon,
                              .device = settings.device,
                              .precision = settings.precision,
                              .grad_accum = grad_accum,
                              .batch_size = batch_size,
                              .seq_len = T,
                              .grad_clip = train.grad_clip,
                              .steps_before = state.step},
                    settings.cuda_graph,
                    [&](const std::string& warning) { print(fmt::format("[{}] warning: {}", settings.label, warning)); });
  auto interval_start = Clock::now();
  // This process's warm-up (a resumed run warms up again): its steps and seconds, not training time.
  const std::int64_t steps_at_start = state.step;
  std::int64_t warmup_steps_run = -1;
  double warmup_seconds = 0.0;
  const auto train_seconds_now = [&] { return state.train_seconds + seconds_since(interval_start); };
  while (state.step < steps) {
    const double lr = time_budget ? scheduled_lr_at(train_seconds_now() / *time_budget, train.warmup_fraction,
                                                    peak_lr, train.min_lr_fraction)
                                  : scheduled_lr(state.step, steps, warmup_steps, peak_lr, train.min_lr_fraction);
    LoadedStep loaded = loader.next();
    step.load(loaded.batches);
    state.sampler_rng = std::move(loaded.rng_after);  // a checkpoint continues after this step's draws
    pending.add(step.run(lr, train.optimizer.muon_lr * lr / peak_lr));  // Muon: the same schedule, scaled to its peak
    const std::int64_t done = ++state.step;
    if (warmup_steps_run < 0 && step.settled()) {
      // The warm-up ends here (first step; graph recording and its check): timed apart, so that
      // train time, throughput and MFU measure the steady steps only.
      synchronize(settings.device);
      warmup_seconds = seconds_since(interval_start);
      warmup_steps_run = done - steps_at_start;
      interval_start = Clock::now();
    }

    const bool out_of_time = time_budget && train_seconds_now() >= *time_budget;
    const bool finished = done == steps || out_of_time;
    const bool stop_requested = settings.stop_requested && settings.stop_requested(done);
    const bool checkpoint_now = checkpoint_due();
    // (and at least every kMaxUnreadSteps, so the losses held on the device stay few)
    if (done % train.log_every != 0 && done % train.eval_every != 0 && !finished && !stop_requested &&
        !checkpoint_now && pending.steps() < kMaxUnreadSteps)
      continue;  // no sync point: the next step is queued while the device still works on this one

    // -- a sync point: wait for the device, take the time, read the losses since the last one
    synchronize(settings.device);
    state.train_seconds += seconds_since(interval_start);
    const std::int64_t first_unread = done - pending.steps() + 1;
    const std::vector<double> losses = pending.read();
    for (std::size_t i = 0; i < losses.size(); ++i) {
      state.last_train_loss = losses[i];
      if (!std::isfinite(losses[i])) {
        status = "diverged";
        summary["error"] = fmt::format("training loss became {} at step {} (seen at step {}: the losses of steps {}-{} "
                                       "are read together)",
                                       losses[i], first_unread + static_cast<std::int64_t>(i), done, first_unread, done);
        break;
      }
      state.recent_loss_sum += losses[i];
      ++state.recent_loss_count;
    }
    if (status == "diverged") {
      print(fmt::format("[{}] {}", settings.label, summary["error"].get<std::string>()));
      break;
    }
    if (out_of_time) stopped_by = "seconds";
    if (done % train.log_every == 0 || finished) {
      const double tok_s = static_cast<double>(done * tokens_per_step) / std::max(1e-9, state.train_seconds);
      const double eta = state.train_seconds / static_cast<double>(done) * static_cast<double>(steps - done);
      const std::string sweep_left = settings.sweep_time_left ? settings.sweep_time_left(state.train_seconds, eta) : "";
      print(fmt::format("[{}] step {}/{} loss {:.4f} lr {:.2e} {:.0f} tok/s, {} left{}", settings.label, done, steps,
                        state.last_train_loss, lr, tok_s, format_duration(eta),
                        sweep_left.empty() ? "" : ", " + sweep_left));
      if (settings.heartbeat) settings.heartbeat();
    }
    if (done % train.eval_every == 0 || finished) {
      record(done, lr);
      print(fmt::format("[{}] eval at step {}: val loss {:.4f}, accuracy {:.2f}%", settings.label, done,
                        state.last_val_loss, 100.0 * state.last_val_accuracy));
    }
    if (finished) break;  // no checkpoint needed
    if (done % train.eval_every == 0 && settings.after_eval) {
      // Successive halving in a tune stage: the caller may stop a run that is far behind.
      if (const std::string reason = settings.after_eval(done, state.last_val_loss, state.last_val_accuracy);
          !reason.empty()) {
        status = "stopped";
        stopped_by = "halving";
        summary["stopped_reason"] = reason;
        print(fmt::format("[{}] stopped at step {}: {}", settings.label, done, reason));
        break;
      }
    }
    if (stop_requested) {
      status = "interrupted";
      save_checkpoint();
      print(fmt::format("[{}] interrupted at step {}/{}; checkpoint written", settings.label, done, steps));
      break;
    }
    if (checkpoint_now) save_checkpoint();  // every loss is read: the loop state is complete
    interval_start = Clock::now();
  }
  if (status != "interrupted") remove_checkpoints(checkpoint_dir);  // done or diverged: nothing to resume
  // The final weights of a run that ended normally (a diverged run's are not numbers; an
  // interrupted one continues from its checkpoint).
  if (run_finished(status)) {
    save_weights(settings.run_dir / "model.safetensors", *model,
                 weights_metadata(state.step, {state.last_val_loss, state.last_val_accuracy}));
    // The causality proof again, on the weights the run ends with: training can open what
    // initialisation kept shut (a gate that was zero), and such a run is no result.
    const auto check_start = Clock::now();
    std::lock_guard lock(default_generator_mutex());  // it reseeds the generators, then restores them
    const CausalityVerdict verdict =
        check_model_causality(*model, {.seq_len = T, .device = settings.device, .precision = settings.precision});
    summary["causality"] = verdict.to_json();
    summary["causality"]["seconds"] = seconds_since(check_start);
    if (!verdict.passed) {
      status = "failed";
      summary["error"] = "its final weights fail the causality proof, so it is not a result: " + verdict.describe();
    }
  }

  // -------------------------------------------------------------------------------------------
  // summary
  const std::int64_t tokens = state.step * tokens_per_step;
  summary["status"] = status;
  summary["steps"] = state.step;
  summary["stopped_by"] = status == "diverged"      ? "divergence"
                          : status == "interrupted" ? "interrupt"
                          : status == "failed"      ? "causality proof"
                                                    : stopped_by;
  summary["budget"] = train.budget ? train.budget->to_json() : nlohmann::json{{"kind", "steps"}, {"value", steps}};
  summary["tokens"] = tokens;
  summary["train_flops"] = train_flops(plan.total.flops_per_token, static_cast<double>(tokens));
  summary["train_seconds"] = state.train_seconds;
  summary["eval_seconds"] = state.eval_seconds;
  // Throughput and MFU over the steps that train_seconds timed (the warm-up's are timed apart).
  const std::int64_t timed_tokens = tokens - std::max<std::int64_t>(0, warmup_steps_run) * tokens_per_step;
  summary["warmup_steps"] = std::max<std::int64_t>(0, warmup_steps_run);
  summary["warmup_seconds"] = warmup_seconds;
  summary["tokens_per_second"] = static_cast<double>(timed_tokens) / std::max(1e-9, state.train_seconds);
  summary["peak_memory_bytes"] = peak_memory_bytes(settings.device);
  summary["cuda_graph"] = step.graph_status();
  summary["shared_device"] = settings.shared_device;
  summary.update(run_mfu_fields(settings.device, settings.precision,
                                train_flops(plan.total.flops_per_token, static_cast<double>(timed_tokens)),
                                state.train_seconds));
  // How busy the machine was: times and throughput of a run that shared its cores measure the
  // other processes too (the report flags such runs).
  if (double load[1]; getloadavg(load, 1) == 1) summary["load_average"] = load[0];
  summary["cpu_count"] = std::thread::hardware_concurrency();
  summary["train_loss"] =
      std::isfinite(state.last_train_loss) ? nlohmann::json(state.last_train_loss) : nlohmann::json(nullptr);
  summary["val_loss"] = state.last_val_loss;
  summary["val_accuracy"] = state.last_val_accuracy;
  summary["val_perplexity"] = std::exp(state.last_val_loss);
  if (!last_dropped_fraction.is_null()) summary["moe_dropped_fraction"] = last_dropped_fraction;
  write_file_atomic(settings.run_dir / "summary.json", summary.dump(2));
  return summary;
}

}  // namespace ablate
