// results.csv: one row per run with every scalar of its summary.json, for spreadsheets and pandas.
#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "report/internal.h"

namespace ablate::report {

using nlohmann::json;

namespace {

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

// -------------------------------------------------------------------------------------------
// results.csv

std::string results_csv(const SweepRecord& sweep) {
  static const std::vector<std::string> kNumbers = {
      "val_loss", "val_accuracy", "val_perplexity", "train_loss", "params_total", "params_active", "flops_per_token",
      "train_seconds", "eval_seconds", "tokens", "tokens_per_second", "peak_memory_bytes", "steps",
      // Added after the first layout: new columns go last, before the text ones, so scripts that
      // read columns by name keep working.
      "train_flops", "peak_flops_per_second", "mfu"};
  static const std::vector<std::string> kTexts = {"device", "precision"};
  std::ostringstream csv;
  csv << "id,arm,seed,grid_point,status,error";
  for (const auto& k : kNumbers) csv << "," << k;
  for (const auto& k : kTexts) csv << "," << k;
  csv << "\n";
  for (const auto& run : sweep.runs) {
    csv << csv_cell(run.id) << "," << csv_cell(run.arm) << "," << run.seed << "," << csv_cell(grid_label(run.grid_point))
        << "," << run.status << "," << csv_cell(run.error);
    for (const auto& k : kNumbers) {
      csv << ",";
      if (auto v = run.number(k)) csv << fmt::format("{}", *v);
    }
    for (const auto& k : kTexts) {
      csv << ",";
      if (run.summary.is_object() && run.summary.contains(k) && run.summary[k].is_string())
        csv << csv_cell(run.summary[k].get<std::string>());
    }
    csv << "\n";
  }
  return csv.str();
}

}  // namespace ablate::report
