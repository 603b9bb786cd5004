// `ablate eval RUN_DIR [--data CORPUS] [--weights final|best] [--tokens N] [--device D] [--json]`:
// the loss, accuracy and perplexity of a finished run's saved weights, on its own evaluation
// windows (reproducing summary.json) or on another corpus tokenized with the run's tokenizer.
#include <cmath>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_checks.h"
#include "commands.h"
#include "trained_run_args.h"

namespace ablate::app {
namespace {

struct EvalArgs {
  TrainedRunArgs run;
  std::string data;
  std::string field = "text";
  std::int64_t tokens = -1;
  bool json = false;
};

/// `--data` as a `data.corpus` value: kjv, {jsonl: PATH, field}, {tokens: PATH-OR-GLOB}, else
/// {text: PATH}; null for an empty string (the run's own evaluation windows).
nlohmann::json corpus_argument(const std::string& data, const std::string& jsonl_field) {
  if (data.empty()) return nullptr;
  if (data == "kjv") return "kjv";
  const std::string path = std::filesystem::absolute(data).string();
  const auto ends_with = [&](std::string_view suffix) { return data.ends_with(suffix); };
  if (ends_with(".jsonl") || ends_with(".jsonl.gz")) return {{"jsonl", path}, {"field", jsonl_field}};
  if (ends_with(".bin") || data.find_first_of("*?[") != std::string::npos) return {{"tokens", path}, {"format", "auto"}};
  return {{"text", path}};
}

void run_eval(const EvalArgs& args, const GlobalOptions& global) {
  TrainedRun run = load_trained_run(args.run, *load_plugins(global));
  const EvalResult r = evaluate_trained_run(run, {.corpus = corpus_argument(args.data, args.field), .tokens = args.tokens});
  const double perplexity = std::exp(r.loss);
  const nlohmann::json out = {{"run_dir", args.run.run_dir.string()},
                              {"run_id", run.weights_metadata["run_id"]},
                              {"weights", args.run.weights},
                              {"weights_step", std::stoll(run.weights_metadata.at("step"))},
                              {"data", r.source},
                              {"tokens", r.tokens},
                              {"loss", r.loss},
                              {"accuracy", r.accuracy},
                              {"perplexity", perplexity}};
  if (args.json) {
    std::cout << out.dump(2) << std::endl;
    return;
  }
  std::cout << fmt::format("{} weights of run {} (step {}) on {}: {} tokens\nloss {:.4f}  accuracy {:.2f}%  perplexity {:.2f}\n",
                           args.run.weights, out["run_id"].get<std::string>(), out["weights_step"].get<std::int64_t>(),
                           r.source, r.tokens, r.loss, 100.0 * r.accuracy, perplexity);
}

}  // namespace

void setup_eval(CLI::App& app, const GlobalOptions& global) {
  auto args = std::make_shared<EvalArgs>();
  auto* cmd = app.add_subcommand("eval", "evaluate a finished run's saved weights on its own or another corpus");
  add_trained_run_options(cmd, args->run);
  cmd->add_option("--data", args->data,
                  "another corpus: kjv, a .txt file or directory, a .jsonl(.gz) file, or .bin token files (a glob)");
  cmd->add_option("--field", args->field, "the JSONL field holding the text")->capture_default_str();
  cmd->add_option("--tokens", args->tokens,
                  "tokens to score, in whole windows of seq_len (default: the run's eval_tokens; 0: all)")
      ->check(at_least(0));
  cmd->add_flag("--json", args->json, "print one JSON object");
  cmd->callback([args, &global] { run_eval(*args, global); });
}

}  // namespace ablate::app
