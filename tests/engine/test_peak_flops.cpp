// MFU's peak table (ablate/peak_flops.h): CUDA device names as cudaDeviceProp reports them find
// their dense peak at each precision, near-miss names find none, and mfu_fields divides correctly.
//
//   ./build/tests/test_engine "[mfu]"
#include <catch2/catch.hpp>

#include "ablate/engine/peak_flops.h"

using ablate::peak_flops;

TEST_CASE("the peak table knows the usual training GPUs by their CUDA names", "[mfu]") {
  CHECK(peak_flops("NVIDIA H100 80GB HBM3", "bf16").per_second == 989.4e12);
  CHECK(peak_flops("NVIDIA H100 80GB HBM3", "tf32").per_second == 494.7e12);
  CHECK(peak_flops("NVIDIA H100 80GB HBM3", "fp32").per_second == 66.9e12);
  CHECK(peak_flops("NVIDIA H100 PCIe", "bf16").per_second == 756e12);
  CHECK(peak_flops("NVIDIA H100 NVL", "bf16").per_second == 835.5e12);
  CHECK(peak_flops("NVIDIA H200", "bf16").per_second == 989.4e12);
  CHECK(peak_flops("NVIDIA H200 NVL", "bf16").per_second == 835.5e12);
  CHECK(peak_flops("NVIDIA GH200 480GB", "bf16").per_second == 989.4e12);
  CHECK(peak_flops("NVIDIA A100-SXM4-80GB", "bf16").per_second == 312e12);
  CHECK(peak_flops("NVIDIA A100 80GB PCIe", "tf32").per_second == 156e12);
  CHECK(peak_flops("NVIDIA A100-PCIE-40GB", "fp32").per_second == 19.5e12);
  CHECK(peak_flops("NVIDIA A10", "bf16").per_second == 125e12);
  CHECK(peak_flops("NVIDIA L40S", "bf16").per_second == 362.05e12);
  CHECK(peak_flops("NVIDIA L40", "bf16").per_second == 181.05e12);
  CHECK(peak_flops("NVIDIA L4", "bf16").per_second == 121e12);
  CHECK(peak_flops("NVIDIA GeForce RTX 4090", "bf16").per_second == 165.2e12);
}

TEST_CASE("the CPU, unknown GPUs, near-miss names and unknown precisions have no peak, with a reason", "[mfu]") {
  const auto cpu = peak_flops("cpu", "fp32");
  CHECK_FALSE(cpu.per_second);
  CHECK(cpu.reason == "no peak known for cpu");
  for (const char* name : {"Tesla V100-SXM2-16GB", "NVIDIA A10G", "NVIDIA GeForce RTX 4090 D", "NVIDIA H1000",
                           "NVIDIA L4000", "NVIDIA B200"}) {
    CAPTURE(name);
    const auto peak = peak_flops(name, "bf16");
    CHECK_FALSE(peak.per_second);
    CHECK(peak.reason == std::string("no peak known for ") + name);
  }
  const auto fp8 = peak_flops("NVIDIA H100 80GB HBM3", "fp8");
  CHECK_FALSE(fp8.per_second);
  CHECK_THAT(fp8.reason, Catch::Contains("precision 'fp8'"));
}

TEST_CASE("mfu_fields divides training FLOPs per second by the peak, or says why it cannot", "[mfu]") {
  // 10 s at half an H100's bf16 peak.
  const auto half = ablate::mfu_fields("NVIDIA H100 80GB HBM3", "bf16", 0.5 * 989.4e12 * 10.0, 10.0);
  CHECK(half["precision"] == "bf16");
  CHECK(half["peak_flops_per_second"] == 989.4e12);
  CHECK(half["mfu"].get<double>() == Approx(0.5).epsilon(1e-12));
  CHECK_FALSE(half.contains("mfu_reason"));

  const auto cpu = ablate::mfu_fields("cpu", "fp32", 1e12, 10.0);
  CHECK(cpu["peak_flops_per_second"].is_null());
  CHECK(cpu["mfu"].is_null());
  CHECK(cpu["mfu_reason"] == "no peak known for cpu");

  const auto untimed = ablate::mfu_fields("NVIDIA A100-SXM4-80GB", "bf16", 1e12, 0.0);
  CHECK(untimed["peak_flops_per_second"] == 312e12);
  CHECK(untimed["mfu"].is_null());
  CHECK(untimed["mfu_reason"] == "no training time was measured");
}
