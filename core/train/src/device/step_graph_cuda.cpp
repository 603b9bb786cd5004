// step_graph.h for a CUDA LibTorch.
#include "ablate/train/step_graph.h"

#include <exception>
#include <string>

#include <c10/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "ablate/engine/error.h"

namespace ablate {
namespace {

class CudaStepGraph final : public StepGraph {
 public:
  void replay() override { graph.replay(); }
  at::cuda::CUDAGraph graph;
};

}  // namespace

std::unique_ptr<StepGraph> record_step_graph(const c10::Device& device, const std::function<void()>& step) {
  if (!device.is_cuda()) throw Error("CUDA graphs need a CUDA device, not " + device.str());
  const c10::cuda::CUDAGuard device_guard(device);
  auto recorded = std::make_unique<CudaStepGraph>();
  // Random ops (dropout, router noise) read the generator's seed and offset from device memory
  // that each replay advances; LibTorch leaves registering it to the caller (its Note [Explicit
  // Registration of Generators to the CUDA Graph]).
  recorded->graph.register_generator_state(at::cuda::detail::getDefaultCUDAGenerator(device.index()));
  // Recording must happen on a side stream, after the work already queued on the current one.
  const auto current = c10::cuda::getCurrentCUDAStream(device.index());
  const auto side = c10::cuda::getStreamFromPool(/*isHighPriority=*/false, device.index());
  c10::cuda::CUDAEvent queued;
  queued.record(current);
  queued.block(side);
  const c10::cuda::CUDAStreamGuard stream_guard(side);
  // Thread-local mode: another sweep worker's allocations on its own device stay legal meanwhile.
  recorded->graph.capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
  try {
    step();
  } catch (const std::exception& e) {
    try {
      recorded->graph.capture_end();  // ends the stream's capture mode; fails since capture broke
    } catch (const std::exception&) {
    }
    throw Error(std::string("the training step cannot be recorded as a CUDA graph: ") + e.what(),
                "something in it waits for the device (.item(), a host copy, a data-dependent shape); "
                "--cuda-graph off trains without a graph");
  }
  try {
    recorded->graph.capture_end();
  } catch (const std::exception& e) {
    throw Error(std::string("recording the training step as a CUDA graph failed: ") + e.what(),
                "--cuda-graph off trains without a graph");
  }
  return recorded;
}

}  // namespace ablate
