// The evaluations of tuning runs in flight (halving_board.h).
#include "ablate/engine/halving_board.h"

#include <algorithm>

namespace ablate {

void HalvingBoard::started(const std::string& run_id) {
  std::lock_guard lock(mutex_);
  in_flight_[run_id] = -1;
}

void HalvingBoard::evaluated(const std::string& run_id, std::int64_t step) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = in_flight_.find(run_id); it != in_flight_.end()) it->second = std::max(it->second, step);
  }
  changed_.notify_all();
}

void HalvingBoard::ended(const std::string& run_id) {
  {
    std::lock_guard lock(mutex_);
    in_flight_.erase(run_id);
  }
  changed_.notify_all();
}

void HalvingBoard::wait_for(const std::vector<HalvingPeer>& peers, const std::function<bool()>& give_up,
                            std::chrono::milliseconds poll) {
  const auto ready = [&] {
    return std::all_of(peers.begin(), peers.end(), [&](const HalvingPeer& peer) {
      const auto it = in_flight_.find(peer.run->id);
      return it == in_flight_.end() || it->second >= peer.step;
    });
  };
  std::unique_lock lock(mutex_);
  while (!changed_.wait_for(lock, poll, ready))
    if (give_up && give_up()) return;
}

}  // namespace ablate
