// The peak table of peak_flops.h. Every figure is the dense rate (NVIDIA quotes tensor-core rates
// "with sparsity", twice these, in datasheets); bf16 is with FP32 accumulation, as training uses.
#include "ablate/engine/peak_flops.h"

#include <array>
#include <string_view>

namespace ablate {

namespace {

struct GpuPeak {
  std::string_view model;  // the device name without "NVIDIA " / "GeForce " / "Tesla "
  bool whole_name;         // true: the name must be exactly `model`; false: `model` then ' ', '-' or the end
  double bf16, tf32, fp32;
};

// First match wins: the specific names come before the family name they start with.
constexpr std::array kPeaks = {
    // NVIDIA H100 Tensor Core GPU Architecture whitepaper (v1.04), H100 PCIe column: BF16 756 /
    // TF32 378 TFLOPS dense, FP32 51.2 TFLOPS.
    GpuPeak{"H100 PCIe", false, 756e12, 378e12, 51.2e12},
    // H100 NVL datasheet, per GPU: BF16 1,671 / TF32 835 TFLOPS with sparsity, FP32 60 TFLOPS.
    GpuPeak{"H100 NVL", false, 835.5e12, 417.5e12, 60e12},
    // The same whitepaper, H100 SXM5 column ("NVIDIA H100 80GB HBM3"): BF16 989.4 / TF32 494.7
    // TFLOPS dense, FP32 66.9 TFLOPS.
    GpuPeak{"H100", false, 989.4e12, 494.7e12, 66.9e12},
    // H200 datasheet, H200 NVL column: BF16 1,671 / TF32 835 TFLOPS with sparsity, FP32 60 TFLOPS.
    GpuPeak{"H200 NVL", false, 835.5e12, 417.5e12, 60e12},
    // H200 datasheet, H200 SXM column: BF16 1,979 / TF32 989 TFLOPS with sparsity, FP32 67 TFLOPS:
    // the H100 SXM5's GH100 at the same clocks, so the whitepaper's figures above.
    GpuPeak{"H200", false, 989.4e12, 494.7e12, 66.9e12},
    // GH200 Grace Hopper Superchip datasheet: the H100 SXM5's GPU (BF16 990 / TF32 494 TFLOPS dense,
    // FP32 67 TFLOPS).
    GpuPeak{"GH200", false, 989.4e12, 494.7e12, 66.9e12},
    // NVIDIA A100 Tensor Core GPU datasheet (SXM and PCIe, 40 and 80 GB alike): BF16 312 / TF32 156
    // TFLOPS dense, FP32 19.5 TFLOPS.
    GpuPeak{"A100", false, 312e12, 156e12, 19.5e12},
    // NVIDIA A10 datasheet: BF16 125 / TF32 62.5 TFLOPS dense, FP32 31.2 TFLOPS.
    GpuPeak{"A10", false, 125e12, 62.5e12, 31.2e12},
    // NVIDIA L40S datasheet: BF16 362.05 / TF32 183 TFLOPS dense, FP32 91.6 TFLOPS.
    GpuPeak{"L40S", false, 362.05e12, 183e12, 91.6e12},
    // NVIDIA L40 datasheet: BF16 181.05 / TF32 90.5 TFLOPS dense, FP32 90.5 TFLOPS.
    GpuPeak{"L40", false, 181.05e12, 90.5e12, 90.5e12},
    // NVIDIA L4 datasheet: BF16 242 / TF32 120 TFLOPS with sparsity, FP32 30.3 TFLOPS.
    GpuPeak{"L4", false, 121e12, 60e12, 30.3e12},
    // NVIDIA Ada Lovelace GPU Architecture whitepaper, appendix (GeForce RTX 4090): BF16 with FP32
    // accumulate 165.2 / TF32 82.6 TFLOPS dense, FP32 82.6 TFLOPS. Whole name only: the RTX 4090 D
    // has fewer SMs.
    GpuPeak{"RTX 4090", true, 165.2e12, 82.6e12, 82.6e12},
};

// "NVIDIA GeForce RTX 4090" → "RTX 4090" (the prefixes in this order).
std::string_view without_vendor(std::string_view name) {
  for (const std::string_view prefix : {"NVIDIA ", "GeForce ", "Tesla "})
    if (name.starts_with(prefix)) name.remove_prefix(prefix.size());
  return name;
}

bool matches(const GpuPeak& peak, std::string_view name) {
  if (peak.whole_name) return name == peak.model;
  if (!name.starts_with(peak.model)) return false;
  return name.size() == peak.model.size() || name[peak.model.size()] == ' ' || name[peak.model.size()] == '-';
}

}  // namespace

PeakFlops peak_flops(const std::string& device_name, const std::string& precision) {
  const std::string_view name = without_vendor(device_name);
  for (const GpuPeak& peak : kPeaks) {
    if (!matches(peak, name)) continue;
    if (precision == "bf16") return {peak.bf16, {}};
    if (precision == "tf32") return {peak.tf32, {}};
    if (precision == "fp32") return {peak.fp32, {}};
    return {std::nullopt, "no peak known for " + device_name + " at precision '" + precision + "'"};
  }
  return {std::nullopt, "no peak known for " + device_name};
}

nlohmann::json mfu_fields(const std::string& device_name, const std::string& precision, double train_flops,
                          double train_seconds) {
  const PeakFlops peak = peak_flops(device_name, precision);
  nlohmann::json fields = {{"precision", precision}, {"peak_flops_per_second", nullptr}, {"mfu", nullptr}};
  if (!peak.per_second) {
    fields["mfu_reason"] = peak.reason;
    return fields;
  }
  fields["peak_flops_per_second"] = *peak.per_second;
  if (!(train_seconds > 0)) {
    fields["mfu_reason"] = "no training time was measured";
    return fields;
  }
  fields["mfu"] = train_flops / train_seconds / *peak.per_second;
  return fields;
}

}  // namespace ablate
