// The training batches come from a loader thread that runs ahead of training. What it draws must
// not depend on that: the windows are those of drawing each one in turn from the run's seed, and a
// loader restarted from a step's recorded generator state (what a checkpoint stores) continues
// exactly where the first one's consumer was, not where its thread had got to.
#include "catch_torch.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include <ATen/ATen.h>

#include "ablate/engine/data.h"
#include "batch_loader.h"

namespace {

constexpr std::int64_t kT = 8, kB = 3, kAccum = 2;
constexpr std::uint64_t kSeed = 42;

// A stream whose token i is i, so a window's first input is its start offset.
ablate::TokenStream counting_stream(const std::string& name, std::uint32_t n) {
  const auto file = std::filesystem::temp_directory_path() / name;
  {
    std::ofstream out(file, std::ios::binary);
    for (std::uint32_t i = 0; i < n; ++i) out.write(reinterpret_cast<const char*>(&i), sizeof i);
  }
  return ablate::TokenStream(file);
}

// Window starts of each batch of a step, in draw order.
std::vector<std::int64_t> starts_of(const ablate::LoadedStep& step) {
  std::vector<std::int64_t> starts;
  for (const auto& batch : step.batches)
    for (std::int64_t b = 0; b < kB; ++b) starts.push_back(batch.inputs[b][0].item<std::int64_t>());
  return starts;
}

}  // namespace

TEST_CASE("the loader's windows are the seed's draws in order, inputs and targets one token apart", "[loader]") {
  const auto stream = counting_stream("ablate_test_loader_windows.bin", 1000);
  ablate::BatchLoader loader(stream, {.seq_len = kT, .batch_size = kB, .grad_accum = kAccum, .seed = kSeed});
  // The rule, drawn here one window at a time from the engine's raw output (fixed by the C++
  // standard), not through std::uniform_int_distribution (which each standard library maps its own
  // way): the same seed gives the same windows on every platform.
  std::mt19937_64 rng(kSeed);
  const auto offset = [](std::mt19937_64& r) { return r() % (1000 - kT); };
  for (int s = 0; s < 5; ++s) {
    const auto step = loader.next();
    REQUIRE(step.batches.size() == static_cast<std::size_t>(kAccum));
    for (const auto& batch : step.batches) {
      REQUIRE(batch.inputs.sizes() == at::IntArrayRef{kB, kT});
      REQUIRE(batch.targets.sizes() == at::IntArrayRef{kB, kT});
      for (std::int64_t b = 0; b < kB; ++b) {
        const auto start = static_cast<std::int64_t>(offset(rng));
        CHECK(at::equal(batch.inputs[b], at::arange(start, start + kT, at::kLong)));
        CHECK(at::equal(batch.targets[b], at::arange(start + 1, start + kT + 1, at::kLong)));
      }
    }
  }
}

TEST_CASE("a loader restarted from a step's generator state continues with the next step", "[loader]") {
  const auto stream = counting_stream("ablate_test_loader_resume.bin", 5000);
  const ablate::LoaderOptions options{.seq_len = kT, .batch_size = kB, .grad_accum = kAccum, .seed = kSeed};
  std::vector<std::vector<std::int64_t>> straight;
  std::string state_after_3;
  {
    ablate::BatchLoader loader(stream, options);
    for (int s = 0; s < 6; ++s) {
      const auto step = loader.next();
      straight.push_back(starts_of(step));
      if (s == 2) {
        state_after_3 = step.rng_after;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the thread run ahead
      }
    }
  }
  ablate::BatchLoader resumed(stream, options, state_after_3);
  for (int s = 3; s < 6; ++s) CHECK(starts_of(resumed.next()) == straight[s]);
}

TEST_CASE("a loader is destroyed at once while its thread waits with steps ready", "[loader]") {
  const auto stream = counting_stream("ablate_test_loader_stop.bin", 1000);
  const auto begin = std::chrono::steady_clock::now();
  {
    ablate::BatchLoader loader(stream, {.seq_len = kT, .batch_size = kB, .grad_accum = kAccum, .seed = kSeed});
    loader.next();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the queue is full again
  }
  CHECK(std::chrono::steady_clock::now() - begin < std::chrono::seconds(5));
  CHECK_THROWS_AS(ablate::BatchLoader(stream, {.seq_len = 999, .seed = 1}), std::invalid_argument);
  CHECK_THROWS_WITH(ablate::BatchLoader(stream, {.seq_len = kT, .seed = 1}, "not a generator state"),
                    Catch::Matchers::Contains("generator state is unreadable"));
}

TEST_CASE("a seed's windows are fixed numbers, the same with every standard library", "[loader]") {
  // mt19937_64 with seed 42 gives, first, 13930160852258120406 (the C++ standard fixes the engine);
  // 13930160852258120406 mod (1000 − 8) = 758 is the first window's start.
  std::mt19937_64 engine(kSeed);
  REQUIRE(engine() == 13930160852258120406ULL);
  const auto stream = counting_stream("ablate_test_loader_fixed.bin", 1000);
  ablate::BatchLoader loader(stream, {.seq_len = kT, .batch_size = kB, .grad_accum = kAccum, .seed = kSeed});
  CHECK(starts_of(loader.next()).front() == 758);
}
