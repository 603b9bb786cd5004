// The device list of `ablate run --devices` (device_list.h).
#include "ablate/engine/device_list.h"

#include <algorithm>
#include <cctype>

#include "ablate/engine/error.h"

namespace ablate {

namespace {

std::string trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

}  // namespace

std::vector<std::string> parse_device_list(const std::string& list) {
  std::vector<std::string> devices;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = list.find(',', start);
    const std::string entry = trimmed(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (entry.empty())
      throw Error("--devices '" + list + "' has an empty entry",
                  "give GPU indices or device strings separated by commas, e.g. --devices 0,1 or --devices cpu,cpu");
    const bool index = std::all_of(entry.begin(), entry.end(), [](unsigned char c) { return std::isdigit(c); });
    devices.push_back(index ? "cuda:" + entry : entry);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return devices;
}

std::vector<std::string> worker_devices(const std::vector<std::string>& devices, int runs_per_device) {
  if (runs_per_device < 1)
    throw Error("--runs-per-device must be at least 1, not " + std::to_string(runs_per_device));
  std::vector<std::string> workers;
  for (int round = 0; round < runs_per_device; ++round) workers.insert(workers.end(), devices.begin(), devices.end());
  return workers;
}

}  // namespace ablate
