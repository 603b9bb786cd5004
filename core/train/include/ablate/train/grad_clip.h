// Gradient clipping by global norm that never waits for the device. LibTorch's
// torch::nn::utils::clip_grad_norm_ returns the norm as a host double, which reads it back
// (a synchronisation per step on a GPU); this one keeps the norm and the scale on the device.
//
//   const at::Tensor norm = clip_grad_norm(model->parameters(), 1.0);  // () on the device, unread
#pragma once

#include <vector>

#include <ATen/core/Tensor.h>

namespace ablate {

/// Scales the gradients of `params` (those that have one) by min(1, max_norm / (‖g‖₂ + 1e-6)), ‖g‖₂
/// the L2 norm of all of them together, the rule of torch::nn::utils::clip_grad_norm_. Returns ‖g‖₂
/// as a 0-dim tensor on the gradients' device (undefined when no parameter has a gradient).
at::Tensor clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm);

}  // namespace ablate
