// Model FLOPs utilisation (MFU): the training FLOPs a run did per second over the peak its device
// can do at the precision its matrix multiplications ran in. The peaks are a small table of NVIDIA
// GPUs keyed by the CUDA device name (cudaDeviceProp::name), dense (no 2:4 sparsity) tensor-core
// figures from NVIDIA's datasheets and whitepapers; peak_flops.cpp names the source of each.
//
//   peak_flops("NVIDIA H100 80GB HBM3", "bf16").per_second   → 989.4e12
//   peak_flops("cpu", "fp32").reason                          → "no peak known for cpu"
//   mfu_fields(name, "bf16", train_flops, train_seconds)     → summary.json's MFU fields
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace ablate {

struct PeakFlops {
  std::optional<double> per_second;  // dense peak FLOP/s; nullopt when not known
  std::string reason;                // why it is not known
};

/// The device's peak for `precision`: "bf16" (tensor cores, FP32 accumulate), "tf32" (fp32 matmuls
/// on tensor cores) or "fp32" (fp32 without tensor cores). Unknown devices (the CPU included) and
/// precisions: nullopt with "no peak known for <name>".
PeakFlops peak_flops(const std::string& device_name, const std::string& precision);

/// summary.json's fields: "precision", "peak_flops_per_second" and "mfu" = train_flops /
/// train_seconds / peak (a fraction, 0.4 = 40%), both null with "mfu_reason" when no peak is known
/// or no training time was measured.
nlohmann::json mfu_fields(const std::string& device_name, const std::string& precision, double train_flops,
                          double train_seconds);

}  // namespace ablate
