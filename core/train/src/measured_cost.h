// A component's cost as measured by running it, to hold against what its plugin's cost() declares.
// A plugin can be wrong or lie: a "top-2 of 8" MoE that runs all 8 experts on every token declares
// a quarter of the FLOPs it spends, and a comparison of such runs at "equal compute" is then false.
//
//   MeasuredCost m = measure_cost(*module, d_model, seq_len);
//   // m.flops_per_token vs cost.flops_per_token, m.params_active vs cost.params_active
//
// FLOPs follow the SDK's convention (sdk/flops.h): matrix products only, multiply-add = 2,
// attention over the full window of keys. They are counted from the operators LibTorch actually
// dispatches, so work a module does by other means (a custom kernel, elementwise loops) is not seen.
#pragma once

#include <cstdint>

#include "ablate/sdk/component.h"

namespace ablate {

struct MeasuredCost {
  double flops_per_token = 0;      // forward FLOPs per token, counted by MatmulFlopCounter
  std::int64_t params_active = 0;  // parameters that receive a nonzero gradient from one token's output
  std::int64_t params_total = 0;   // all trainable parameters of the module
};

/// Measures `module`, leaving its train/eval mode and its parameters' .grad as they were (a MoE's
/// aux_loss and expert_load are those of the measuring forwards afterwards). In evaluation mode:
///  - FLOPs: one forward on random (batch, seq_len, d_model) input under NoGradGuard with the
///    counter on, divided by batch * seq_len;
///  - active parameters: forwards with grad, loss = <r, output[0, t]> for a random r (one token's
///    output), its gradient with respect to the parameters, for t = seq_len - 1 (attention reads
///    every key there) and t = 0 (a capacity never drops the first token of a sequence); the larger
///    count. See count_active in the .cpp for what counts as active.
/// The input has the dtype and device of the module's first floating-point parameter (float, CPU
/// if none).
MeasuredCost measure_cost(sdk::ComponentImpl& module, std::int64_t d_model, std::int64_t seq_len,
                          std::int64_t batch = 2);

/// Counts the forward FLOPs of the matrix-product operators (mm, addmm, bmm, baddbmm, mv, matmul,
/// linear, _grouped_mm, scaled_dot_product_attention and its kernels) dispatched on this thread
/// while alive. An operator running inside a counted one (linear → matmul → mm, SDPA → its math
/// decomposition) is not counted again. Counters may nest: each sees every operator of its lifetime.
/// Operators dispatched on other threads (a worker pool, CUDA's autograd threads) are not seen.
class MatmulFlopCounter {
 public:
  MatmulFlopCounter();
  ~MatmulFlopCounter();
  MatmulFlopCounter(const MatmulFlopCounter&) = delete;
  MatmulFlopCounter& operator=(const MatmulFlopCounter&) = delete;

  double flops() const { return flops_; }

 private:
  friend struct MatmulFlopCounterAccess;  // the RecordFunction callbacks (measured_cost.cpp)
  double flops_ = 0;
  MatmulFlopCounter* outer_ = nullptr;  // the counter that was innermost when this one started
};

}  // namespace ablate
