// A component's measured cost (see measured_cost.h).
#include "measured_cost.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/record_function.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

namespace ablate {

struct MatmulFlopCounterAccess {
  static void add(MatmulFlopCounter* counter, double flops) {
    for (; counter != nullptr; counter = counter->outer_) counter->flops_ += flops;
  }
  static MatmulFlopCounter* outer(const MatmulFlopCounter& counter) { return counter.outer_; }
};

namespace {

// RecordFunction callbacks are plain function pointers: their state is per thread, like the
// callback itself (addThreadLocalCallback).
thread_local MatmulFlopCounter* innermost = nullptr;
thread_local int open_counted = 0;  // counted operators now running on this thread
thread_local at::CallbackHandle callback_handle = 0;

std::optional<std::vector<std::int64_t>> sizes_at(c10::ArrayRef<const c10::IValue> inputs, std::size_t i) {
  if (i >= inputs.size() || !inputs[i].isTensor()) return std::nullopt;
  const auto& t = inputs[i].toTensor();
  if (!t.defined()) return std::nullopt;
  return t.sizes().vec();
}

double product(const std::vector<std::int64_t>& sizes, std::size_t begin, std::size_t end) {
  double p = 1;
  for (std::size_t i = begin; i < end; ++i) p *= static_cast<double>(sizes[i]);
  return p;
}

// (n, m) @ (m, p)
std::optional<double> mm(const std::optional<std::vector<std::int64_t>>& a,
                         const std::optional<std::vector<std::int64_t>>& b) {
  if (!a || !b || a->size() != 2 || b->size() != 2) return std::nullopt;
  return 2.0 * product(*a, 0, 2) * static_cast<double>((*b)[1]);
}

// (G, n, m) @ (G, m, p)
std::optional<double> bmm(const std::optional<std::vector<std::int64_t>>& a,
                          const std::optional<std::vector<std::int64_t>>& b) {
  if (!a || !b || a->size() != 3 || b->size() != 3) return std::nullopt;
  return 2.0 * product(*a, 0, 3) * static_cast<double>((*b)[2]);
}

// at::matmul's rules: 1-D operands are a row (left) or a column (right), batch dimensions broadcast.
std::optional<double> matmul(const std::optional<std::vector<std::int64_t>>& a,
                             const std::optional<std::vector<std::int64_t>>& b) {
  if (!a || !b || a->empty() || b->empty()) return std::nullopt;
  const std::size_t da = a->size(), db = b->size();
  const double m = static_cast<double>(a->back());
  const double n = da >= 2 ? static_cast<double>((*a)[da - 2]) : 1.0;
  const double p = db >= 2 ? static_cast<double>(b->back()) : 1.0;
  const std::size_t ba = da >= 2 ? da - 2 : 0, bb = db >= 2 ? db - 2 : 0;  // batch dimensions of each
  double batch = 1;
  for (std::size_t i = 0; i < std::max(ba, bb); ++i) {  // aligned from the right
    const std::int64_t x = i < ba ? (*a)[ba - 1 - i] : 1, y = i < bb ? (*b)[bb - 1 - i] : 1;
    batch *= static_cast<double>(std::max(x, y));
  }
  return 2.0 * batch * n * m * p;
}

// _grouped_mm: the jagged dimension (given by offs) is counted once over all groups.
//   a (M, K) · b (G, K, N) → 2·M·K·N      a (G, M, K) · b (K, N) → 2·M·K·N
//   a (M, K) · b (K, N)    → 2·M·K·N      a (G, M, K) · b (G, K, N) → 2·G·M·K·N
std::optional<double> grouped_mm(const std::optional<std::vector<std::int64_t>>& a,
                                 const std::optional<std::vector<std::int64_t>>& b) {
  if (!a || !b || a->size() < 2 || a->size() > 3 || b->size() < 2 || b->size() > 3) return std::nullopt;
  const double n = static_cast<double>(b->back());
  if (a->size() == 3 && b->size() == 3) return 2.0 * product(*a, 0, 3) * n;
  return 2.0 * static_cast<double>(a->at(a->size() - 2)) * static_cast<double>(a->back()) * n;
}

// q (..., L, E), k (..., S, E), v (..., S, Ev) → 2·(batch·heads of q)·L·S·(E + Ev): every query
// against every key (the full window, masks ignored: sdk/flops.h), with q's heads under GQA.
std::optional<double> attention(const std::optional<std::vector<std::int64_t>>& q,
                                const std::optional<std::vector<std::int64_t>>& k,
                                const std::optional<std::vector<std::int64_t>>& v) {
  if (!q || !k || !v || q->size() < 2 || k->size() < 2 || v->size() < 2) return std::nullopt;
  const double S = static_cast<double>((*k)[k->size() - 2]);
  const double E = static_cast<double>(q->back()), Ev = static_cast<double>(v->back());
  return 2.0 * product(*q, 0, q->size() - 1) * S * (E + Ev);
}

constexpr std::string_view kAttentionOps[] = {
    "aten::scaled_dot_product_attention",
    "aten::_scaled_dot_product_attention_math",
    "aten::_scaled_dot_product_flash_attention",
    "aten::_scaled_dot_product_flash_attention_for_cpu",
    "aten::_scaled_dot_product_efficient_attention",
    "aten::_scaled_dot_product_cudnn_attention",
    "aten::_scaled_dot_product_fused_attention_overrideable",
};

/// FLOPs of one call of `name`; nullopt for an operator that is not a matrix product (or inputs it
/// cannot read), which is then not counted and does not hide the operators it runs.
std::optional<double> matmul_flops(std::string_view name, c10::ArrayRef<const c10::IValue> in) {
  const auto at = [&](std::size_t i) { return sizes_at(in, i); };
  if (name == "aten::mm") return mm(at(0), at(1));
  if (name == "aten::addmm" || name == "aten::_addmm_activation") return mm(at(1), at(2));
  if (name == "aten::bmm") return bmm(at(0), at(1));
  if (name == "aten::baddbmm" || name == "aten::addbmm") return bmm(at(1), at(2));
  if (name == "aten::mv") return matmul(at(0), at(1));
  if (name == "aten::addmv") return matmul(at(1), at(2));
  if (name == "aten::dot" || name == "aten::vdot") return matmul(at(0), at(1));
  if (name == "aten::matmul") return matmul(at(0), at(1));
  if (name == "aten::_grouped_mm") return grouped_mm(at(0), at(1));
  if (name == "aten::linear") {  // input (..., in), weight (out, in) or (in)
    const auto x = at(0), w = at(1);
    if (!x || !w || x->empty() || w->empty() || w->size() > 2) return std::nullopt;
    return 2.0 * product(*x, 0, x->size()) * (w->size() == 2 ? static_cast<double>((*w)[0]) : 1.0);
  }
  for (const auto op : kAttentionOps)
    if (name == op) return attention(at(0), at(1), at(2));
  return std::nullopt;
}

struct Counted : at::ObserverContext {};

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
  // Nothing on a thread without a counter (callbacks can travel to worker threads with the
  // thread-local state); nothing inside a counted operator (its own leaves would count it twice).
  if (innermost == nullptr || open_counted > 0) return nullptr;
  const auto flops = matmul_flops(fn.name(), fn.inputs());
  if (!flops) return nullptr;
  MatmulFlopCounterAccess::add(innermost, *flops);
  ++open_counted;
  return std::make_unique<Counted>();
}

void on_end(const at::RecordFunction&, at::ObserverContext* context) {
  if (context != nullptr) --open_counted;  // only counted operators get a context
}

struct ModeRestorer {
  torch::nn::Module& module;
  bool training;
  ~ModeRestorer() { module.train(training); }
};

// Whole tensors, not elements: a ReLU MLP's hidden units that are off for this token get a zero
// gradient in their rows of W1 and W2, yet the plugin rightly declares W1 and W2 active (the
// matmuls run over them). A tensor of 3 or more dimensions is taken as experts stacked along dim 0
// (E, ...), and counts the experts whose slice has a nonzero gradient.
std::int64_t count_active(const at::Tensor& param, const at::Tensor& grad) {
  if (!grad.defined()) return 0;
  const auto nonzero = grad.ne(0);
  if (param.dim() >= 3 && param.size(0) > 0)
    return nonzero.flatten(1).any(1).sum().item<std::int64_t>() * (param.numel() / param.size(0));
  return nonzero.any().item<bool>() ? param.numel() : 0;
}

}  // namespace

MatmulFlopCounter::MatmulFlopCounter() : outer_(innermost) {
  innermost = this;
  if (outer_ == nullptr) {
    callback_handle = at::addThreadLocalCallback(at::RecordFunctionCallback(&on_start, &on_end)
                                                     .needsInputs(true)
                                                     .scopes({at::RecordScope::FUNCTION}));
  }
}

MatmulFlopCounter::~MatmulFlopCounter() {
  innermost = outer_;
  if (outer_ == nullptr) {
    at::removeCallback(callback_handle);
    open_counted = 0;
  }
}

MeasuredCost measure_cost(sdk::ComponentImpl& module, std::int64_t d_model, std::int64_t seq_len, std::int64_t batch) {
  TORCH_CHECK(d_model > 0 && seq_len > 0 && batch > 0, "measure_cost: d_model, seq_len and batch must be positive");
  std::vector<at::Tensor> params;
  MeasuredCost cost;
  at::TensorOptions input_options = at::TensorOptions().dtype(at::kFloat);
  bool typed = false;
  for (const auto& p : module.parameters()) {
    if (!typed && at::isFloatingType(p.scalar_type())) {
      input_options = p.options().requires_grad(false);
      typed = true;
    }
    if (!p.requires_grad()) continue;
    params.push_back(p);
    cost.params_total += p.numel();
  }

  ModeRestorer restore{module, module.is_training()};
  module.eval();  // no dropout, no router noise: the FLOPs of the computation itself
  auto generator = at::make_generator<at::CPUGeneratorImpl>(20240531);
  const auto x = at::randn({batch, seq_len, d_model}, generator).to(input_options);
  {
    torch::NoGradGuard no_grad;
    MatmulFlopCounter counter;
    module.forward(x);
    cost.flops_per_token = counter.flops() / static_cast<double>(batch * seq_len);
  }

  if (params.empty()) return cost;
  // One token's parameters, for two tokens of row 0: the last (attention reads every key there)
  // and the first (a capacity never drops it: it comes first in its sequence); the larger count.
  torch::AutoGradMode grad_on(true);
  for (const std::int64_t position : {seq_len - 1, std::int64_t{0}}) {
    const auto out = module.forward(x);
    TORCH_CHECK(out.dim() == 3 && out.size(0) == batch && out.size(1) == seq_len,
                "measure_cost: the module returned shape ", out.sizes(), " for input ", x.sizes());
    const auto token = out[0][position];
    const auto r = at::randn({token.size(0)}, generator).to(token.options().requires_grad(false));
    const auto loss = (token * r).sum();
    if (!loss.requires_grad()) continue;  // no parameter reaches this output
    const auto grads = torch::autograd::grad({loss}, params, {}, /*retain_graph=*/false, /*create_graph=*/false,
                                             /*allow_unused=*/true);
    std::int64_t active = 0;
    for (std::size_t i = 0; i < params.size(); ++i) active += count_active(params[i], grads[i]);
    cost.params_active = std::max(cost.params_active, active);
  }
  return cost;
}

}  // namespace ablate
