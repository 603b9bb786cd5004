// Evaluation windows and the evaluation itself, shared by the trainer and `ablate eval` so both
// measure a run the same way. A window holds T+1 tokens: inputs are the first T, targets the last T.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <c10/core/Device.h>

#include "ablate/data.h"
#include "ablate/model.h"

namespace ablate {

struct Batch {
  torch::Tensor inputs;   // (B, T) int64
  torch::Tensor targets;  // (B, T) int64
};

/// One batch of the windows starting at `offsets` in `stream`, on `device`.
Batch make_batch(const TokenStream& stream, const std::vector<std::size_t>& offsets, std::int64_t T,
                 const c10::Device& device);

/// The tokens of the validation stream a run evaluates on, [begin, end). A sweep with a tune stage
/// cuts the validation documents in two at the first end-of-text at or after the middle:
/// "final" (the replication runs) is the first part, "tuning" (the tuning runs) the rest, so the
/// point chosen by tuning is never judged on the documents that chose it. "validation": all of it.
std::pair<std::size_t, std::size_t> evaluation_range(const PreparedData& data, const std::string& split);

/// The same non-overlapping windows from the start of `range` at every evaluation, so curves of
/// different runs and steps are comparable: at most `n_batches` batches (0: every window).
/// Throws ablate::Error when the range holds no window.
std::vector<Batch> validation_batches(const TokenStream& stream, std::pair<std::size_t, std::size_t> range,
                                      std::int64_t T, std::int64_t batch_size, std::int64_t n_batches,
                                      const c10::Device& device);

struct Evaluation {
  double loss = 0.0;      // mean cross-entropy per target token (nats)
  double accuracy = 0.0;  // fraction of targets that are the argmax
  std::int64_t tokens = 0;
};

/// Loss and accuracy of `model` over `batches`, in eval mode (then back in the mode it was in).
Evaluation evaluate(Transformer& model, const std::vector<Batch>& batches);

}  // namespace ablate
