// A training step recorded once and replayed: a CUDA graph, so that each later step is one launch
// instead of hundreds of kernel launches from the host. This header is the one place where a CPU-only
// and a CUDA build differ for graphs (CMake picks step_graph_cuda.cpp or step_graph_cpu_only.cpp).
//
//   auto graph = record_step_graph(device, [&] { step.run_eager(); });  // records, runs nothing
//   graph->replay();                                                     // one step
//
// Recording runs nothing: the tensors the step reads (inputs, learning rates) must be filled before
// each replay, and the ones it writes are rewritten by every replay in the same memory.
#pragma once

#include <functional>
#include <memory>

#include <c10/core/Device.h>

namespace ablate {

class StepGraph {
 public:
  virtual ~StepGraph() = default;
  /// Runs the recorded work once, queued on the current stream.
  virtual void replay() = 0;
};

/// Records `step` into a CUDA graph on `device` (a side stream, the device's default generator
/// registered so random ops draw fresh numbers each replay). Throws ablate::Error saying why when
/// it cannot: not a CUDA device, a build without CUDA, or a step that synchronises or reads the
/// device while recording.
std::unique_ptr<StepGraph> record_step_graph(const c10::Device& device, const std::function<void()>& step);

}  // namespace ablate
