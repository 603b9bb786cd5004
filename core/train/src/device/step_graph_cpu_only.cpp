// step_graph.h for a LibTorch without CUDA: there is nothing to record into.
#include "ablate/train/step_graph.h"

#include "ablate/engine/error.h"

namespace ablate {

std::unique_ptr<StepGraph> record_step_graph(const c10::Device& device, const std::function<void()>&) {
  throw Error("CUDA graphs need a CUDA build of LibTorch; this one is CPU-only (device " + device.str() + ")");
}

}  // namespace ablate
