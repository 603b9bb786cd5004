// Successive halving with several workers (sweep_runner.h): a tuning run at a rung is ranked
// against the earlier tune points of its arm, grid point and seed (tune.h's halving_peers). Trained
// one after another, those have finished by then; trained side by side, one may not have reached
// the rung yet. The board records the evaluations of the runs this process is training, so that a
// run at a rung first waits until each peer in flight has evaluated its step of that rung (or has
// ended), and the verdict is the one a sequential run would give.
//
// Deadlock-free because workers take runs in queue order: a run waits only for earlier tune points,
// which are already in flight or ended, and they never wait for it.
//
//   board.started(id);                   // when a worker takes the run (under the queue's lock)
//   board.evaluated(id, step);           // after each of its evaluations
//   board.wait_for(halving_peers(...));  // before ranking at a rung
//   board.ended(id);                     // however the run ended
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "ablate/engine/tune.h"

namespace ablate {

class HalvingBoard {
 public:
  void started(const std::string& run_id);
  void evaluated(const std::string& run_id, std::int64_t step);
  void ended(const std::string& run_id);

  /// Returns once every peer that is in flight has evaluated at or past its step, or when
  /// `give_up` (asked every `poll`) says so: a stop request must not wait for slower runs.
  void wait_for(const std::vector<HalvingPeer>& peers, const std::function<bool()>& give_up = {},
                std::chrono::milliseconds poll = std::chrono::milliseconds(200));

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, std::int64_t> in_flight_;  // run id → its last evaluated step (-1: none yet)
};

}  // namespace ablate
