// Pieces of device.h that are the same in CPU-only and CUDA builds.
#pragma once

#include <sys/resource.h>

#include <cstdint>
#include <string>

#include <ATen/Parallel.h>

namespace ablate::detail {

inline std::int64_t process_peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::int64_t>(usage.ru_maxrss) * 1024;  // ru_maxrss is in KiB on Linux
}

inline std::string cpu_description() {
  return "cpu (" + std::to_string(at::get_num_threads()) + " threads)";
}

}  // namespace ablate::detail
