// read_json_file, run_status, run_finished and run_ended (json_file.h).
#include "ablate/engine/json_file.h"

#include <fstream>

namespace ablate {

nlohmann::json read_json_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return nullptr;
  try {
    return nlohmann::json::parse(in);
  } catch (const std::exception&) {
    return nullptr;
  }
}

std::string run_status(const std::filesystem::path& run_dir) {
  const nlohmann::json summary = read_json_file(run_dir / "summary.json");
  if (!summary.is_object()) return "pending";
  const auto status = summary.find("status");
  return status != summary.end() && status->is_string() ? status->get<std::string>() : std::string("pending");
}

bool run_finished(const std::string& status) { return status == "done" || status == "stopped"; }

bool run_ended(const std::string& status) {
  return run_finished(status) || status == "failed" || status == "diverged";
}

}  // namespace ablate
