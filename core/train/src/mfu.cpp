// MFU of a trained run (mfu.h).
#include "ablate/train/mfu.h"

#include <ATen/Context.h>
#include <c10/util/Exception.h>

#include "ablate/train/device.h"
#include "ablate/engine/peak_flops.h"

namespace ablate {

std::string matmul_precision(Precision precision, const c10::Device& device) {
  if (precision == Precision::bf16) return "bf16";
  if (!device.is_cuda()) return "fp32";
  try {
    return at::globalContext().allowTF32CuBLAS() ? "tf32" : "fp32";
  } catch (const c10::Error&) {
    return "unknown";  // LibTorch refuses to answer when its old and new TF32 settings disagree
  }
}

nlohmann::json run_mfu_fields(const c10::Device& device, Precision precision, double train_flops,
                              double train_seconds) {
  return mfu_fields(device_name(device), matmul_precision(precision, device), train_flops, train_seconds);
}

}  // namespace ablate
