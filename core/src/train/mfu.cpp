// MFU of a trained run (mfu.h).
#include "ablate/mfu.h"

#include <ATen/Context.h>

#include "ablate/device.h"
#include "ablate/peak_flops.h"

namespace ablate {

std::string matmul_precision(const nlohmann::json& train, const c10::Device& device) {
  if (train.is_object() && train.value("precision", std::string()) == "bf16") return "bf16";
  return device.is_cuda() && at::globalContext().allowTF32CuBLAS() ? "tf32" : "fp32";
}

nlohmann::json run_mfu_fields(const c10::Device& device, const nlohmann::json& train, double train_flops,
                              double train_seconds) {
  return mfu_fields(device_name(device), matmul_precision(train, device), train_flops, train_seconds);
}

}  // namespace ablate
