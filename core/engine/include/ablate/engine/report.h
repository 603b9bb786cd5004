// Sweep directory → report.md, results.csv and plots. Reads only files, never trains, so
// `ablate report DIR` can rebuild a report at any time.
//
// A sweep directory `OUT/<sweep name>/` holds:
//   sweep.json                 {"name", "file", "baseline", "arms": [names in order],
//                               "report": {"target_loss" (optional)}, "started" (UTC, ISO 8601),
//                               "ablate_version", "ablate_git_commit",
//                               "seeds_on_demand" (true with `seeds: {start, max, ...}`),
//                               "runs": [{"id", "arm", "seed", "grid_point": {path: value}}]}
//                              (with seeds on demand: the runs its rounds have asked for so far)
//   seed_rounds.json           seeds on demand only: the rounds and decisions (seed_rounds.h's
//                              SeedRounds::to_json, plus "calibration" and "earlier_designs": the
//                              designs of earlier runs that differ), as the runner last wrote them
//   sweep.yaml                 the sweep file as given to the last `ablate run`
//   runs/<id>/config.yaml      the resolved configuration (config.json: the same as JSON)
//   runs/<id>/metrics.jsonl    one JSON object per evaluation:
//                              {"step", "tokens", "seconds", "train_loss", "val_loss", "val_accuracy",
//                               "val_perplexity", "lr", "expert_load" (MoE only: [[fraction of
//                               assignments per expert] per MoE layer])}
//   runs/<id>/summary.json     {"id", "arm", "seed", "status" (done|failed|diverged|running),
//                               "error" (when failed), "val_loss", "val_accuracy", "val_perplexity",
//                               "train_loss", "params_total", "params_active", "flops_per_token",
//                               "train_seconds", "eval_seconds", "tokens", "tokens_per_second",
//                               "peak_memory_bytes", "steps", "device", "ablate_version",
//                               "precision", "peak_flops_per_second", "mfu" (peak_flops.h; null
//                               with "mfu_reason" where no peak is known),
//                               "ablate_git_commit", "torch_version" (the last three optional),
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
// expert load, one row per run, the data and the audit. The per-arm cost table has an MFU column
// when at least one finished run has an MFU. Plots are drawn by gnuplot, each as
// report_<name>.png (embedded) and report_<name>.svg beside it: loss against time and tokens,
// final loss, throughput, memory, and per-expert load of each MoE arm.
//
// Written beside report.md: results.csv (one row per run) and results.json, every number of the
// report unrounded: {"name", "baseline", "arms", "provenance", "target_loss",
//   "groups": [{"arm", "label", "grid_point", "baseline", "runs", "runs_done", "model": {params and
//               FLOPs}, "metrics": {key: {"n", "mean", "min", "max", "sd", "ci95": [lo, hi]}}}],
//   "val_loss_comparisons" / "val_accuracy_comparisons": [{"arm", "baseline", "arm_summary",
//               "baseline_summary", "welch": {"difference", "difference_ci95", "se", "t", "df", "p",
//               "holm_p"}, "effect": {"pooled_sd", "cohens_d", "hedges_j", "hedges_g", "hedges_g_ci95"},
//               "paired": {by seed: "seeds", "n", "mean_difference", "difference_ci95", "t", "df", "p",
//               "holm_p", "sign_flip_p", "sign_flip_floor", "correlation", ...} or null}],
//   "fair_comparisons": [{"grid_point", "target_loss", "target_from", "equal_tokens", "equal_seconds",
//               "arms": [{"arm", "runs", "seconds_to_target", "tokens_to_target",
//                         "val_loss_at_equal_tokens", "val_loss_at_equal_time"}]}],
//   "runs": [{"id", "arm", "seed", "grid_point", "status", "error", numbers of summary.json}],
//   "seeds_on_demand": seed_rounds.json as read, or null,
//   "warnings"}. A statistic that is not defined is null, with "<name>_reason" saying why.
#pragma once

#include <filesystem>

namespace ablate {

struct ReportOptions {
  /// Pool run directories that sweep.json does not list (runs of an earlier version of the sweep,
  /// or of another sweep merged in) with the runs of their arms. Off: they are counted, not used.
  bool merge = false;
};

/// Writes report.md, results.csv and the plots into `sweep_dir`; returns the report's path.
/// Throws ablate::Error when sweep.json is missing, or when an arm holds runs whose configurations
/// differ in more than their seed. Runs that have no summary are listed as pending.
std::filesystem::path write_report(const std::filesystem::path& sweep_dir, const ReportOptions& options = {});

}  // namespace ablate
