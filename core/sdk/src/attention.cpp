// Causal attention through LibTorch's scaled-dot-product kernels with a chosen backend.
// The fused backends are selected by switching LibTorch's global SDP flags for the duration of
// one call (LibTorch has no C++ context manager for this) and restoring them afterwards.
#include "ablate/sdk/attention.h"

#include <stdexcept>

#include <ATen/ATen.h>
#include <ATen/Context.h>

namespace ablate::sdk {
namespace {

// Enables exactly one fused backend, restores every flag on destruction.
class SdpBackendGuard {
 public:
  explicit SdpBackendGuard(const std::string& backend) {
    auto& ctx = at::globalContext();
    ctx.setSDPUseFlash(backend == "flash");
    ctx.setSDPUseMemEfficient(backend == "efficient");
    ctx.setSDPUseCuDNN(backend == "cudnn");
    ctx.setSDPUseMath(false);
  }
  ~SdpBackendGuard() {
    auto& ctx = at::globalContext();
    ctx.setSDPUseFlash(flash_);
    ctx.setSDPUseMemEfficient(efficient_);
    ctx.setSDPUseCuDNN(cudnn_);
    ctx.setSDPUseMath(math_);
  }
  SdpBackendGuard(const SdpBackendGuard&) = delete;
  SdpBackendGuard& operator=(const SdpBackendGuard&) = delete;

 private:
  bool flash_ = at::globalContext().userEnabledFlashSDP();
  bool efficient_ = at::globalContext().userEnabledMemEfficientSDP();
  bool cudnn_ = at::globalContext().userEnabledCuDNNSDP();
  bool math_ = at::globalContext().userEnabledMathSDP();
};

}  // namespace

at::Tensor causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const AttentionCall& call) {
  const bool gqa = q.size(1) != k.size(1);
  if (call.backend == "auto")
    return at::scaled_dot_product_attention(q, k, v, {}, call.dropout, /*is_causal=*/true, call.scale, gqa);
  if (call.backend == "math")
    return std::get<0>(at::_scaled_dot_product_attention_math(q, k, v, {}, call.dropout,
                                                              /*is_causal=*/true, {}, call.scale, gqa));
  if (call.backend == "flash" || call.backend == "efficient" || call.backend == "cudnn") {
    if (!q.is_cuda())
      throw std::runtime_error("attention backend '" + call.backend + "' needs a CUDA device, but this run is on " +
                               q.device().str() + " (use backend: auto or math)");
    SdpBackendGuard guard(call.backend);
    try {
      return at::scaled_dot_product_attention(q, k, v, {}, call.dropout, true, call.scale, gqa);
    } catch (const std::exception& e) {
      throw std::runtime_error("attention backend '" + call.backend + "' cannot run these inputs (" +
                               std::string(q.dtype().name()) + ", head dim " + std::to_string(q.size(-1)) +
                               "): " + e.what());
    }
  }
  throw std::invalid_argument("unknown attention backend '" + call.backend + "' (known: " +
                              kAttentionBackends + ")");
}

}  // namespace ablate::sdk
