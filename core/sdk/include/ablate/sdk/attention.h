// ablate SDK: causal scaled-dot-product attention with an explicit backend, shared by every
// attention plugin. The mask is always causal: no plugin passes its own mask, so none can get it
// wrong (the seed experiments' DeepSeek attention added an all-true mask that masked nothing).
//
//   at::Tensor y = causal_attention(q, k, v, {.backend = "auto", .dropout = 0.0, .scale = s});
//
// Backends: auto (LibTorch picks), math (the reference kernel, any device), flash, efficient,
// cudnn (CUDA only). A backend that cannot run here is an error, never a silent fallback.
#pragma once

#include <optional>
#include <string>

#include <ATen/core/Tensor.h>

namespace ablate::sdk {

struct AttentionCall {
  std::string backend = "auto";  // auto | math | flash | efficient | cudnn
  double dropout = 0.0;          // attention-probability dropout (pass 0 in evaluation)
  std::optional<double> scale;   // softmax scale; default 1/sqrt(head_dim)
};

/// The attention backends an `AttentionCall` accepts, "|"-separated (for option schemas).
inline constexpr const char* kAttentionBackends = "auto|math|flash|efficient|cudnn";

/// q: (B, H, T, Dqk), k: (B, Hkv, T, Dqk), v: (B, Hkv, T, Dv), H a multiple of Hkv → (B, H, T, Dv).
at::Tensor causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const AttentionCall& call);

}  // namespace ablate::sdk
