#include "ablate/engine/sweep_clock.h"

#include <algorithm>
#include <cstdint>

#include <fmt/format.h>

namespace ablate {

std::string format_duration(double seconds) {
  const auto s = static_cast<std::int64_t>(std::max(0.0, seconds));
  return s >= 60 ? fmt::format("{}m{:02d}s", s / 60, s % 60) : fmt::format("{}s", s);
}

SweepClock::SweepClock(std::size_t runs_to_train, std::size_t workers)
    : to_train_(runs_to_train), workers_(std::max<std::size_t>(1, workers)) {}

void SweepClock::run_started() {
  std::lock_guard lock(mutex_);
  ++started_;
}

void SweepClock::run_ended(double wall_seconds) {
  std::lock_guard lock(mutex_);
  ++ended_;
  ended_seconds_ += wall_seconds;
}

std::size_t SweepClock::runs_left() const {
  std::lock_guard lock(mutex_);
  return to_train_ > ended_ ? to_train_ - ended_ : 0;
}

double SweepClock::seconds_left(double this_run_elapsed, double this_run_left) const {
  std::lock_guard lock(mutex_);
  const double per_run = ended_ > 0 ? ended_seconds_ / static_cast<double>(ended_) : this_run_elapsed + this_run_left;
  const std::size_t not_started = to_train_ > started_ ? to_train_ - started_ : 0;
  // The workers run in parallel: the runs not yet started queue behind all of them.
  return this_run_left + static_cast<double>(not_started) * per_run / static_cast<double>(workers_);
}

std::string SweepClock::describe(double this_run_elapsed, double this_run_left) const {
  const std::size_t left = runs_left();
  if (left <= 1) return "";
  return fmt::format("~{} for the {} runs left", format_duration(seconds_left(this_run_elapsed, this_run_left)), left);
}

}  // namespace ablate
