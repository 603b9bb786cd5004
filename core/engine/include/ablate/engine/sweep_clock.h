#pragma once
// The sweep's time left, for the progress line: the run in progress only knows its own time left;
// a researcher watching a sweep of 30 runs wants to know when the report will be there.

#include <cstddef>
#include <mutex>
#include <string>

namespace ablate {

/// "45s", "7m05s", "123m40s": the progress line's durations.
std::string format_duration(double seconds);

/// Counts the runs a training pass still has to train and how long finished ones took. Shared by
/// the pass's workers (thread-safe).
class SweepClock {
 public:
  /// `runs_to_train`: runs of this pass that are not finished when it starts (in this shard);
  /// `workers`: how many train at once.
  SweepClock(std::size_t runs_to_train, std::size_t workers);

  void run_started();
  void run_ended(double wall_seconds);

  /// Runs of this pass not yet ended, the calling one included.
  std::size_t runs_left() const;

  /// Seconds until the pass ends, from a run in progress: its own time left, plus the runs not yet
  /// started at the mean duration of ended runs (or this run's projected duration before any has
  /// ended), shared among the workers. Runs other workers are training count as taking as long
  /// as this one still needs.
  double seconds_left(double this_run_elapsed, double this_run_left) const;

  /// The progress line's words for it: "~7m30s for the 5 runs left"; empty when this is the last.
  std::string describe(double this_run_elapsed, double this_run_left) const;

 private:
  mutable std::mutex mutex_;
  std::size_t to_train_;
  std::size_t workers_;
  std::size_t started_ = 0;
  std::size_t ended_ = 0;
  double ended_seconds_ = 0.0;
};

}  // namespace ablate
