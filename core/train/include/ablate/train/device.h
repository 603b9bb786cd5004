// Device queries the trainer needs, the one place where a CPU-only and a CUDA build differ
// (CMake picks device_cuda.cpp or device_cpu_only.cpp; no #if in the rest of the code).
#pragma once

#include <cstdint>
#include <string>

#include <c10/core/Device.h>

namespace ablate {

/// Parses "cpu", "cuda", "cuda:N"; throws ablate::Error when CUDA is asked for but unavailable.
c10::Device parse_device(const std::string& text);
/// e.g. "cpu (2 threads)" or "NVIDIA H100 80GB HBM3 (cuda:0)".
std::string device_description(const c10::Device& device);
/// The device's own name, the key of peak_flops.h's table: cudaDeviceProp::name on a GPU
/// ("NVIDIA H100 80GB HBM3"), "cpu" on the CPU.
std::string device_name(const c10::Device& device);
/// Makes `device` the calling thread's current CUDA device (a sweep worker's, for the streams,
/// cuBLAS handles and synchronisations LibTorch ties to the current device); no-op on the CPU.
void use_device_in_this_thread(const c10::Device& device);
/// Starts a fresh peak-memory count (no-op on the CPU).
void reset_peak_memory(const c10::Device& device);
/// Peak bytes allocated since the last reset; on the CPU the process's peak resident set.
std::int64_t peak_memory_bytes(const c10::Device& device);
/// Returns the caching allocator's unused blocks to the GPU (between runs, after out-of-memory);
/// no-op on the CPU.
void release_cached_memory(const c10::Device& device);
/// Waits for queued GPU work so wall-clock timings are honest (no-op on the CPU).
void synchronize(const c10::Device& device);

}  // namespace ablate
