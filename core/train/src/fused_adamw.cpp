// FusedAdamW (see fused_adamw.h).
#include "ablate/train/fused_adamw.h"

#include <cmath>

#include <ATen/ATen.h>
#include <torch/utils.h>

namespace ablate {

torch::Tensor FusedAdamW::step(LossClosure closure) {
  torch::Tensor loss;
  if (closure) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  stage_learning_rates();
  apply_update();
  return loss;
}

void FusedAdamW::stage_learning_rates() {
  torch::NoGradGuard no_grad;
  group_lrs_.resize(param_groups_.size());
  for (std::size_t g = 0; g < param_groups_.size(); ++g) {
    const auto& group = param_groups_[g];
    if (group.params().empty()) continue;
    const auto& options = static_cast<const torch::optim::AdamWOptions&>(group.options());
    auto& lr = group_lrs_[g];
    const auto& first = group.params().front();
    if (!lr.defined() || lr.device() != first.device()) lr = at::empty({}, first.options().dtype(at::kFloat));
    lr.fill_(options.lr());  // a fill, not a copy from the host: no synchronisation
  }
}

void FusedAdamW::apply_update() {
  torch::NoGradGuard no_grad;
  TORCH_CHECK(group_lrs_.size() == param_groups_.size(), "FusedAdamW: stage_learning_rates() before apply_update()");
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
      params.push_back(p);
      grads.push_back(p.grad());
      exp_avgs.push_back(state.exp_avg());
      exp_avg_sqs.push_back(state.exp_avg_sq());
      if (options.amsgrad()) max_exp_avg_sqs.push_back(state.max_exp_avg_sq());
      steps.push_back(device_step);
    }
    if (params.empty()) continue;
    const auto& lr = group_lrs_[g];
    TORCH_CHECK(lr.defined() && lr.device() == params[0].device(),
                "FusedAdamW: stage_learning_rates() before apply_update()");
    at::_foreach_add_(steps, 1.0);
    const auto [beta1, beta2] = options.betas();
    at::_fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, lr, beta1, beta2,
                      options.weight_decay(), options.eps(), options.amsgrad(), /*maximize=*/false);
  }
}

void FusedAdamW::sync_step_counts() {
  std::vector<void*> keys;
  std::vector<torch::Tensor> counts;
  for (const auto& [key, count] : device_steps_) {
    keys.push_back(key);
    counts.push_back(count);
  }
  if (counts.empty()) return;
  const auto host = at::stack(counts).to(at::kCPU, at::kDouble).contiguous();  // one read
  const double* value = host.data_ptr<double>();
  for (std::size_t i = 0; i < keys.size(); ++i)
    static_cast<torch::optim::AdamWParamState&>(*state_.at(keys[i])).step(std::llround(value[i]));
}

std::vector<torch::Tensor> FusedAdamW::state_tensors() const {
  std::vector<torch::Tensor> tensors;
  for (const auto& [key, slot] : state_) {
    const auto& state = static_cast<const torch::optim::AdamWParamState&>(*slot);
    for (const auto& t : {state.exp_avg(), state.exp_avg_sq(), state.max_exp_avg_sq()})
      if (t.defined()) tensors.push_back(t);
    if (const auto count = device_steps_.find(key); count != device_steps_.end()) tensors.push_back(count->second);
  }
  return tensors;
}

void FusedAdamW::save(torch::serialize::OutputArchive& archive) const {
  // The host counts are a copy of the device's, brought up to date where they are written.
  const_cast<FusedAdamW*>(this)->sync_step_counts();
  torch::optim::AdamW::save(archive);
}

void FusedAdamW::load(torch::serialize::InputArchive& archive) {
  torch::optim::AdamW::load(archive);
  device_steps_.clear();  // rebuilt from the loaded step counts at the next step
}

}  // namespace ablate
