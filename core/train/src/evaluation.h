// Evaluation windows and the evaluation itself, shared by the trainer and `ablate eval` so both
// measure a run the same way. A window holds T+1 tokens: inputs are the first T, targets the last T.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <c10/core/Device.h>

#include "ablate/engine/data.h"
#include "ablate/train/model.h"

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

/// A run's evaluation set: the first `windows` non-overlapping windows of an evaluation range
/// (T + 1 tokens each: window i reads tokens [begin + i·T, begin + (i + 1)·T]). It is fixed by a
/// token count, so every run of a sweep with the same data and seq_len scores the same tokens
/// whatever its batch size (or an out-of-memory retry's halved one); the hash says so in
/// summary.json, and the report compares it across runs.
struct EvaluationSet {
  std::size_t begin = 0;
  std::int64_t windows = 0;
  std::int64_t seq_len = 0;
  std::string hash;  // XXH3-64 of every token the windows read, 16 hex digits
  std::int64_t target_tokens() const { return windows * seq_len; }
};

/// The evaluation set of `target_tokens` scored tokens (⌊target_tokens / T⌋ windows, at least one;
/// 0: every window of the range). Throws ablate::Error when the range holds no window.
EvaluationSet evaluation_set(const TokenStream& stream, std::pair<std::size_t, std::size_t> range, std::int64_t T,
                             std::int64_t target_tokens);

/// The set's windows in batches of at most `batch_size`, on `device` (the batching changes only
/// memory and speed, never which tokens are scored).
std::vector<Batch> evaluation_batches(const TokenStream& stream, const EvaluationSet& set, std::int64_t batch_size,
                                      const c10::Device& device);

struct Evaluation {
  double loss = 0.0;      // mean cross-entropy per target token (nats)
  double accuracy = 0.0;  // fraction of targets that are the argmax
  std::int64_t tokens = 0;
};

/// Loss and accuracy of `model` over `batches`, in eval mode (then back in the mode it was in).
Evaluation evaluate(Transformer& model, const std::vector<Batch>& batches);

}  // namespace ablate
