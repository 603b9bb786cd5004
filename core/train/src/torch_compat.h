// Every difference between the LibTorch versions ablate builds against, in one place: the rest of
// the code calls these and has no #if on versions. ablate builds against the LibTorch of the torch
// wheel (2.11 in CI and on the GPU machine; users may have a newer one).
//
//   compat::set_autocast_enabled(c10::DeviceType::CUDA, true);
//   compat::set_autocast_dtype(c10::DeviceType::CUDA, at::kBFloat16);
#pragma once

#include <ATen/autocast_mode.h>
#include <c10/core/DeviceType.h>
#include <torch/version.h>

#include "ablate/engine/error.h"

// True when the LibTorch headers are version major.minor or newer.
#define ABLATE_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace ablate::compat {

// Autocast state per device type. 2.4 replaced the per-device functions (set_enabled for CUDA,
// set_cpu_enabled, set_autocast_gpu_dtype, ...) with ones taking the device type; 2.4-2.11 keep the
// old names as deprecated wrappers, later versions may drop them.
#if ABLATE_TORCH_AT_LEAST(2, 4)

inline bool autocast_enabled(c10::DeviceType type) { return at::autocast::is_autocast_enabled(type); }
inline void set_autocast_enabled(c10::DeviceType type, bool enabled) {
  at::autocast::set_autocast_enabled(type, enabled);
}
inline at::ScalarType autocast_dtype(c10::DeviceType type) { return at::autocast::get_autocast_dtype(type); }
inline void set_autocast_dtype(c10::DeviceType type, at::ScalarType dtype) {
  at::autocast::set_autocast_dtype(type, dtype);
}

#else

inline void require_autocast_device(c10::DeviceType type) {
  if (type != c10::DeviceType::CPU && type != c10::DeviceType::CUDA)
    throw Error("autocast on this device type needs LibTorch 2.4 or newer");
}
inline bool autocast_enabled(c10::DeviceType type) {
  require_autocast_device(type);
  return type == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
inline void set_autocast_enabled(c10::DeviceType type, bool enabled) {
  require_autocast_device(type);
  type == c10::DeviceType::CUDA ? at::autocast::set_enabled(enabled) : at::autocast::set_cpu_enabled(enabled);
}
inline at::ScalarType autocast_dtype(c10::DeviceType type) {
  require_autocast_device(type);
  return type == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype()
                                       : at::autocast::get_autocast_cpu_dtype();
}
inline void set_autocast_dtype(c10::DeviceType type, at::ScalarType dtype) {
  require_autocast_device(type);
  type == c10::DeviceType::CUDA ? at::autocast::set_autocast_gpu_dtype(dtype)
                                : at::autocast::set_autocast_cpu_dtype(dtype);
}

#endif

}  // namespace ablate::compat
