// BatchLoader (see batch_loader.h).
#include "batch_loader.h"

#include <sstream>
#include <stdexcept>

#include <ATen/ATen.h>

#include "ablate/engine/error.h"
#include "ablate/engine/portable_random.h"

namespace ablate {

BatchLoader::BatchLoader(const TokenStream& stream, LoaderOptions options, const std::string& rng_state)
    : stream_(stream), options_(options), rng_(options.seed) {
  const auto T = static_cast<std::size_t>(options_.seq_len);
  if (stream_.size() < T + 2)  // the trainer says so to the user before it gets here
    throw std::invalid_argument("BatchLoader: the stream is shorter than seq_len + 2");
  windows_ = stream_.size() - T;  // window starts 0 … size − T − 1: every window has T + 1 tokens
  if (!rng_state.empty()) {
    std::istringstream in(rng_state);
    in >> rng_;
    if (!in) throw Error("checkpoint: the train sampler's generator state is unreadable");
  }
  thread_ = std::thread([this] { fill(); });
}

BatchLoader::~BatchLoader() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

LoadedStep BatchLoader::draw() {
  const std::int64_t T = options_.seq_len, B = options_.batch_size;
  LoadedStep step;
  for (std::int64_t m = 0; m < options_.grad_accum; ++m) {
    // A fresh pinned block per batch: the caching host allocator reuses it only after the copy
    // that read it has run on the device.
    auto window = at::empty({B, T + 1}, at::TensorOptions(at::kLong).pinned_memory(options_.pinned));
    auto* out = window.data_ptr<std::int64_t>();
    for (std::int64_t b = 0; b < B; ++b) {
      const std::size_t start = draw_below(rng_, windows_);  // portable: a seed means these windows everywhere
      for (std::int64_t t = 0; t <= T; ++t) out[b * (T + 1) + t] = stream_[start + static_cast<std::size_t>(t)];
    }
    step.batches.push_back({window.slice(1, 0, T), window.slice(1, 1, T + 1)});
  }
  std::ostringstream state;
  state << rng_;
  step.rng_after = state.str();
  return step;
}

void BatchLoader::fill() {
  try {
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return stopping_ || ready_.size() < kStepsAhead; });
        if (stopping_) return;
      }
      LoadedStep step = draw();  // outside the lock: the main thread takes ready steps meanwhile
      {
        const std::lock_guard lock(mutex_);
        ready_.push_back(std::move(step));
      }
      changed_.notify_all();
    }
  } catch (...) {
    {
      const std::lock_guard lock(mutex_);
      failure_ = std::current_exception();
    }
    changed_.notify_all();
  }
}

LoadedStep BatchLoader::next() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !ready_.empty() || failure_; });
  if (ready_.empty()) std::rethrow_exception(failure_);
  LoadedStep step = std::move(ready_.front());
  ready_.pop_front();
  lock.unlock();
  changed_.notify_all();
  return step;
}

}  // namespace ablate
