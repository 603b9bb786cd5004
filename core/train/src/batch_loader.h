// The training batches of one run, prepared ahead on a thread of their own: while the device
// trains on one step's batches, the loader draws the next step's window offsets and gathers their
// tokens into pinned host memory (double buffering: at most two steps are ready ahead). The main
// thread only copies a ready step into the device's input tensors, without blocking.
//
//   BatchLoader loader(data.train, {.seq_len = T, .batch_size = B, .grad_accum = A, .seed = s,
//                                   .pinned = device.is_cuda()}, checkpointed_rng_or_empty);
//   LoadedStep step = loader.next();  // A host batches of (B, T) inputs and targets
//   ... train ...
//   state.sampler_rng = step.rng_after;  // what a checkpoint stores: the draws of consumed steps only
//
// Windows start anywhere in the training stream, drawn from the run's seed; the draws are the
// same, in the same order, as drawing each batch on the main thread, so results do not depend on
// the loader running ahead.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ablate/engine/data.h"
#include "evaluation.h"

namespace ablate {

struct LoaderOptions {
  std::int64_t seq_len = 1, batch_size = 1, grad_accum = 1;
  std::uint64_t seed = 0;
  bool pinned = false;  // pinned host memory, so the copies to a GPU do not block
};

/// One optimizer step's batches, on the host.
struct LoadedStep {
  std::vector<Batch> batches;  // grad_accum of (batch_size, seq_len) inputs and targets
  std::string rng_after;       // the window generator's state after this step's draws (operator<<)
};

class BatchLoader {
 public:
  static constexpr std::size_t kStepsAhead = 2;

  /// `rng_state`: a checkpoint's sampler_rng to continue from; empty: start from options.seed.
  /// Throws ablate::Error when the state is unreadable, std::invalid_argument when the stream is
  /// shorter than seq_len + 2.
  BatchLoader(const TokenStream& stream, LoaderOptions options, const std::string& rng_state = "");
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  /// The next step's batches, waiting for the loader thread if it has none ready; rethrows what
  /// the loader thread threw.
  LoadedStep next();

 private:
  LoadedStep draw();  // on the loader thread
  void fill();        // the loader thread's loop

  const TokenStream& stream_;
  LoaderOptions options_;
  std::mt19937_64 rng_;
  std::size_t windows_ = 0;  // how many window starts the stream has
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<LoadedStep> ready_;
  std::exception_ptr failure_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace ablate
