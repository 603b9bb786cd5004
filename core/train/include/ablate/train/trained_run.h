// A finished run loaded back from its directory, for `ablate eval` and `ablate sample`: its
// resolved config (config.json), its data and tokenizer (from the cache, prepared again if the
// cache was cleared), and its model with the saved weights (model.safetensors or
// best.safetensors, docs/checkpoints.md).
//
//   TrainedRun run = load_trained_run(run_dir, registry, {.weights = "best"});
//   Evaluation e = evaluate_trained_run(run, {});                 // its own validation windows
//   Generated g = generate(run, prompt_ids, {.max_tokens = 100});               // g.ids, g.logprobs
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "ablate/engine/data.h"
#include "ablate/engine/plugin_registry.h"

namespace ablate {

struct LoadRunOptions {
  std::string weights = "final";         // "final" (model.safetensors) or "best" (best.safetensors)
  c10::Device device{c10::kCPU};
  std::filesystem::path cache_dir;       // empty: default_cache_dir()
  ProgressFn progress;                   // data preparation lines; may be empty
};

/// The run's model (a Transformer with its saved weights), opaque here so that the commands that
/// load runs (`ablate eval`, `ablate sample`) compile without LibTorch's module headers.
struct TrainedModel;

struct TrainedRun {
  std::filesystem::path dir;
  nlohmann::json config;                     // config.json
  std::map<std::string, std::string> weights_metadata;  // of the weights file loaded
  PreparedData data;                         // the run's own data and tokenizer
  std::filesystem::path cache_dir;           // where `data` came from; another corpus goes there too
  std::shared_ptr<TrainedModel> model;       // in eval mode, on the requested device
  c10::Device device{c10::kCPU};
};

/// Throws ablate::Error when the directory is not a run directory, the run has no weights of that
/// kind (not finished, or trained before weights were saved), or the weights do not fit.
TrainedRun load_trained_run(const std::filesystem::path& run_dir, const PluginRegistry& registry,
                            const LoadRunOptions& options);

struct EvalOptions {
  /// Another corpus (a `data.corpus` value: "kjv", {text: PATH}, ...) tokenized with the run's
  /// tokenizer; null: the run's own evaluation windows (the same as training's last evaluation).
  nlohmann::json corpus;
  std::int64_t tokens = -1;  // scored tokens (whole windows of seq_len); -1: the run's eval_tokens; 0: all
};

struct EvalResult {
  double loss = 0.0, accuracy = 0.0;
  std::int64_t tokens = 0;
  std::string source;  // what was evaluated, in words
};

EvalResult evaluate_trained_run(TrainedRun& run, const EvalOptions& options);

struct SampleOptions {
  std::int64_t max_tokens = 100;
  double temperature = 0.0;  // 0: greedy (argmax)
  std::int64_t top_k = 0;    // 0: the whole vocabulary
  std::uint64_t seed = 0;
  bool stop_at_eot = true;   // stop after generating the end-of-text token
};

struct Generated {
  std::vector<std::uint32_t> ids;  // the generated tokens only
  std::vector<double> logprobs;    // the model's log-probability of each (before temperature)
};

/// Continues `prompt` (token ids; at least one) autoregressively, the context cut to the model's
/// seq_len.
Generated generate(TrainedRun& run, const std::vector<std::uint32_t>& prompt, const SampleOptions& options);

}  // namespace ablate
