// ablate SDK: the token dispatch of every MoE plugin, written once. Given N tokens, the k experts
// each token chose and their combine weights, it runs the experts and returns
//   y_n = Σ_j w_{n,j} · expert_{e_{n,j}}(x_n).
//
//   MoeExperts experts = moe_experts(expert_spec, expert_modules);   // once per forward
//   MoeDispatchResult r = moe_dispatch(flat, top_experts, weights, experts, {.strategy = ...});
//
// Two strategies (plugin option `dispatch`):
//  - sorted: the N·k (token, slot) assignments are sorted by expert so that each expert owns one
//    contiguous block. On CUDA, with bf16 (input or autocast) and built-in expert MLPs, the blocks
//    go through at::_grouped_mm with the block ends as an int32 device tensor: no host sync and no
//    per-expert loop (fast on Hopper/Blackwell; LibTorch falls back to a loop elsewhere). Otherwise
//    (CPU, fp32, or an expert plugin this file does not know) each expert runs on its block, whose
//    size is read on the host.
//  - capacity: every expert gets a fixed buffer of C = ceil(capacity_factor · T · k / E) rows per
//    sequence of T tokens (x given as (B, T, d)), or per call when x is (N, d) (T = N);
//    assignments beyond an expert's C (in token order within the sequence) are dropped — they add
//    nothing to y — and counted per expert. Per sequence, a token's drop depends only on the
//    tokens before it in its own sequence: no sequence of a batch sees another (a capacity shared
//    by the whole batch fails ablate's causality proof). All shapes depend on B, T, k, E only, so
//    the step can be captured in a CUDA graph; built-in MLPs run as batched matmuls over the
//    (E, B·C, d) buffer.
// The combine is a weighted sum over each token's k slots (no atomics: deterministic).
//
// Built-in expert MLPs (mlp silu, swiglu, gelu) are recognised by plugin name and parameter names;
// their weights are stacked along a leading expert dimension on every forward (a copy of the
// expert weights; gradients flow back to each expert's own parameters, whose names, counts and
// initialisation stay those of the per-expert modules). Any other expert is called per expert.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ablate/sdk/component.h"
#include "ablate/sdk/options.h"
#include "ablate/sdk/plugin_abi.h"

namespace ablate::sdk {

enum class MoeDispatch { sorted, capacity };

/// "sorted" | "capacity"; anything else throws std::invalid_argument.
MoeDispatch parse_moe_dispatch(const std::string& text);

/// The built-in expert MLPs' weights stacked over experts (E first). Linear weights keep
/// LibTorch's (out, in) layout.
struct StackedExperts {
  enum class Activation { silu, gelu };
  Activation activation = Activation::silu;
  at::Tensor w_in;   // (E, f, d): silu/gelu W1, swiglu W_gate
  at::Tensor w_up;   // (E, f, d): swiglu W_up; undefined otherwise
  at::Tensor w_out;  // (E, d, f): W2 / W_down
  at::Tensor b_in;   // (E, f): gelu b1; undefined otherwise
  at::Tensor b_out;  // (E, d): gelu b2; undefined otherwise
  double dropout = 0.0;  // on the hidden activation, as the expert module applies it
  bool training = false;
};

/// One expert applied to rows: (n, d) → (n, d).
using ExpertCall = std::function<at::Tensor(std::int64_t expert, const at::Tensor& rows)>;

struct MoeExperts {
  std::int64_t count = 0;
  ExpertCall call;                       // always set
  std::optional<StackedExperts> stacked;  // set for built-in MLPs: enables grouped / batched matmuls
};

/// The experts of one MoE layer, built from `expert` by the plugin: per-expert calls, plus stacked
/// weights when `expert` is a built-in MLP whose modules have the expected parameters.
MoeExperts moe_experts(const ComponentSpec& expert, const std::vector<std::shared_ptr<ComponentImpl>>& modules);

struct MoeDispatchOptions {
  MoeDispatch strategy = MoeDispatch::sorted;
  double capacity_factor = 1.25;  // capacity only
};

struct MoeDispatchResult {
  at::Tensor output;   // (N, d)
  at::Tensor counts;   // (E,) int64: assignments routed to each expert (before any drop)
  at::Tensor dropped;  // (E,) int64 on the device: of those, dropped over capacity (zeros for sorted)
};

/// Rows per expert of the capacity strategy: ceil(capacity_factor · n_tokens · top_k / n_experts),
/// n_tokens being the tokens of one sequence (or of the call, for (N, d) inputs).
std::int64_t moe_capacity(std::int64_t n_tokens, std::int64_t top_k, std::int64_t n_experts, double capacity_factor);

/// Expert rows computed per token, for cost(): k under sorted dispatch; E · C / T under capacity
/// (every expert's C rows per sequence of T tokens are computed, padding included).
inline double moe_expert_rows_per_token(const MoeDispatchOptions& options, std::int64_t top_k, std::int64_t n_experts,
                                        std::int64_t seq_len) {
  if (options.strategy != MoeDispatch::capacity || seq_len <= 0) return static_cast<double>(top_k);
  return static_cast<double>(n_experts * moe_capacity(seq_len, top_k, n_experts, options.capacity_factor)) /
         static_cast<double>(seq_len);
}

/// x: (B, T, d) (capacity per sequence) or (N, d); expert_index: (N, k) int64 in [0, E), N = B·T;
/// weights: (N, k), any float type.
MoeDispatchResult moe_dispatch(const at::Tensor& x, const at::Tensor& expert_index, const at::Tensor& weights,
                               const MoeExperts& experts, const MoeDispatchOptions& options);

/// The option rows every MoE plugin declares for the dispatch.
constexpr OptionSpec moe_dispatch_option() {
  return {.name = "dispatch", .type = OptionType::string, .default_value = "sorted",
          .doc = "token dispatch: sorted (grouped GEMM on CUDA bf16, exact) or capacity (fixed buffers, "
                 "static shapes, drops overflow)",
          .choices = "sorted|capacity"};
}
constexpr OptionSpec moe_capacity_factor_option() {
  return {.name = "capacity_factor", .type = OptionType::number, .default_value = "1.25",
          .doc = "dispatch capacity: rows per expert and sequence = ceil(factor * seq_len * top_k / n_experts)",
          .min = 0.0};
}

}  // namespace ablate::sdk
