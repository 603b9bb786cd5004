// The report's descriptive sections: MoE expert load at the end of training, the data each group
// trained and was scored on, and the audit of what each arm really built. Formatting only; every
// number comes from SweepRecord (load.cpp).
#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "report/internal.h"

namespace ablate::report {

using nlohmann::json;

// -------------------------------------------------------------------------------------------
// mixture of experts: routing balance at the end of training

std::string expert_load_table(const SweepRecord& sweep) {
  std::ostringstream rows;
  for (const auto& g : sweep.groups) {
    std::vector<double> ratios;  // per finished run: mean over MoE layers of max/min load
    std::size_t layers = 0, experts = 0, starved = 0;
    double worst = 0.0;
    for (const auto* run : g.done) {
      // The last evaluation that recorded expert loads.
      auto it = std::find_if(run->curve.rbegin(), run->curve.rend(), [](const EvalPoint& p) { return !p.expert_load.empty(); });
      if (it == run->curve.rend()) continue;
      double sum = 0.0;
      bool finite = true;
      for (const auto& layer : it->expert_load) {
        const auto [lo, hi] = std::minmax_element(layer.begin(), layer.end());
        if (!(*lo > 0.0)) { finite = false; continue; }
        sum += *hi / *lo;
        worst = std::max(worst, *hi / *lo);
        experts = std::max(experts, layer.size());
      }
      layers = std::max(layers, it->expert_load.size());
      if (!finite) { ++starved; continue; }
      ratios.push_back(sum / static_cast<double>(it->expert_load.size()));
    }
    if (ratios.empty() && starved == 0) continue;
    const auto s = stats::summarize(ratios);
    const auto dropped = g.summary("moe_dropped_fraction");
    rows << fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", md_escape(g.label), ratios.size() + starved, layers,
                        experts == 0 ? std::string("—") : std::to_string(experts),
                        s.n == 0 ? std::string("—") : mean_sd(s, 2) + fmt::format(" (n = {})", s.n),
                        dropped.n == 0 ? std::string("—") : fmt::format("{:.2f} %", 100.0 * dropped.mean),
                        starved > 0 ? fmt::format("{} run(s) with an expert that received no tokens (ratio ∞)", starved)
                                    : fmt::format("worst layer {:.2f}", worst));
  }
  const std::string body = rows.str();
  if (body.empty()) return {};
  std::ostringstream md;
  md << "## Mixture of experts: expert load\n\n";
  md << "Load = fraction of routing assignments each expert received at an evaluation (from `expert_load` in "
        "metrics.jsonl). The ratio is max/min load over the experts of one MoE layer at the last evaluation, "
        "averaged over the MoE layers of a run, then mean ± sd over seeds: 1 is perfectly balanced; a large ratio "
        "means some experts are starved (the model uses fewer experts than it has). The per-expert curves are in "
        "the plots. Loads count what the experts computed: assignments dropped by a capacity (`dispatch: "
        "capacity`) count for none, and \"Dropped\" is their share at the last evaluation (summary.json's "
        "`moe_dropped_fraction`, mean over layers and seeds; 0 under sorted dispatch).\n\n";
  md << "| Arm | Runs | MoE layers | Experts per layer | Final max/min load ratio | Dropped | Note |\n";
  md << "|---|---:|---:|---:|---:|---:|---|\n";
  md << body << "\n";
  return md.str();
}

// -------------------------------------------------------------------------------------------
// data

// Validation documents with a near-verbatim twin in training (summary.json's data.near_duplicates).
static std::string near_duplicates_text(const json& d) {
  const auto it = d.find("near_duplicates");
  if (it == d.end() || !it->is_object()) return "not checked";
  const json& n = *it;
  const auto count = n.value("documents", std::int64_t{0});
  std::vector<std::string> examples;
  for (const auto& e : n.value("examples", json::array()))
    examples.push_back(fmt::format("{} ~ {} ({:.2f})", md_escape(e.value("val_document", std::string("?"))),
                                   md_escape(e.value("train_document", std::string("?"))), e.value("jaccard", 0.0)));
  std::string text = fmt::format("{} validation document(s) with a near-twin in training", count);
  if (!examples.empty()) text += ": " + fmt::format("{}", fmt::join(examples, ", "));
  if (count > 0) text += n.value("dropped", false) ? "; **left out of validation** (`data.drop_near_duplicates`)"
                                                   : "; still in validation (`data.drop_near_duplicates: true` leaves "
                                                     "them out)";
  return text + fmt::format(" — rule: {}", md_escape(n.value("rule", std::string("?"))));
}

std::string data_section(const SweepRecord& sweep) {
  std::ostringstream md;
  md << "## Data\n\n";
  std::vector<std::pair<json, std::vector<std::string>>> distinct;  // data block → arms using it
  for (const auto& g : sweep.groups) {
    const RunRecord* r = first_with(g, "data");
    if (!r) continue;
    const json& d = r->summary["data"];
    auto it = std::find_if(distinct.begin(), distinct.end(), [&](const auto& p) { return p.first == d; });
    if (it == distinct.end()) distinct.push_back({d, {g.label}});
    else it->second.push_back(g.label);
  }
  if (distinct.empty()) {
    md << "No run has recorded its data yet.\n\n";
    return md.str();
  }
  const auto text = [](const json& d, const char* key) {
    if (!d.contains(key)) return std::string("n/a");
    return d[key].is_string() ? md_escape(d[key].get<std::string>()) : d[key].dump();
  };
  for (const auto& [d, arms] : distinct) {
    if (distinct.size() > 1) md << fmt::format("Used by: {}\n\n", fmt::join(arms, ", "));
    md << "| | |\n|---|---|\n";
    md << "| Corpus | " << text(d, "corpus") << " |\n";
    md << "| Tokenizer | " << text(d, "tokenizer") << " (vocabulary " << fmt_grouped(json_number(d, "vocab_size"))
       << ") |\n";
    md << "| Split rule | " << text(d, "split_rule") << " |\n";
    md << "| Training split | " << fmt_grouped(json_number(d, "train_documents")) << " documents, "
       << fmt_grouped(json_number(d, "train_tokens")) << " tokens |\n";
    md << "| Validation split | " << fmt_grouped(json_number(d, "val_documents")) << " documents, "
       << fmt_grouped(json_number(d, "val_tokens")) << " tokens |\n";
    const auto overlap = json_number(d, "overlap_documents");
    md << "| Documents in both splits | " << fmt_grouped(overlap)
       << (overlap && *overlap > 0 ? " (**must be 0**)" : "") << " |\n";
    md << "| Near-duplicates across the split | " << near_duplicates_text(d) << " |\n\n";
  }
  return md.str();
}

// -------------------------------------------------------------------------------------------
// audit: what each arm trained


// The causality proof of an arm's runs: every model was proven causal before training (or the
// sweep was refused); this says how many finished runs passed it again on their final weights,
// and quotes any that failed (they are not results).
static std::string causality_line(const Group& g) {
  int passed = 0, checked = 0;
  std::vector<std::string> failures;
  for (const RunRecord* run : g.runs) {
    const auto it = run->summary.find("causality");
    if (it == run->summary.end() || !it->is_object()) continue;
    ++checked;
    if (it->value("causal", false)) ++passed;
    else failures.push_back(fmt::format("run `{}` (seed {}): {}", run->id, run->seed, it->value("message", std::string("?"))));
  }
  if (checked == 0) return "Causality: proven before training; no run has finished to be checked again.\n\n";
  std::string line = fmt::format("Causality: proven before training, and again on the final weights of {} of {} "
                                 "checked run(s).\n\n", passed, checked);
  for (const auto& f : failures) line += "- **Not causal after training, excluded:** " + md_escape(f) + "\n";
  return failures.empty() ? line : line + "\n";
}

std::string audit_section(const SweepRecord& sweep) {
  std::ostringstream md;
  md << "## What each arm trained\n\n";
  md << "Read from the model that was built (summary.json of the arm's first run), not from the arm's name. "
        "Parameters are per part summed over its copies; FLOPs are forward FLOPs per token.\n\n";
  for (const auto& g : sweep.groups) {
    md << "### " << md_escape(g.label) << (g.is_baseline ? " (baseline)" : "") << "\n\n";
    const RunRecord* r = first_with(g, "components");
    if (!r || !r->summary["components"].is_array()) {
      md << "No run of this arm has recorded its components yet.\n\n";
    } else {
      md << "| Part | Plugin | Options | Copies | Params total (M) | Params active (M) | Forward FLOPs/token (M) |\n";
      md << "|---|---|---|---:|---:|---:|---:|\n";
      for (const auto& c : r->summary["components"]) {
        std::string options = "—";
        if (c.contains("options") && !c["options"].empty()) options = "`" + md_escape(c["options"].dump()) + "`";
        md << fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", md_escape(c.value("part", std::string("?"))),
                          md_escape(c.value("plugin", std::string("?"))), options,
                          c.contains("count") ? c["count"].dump() : "—", fmt_millions(json_number(c, "params_total")),
                          fmt_millions(json_number(c, "params_active")), fmt_millions(json_number(c, "flops_per_token")));
      }
      md << fmt::format("| **total** | | | | **{}** | **{}** | **{}** |\n\n", fmt_millions(r->number("params_total")),
                        fmt_millions(r->number("params_active")), fmt_millions(r->number("flops_per_token")));
    }
    md << causality_line(g);
    if (const RunRecord* t = first_with(g, "model_tree"); t && t->summary["model_tree"].is_string())
      md << "<details><summary>Model tree of " << g.label << " (run <code>" << t->id
         << "</code>)</summary>\n\n```\n" << t->summary["model_tree"].get<std::string>() << "\n```\n\n</details>\n\n";
  }
  return md.str();
}

}  // namespace ablate::report
