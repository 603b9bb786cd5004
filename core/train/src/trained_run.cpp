// Loading a finished run back, evaluating it and sampling from it (trained_run.h).
#include "ablate/train/trained_run.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include <ATen/ops/from_blob.h>
#include <fmt/format.h>
#include <torch/utils.h>

#include "ablate/engine/error.h"
#include "ablate/engine/json_file.h"
#include "ablate/engine/run_config.h"
#include "ablate/train/model.h"
#include "ablate/train/safetensors_weights.h"
#include "evaluation.h"

namespace ablate {

struct TrainedModel {
  Transformer net;
};

TrainedRun load_trained_run(const std::filesystem::path& run_dir, const PluginRegistry& registry,
                            const LoadRunOptions& options) {
  if (options.weights != "final" && options.weights != "best")
    throw Error(fmt::format("unknown weights '{}'", options.weights), "use final or best");
  const auto config = read_json_file(run_dir / "config.json");
  if (!config.is_object())
    throw Error(fmt::format("{} is not a run directory (no readable config.json)", run_dir.string()),
                "give a directory OUT/<sweep>/runs/<run id>/ written by `ablate run`");
  const auto weights_file = run_dir / (options.weights == "final" ? "model.safetensors" : "best.safetensors");
  if (!std::filesystem::exists(weights_file)) {
    const auto summary = read_json_file(run_dir / "summary.json");
    throw Error(fmt::format("{} has no {} (run status: {})", run_dir.string(), weights_file.filename().string(),
                            summary.is_object() ? summary.value("status", "unknown") : "not started"),
                "weights are written when a run finishes (final) or improves its validation loss (best)");
  }
  TrainedRun run;
  run.dir = run_dir;
  run.config = config;
  run.device = options.device;
  run.cache_dir = options.cache_dir.empty() ? default_cache_dir() : options.cache_dir;
  run.data = prepare_data(decode_data_config(config).section, run.cache_dir, options.progress);
  const ModelPlan plan = plan_model(config, run.data.vocab_size, registry);
  run.model = std::make_shared<TrainedModel>(TrainedModel{Transformer(plan, registry)});
  run.weights_metadata = load_weights(weights_file, *run.model->net);
  run.model->net->to(options.device);
  run.model->net->eval();
  return run;
}

namespace {

/// `data` for evaluating another corpus with the run's own tokenizer: a trained BPE becomes the
/// SentencePiece model it was saved as, so nothing is trained on the new corpus.
nlohmann::json data_config_for(const TrainedRun& run, const nlohmann::json& corpus) {
  nlohmann::json data = decode_data_config(run.config).section;
  data["corpus"] = corpus;
  if (run.data.tokenizer_kind == "bpe")
    data["tokenizer"] = {{"kind", "sentencepiece"}, {"model", run.data.tokenizer_model.string()}};
  return data;
}

}  // namespace

EvalResult evaluate_trained_run(TrainedRun& run, const EvalOptions& options) {
  const TrainConfig train = decode_train_config(run.config);
  const std::int64_t T = decode_data_config(run.config).seq_len;
  const std::int64_t batch_size = train.batch_size;
  const std::int64_t tokens = options.tokens >= 0 ? options.tokens : train.eval_tokens;
  if (options.corpus.is_null()) {
    // Exactly the windows the trainer evaluated on, so the result reproduces summary.json's.
    const std::string& split = train.eval_split;
    const auto set = evaluation_set(run.data.val, evaluation_range(run.data, split), T, tokens);
    const auto windows = evaluation_batches(run.data.val, set, batch_size, run.device);
    const Evaluation e = evaluate(run.model->net, windows);
    return {e.loss, e.accuracy, e.tokens, fmt::format("the run's own {} split ({})", split, run.data.corpus_description)};
  }
  // Another corpus: its windows (training split first, then validation), up to `tokens` scored tokens.
  const PreparedData other = prepare_data(data_config_for(run, options.corpus), run.cache_dir);
  std::vector<Batch> windows;
  std::int64_t left = tokens;  // 0: every window
  for (const TokenStream* stream : {&other.train, &other.val}) {
    if (stream->size() < static_cast<std::size_t>(T) + 1) continue;
    if (tokens > 0 && left < T) break;
    const auto set = evaluation_set(*stream, {0, stream->size()}, T, tokens > 0 ? left : 0);
    left -= set.target_tokens();
    auto more = evaluation_batches(*stream, set, batch_size, run.device);
    windows.insert(windows.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  if (windows.empty())
    throw Error(fmt::format("{} holds fewer than seq_len + 1 = {} tokens", other.corpus_description, T + 1));
  const Evaluation e = evaluate(run.model->net, windows);
  return {e.loss, e.accuracy, e.tokens, other.corpus_description};
}

Generated generate(TrainedRun& run, const std::vector<std::uint32_t>& prompt, const SampleOptions& options) {
  if (prompt.empty()) throw Error("the prompt has no tokens", "give a non-empty --prompt");
  const auto T = static_cast<std::size_t>(decode_data_config(run.config).seq_len);
  std::mt19937_64 rng(options.seed);
  std::vector<std::int64_t> context(prompt.begin(), prompt.end());
  Generated generated;
  torch::NoGradGuard no_grad;
  run.model->net->eval();
  for (std::int64_t i = 0; i < options.max_tokens; ++i) {
    const std::size_t start = context.size() > T ? context.size() - T : 0;
    const auto n = static_cast<std::int64_t>(context.size() - start);
    const at::Tensor input = at::from_blob(context.data() + start, {1, n}, at::kLong).to(run.device);
    // Logits of the last position, over the tokenizer's vocabulary (model.vocab_size may be larger).
    at::Tensor logits = run.model->net->forward(input)[0][n - 1].slice(0, 0, run.data.vocab_size);
    logits = logits.to(at::kCPU, at::kDouble).contiguous();
    const double* l = logits.data_ptr<double>();
    const auto V = static_cast<std::size_t>(logits.numel());
    std::size_t next = 0;
    if (options.temperature <= 0.0) {
      next = static_cast<std::size_t>(std::max_element(l, l + V) - l);
    } else {
      std::vector<std::size_t> order(V);
      std::iota(order.begin(), order.end(), std::size_t{0});
      const std::size_t k = options.top_k > 0 ? std::min<std::size_t>(V, options.top_k) : V;
      std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                        [&](std::size_t a, std::size_t b) { return l[a] > l[b]; });
      std::vector<double> weights(k);
      for (std::size_t j = 0; j < k; ++j) weights[j] = std::exp((l[order[j]] - l[order[0]]) / options.temperature);
      next = order[std::discrete_distribution<std::size_t>(weights.begin(), weights.end())(rng)];
    }
    // log softmax at `next`, in double: l[next] − max − log Σ exp(l − max)
    const double max = *std::max_element(l, l + V);
    double sum = 0.0;
    for (std::size_t j = 0; j < V; ++j) sum += std::exp(l[j] - max);
    generated.ids.push_back(static_cast<std::uint32_t>(next));
    generated.logprobs.push_back(l[next] - max - std::log(sum));
    context.push_back(static_cast<std::int64_t>(next));
    if (options.stop_at_eot && next == run.data.eot_token) break;
  }
  return generated;
}

}  // namespace ablate
