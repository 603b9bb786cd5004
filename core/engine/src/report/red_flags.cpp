// The report's red flags (red_flags, report/internal.h): what a reviewer must see before any table.
// Each flag names the runs or arms it is about.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "ablate/engine/error.h"
#include "ablate/engine/tune.h"
#include "report/internal.h"

namespace ablate {
namespace report {

using nlohmann::json;

namespace {

// The first four items joined by ", ", and ", ..." when there are more: a flag names a few runs.
std::string first_few(const std::vector<std::string>& items) {
  const std::size_t shown = std::min<std::size_t>(items.size(), 4);
  return fmt::format("{}{}", fmt::join(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(shown), ", "),
                     items.size() > shown ? ", ..." : "");
}

// Arms that lost runs to divergence or failure: their statistics are over the survivors.
std::vector<std::string> lost_runs(const SweepRecord& sweep) {
  std::vector<std::string> flags;
  for (const auto& g : sweep.groups) {
    const std::size_t diverged = g.with_status("diverged"), failed = g.with_status("failed");
    const std::size_t ended = g.done.size() + diverged + failed;
    if (diverged > 0 && 2 * diverged > ended)
      flags.push_back(fmt::format("**Diverged on most seeds:** `{}` diverged on {} of its {} ended runs; its statistics "
                                  "describe the {} that survived, not the arm.",
                                  g.label, diverged, ended, g.done.size()));
    else if (diverged + failed > 0)
      flags.push_back(fmt::format("**Lost runs:** `{}` has {} diverged and {} failed of its {} ended runs: its numbers "
                                  "are over the {} survivors.",
                                  g.label, diverged, failed, ended, g.done.size()));
  }
  return flags;
}

// Runs compared on different evaluation tokens, and (without a budget) arms at one grid point
// that trained different amounts: the comparison is then not what its tables' headers say.
std::vector<std::string> unequal_comparisons(const SweepRecord& sweep) {
  std::vector<std::string> flags;
  std::map<std::string, std::vector<std::string>> arms_by_eval;  // "hash (N tokens)" → group labels
  std::map<std::string, std::map<std::string, std::set<std::string>>> amounts_by_point;  // grid → label → amounts
  for (const auto& g : sweep.groups) {
    for (const RunRecord* run : g.done) {
      const Amounts a = amounts_of(*run);
      if (!a.eval_hash.empty()) {
        auto& arms = arms_by_eval[fmt::format("{} tokens, hash {}", a.eval_tokens, a.eval_hash)];
        if (std::find(arms.begin(), arms.end(), g.label) == arms.end()) arms.push_back(g.label);
      }
      amounts_by_point[g.grid_point.dump()][g.label].insert(
          fmt::format("{} steps, {} tokens", a.steps ? fmt::format("{:.0f}", *a.steps) : "?",
                      a.tokens ? fmt::format("{:.0f}", *a.tokens) : "?"));
    }
  }
  if (arms_by_eval.size() > 1) {
    std::vector<std::string> sets;
    for (const auto& [set, arms] : arms_by_eval) sets.push_back(fmt::format("{} ({})", fmt::join(arms, ", "), set));
    flags.push_back(fmt::format(
        "**Different evaluation sets:** the runs were not scored on the same tokens: {}. Losses and accuracies of "
        "runs with different sets are not comparable; this happens when arms or grid points change `data.*`, "
        "`data.seq_len` or `train.eval_tokens` (unavoidable for a data or length ablation: compare such arms by "
        "their trends, not their numbers).",
        fmt::join(sets, "; ")));
  }
  if (sweep.budget.is_null()) {
    for (const auto& [point, by_label] : amounts_by_point) {
      std::set<std::string> distinct;
      for (const auto& [label, amounts] : by_label) distinct.insert(amounts.begin(), amounts.end());
      if (distinct.size() <= 1) continue;
      std::vector<std::string> parts;
      for (const auto& [label, amounts] : by_label)
        parts.push_back(fmt::format("`{}` {}", label, fmt::join(amounts, " or ")));
      flags.push_back(fmt::format(
          "**Unequal training without a budget:** {}. The comparison is not at equal steps or tokens: set `budget:` "
          "(steps, tokens, flops or seconds) to make it so, or read the fair comparisons at equal tokens.",
          fmt::join(parts, "; ")));
    }
  }
  return flags;
}

// An arm whose validation loss beats its baseline's by far more than the seeds' spread allows and
// far more than any other arm at its grid point does: the signature of a leak (a model that sees
// the future or other rows, an evaluation set that differs, data that overlaps) rather than of a
// better component. Thresholds: a gain over 0.1 nats, over 10 spreads (the larger of the two arms'
// standard deviations over seeds, at least 0.005 nats, 0.02 when an arm has a single run), and
// over 3 times the next-largest gain at the same grid point.
std::vector<std::string> suspicious_gains(const SweepRecord& sweep) {
  std::vector<std::string> flags;
  const auto gain_of = [](const Group& g) -> std::optional<double> {
    if (!g.baseline || g.done.empty() || g.baseline->done.empty()) return std::nullopt;
    return g.baseline->summary("val_loss").mean - g.summary("val_loss").mean;
  };
  for (const auto& g : sweep.groups) {
    const auto gain = gain_of(g);
    if (!gain || *gain <= 0.1) continue;
    const auto a = g.summary("val_loss"), b = g.baseline->summary("val_loss");
    const double spread = (a.sd && b.sd) ? std::max({*a.sd, *b.sd, 0.005}) : 0.02;
    double next = 0.0;
    for (const auto& other : sweep.groups)
      if (&other != &g && other.grid_point == g.grid_point)
        if (const auto other_gain = gain_of(other)) next = std::max(next, *other_gain);
    if (*gain <= 10.0 * spread || *gain <= 3.0 * next) continue;
    flags.push_back(fmt::format(
        "**Suspiciously large gain:** `{}` beats the baseline `{}` by {:.3f} nats of validation loss ({:.4f} against "
        "{:.4f}), {:.0f}× the seeds' spread ({:.4f}) and {} any other arm's gain. A component rarely buys that much: "
        "check what the model can see (the causality verdict under \"What each arm trained\"), whether the arms were "
        "evaluated on the same tokens, and the data split, before believing it.",
        g.label, g.baseline->label, *gain, a.mean, b.mean, *gain / spread, spread,
        next > 0 ? fmt::format("{:.1f}×", *gain / next) : std::string("far beyond")));
  }
  return flags;
}

}  // namespace

std::vector<std::string> red_flags(const SweepRecord& sweep) {
  std::vector<std::string> flags;
  // The signature of attention that sees the future: near-perfect next-token accuracy.
  for (const auto& run : sweep.runs) {
    if (!run.finished()) continue;
    const auto acc = run.number("val_accuracy");
    const auto loss = run.number("val_loss");
    std::optional<double> seq_len;
    if (run.config.is_object() && run.config.contains("data") && run.config["data"].contains("seq_len") &&
        run.config["data"]["seq_len"].is_number())
      seq_len = run.config["data"]["seq_len"].get<double>();
    if (acc && seq_len && *seq_len > 0) {
      const double threshold = 1.0 - 1.0 / *seq_len - 0.02;
      if (*acc >= threshold)
        flags.push_back(fmt::format("**Looks like non-causal attention:** run `{}` ({}, seed {}) has validation accuracy "
                                    "{:.4f} ≥ 1 − 1/T − 0.02 = {:.4f} (T = {}).",
                                    run.id, run.arm, run.seed, *acc, threshold, *seq_len));
    }
    if (loss && *loss < 0.1)
      flags.push_back(fmt::format("**Looks like non-causal attention:** run `{}` ({}, seed {}) has validation loss {:.4f} "
                                  "< 0.1 nats/token, implausibly low for language modelling.",
                                  run.id, run.arm, run.seed, *loss));
  }
  // Runs of an earlier version of the sweep, not pooled.
  if (sweep.left_out > 0)
    flags.push_back(fmt::format("**Runs left out:** {} run director(ies) under `runs/` are not runs of the sweep as last "
                                "expanded (an earlier version of the sweep file, run into the same directory): this "
                                "report leaves them out. `ablate report --merge` pools them, if their configurations "
                                "match their arms'.",
                                sweep.left_out));
  // Different evaluation tokens, or different amounts of training without a budget.
  for (const auto& flag : unequal_comparisons(sweep)) flags.push_back(flag);
  // Runs lost to divergence or failure: survivors only is not the arm.
  for (const auto& flag : lost_runs(sweep)) flags.push_back(flag);
  // A gain no component earns honestly: far beyond the seeds' spread and far beyond every other arm.
  for (const auto& flag : suspicious_gains(sweep)) flags.push_back(flag);
  // Components trained on their declared cost although the host measured otherwise.
  std::set<std::string> trust_seen;
  for (const auto& run : sweep.runs) {
    const auto checks = run.summary.is_object() ? run.summary.find("cost_check") : run.summary.end();
    if (!run.summary.is_object() || checks == run.summary.end() || !checks->is_array()) continue;
    for (const auto& c : *checks) {
      if (!c.value("accepted", false) || !trust_seen.insert(run.arm + "/" + c.dump()).second) continue;
      flags.push_back(fmt::format(
          "**Declared cost taken on trust:** arm `{}`'s {} ({} '{}') declares {:.4g} forward FLOPs per token and {} "
          "active parameters; ablate measured {:.4g} and {} (`trust.accept_declared_cost`). Its FLOPs, active "
          "parameters and MFU in this report are the plugin's word, not what it spent.",
          run.arm, c.value("part", std::string("?")), c.value("kind", std::string("?")),
          c.value("plugin", std::string("?")), c["declared"].value("flops_per_token", 0.0),
          c["declared"].value("params_active", std::int64_t{0}), c["measured"].value("flops_per_token", 0.0),
          c["measured"].value("params_active", std::int64_t{0})));
    }
  }
  // Train/validation overlap.
  std::set<std::string> overlap_seen;
  for (const auto& run : sweep.runs) {
    if (!run.summary.is_object() || !run.summary.contains("data")) continue;
    const auto& d = run.summary["data"];
    if (d.contains("overlap_documents") && d["overlap_documents"].is_number() &&
        d["overlap_documents"].get<double>() > 0 && overlap_seen.insert(d.dump()).second)
      flags.push_back(fmt::format("**Training and validation overlap:** {} document(s) appear in both splits "
                                  "(first seen in run `{}`); validation numbers are optimistic.",
                                  d["overlap_documents"].dump(), run.id));
  }
  // Two arms that built the same model.
  for (std::size_t i = 0; i < sweep.groups.size(); ++i) {
    for (std::size_t k = i + 1; k < sweep.groups.size(); ++k) {
      const auto &a = sweep.groups[i], &b = sweep.groups[k];
      if (a.arm == b.arm || a.grid_point != b.grid_point) continue;
      const RunRecord* ra = nullptr;
      const RunRecord* rb = nullptr;
      for (const auto* r : a.runs) if (r->summary.is_object() && r->summary.contains("model_tree")) { ra = r; break; }
      for (const auto* r : b.runs) if (r->summary.is_object() && r->summary.contains("model_tree")) { rb = r; break; }
      if (!ra || !rb || ra->summary["model_tree"] != rb->summary["model_tree"]) continue;
      const bool configs_differ = ra->config.is_object() && rb->config.is_object() && ra->config.contains("model") &&
                                  rb->config.contains("model") && ra->config["model"] != rb->config["model"];
      flags.push_back(fmt::format(
          "**Identical models:** arms `{}` and `{}` built the same `model_tree`{}.", a.label, b.label,
          configs_differ ? " although their model configurations differ — the override did not change the model"
                         : " (expected only if they differ in training or data settings)"));
    }
  }
  // Failed and diverged runs.
  for (const auto& run : sweep.runs)
    if (run.status == "failed" || run.status == "diverged")
      flags.push_back(fmt::format("**Run {}:** `{}` ({}, seed {}{}): {}. Excluded from the statistics.", run.status,
                                  run.id, run.arm, run.seed,
                                  grid_label(run.grid_point).empty() ? "" : ", " + grid_label(run.grid_point),
                                  run.error.empty() ? "no error recorded" : md_escape(run.error)));
  // Too few seeds.
  for (const auto& g : sweep.groups)
    if (g.done.size() < 3)
      flags.push_back(fmt::format("**Too few seeds:** `{}` has {} finished run(s) of {}; at least 3 seeds per arm are "
                                  "needed for a confidence interval worth reading{}.",
                                  g.label, g.done.size(), g.runs.size(),
                                  g.done.size() < 2 ? ", and tests against it are not defined" : ""));
  // Runs timed on a busy machine: their seconds include waiting for other processes. The load
  // average counts the run's own threads too (a CPU run with one thread per core ends near the core
  // count, a little above it), so only a load beyond the cores by a margin (half a core, or a tenth
  // of the cores on a large machine) means more runnable threads than cores: oversubscription.
  std::vector<std::string> busy;
  for (const auto& run : sweep.runs) {
    const auto load = run.number("load_average"), cpus = run.number("cpu_count");
    if (run.finished() && load && cpus && *cpus > 0 && *load > *cpus + std::max(0.5, 0.1 * *cpus))
      busy.push_back(fmt::format("`{}` ({:.1f} on {:.0f} cores)", run.id, *load, *cpus));
  }
  if (!busy.empty())
    flags.push_back(fmt::format("**Busy machine:** {} run(s) ended with a 1-minute load average beyond the machine's "
                                "core count: {}. Their times, throughput and the equal-time and time-to-target "
                                "comparisons include waiting for other processes; compare their losses, not their "
                                "times.",
                                busy.size(), first_few(busy)));
  // Runs trained side by side on one device (--runs-per-device > 1): each one's time includes the other's.
  std::vector<std::string> shared;
  for (const auto& run : sweep.runs)
    if (run.finished() && run.summary.is_object() && run.summary.value("shared_device", false))
      shared.push_back(fmt::format("`{}`", run.id));
  if (!shared.empty())
    flags.push_back(fmt::format("**Shared devices:** {} run(s) trained side by side with another run on the same "
                                "device (`--runs-per-device`): {}. Their train times, throughput, MFU and the "
                                "equal-time and time-to-target comparisons measure the sharing; compare their losses, "
                                "not their times, or train them one per device.",
                                shared.size(), first_few(shared)));
  // A tuned value at the edge of its grid: the arm's best value may lie outside what was tried.
  if (sweep.tuning.is_object())
    if (const auto edges = tune_choices_at_grid_edge(sweep.tuning); !edges.empty())
      flags.push_back(fmt::format("**Tuned at the edge of the grid:** {}. The best value may lie beyond the values "
                                  "tried, so these arms may be compared at an untuned point: widen `tune.axes` past "
                                  "them and run again (the runs already done are kept).",
                                  fmt::join(edges, "; ")));
  // Seeds on demand whose design changed between runs of this sweep directory: stopping at a
  // boundary keeps its α only when the boundaries were fixed before any result was seen.
  if (sweep.seed_rounds.is_object())
    if (const auto earlier = sweep.seed_rounds.value("earlier_designs", nlohmann::json::array()); !earlier.empty()) {
      const auto text = [](const nlohmann::json& d) {
        return fmt::format("start {}, max {}, step {}, α {:g} ({}), test {}, ci_halfwidth {}", d.value("start", 0),
                           d.value("max", 0), d.value("step", 1), d.value("sweep_alpha", d.value("alpha", 0.0)),
                           d.value("correction", std::string("?")), d.value("test", std::string("?")),
                           d.contains("ci_halfwidth") ? d["ci_halfwidth"].dump() : "null");
      };
      std::vector<std::string> designs;
      for (const auto& d : earlier) designs.push_back(text(d));
      flags.push_back(fmt::format(
          "**Seeds-on-demand design changed:** earlier runs of this sweep directory used {}; this one {}. The rule "
          "keeps its error rate only for a design fixed before any result was seen: a design chosen after a look at "
          "the results (a larger `max`, another α) is peeking, so the seeds-on-demand verdicts below are not protected "
          "by it.",
          fmt::join(designs, "; then "), text(sweep.seed_rounds.value("design", nlohmann::json::object()))));
    }
  // Pending, running, or interrupted (stopped with a checkpoint, resumed by the next `ablate run`).
  std::size_t pending = 0;
  for (const auto& run : sweep.runs)
    pending += (run.status == "pending" || run.status == "running" || run.status == "interrupted") ? 1 : 0;
  if (pending > 0)
    flags.push_back(fmt::format("**Incomplete sweep:** {} of {} runs are pending, running or interrupted; this report "
                                "covers the finished ones.", pending, sweep.runs.size()));
  return flags;
}


/// Distinct string values of a summary.json key over all runs, or "not recorded".

}  // namespace report
}  // namespace ablate
