// device.h for a LibTorch built without CUDA: only the CPU exists.
#include "ablate/train/device.h"

#include "ablate/engine/error.h"
#include "device_common.h"

namespace ablate {

c10::Device parse_device(const std::string& text) {
  if (text == "cpu") return c10::Device(c10::kCPU);
  throw Error("device '" + text + "' is not available: this ablate was built with a CPU-only LibTorch",
              "use --device cpu, or build against a CUDA LibTorch");
}

std::string device_description(const c10::Device&) { return detail::cpu_description(); }
std::string device_name(const c10::Device&) { return "cpu"; }
void use_device_in_this_thread(const c10::Device&) {}
void reset_peak_memory(const c10::Device&) {}
std::int64_t peak_memory_bytes(const c10::Device&) { return detail::process_peak_rss_bytes(); }
void release_cached_memory(const c10::Device&) {}
void synchronize(const c10::Device&) {}

}  // namespace ablate
