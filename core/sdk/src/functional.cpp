// Shared component math (see functional.h).
#include "ablate/sdk/functional.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>

namespace ablate::sdk {

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const at::Tensor xf = x.to(at::kFloat);
  const at::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return (normed * weight.to(at::kFloat)).to(x.scalar_type());
}

void init_linear(torch::nn::Linear& linear) {
  torch::NoGradGuard no_grad;
  torch::nn::init::normal_(linear->weight, 0.0, 0.02);
  if (linear->bias.defined()) torch::nn::init::zeros_(linear->bias);
}

torch::nn::Linear make_linear(std::int64_t in, std::int64_t out, bool bias) {
  torch::nn::Linear linear(torch::nn::LinearOptions(in, out).bias(bias));
  init_linear(linear);
  return linear;
}

}  // namespace ablate::sdk
