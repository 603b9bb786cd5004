// Sweep directory → report.md, results.csv and plots. Reads only files, never trains, so
// `ablate report DIR` can rebuild a report at any time.
//
// A sweep directory `OUT/<sweep name>/` holds:
//   sweep.json                 {"name", "file", "baseline", "arms": [names in order],
//                               "runs": [{"id", "arm", "seed", "grid_point": {path: value}}]}
//   runs/<id>/config.yaml      the resolved configuration (config.json: the same as JSON)
//   runs/<id>/metrics.jsonl    one JSON object per evaluation:
//                              {"step", "tokens", "seconds", "train_loss", "val_loss", "val_accuracy",
//                               "val_perplexity", "lr", "expert_load" (MoE only: [[fraction of
//                               assignments per expert] per MoE layer])}
//   runs/<id>/summary.json     {"id", "arm", "seed", "status" (done|failed|diverged|running),
//                               "error" (when failed), "val_loss", "val_accuracy", "val_perplexity",
//                               "train_loss", "params_total", "params_active", "flops_per_token",
//                               "train_seconds", "tokens", "tokens_per_second", "peak_memory_bytes",
//                               "steps", "device", "ablate_version", "torch_version" (both optional),
//                               "model_tree" (the built module, printed),
//                               "components": [{"part", "plugin", "options", "params_total",
//                                               "params_active", "flops_per_token"}],
//                               "data": {"corpus", "tokenizer", "split_rule", "vocab_size",
//                                        "train_documents", "train_tokens", "val_documents",
//                                        "val_tokens", "overlap_documents"}}
//
// The report starts with a provenance line (ablate version, devices, LibTorch version, as the
// summaries record them) and red flags; then one row per arm (mean ± standard deviation over seeds),
// Welch comparisons with the baseline on validation loss and on validation accuracy, fair
// comparisons (time and tokens to a target loss, loss at equal tokens and equal wall time), MoE
// expert load, one row per run, the data and the audit. Plots are drawn by gnuplot, each as
// report_<name>.png (embedded) and report_<name>.svg beside it: loss against time and tokens,
// final loss, throughput, memory, and per-expert load of each MoE arm.
#pragma once

#include <filesystem>

namespace ablate {

/// Writes report.md, results.csv and the plots into `sweep_dir`; returns the report's path.
/// Throws ablate::Error when sweep.json is missing. Runs that have no summary are listed as pending.
std::filesystem::path write_report(const std::filesystem::path& sweep_dir);

}  // namespace ablate
