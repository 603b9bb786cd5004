// Seeding a run's generators (generator_lock.h).
#include "ablate/train/generator_lock.h"

#include <ATen/Context.h>
#include <ATen/core/Generator.h>

namespace ablate {

void seed_default_generators(std::uint64_t seed, const c10::Device& device) {
  for (const c10::Device& d : {c10::Device(c10::kCPU), device}) {
    at::Generator gen = at::globalContext().defaultGenerator(d);
    std::lock_guard<std::mutex> lock(gen.mutex());  // as LibTorch's own seeding does
    gen.set_current_seed(seed);
  }
}

}  // namespace ablate
