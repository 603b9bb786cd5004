// write_report (report.h): reads a sweep directory (load.cpp), then writes report.md (provenance
// line and red flags first), results.csv, results.json and the plots. Tables live in tables.cpp,
// red flags in red_flags.cpp, fair comparisons in fair.cpp, figures in plots.cpp.
//
// Limits: reads only files; never trains. Statistics are on the final validation metrics of runs
// with status "done". A plot that gnuplot cannot draw becomes a warning line; tables are always written.
#include "ablate/engine/report.h"

#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "ablate/engine/atomic_file.h"
#include "ablate/engine/utc_time.h"
#include "report/internal.h"

namespace ablate {
namespace report {
namespace {

namespace fs = std::filesystem;

std::string distinct_values(const SweepRecord& sweep, const std::string& key) {
  std::set<std::string> values;
  for (const auto& run : sweep.runs)
    if (run.summary.is_object() && run.summary.contains(key) && run.summary[key].is_string())
      values.insert(run.summary[key].get<std::string>());
  if (values.empty()) return "not recorded";
  return fmt::format("{}", fmt::join(values.begin(), values.end(), ", "));
}

/// What produced the runs (ablate version and commit, devices, LibTorch) as the summaries record
/// them, when the sweep started, and the sweep file as given (sweep.yaml beside the report).
std::string provenance_line(const SweepRecord& sweep) {
  const auto meta_text = [&](const char* key) {
    return sweep.meta.is_object() && sweep.meta.contains(key) && sweep.meta[key].is_string()
               ? sweep.meta[key].get<std::string>()
               : std::string("not recorded");
  };
  return fmt::format("**Provenance:** ablate {} (git commit {}) · devices: {} · LibTorch {} (from the runs' "
                     "summary.json; several values mean the runs were made by different builds or machines) · "
                     "sweep started {} · sweep file as given: {}.\n\n",
                     md_escape(distinct_values(sweep, "ablate_version")),
                     md_escape(distinct_values(sweep, "ablate_git_commit")), md_escape(distinct_values(sweep, "device")),
                     md_escape(distinct_values(sweep, "torch_version")), md_escape(meta_text("started")),
                     std::filesystem::exists(sweep.dir / "sweep.yaml") ? "[sweep.yaml](sweep.yaml)" : "not recorded");
}

}  // namespace
}  // namespace report

// -------------------------------------------------------------------------------------------
// report.md

std::filesystem::path write_report(const std::filesystem::path& sweep_dir, const ReportOptions& options) {
  using namespace report;
  namespace fs = std::filesystem;
  const SweepRecord sweep = load_sweep_dir(sweep_dir, options.merge);
  // CSV first: it never depends on gnuplot.
  write_file_atomic(sweep_dir / "results.csv", results_csv(sweep));
  write_file_atomic(sweep_dir / "results.json", results_json(sweep).dump(2) + "\n");
  const auto figures = draw_plots(sweep);

  std::size_t done = 0;
  for (const auto& run : sweep.runs) done += run.finished() ? 1 : 0;

  std::ostringstream md;
  md << fmt::format("# Ablation report: {}\n\n", sweep.name);
  md << provenance_line(sweep);
  md << fmt::format("Sweep file `{}` · baseline arm **{}** · {} arm(s), {} run(s), {} finished · "
                    "report written {}.\n\n",
                    sweep.file.empty() ? "(unknown)" : sweep.file, sweep.baseline, sweep.arms.size(),
                    sweep.runs.size(), done, utc_now("%Y-%m-%d %H:%M UTC"));
  md << "All statistics are over seeds, on the final validation loss (nats per token) and validation accuracy of "
        "runs with status `done`. Every number here is also in results.json (unrounded) and per run in results.csv.\n\n";

  md << "## Red flags\n\n";
  const auto flags = red_flags(sweep);
  if (flags.empty()) md << "None found (checked: near-perfect accuracy or implausibly low loss, train/validation "
                           "overlap, identical models across arms, failed or diverged runs, fewer than 3 seeds).\n\n";
  for (const auto& f : flags) md << "- " << f << "\n";
  for (const auto& w : sweep.warnings) md << "- **Unreadable file:** " << md_escape(w) << "\n";
  if (!flags.empty() || !sweep.warnings.empty()) md << "\n";

  md << budget_section(sweep);
  md << arm_tables(sweep);
  md << seeds_on_demand_section(sweep);
  md << comparison_table(sweep);
  md << accuracy_comparison_table(sweep);
  md << power_section(sweep);
  md << fair_section(sweep);
  md << tuning_section(sweep);
  md << expert_load_table(sweep);

  md << "## Plots\n\n";
  for (const auto& f : figures) {
    if (f.ok)
      md << fmt::format("![{}]({}.png)\n\n[SVG version]({}.svg)\n\n", f.title, f.stem, f.stem);
    else
      md << fmt::format("> **Warning:** plot \"{}\" was not drawn: {}\n\n", f.title, md_escape(f.warning));
  }

  md << run_table(sweep);
  md << data_section(sweep);
  md << audit_section(sweep);

  const fs::path path = sweep_dir / "report.md";
  write_file_atomic(path, md.str());
  return path;
}

}  // namespace ablate