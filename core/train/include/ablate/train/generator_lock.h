// LibTorch's default random generators belong to the process: one for the CPU, one per GPU. When a
// sweep trains several runs at once (sweep_runner.h's workers):
//   - a run seeds only the CPU generator and its own device's (torch::manual_seed would reseed the
//     generator of every GPU, under the runs other workers are training there);
//   - it holds default_generator_mutex() from seeding until its model is built and its checkpoint
//     (if any) restored, so its initial weights come from its own seed alone;
//   - what it draws while training (dropout masks, MoE router noise) comes from its device's
//     generator: its own on a GPU that no other worker uses, shared on the CPU or a GPU with several
//     workers, where the runner warns that such runs are not reproducible (docs/running.md).
#pragma once

#include <cstdint>
#include <mutex>

#include <c10/core/Device.h>

namespace ablate {

inline std::mutex& default_generator_mutex() {
  static std::mutex mutex;
  return mutex;
}

/// Seeds the default CPU generator and, on a GPU, that GPU's default generator with `seed`.
void seed_default_generators(std::uint64_t seed, const c10::Device& device);

}  // namespace ablate
