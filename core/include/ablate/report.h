// Sweep directory → report.md, results.csv and plots. Reads only files, never trains, so
// `ablate report DIR` can rebuild a report at any time.
//
// A sweep directory `OUT/<sweep name>/` holds:
//   sweep.json                 {"name", "file", "baseline", "arms": [names in order],
//                               "runs": [{"id", "arm", "seed", "grid_point": {path: value}}]}
//   runs/<id>/config.yaml      the resolved configuration (config.json: the same as JSON)
//   runs/<id>/metrics.jsonl    one JSON object per evaluation:
//                              {"step", "tokens", "seconds", "train_loss", "val_loss", "val_accuracy",
//                               "val_perplexity", "lr"}
//   runs/<id>/summary.json     {"id", "arm", "seed", "status" (done|failed|diverged|running),
//                               "error" (when failed), "val_loss", "val_accuracy", "val_perplexity",
//                               "train_loss", "params_total", "params_active", "flops_per_token",
//                               "train_seconds", "tokens", "tokens_per_second", "peak_memory_bytes",
//                               "steps", "device", "model_tree" (the built module, printed),
//                               "components": [{"part", "plugin", "options", "params_total",
//                                               "params_active", "flops_per_token"}],
//                               "data": {"corpus", "tokenizer", "split_rule", "vocab_size",
//                                        "train_documents", "train_tokens", "val_documents",
//                                        "val_tokens", "overlap_documents"}}
//
// The report has one row per run and one per arm (mean ± standard deviation over seeds), and a
// plot of validation loss against training time (mean per arm, min–max band over seeds) drawn by
// gnuplot: report_loss_vs_time.png embedded, report_loss_vs_time.svg beside it.
#pragma once

#include <filesystem>

namespace ablate {

/// Writes report.md, results.csv and the plots into `sweep_dir`; returns the report's path.
/// Throws ablate::Error when sweep.json is missing. Runs that have no summary are listed as pending.
std::filesystem::path write_report(const std::filesystem::path& sweep_dir);

}  // namespace ablate
