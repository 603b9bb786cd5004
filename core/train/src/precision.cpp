// Precision and AutocastScope (see precision.h); the autocast calls go through torch_compat.h.
#include "ablate/train/precision.h"

#include <ATen/autocast_mode.h>

#include "ablate/engine/error.h"
#include "torch_compat.h"

namespace ablate {

Precision parse_precision(const std::string& text, const c10::Device& device) {
  if (text == "fp32") return Precision::fp32;
  if (text == "bf16") return Precision::bf16;
  if (text == "auto") return device.is_cuda() ? Precision::bf16 : Precision::fp32;
  throw Error("unknown precision '" + text + "'", "use auto, bf16 or fp32");
}

const std::vector<std::string>& precision_choices() {
  static const std::vector<std::string> choices = {"auto", "bf16", "fp32"};
  return choices;
}

std::string precision_name(Precision precision) { return precision == Precision::bf16 ? "bf16" : "fp32"; }

AutocastScope::AutocastScope(const c10::Device& device, Precision precision)
    : type_(device.type()), active_(precision == Precision::bf16) {
  if (!active_) return;
  was_enabled_ = compat::autocast_enabled(type_);
  was_dtype_ = compat::autocast_dtype(type_);
  compat::set_autocast_enabled(type_, true);
  compat::set_autocast_dtype(type_, at::kBFloat16);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  compat::set_autocast_enabled(type_, was_enabled_);
  compat::set_autocast_dtype(type_, was_dtype_);
}

}  // namespace ablate
