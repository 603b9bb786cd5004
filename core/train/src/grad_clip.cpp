// clip_grad_norm (see grad_clip.h): per-tensor norms in one multi-tensor kernel, their norm, and
// one multi-tensor scale by a device tensor.
#include "ablate/train/grad_clip.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

namespace ablate {

at::Tensor clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> grads;
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return {};
  const at::Tensor total = at::stack(at::_foreach_norm(grads, 2)).norm(2);
  const at::Tensor scale = (max_norm / (total + 1e-6)).clamp_max(1.0);
  at::_foreach_mul_(grads, scale);
  return total;
}

}  // namespace ablate
