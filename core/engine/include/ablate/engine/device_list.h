// `ablate run --devices LIST --runs-per-device N`: which devices the sweep's workers train on.
// Torch-free string handling; each entry is then checked by parse_device (device.h).
//
//   parse_device_list("0,1,3")      → {"cuda:0", "cuda:1", "cuda:3"}
//   parse_device_list("cuda:0,cpu") → {"cuda:0", "cpu"}
//   worker_devices({"cuda:0", "cuda:1"}, 2) → {"cuda:0", "cuda:1", "cuda:0", "cuda:1"}
#pragma once

#include <string>
#include <vector>

namespace ablate {

/// Splits a comma-separated list: a bare GPU index N means cuda:N, anything else is a device string
/// as --device takes it. Throws ablate::Error on an empty list or entry.
std::vector<std::string> parse_device_list(const std::string& list);

/// One entry per worker: every device `runs_per_device` times, going round the devices so that the
/// first runs of the queue spread over all of them. Throws ablate::Error when runs_per_device < 1.
std::vector<std::string> worker_devices(const std::vector<std::string>& devices, int runs_per_device);

}  // namespace ablate
