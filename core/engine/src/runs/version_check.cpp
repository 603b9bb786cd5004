// Version comparison and the newer-run-directory guard (see version_check.h).
#include "ablate/engine/version_check.h"

#include <cctype>
#include <fstream>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ablate/engine/build_info.h"
#include "ablate/engine/error.h"

namespace ablate {
namespace {

std::vector<long> parts_of(std::string_view v) {
  std::vector<long> parts;
  long current = 0;
  bool any = false;
  for (const char c : v) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      current = current * 10 + (c - '0');
      any = true;
    } else if (c == '.') {
      parts.push_back(current);
      current = 0;
      any = false;
    } else {
      break;  // "-dev", "+abc": not compared
    }
  }
  if (any) parts.push_back(current);
  return parts;
}

}  // namespace

int compare_versions(std::string_view a, std::string_view b) {
  auto pa = parts_of(a), pb = parts_of(b);
  const std::size_t n = std::max(pa.size(), pb.size());
  pa.resize(n, 0);
  pb.resize(n, 0);
  for (std::size_t i = 0; i < n; ++i)
    if (pa[i] != pb[i]) return pa[i] < pb[i] ? -1 : 1;
  return 0;
}

void refuse_newer_run_dir(const std::filesystem::path& run_dir) {
  const auto file = run_dir / "summary.json";
  std::ifstream in(file);
  if (!in) return;
  nlohmann::json summary;
  try {
    summary = nlohmann::json::parse(in);
  } catch (const std::exception&) {
    return;  // unreadable: the run is trained again, as before
  }
  if (!summary.is_object() || !summary.contains("ablate_version") || !summary["ablate_version"].is_string()) return;
  const std::string theirs = summary["ablate_version"];
  if (compare_versions(theirs, ablate_version()) > 0)
    throw Error(fmt::format("{} was written by ablate {}, newer than this ablate {}; refusing to read or overwrite it",
                            file.string(), theirs, ablate_version()),
                "run this sweep with ablate " + theirs + " or newer, or use another --out directory");
}

}  // namespace ablate
