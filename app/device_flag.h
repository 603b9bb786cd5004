// `--device auto`, the default of `ablate run` and `ablate plan`: the GPU when this process sees
// one, else the CPU, so a newcomer on a GPU machine does not train on the CPU by accident and one
// on a laptop is not refused. (`ablate slurm` decides on the login node for the compute nodes
// instead: slurm.h.)
//
//   const ResolvedDevice d = resolve_device_flag("auto");  // {"cpu", "auto: cpu (no CUDA GPU visible)"}
#pragma once

#include <string>

namespace ablate::app {

inline constexpr const char* kDeviceFlagHelp =
    "auto (cuda when a CUDA GPU is visible, else cpu), cpu, cuda or cuda:N";

struct ResolvedDevice {
  std::string device;  // what parse_device (ablate/train/device.h) is given: cpu, cuda or cuda:N
  std::string note;    // for "auto", what it became and why; empty for an explicit device
};

/// "auto" becomes "cuda" when LibTorch sees a CUDA GPU at run time, else "cpu"; any other value is
/// returned unchanged (parse_device checks it).
ResolvedDevice resolve_device_flag(const std::string& flag);

}  // namespace ablate::app
