// The sweep's time left on the progress line (sweep_clock.h).
#include <catch2/catch.hpp>

#include "ablate/engine/sweep_clock.h"

using ablate::SweepClock;

TEST_CASE("sweep clock: before any run ended, the runs not started take as long as this one", "[progress]") {
  SweepClock clock(5, 1);
  clock.run_started();
  // 10 s trained, 30 s left: this run takes 40 s, and 4 more runs follow on one worker.
  CHECK(clock.seconds_left(10, 30) == Approx(30 + 4 * 40));
  CHECK(clock.runs_left() == 5);
  CHECK(clock.describe(10, 30) == "~3m10s for the 5 runs left");
}

TEST_CASE("sweep clock: ended runs set the pace, shared among the workers", "[progress]") {
  SweepClock clock(6, 2);
  clock.run_started();
  clock.run_started();
  clock.run_ended(100);
  clock.run_ended(60);
  clock.run_started();
  clock.run_started();
  // Two runs in flight, two not started, mean 80 s, two workers: this run's 20 s + 2 × 80 / 2.
  CHECK(clock.seconds_left(5, 20) == Approx(20 + 80));
  CHECK(clock.runs_left() == 4);
}

TEST_CASE("sweep clock: the last run says nothing more than its own time left", "[progress]") {
  SweepClock clock(1, 1);
  clock.run_started();
  CHECK(clock.seconds_left(3, 7) == Approx(7));
  CHECK(clock.describe(3, 7).empty());
  CHECK(ablate::format_duration(425) == "7m05s");
  CHECK(ablate::format_duration(45.9) == "45s");
}
