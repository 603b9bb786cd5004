// ablate SDK: small pieces of math that several plugins share, kept once here.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/modules/linear.h>

namespace ablate::sdk {

/// x · rsqrt(mean(x², last dim) + eps) · weight, computed in fp32 and cast back to x's dtype.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

/// The skeleton's initialisation (docs/components.md, "Model skeleton"): weight ~ normal(0, 0.02),
/// bias = 0.
void init_linear(torch::nn::Linear& linear);

/// A bias-free (or biased) Linear(in, out), initialised with init_linear.
torch::nn::Linear make_linear(std::int64_t in, std::int64_t out, bool bias);

}  // namespace ablate::sdk
