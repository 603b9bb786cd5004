// FusedAdamW (see fused_adamw.h).
#include "ablate/fused_adamw.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

namespace ablate {

torch::Tensor FusedAdamW::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  group_lrs_.resize(param_groups_.size());
  for (std::size_t g = 0; g < param_groups_.size(); ++g) {
    auto& group = param_groups_[g];
    const auto& options = static_cast<const torch::optim::AdamWOptions&>(group.options());
    std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps;
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      TORCH_CHECK(!p.grad().is_sparse(), "FusedAdamW does not take sparse gradients");
      auto& slot = state_[p.unsafeGetTensorImpl()];
      if (!slot) {  // first step of this parameter: AdamW's own initial state
        auto fresh = std::make_unique<torch::optim::AdamWParamState>();
        fresh->exp_avg(torch::zeros_like(p, at::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, at::MemoryFormat::Preserve));
        if (options.amsgrad()) fresh->max_exp_avg_sq(torch::zeros_like(p, at::MemoryFormat::Preserve));
        slot = std::move(fresh);
      }
      auto& state = static_cast<torch::optim::AdamWParamState&>(*slot);
      auto& device_step = device_steps_[p.unsafeGetTensorImpl()];
      if (!device_step.defined())
        device_step = at::full({}, static_cast<double>(state.step()), p.options().dtype(at::kFloat));
      state.step(state.step() + 1);  // the host copy; the device copy is advanced below
      params.push_back(p);
      grads.push_back(p.grad());
      exp_avgs.push_back(state.exp_avg());
      exp_avg_sqs.push_back(state.exp_avg_sq());
      if (options.amsgrad()) max_exp_avg_sqs.push_back(state.max_exp_avg_sq());
      steps.push_back(device_step);
    }
    if (params.empty()) continue;
    auto& lr = group_lrs_[g];
    if (!lr.defined() || lr.device() != params[0].device())
      lr = at::empty({}, params[0].options().dtype(at::kFloat));
    lr.fill_(options.lr());  // a fill, not a copy from the host: no synchronisation
    at::_foreach_add_(steps, 1.0);
    const auto [beta1, beta2] = options.betas();
    at::_fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, lr, beta1, beta2,
                      options.weight_decay(), options.eps(), options.amsgrad(), /*maximize=*/false);
  }
  return loss;
}

void FusedAdamW::load(torch::serialize::InputArchive& archive) {
  torch::optim::AdamW::load(archive);
  device_steps_.clear();  // rebuilt from the loaded step counts at the next step
}

}  // namespace ablate
