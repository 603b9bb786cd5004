// Successive halving with several workers (ablate/halving_board.h, tune.h's halving_peers): a run
// at a rung waits for the earlier tune points in flight to evaluate that rung, not for runs that
// have ended or that this process is not training, and gives up when asked to stop.
//
//   ./build/tests/test_engine "[halving]"
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "ablate/engine/halving_board.h"
#include "ablate/engine/plugin_registry.h"
#include "ablate/engine/sweep.h"
#include "ablate/engine/tune.h"
#include "builtin_plugins.h"

using namespace std::chrono_literals;

namespace {

// One arm, three tune points, two tuning seeds; 100 steps of which the rungs 0.25 and 0.5 are met
// at the evaluations at steps 30 and 50.
const char* kSweep = R"(
model: {d_model: 16, n_layers: 1, attention: {plugin: mha, n_heads: 2}, ffn: {plugin: swiglu, d_ff: 32}}
train: {steps: 100, eval_every: 10}
arms: {a: {}}
tune:
  axes: {train.optimizer.lr: [1e-3, 3e-3, 1e-2]}
  seeds: [100, 101]
  halving: {rungs: [0.25, 0.5], keep: 0.5}
)";

/// Runs board.wait_for(peers) in a thread; done() says whether it has returned.
class Waiter {
 public:
  Waiter(ablate::HalvingBoard& board, std::vector<ablate::HalvingPeer> peers, std::function<bool()> give_up = {})
      : thread_([this, &board, peers, give_up] {
          board.wait_for(peers, give_up, 10ms);
          done_ = true;
        }) {}
  ~Waiter() { thread_.join(); }
  bool done() const { return done_; }
  /// True once it has returned, within a generous deadline.
  bool returns() const {
    for (int i = 0; i < 500 && !done_; ++i) std::this_thread::sleep_for(10ms);
    return done_;
  }

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace

TEST_CASE("halving_peers are the earlier tune points of the same seed, at their step of the rung", "[halving]") {
  const ablate::Sweep sweep = ablate::parse_sweep(kSweep, "/sweeps/tune.yaml", ablate::test::builtin_plugins());
  const auto& runs = sweep.tune_runs;
  REQUIRE(runs.size() == 6);  // point by point, seed by seed
  const ablate::RunSpec& last = runs[5];  // point 2, seed 101
  REQUIRE(last.tune_index == 2);
  const auto peers = ablate::halving_peers(sweep, last, 30);
  REQUIRE(peers.size() == 2);
  for (const auto& peer : peers) {
    CHECK(peer.run->seed == last.seed);
    CHECK(peer.run->tune_index < last.tune_index);
    CHECK(peer.step == 30);
  }
  CHECK(ablate::halving_peers(sweep, last, 50).size() == 2);
  CHECK(ablate::halving_peers(sweep, last, 40).empty());      // not a rung
  CHECK(ablate::halving_peers(sweep, runs[0], 30).empty());   // the first point has no peers
}

TEST_CASE("a run at a rung waits until each earlier point in flight has evaluated it", "[halving]") {
  const ablate::Sweep sweep = ablate::parse_sweep(kSweep, "/sweeps/tune.yaml", ablate::test::builtin_plugins());
  const auto& runs = sweep.tune_runs;
  const auto peers = ablate::halving_peers(sweep, runs[5], 30);  // runs[1] and runs[3]
  ablate::HalvingBoard board;

  SECTION("peers in flight hold it until both have evaluated step 30") {
    board.started(peers[0].run->id);
    board.started(peers[1].run->id);
    Waiter waiter(board, peers);
    board.evaluated(peers[0].run->id, 30);
    board.evaluated(peers[1].run->id, 20);
    std::this_thread::sleep_for(100ms);
    CHECK_FALSE(waiter.done());
    board.evaluated(peers[1].run->id, 40);  // past the rung (a resumed run's next evaluation)
    CHECK(waiter.returns());
  }
  SECTION("a peer that ends (done, stopped, failed, interrupted) releases it") {
    board.started(peers[0].run->id);
    Waiter waiter(board, peers);
    std::this_thread::sleep_for(100ms);
    CHECK_FALSE(waiter.done());
    board.ended(peers[0].run->id);
    CHECK(waiter.returns());
  }
  SECTION("peers this process is not training do not hold it") {
    board.evaluated(peers[0].run->id, 10);  // never started here: ignored
    Waiter waiter(board, peers);
    CHECK(waiter.returns());
  }
  SECTION("a stop request releases it") {
    board.started(peers[0].run->id);
    std::atomic<bool> stop{false};
    Waiter waiter(board, peers, [&] { return stop.load(); });
    std::this_thread::sleep_for(100ms);
    CHECK_FALSE(waiter.done());
    stop = true;
    CHECK(waiter.returns());
  }
}
