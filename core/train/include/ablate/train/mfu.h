// The MFU fields of a run's summary.json (peak_flops.h) for the device it trained on and the
// precision its matrix multiplications ran in.
#pragma once

#include <string>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "ablate/train/precision.h"

namespace ablate {

/// "bf16" when the run trained under bf16 autocast; otherwise fp32 weights and inputs: "tf32" on a
/// GPU when LibTorch lets fp32 matmuls use TF32 tensor cores, else "fp32" ("unknown" when LibTorch
/// will not say: then no peak, and the MFU is null with that reason).
std::string matmul_precision(Precision precision, const c10::Device& device);

/// peak_flops.h's mfu_fields for `device` at matmul_precision(precision, device).
nlohmann::json run_mfu_fields(const c10::Device& device, Precision precision, double train_flops,
                              double train_seconds);

}  // namespace ablate
