// The numeric precision a run trains in: an execution setting like the device (`ablate run
// --precision`), not part of a run's config or id, recorded in summary.json as "precision".
//   fp32  every tensor in float32.
//   bf16  autocast to bfloat16 around the forward pass and the loss (matmuls and attention in
//         bf16); parameters, gradients and optimizer state stay float32 (master weights).
//   auto  bf16 on CUDA, fp32 on the CPU.
// Evaluation runs in float32 whatever the precision, so validation losses of bf16 and fp32 runs
// are measured the same way.
//
//   const Precision precision = parse_precision("auto", device);   // Precision::bf16 on cuda
//   { const AutocastScope autocast(device, precision); loss = forward(...); }
//   loss.backward();
#pragma once

#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

namespace ablate {

enum class Precision { fp32, bf16 };

/// "auto", "bf16" or "fp32" for training on `device`; throws ablate::Error for anything else.
Precision parse_precision(const std::string& text, const c10::Device& device);
/// "fp32" or "bf16".
std::string precision_name(Precision precision);
/// What parse_precision takes: auto, bf16, fp32 (the choices of a --precision flag).
const std::vector<std::string>& precision_choices();

/// Autocast to bf16 on `device`'s type for the scope's lifetime when `precision` is bf16; nothing
/// for fp32. On leaving, the previous autocast state is restored and autocast's cache of weight
/// casts is dropped (the optimizer changes the weights in place, so a cached cast would go stale).
class AutocastScope {
 public:
  AutocastScope(const c10::Device& device, Precision precision);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  c10::DeviceType type_;
  bool active_;
  bool was_enabled_ = false;
  c10::ScalarType was_dtype_ = c10::ScalarType::Undefined;
};

}  // namespace ablate
