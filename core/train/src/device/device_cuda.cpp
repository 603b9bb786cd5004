// device.h for a CUDA LibTorch: the binary runs on machines with and without a GPU.
#include "ablate/train/device.h"

#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <cuda_runtime_api.h>

#include "ablate/engine/error.h"
#include "device_common.h"

namespace ablate {

c10::Device parse_device(const std::string& text) {
  c10::Device device(c10::kCPU);
  try {
    device = c10::Device(text);
  } catch (const std::exception&) {
    throw Error("unknown device '" + text + "'", "use cpu, cuda or cuda:N");
  }
  if (device.is_cpu()) return device;
  if (!device.is_cuda()) throw Error("unsupported device '" + text + "'", "use cpu, cuda or cuda:N");
  const int count = static_cast<int>(c10::cuda::device_count());
  if (count == 0) throw Error("device '" + text + "' asked for, but no CUDA GPU is visible", "use --device cpu");
  const int index = device.has_index() ? device.index() : 0;
  if (index >= count)
    throw Error("device '" + text + "' asked for, but only " + std::to_string(count) + " CUDA GPU(s) are visible");
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

std::string device_description(const c10::Device& device) {
  if (!device.is_cuda()) return detail::cpu_description();
  return device_name(device) + " (" + device.str() + ")";
}

std::string device_name(const c10::Device& device) {
  if (!device.is_cuda()) return "cpu";
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, device.index()) != cudaSuccess) return device.str();
  return prop.name;
}

void use_device_in_this_thread(const c10::Device& device) {
  if (device.is_cuda()) c10::cuda::set_device(device.index());
}

void reset_peak_memory(const c10::Device& device) {
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
}

std::int64_t peak_memory_bytes(const c10::Device& device) {
  if (!device.is_cuda()) return detail::process_peak_rss_bytes();
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
  return stats.allocated_bytes[0].peak;
}

void release_cached_memory(const c10::Device& device) {
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::emptyCache();
}

void synchronize(const c10::Device& device) {
  if (device.is_cuda()) c10::cuda::device_synchronize();
}

}  // namespace ablate
