// MoE token dispatch (see moe_dispatch.h): sorted (grouped GEMM or per-expert blocks) and
// fixed-capacity (batched matmul) strategies, plus recognition of the built-in expert MLPs.
#include "ablate/sdk/moe_dispatch.h"

#include <cmath>
#include <map>
#include <stdexcept>

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <torch/nn/modules/dropout.h>

namespace ablate::sdk {

MoeDispatch parse_moe_dispatch(const std::string& text) {
  if (text == "sorted") return MoeDispatch::sorted;
  if (text == "capacity") return MoeDispatch::capacity;
  throw std::invalid_argument("unknown MoE dispatch '" + text + "' (expected sorted or capacity)");
}

std::int64_t moe_capacity(std::int64_t n_tokens, std::int64_t top_k, std::int64_t n_experts, double capacity_factor) {
  return static_cast<std::int64_t>(
      std::ceil(capacity_factor * static_cast<double>(n_tokens * top_k) / static_cast<double>(n_experts)));
}

namespace {

// Which parameters each built-in expert MLP has (plugins/mlp/*.cpp), and where they go.
struct BuiltinLayout {
  StackedExperts::Activation activation;
  std::vector<std::string> names;  // exactly the module's parameter names
};

std::optional<BuiltinLayout> builtin_layout(const std::string& plugin) {
  using A = StackedExperts::Activation;
  if (plugin == "silu") return BuiltinLayout{A::silu, {"w1.weight", "w2.weight"}};
  if (plugin == "swiglu") return BuiltinLayout{A::silu, {"gate.weight", "up.weight", "down.weight"}};
  if (plugin == "gelu") return BuiltinLayout{A::gelu, {"w1.weight", "w1.bias", "w2.weight", "w2.bias"}};
  return std::nullopt;
}

std::optional<StackedExperts> stack_builtin(const ComponentSpec& expert,
                                            const std::vector<std::shared_ptr<ComponentImpl>>& modules) {
  const auto layout = builtin_layout(expert.plugin);
  if (!layout || modules.empty()) return std::nullopt;
  std::map<std::string, std::vector<at::Tensor>> columns;
  for (const auto& m : modules) {
    const auto params = m->named_parameters(/*recurse=*/true);
    if (params.size() != layout->names.size()) return std::nullopt;
    for (const auto& name : layout->names) {
      const at::Tensor* p = params.find(name);
      if (p == nullptr) return std::nullopt;
      columns[name].push_back(*p);
    }
  }
  const auto stacked = [&](const std::string& name) { return at::stack(columns.at(name)); };
  StackedExperts s;
  s.activation = layout->activation;
  s.training = modules.front()->is_training();
  if (const auto children = modules.front()->named_children(); children.contains("drop")) {
    const auto* drop = children["drop"]->as<torch::nn::DropoutImpl>();
    if (drop == nullptr) return std::nullopt;
    s.dropout = drop->options.p();
  }
  if (expert.plugin == "swiglu") {
    s.w_in = stacked("gate.weight");
    s.w_up = stacked("up.weight");
    s.w_out = stacked("down.weight");
  } else {
    s.w_in = stacked("w1.weight");
    s.w_out = stacked("w2.weight");
    if (expert.plugin == "gelu") {
      s.b_in = stacked("w1.bias");
      s.b_out = stacked("w2.bias");
    }
  }
  return s;
}

// The hidden activation of the built-in MLPs from the input projection(s).
at::Tensor activate(const StackedExperts& s, const at::Tensor& h_in, const at::Tensor& h_up) {
  at::Tensor h = s.activation == StackedExperts::Activation::gelu ? at::gelu(h_in) : at::silu(h_in);
  if (h_up.defined()) h = h * h_up;
  return s.dropout > 0 ? at::dropout(h, s.dropout, s.training) : h;
}

// bf16 grouped GEMM applies when the rows live on CUDA and run in bf16 (directly or by autocast).
bool grouped_gemm_applies(const at::Tensor& x, const MoeExperts& experts) {
  if (!experts.stacked || !x.is_cuda()) return false;
  if (x.scalar_type() == at::kBFloat16) return true;
  return at::autocast::is_autocast_enabled(at::kCUDA) && at::autocast::get_autocast_dtype(at::kCUDA) == at::kBFloat16;
}

// Sorted rows (M, d) with block ends `offsets` (E,) int32 → (M, d), one grouped GEMM per linear.
// _grouped_mm takes mat2 as (E, in, out); the stacked (out, in) weights are transposed views.
at::Tensor grouped_mlp(const StackedExperts& s, const at::Tensor& rows, const at::Tensor& offsets,
                       const at::Tensor& sorted_expert) {
  // Operands are cast to bf16 here: autocast has no rule for _grouped_mm.
  const auto bf16 = [](const at::Tensor& t) { return t.to(at::kBFloat16); };
  const auto a = bf16(rows);
  at::Tensor h_in = at::_grouped_mm(a, bf16(s.w_in).transpose(1, 2), offsets);
  if (s.b_in.defined()) h_in = h_in + bf16(s.b_in).index_select(0, sorted_expert);
  const at::Tensor h_up = s.w_up.defined() ? at::_grouped_mm(a, bf16(s.w_up).transpose(1, 2), offsets) : at::Tensor();
  at::Tensor y = at::_grouped_mm(activate(s, h_in, h_up), bf16(s.w_out).transpose(1, 2), offsets);
  if (s.b_out.defined()) y = y + bf16(s.b_out).index_select(0, sorted_expert);
  return y;
}

// (E, C, d) buffers → (E, C, d) through the stacked MLP as batched matmuls.
at::Tensor batched_mlp(const StackedExperts& s, const at::Tensor& buffers) {
  at::Tensor h_in = at::bmm(buffers, s.w_in.transpose(1, 2));
  if (s.b_in.defined()) h_in = h_in + s.b_in.unsqueeze(1);
  const at::Tensor h_up = s.w_up.defined() ? at::bmm(buffers, s.w_up.transpose(1, 2)) : at::Tensor();
  at::Tensor y = at::bmm(activate(s, h_in, h_up), s.w_out.transpose(1, 2));
  if (s.b_out.defined()) y = y + s.b_out.unsqueeze(1);
  return y;
}

// y_n = Σ_j w_{n,j} · out_{n·k+j}: assignment rows are in token-major order (flat index n·k + j).
at::Tensor combine(const at::Tensor& assignment_out, const at::Tensor& weights) {
  const std::int64_t N = weights.size(0), k = weights.size(1);
  const auto w = weights.to(assignment_out.scalar_type()).unsqueeze(-1);  // (N, k, 1)
  return (assignment_out.view({N, k, -1}) * w).sum(1);
}

MoeDispatchResult dispatch_sorted(const at::Tensor& x, const at::Tensor& flat_expert, const at::Tensor& counts,
                                  const at::Tensor& weights, const MoeExperts& experts) {
  const std::int64_t k = weights.size(1);
  const auto order = std::get<1>(flat_expert.sort(/*stable=*/true, 0, false));  // (N·k) assignment ids
  const auto token_of = at::div(order, k, "floor");
  const auto rows = x.index_select(0, token_of);  // (N·k, d), grouped by expert
  at::Tensor sorted_out;
  if (grouped_gemm_applies(x, experts)) {
    const auto offsets = counts.cumsum(0).to(at::kInt);  // block ends, on the device: no sync
    sorted_out = grouped_mlp(*experts.stacked, rows, offsets, flat_expert.index_select(0, order));
  } else {
    const auto counts_host = counts.cpu();  // block sizes on the host: fine off the GPU fast path
    const auto* count = counts_host.data_ptr<std::int64_t>();
    std::vector<at::Tensor> blocks;
    std::int64_t start = 0;
    for (std::int64_t e = 0; e < experts.count; ++e) {
      if (count[e] == 0) continue;
      blocks.push_back(experts.call(e, rows.narrow(0, start, count[e])));
      start += count[e];
    }
    sorted_out = at::cat(blocks, 0);
  }
  // Back to assignment order: position order[i] holds sorted row i.
  const auto inverse = at::empty_like(order).scatter_(0, order, at::arange(order.size(0), order.options()));
  return {combine(sorted_out.index_select(0, inverse), weights), counts, at::zeros_like(counts)};
}

// Capacity per sequence: each of the S sequences gives every expert C rows, ranked in token order
// within the sequence, so whether an assignment is dropped depends only on the tokens before it in
// its own sequence (the causality proof checks exactly that). One sequence (S = 1) is the whole batch.
MoeDispatchResult dispatch_capacity(const at::Tensor& x, const at::Tensor& flat_expert, const at::Tensor& counts,
                                    const at::Tensor& weights, const MoeExperts& experts, double capacity_factor,
                                    std::int64_t sequences) {
  const std::int64_t N = weights.size(0), k = weights.size(1), E = experts.count, d = x.size(1);
  const std::int64_t S = sequences, per_sequence = N / S;
  const std::int64_t C = moe_capacity(per_sequence, k, E, capacity_factor);
  // Rank of each assignment among those of its expert in its sequence, in token order: a cumulative
  // one-hot count along the sequence.
  const auto by_sequence = flat_expert.view({S, per_sequence * k});                       // (S, T·k)
  const auto one_hot = at::one_hot(by_sequence, E);                                       // (S, T·k, E)
  const auto rank = (one_hot.cumsum(1) - 1).gather(2, by_sequence.unsqueeze(2)).squeeze(2).flatten();  // (N·k)
  const auto kept = rank < C;
  // Buffer row of each assignment: expert-major, then sequence, then rank; dropped ones all go to
  // one extra row that nothing reads.
  const auto sequence_of = at::div(at::arange(N * k, flat_expert.options()), per_sequence * k, "floor");
  const auto slot = at::where(kept, (flat_expert * S + sequence_of) * C + rank, at::full_like(rank, E * S * C));
  const auto token_of = at::div(at::arange(N * k, flat_expert.options()), k, "floor");
  const auto buffers = at::zeros({E * S * C + 1, d}, x.options()).index_copy(0, slot, x.index_select(0, token_of));
  const auto inputs = buffers.narrow(0, 0, E * S * C).view({E, S * C, d});
  at::Tensor outputs;  // (E, S·C, d)
  if (experts.stacked) {
    outputs = batched_mlp(*experts.stacked, inputs);
  } else {
    std::vector<at::Tensor> per_expert;
    for (std::int64_t e = 0; e < E; ++e) per_expert.push_back(experts.call(e, inputs[e]));
    outputs = at::stack(per_expert);
  }
  // Dropped assignments read a zero row, so they add nothing to their token's output.
  const auto padded = at::cat({outputs.reshape({E * S * C, d}), at::zeros({1, d}, outputs.options())});
  const auto dropped = at::zeros({E}, counts.options())
                           .scatter_add_(0, flat_expert, kept.logical_not().to(counts.scalar_type()));
  return {combine(padded.index_select(0, slot), weights), counts, dropped};
}

}  // namespace

MoeExperts moe_experts(const ComponentSpec& expert, const std::vector<std::shared_ptr<ComponentImpl>>& modules) {
  MoeExperts experts;
  experts.count = static_cast<std::int64_t>(modules.size());
  experts.call = [modules](std::int64_t e, const at::Tensor& rows) {
    return modules[static_cast<std::size_t>(e)]->forward(rows.unsqueeze(0)).squeeze(0);  // modules take (B, T, d)
  };
  experts.stacked = stack_builtin(expert, modules);
  return experts;
}

MoeDispatchResult moe_dispatch(const at::Tensor& x, const at::Tensor& expert_index, const at::Tensor& weights,
                               const MoeExperts& experts, const MoeDispatchOptions& options) {
  // (B, T, d): B sequences, capacity per sequence; (N, d): one sequence of N tokens.
  const bool by_sequence = x.dim() == 3;
  const auto flat = by_sequence ? x.reshape({-1, x.size(2)}) : x;
  if (flat.dim() != 2 || expert_index.dim() != 2 || weights.sizes() != expert_index.sizes() ||
      expert_index.size(0) != flat.size(0))
    throw std::invalid_argument("moe_dispatch wants x (B, T, d) or (N, d), expert_index (N, k) and weights (N, k)");
  const auto flat_expert = expert_index.flatten().to(at::kLong);  // (N·k), assignment n·k + j
  // Per-expert counts without a host read (bincount would read the maximum back).
  const auto counts = at::zeros({experts.count}, flat_expert.options()).scatter_add_(0, flat_expert, at::ones_like(flat_expert));
  if (options.strategy == MoeDispatch::capacity)
    return dispatch_capacity(flat, flat_expert, counts, weights, experts, options.capacity_factor,
                             by_sequence ? x.size(0) : 1);
  return dispatch_sorted(flat, flat_expert, counts, weights, experts);
}

}  // namespace ablate::sdk
