#include "device_flag.h"

#include <torch/cuda.h>

namespace ablate::app {

ResolvedDevice resolve_device_flag(const std::string& flag) {
  if (flag != "auto") return {flag, ""};
  // False in a CPU-only LibTorch, and in a CUDA one on a machine without a usable GPU.
  if (torch::cuda::is_available())
    return {"cuda", "--device auto: cuda (" + std::to_string(torch::cuda::device_count()) + " CUDA GPU(s) visible)"};
  return {"cpu", "--device auto: cpu (no CUDA GPU visible)"};
}

}  // namespace ablate::app
