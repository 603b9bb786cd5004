// ablate SDK: forward FLOP and parameter counting shared by every plugin, so that all components
// count the same way: a multiply-add is 2 FLOPs, elementwise work is ignored (it is small beside
// the matrix products and differs between kernels).
#pragma once

#include <cstdint>

namespace ablate::sdk::flops {

/// Parameters of Linear(in, out), with or without bias.
constexpr std::int64_t linear_params(std::int64_t in, std::int64_t out, bool bias = false) {
  return in * out + (bias ? out : 0);
}

/// Forward FLOPs per token of Linear(in, out).
constexpr double linear(std::int64_t in, std::int64_t out) {
  return 2.0 * static_cast<double>(in) * static_cast<double>(out);
}

/// Forward FLOPs per token of attention scores and weighted sum over a window of T keys:
/// q·k over qk_dim and p·v over v_dim per head. Counted over the full window (the convention of
/// 6N + 12·L·d·T), not halved for the causal mask.
constexpr double attention_scores(std::int64_t n_heads, std::int64_t qk_dim, std::int64_t v_dim,
                                  std::int64_t seq_len) {
  return 2.0 * static_cast<double>(n_heads) * static_cast<double>(seq_len) *
         static_cast<double>(qk_dim + v_dim);
}

}  // namespace ablate::sdk::flops
