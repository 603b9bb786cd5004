// The causality check (see causality.h).
#include "ablate/causality.h"

#include <algorithm>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/utils.h>

namespace ablate {

std::string CausalityResult::describe() const {
  if (causal) return fmt::format("causal (largest change before a modified position: {:.2e})", max_leak);
  return fmt::format("NOT causal: changing tokens after position {} changed outputs at or before it by {:.3e}",
                     position, max_leak);
}

CausalityResult check_causality(sdk::ComponentImpl& attention, std::int64_t d_model, std::int64_t seq_len) {
  torch::NoGradGuard no_grad;
  const std::int64_t T = std::max<std::int64_t>(4, std::min<std::int64_t>(seq_len, 32));
  const auto device = attention.parameters().empty() ? c10::Device(c10::kCPU) : attention.parameters()[0].device();
  auto generator = at::make_generator<at::CPUGeneratorImpl>(12345);
  const auto x = at::randn({2, T, d_model}, generator).to(device);
  const auto forward_seeded = [&](const at::Tensor& input) {
    torch::manual_seed(777);  // identical dropout masks in training mode
    return attention.forward(input).to(at::kDouble);
  };
  const auto reference = forward_seeded(x);
  const double scale = std::max(1e-6, reference.abs().max().item<double>());

  CausalityResult result;
  for (const std::int64_t t : {std::int64_t{0}, T / 3, T / 2, T - 2}) {
    auto changed = x.clone();
    changed.slice(1, t + 1, T).copy_(at::randn({2, T - t - 1, d_model}, generator).to(device) * 3.0);
    const auto out = forward_seeded(changed);
    const double leak = (out.slice(1, 0, t + 1) - reference.slice(1, 0, t + 1)).abs().max().item<double>() / scale;
    if (leak > result.max_leak) {
      result.max_leak = leak;
      result.position = t;
    }
  }
  result.causal = result.max_leak <= 1e-5;
  return result;
}

}  // namespace ablate
