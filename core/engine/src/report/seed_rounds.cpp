// The report's seeds-on-demand section (report/internal.h), from seed_rounds.json as the runner
// last wrote it (seed_rounds.h): the rule, the rounds taken and why each comparison stopped.
// Formatting only: the decisions were made by the runner, replayed from the same run directories.
#include <sstream>

#include <fmt/format.h>

#include "report/internal.h"

namespace ablate::report {

using nlohmann::json;

namespace {

std::string outcome_text(const std::string& outcome) {
  if (outcome == "significant") return "significant";
  if (outcome == "precise") return "precise enough, not significant";
  if (outcome == "max_seeds") return "maximum seeds, not significant";
  if (outcome == "no_result") return "**not decided** (a run has no result)";
  return "undecided, round in progress";
}

std::string number_or_dash(const json& j, const char* key, const char* format) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return "—";
  return fmt::format(fmt::runtime(format), it->get<double>());
}

}  // namespace

std::string seeds_on_demand_section(const SweepRecord& sweep) {
  const json& r = sweep.seed_rounds;
  if (!r.is_object()) return {};
  const json& d = r.value("design", json::object());
  const json& cal = r.value("calibration", json::object());
  std::ostringstream md;
  md << "## Seeds on demand\n\n";
  md << fmt::format(
      "Seeds were added in rounds: {} per arm first, then {} more per round up to {}, only to the arms whose "
      "comparison with the baseline was still undecided (and to the baseline). After each round every open "
      "comparison took one look: {} on the final validation loss, judged by a group-sequential rule with "
      "O'Brien–Fleming-type α spending (Lan–DeMets), so that the chance of a false \"significant\" over all "
      "looks together stays at α = {:g}{}. The boundaries spend the calibrated α' = {:.4g}",
      d.value("start", 0), d.value("step", 1), d.value("max", 0),
      d.value("test", std::string("welch")) == "paired" ? "the paired t-test by seed" : "Welch's t-test",
      d.value("alpha", 0.05),
      d.value("correction", std::string()) == "bonferroni" && d.value("comparisons", 1) > 1
          ? fmt::format(" for each of the {} comparisons, and so at {:g} for any of them (Bonferroni)",
                        d.value("comparisons", 1), d.value("sweep_alpha", 0.05))
          : std::string(),
      d.value("spending_alpha", 0.05));
  if (cal.contains("replicates"))
    md << fmt::format(" (in {} simulated comparisons with no difference: {:.2f}% false positives spending α itself, "
                      "{:.2f}% spending α')",
                      cal.value("replicates", 0), 100.0 * cal.value("uncalibrated_rate", 0.0),
                      100.0 * cal.value("calibrated_rate", 0.0));
  md << ". A comparison stops when its p falls below its round's boundary (significant)";
  if (d.contains("ci_halfwidth") && d["ci_halfwidth"].is_number())
    md << fmt::format(", when its repeated {:g}% confidence interval is within ±{:g} (precise enough)",
                      100.0 * (1.0 - d.value("alpha", 0.05)), d["ci_halfwidth"].get<double>());
  md << fmt::format(
      ", or at {} seeds. The p-values of the comparison tables below are single fixed-size tests of the seeds that "
      "were trained; the verdicts in this section are the ones that keep their α across the rounds "
      "(docs/seeds-on-demand.md).\n\n",
      d.value("max", 0));

  md << "| Round | Seeds per arm | Comparisons in the round | Runs it needed |\n|---:|---:|---|---:|\n";
  int index = 0;
  for (const auto& round : r.value("rounds", json::array())) {
    std::string names;
    for (const auto& c : round.value("comparisons", json::array()))
      names += (names.empty() ? "" : ", ") + c.get<std::string>();
    md << fmt::format("| {} | {} | {} | {} |\n", ++index, round.value("seeds", 0), md_escape(names),
                      round.value("runs", 0));
  }
  md << "\n";
  if (r.value("complete", false))
    md << fmt::format("Every comparison is decided: {} runs trained in {} round(s), of at most {} seeds per arm.\n\n",
                      r.value("runs_wanted", 0), index, d.value("max", 0));
  else
    md << fmt::format("**Not finished:** round {} still has {} run(s) to train; run the same `ablate run` command "
                      "again to go on. The verdicts below are those reached so far.\n\n",
                      index, r.value("runs_to_train", 0));

  md << "| Arm | Seeds | Outcome | Δ loss | p | Round's boundary p | Repeated CI | Why it stopped |\n"
        "|---|---:|---|---:|---:|---:|---|---|\n";
  for (const auto& c : r.value("comparisons", json::array())) {
    std::string arm = c.value("arm", std::string());
    if (const auto& gp = c.value("grid_point", json::object()); !gp.empty()) arm += " at " + gp.dump();
    std::string ci = "—";
    if (const auto it = c.find("repeated_ci"); it != c.end() && it->is_array() && it->size() == 2)
      ci = (*it)[0].is_number() && (*it)[1].is_number()
               ? fmt::format("[{:+.4f}, {:+.4f}]", (*it)[0].get<double>(), (*it)[1].get<double>())
               : "unbounded";
    md << fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", md_escape(arm), c.value("seeds", 0),
                      outcome_text(c.value("outcome", std::string())), number_or_dash(c, "difference", "{:+.4f}"),
                      number_or_dash(c, "p", "{:.2g}"), number_or_dash(c, "boundary_p", "{:.2g}"), ci,
                      md_escape(c.value("reason", std::string("still adding seeds"))));
  }
  md << "\n";
  return md.str();
}

}  // namespace ablate::report
