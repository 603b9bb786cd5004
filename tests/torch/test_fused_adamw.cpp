// FusedAdamW (at::_fused_adamw_, one kernel per parameter group) against torch::optim::AdamW on
// the CPU: the same parameters, weight-decay groups and schedule give the same numbers within
// 1e-6 relative after 20 steps; its checkpoints resume bit-identical and load into AdamW. Also the
// gradient clipping that keeps the norm on the device, against LibTorch's clip_grad_norm_.
#include "catch_torch.h"

#include <sstream>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include "ablate/train/fused_adamw.h"
#include "ablate/train/grad_clip.h"
#include "ablate/train/trainer.h"

namespace {

constexpr int kSteps = 20;

// Two matrices (decayed) and two vectors (not decayed), as the trainer groups them.
std::vector<at::Tensor> initial_params() {
  const auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
  return {at::randn({16, 8}, gen), at::randn({8, 4}, gen), at::randn({8}, gen), at::randn({4}, gen)};
}

std::vector<at::Tensor> leaf_copies(const std::vector<at::Tensor>& params) {
  std::vector<at::Tensor> copies;
  for (const auto& p : params) copies.push_back(p.detach().clone().set_requires_grad(true));
  return copies;
}

template <typename Optimizer>
std::unique_ptr<Optimizer> make_adamw(const std::vector<at::Tensor>& p, bool amsgrad) {
  const auto options = [&](double weight_decay) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(1e-2).betas({0.9, 0.95}).eps(1e-8).weight_decay(weight_decay).amsgrad(amsgrad));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<at::Tensor>{p[0], p[1]}, options(0.1));
  groups.emplace_back(std::vector<at::Tensor>{p[2], p[3]}, options(0.0));
  return std::make_unique<Optimizer>(std::move(groups));
}

// Steps [from, to): the trainer's warmup + cosine schedule, gradients drawn from the step number;
// the last vector has no gradient on odd steps (skipped: its step count lags the others').
void train(torch::optim::Optimizer& optimizer, const std::vector<at::Tensor>& params, int from, int to) {
  for (int step = from; step < to; ++step) {
    const double lr = ablate::scheduled_lr(step, kSteps, 4, 1e-2, 0.1);
    for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
    const auto gen = at::make_generator<at::CPUGeneratorImpl>(1000 + step);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto grad = at::randn(params[i].sizes(), gen);
      params[i].mutable_grad() = i == 3 && step % 2 == 1 ? at::Tensor() : grad;
    }
    optimizer.step();
  }
}

// max |a - b| / max |b|: relative to the tensor's scale (moments have elements near 0).
double max_relative_difference(const at::Tensor& a, const at::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

std::string saved(const torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

void load(torch::optim::Optimizer& optimizer, const std::string& bytes) {
  std::istringstream in(bytes);
  torch::serialize::InputArchive archive;
  archive.load_from(in);
  optimizer.load(archive);
}

}  // namespace

TEST_CASE("FusedAdamW gives torch::optim::AdamW's parameters and state within 1e-6 after 20 steps", "[optim]") {
  const bool amsgrad = GENERATE(false, true);
  INFO("amsgrad " << amsgrad);
  const auto start = initial_params();
  const auto reference = leaf_copies(start), fused = leaf_copies(start);
  auto adamw = make_adamw<torch::optim::AdamW>(reference, amsgrad);
  auto fused_adamw = make_adamw<ablate::FusedAdamW>(fused, amsgrad);
  train(*adamw, reference, 0, kSteps);
  train(*fused_adamw, fused, 0, kSteps);
  fused_adamw->sync_step_counts();  // the kernel counted on the device
  for (std::size_t i = 0; i < start.size(); ++i) {
    INFO("parameter " << i);
    CHECK((reference[i] - start[i]).abs().max().item<double>() > 0.01);  // it really trained
    CHECK(max_relative_difference(fused[i], reference[i]) < 1e-6);
    // and element by element (the parameters are N(0, 1), far from 0)
    CHECK(((fused[i] - reference[i]).abs() / reference[i].abs()).max().item<double>() < 1e-6);
    const auto& a = static_cast<torch::optim::AdamWParamState&>(*adamw->state().at(reference[i].unsafeGetTensorImpl()));
    const auto& b =
        static_cast<torch::optim::AdamWParamState&>(*fused_adamw->state().at(fused[i].unsafeGetTensorImpl()));
    CHECK(b.step() == a.step());
    CHECK(b.step() == (i == 3 ? kSteps / 2 : kSteps));
    CHECK(max_relative_difference(b.exp_avg(), a.exp_avg()) < 1e-6);
    CHECK(max_relative_difference(b.exp_avg_sq(), a.exp_avg_sq()) < 1e-6);
    if (amsgrad) CHECK(max_relative_difference(b.max_exp_avg_sq(), a.max_exp_avg_sq()) < 1e-6);
  }
}

TEST_CASE("a FusedAdamW checkpoint resumes bit-identical and loads into torch::optim::AdamW", "[optim]") {
  const auto start = initial_params();
  const auto straight = leaf_copies(start);
  auto straight_adamw = make_adamw<ablate::FusedAdamW>(straight, false);
  train(*straight_adamw, straight, 0, kSteps);

  const auto first_half = leaf_copies(start);
  auto first_adamw = make_adamw<ablate::FusedAdamW>(first_half, false);
  train(*first_adamw, first_half, 0, kSteps / 2);
  const std::string checkpoint = saved(*first_adamw);

  // a fresh optimizer over copies of the parameters at step 10 (what resuming a run does)
  const auto resumed = leaf_copies(first_half);
  auto resumed_adamw = make_adamw<ablate::FusedAdamW>(resumed, false);
  load(*resumed_adamw, checkpoint);
  train(*resumed_adamw, resumed, kSteps / 2, kSteps);

  const auto in_adamw = leaf_copies(first_half);
  auto plain_adamw = make_adamw<torch::optim::AdamW>(in_adamw, false);
  load(*plain_adamw, checkpoint);
  train(*plain_adamw, in_adamw, kSteps / 2, kSteps);

  for (std::size_t i = 0; i < start.size(); ++i) {
    INFO("parameter " << i);
    CHECK(at::equal(resumed[i], straight[i]));
    CHECK(max_relative_difference(in_adamw[i], straight[i]) < 1e-6);
  }
}

TEST_CASE("clip_grad_norm scales gradients as LibTorch's clip_grad_norm_ does, keeping the norm a tensor",
          "[optim]") {
  const double max_norm = GENERATE(0.5, 1000.0);  // clipped, and left alone
  INFO("max_norm " << max_norm);
  const auto start = initial_params();
  const auto ours = leaf_copies(start), theirs = leaf_copies(start);
  const auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  for (std::size_t i = 0; i + 1 < start.size(); ++i) {  // the last parameter has no gradient
    const auto grad = at::randn(start[i].sizes(), gen);
    ours[i].mutable_grad() = grad.clone();
    theirs[i].mutable_grad() = grad.clone();
  }
  const at::Tensor norm = ablate::clip_grad_norm(ours, max_norm);
  const double expected = torch::nn::utils::clip_grad_norm_(theirs, max_norm);
  CHECK(norm.dim() == 0);
  CHECK(norm.item<double>() == Approx(expected).epsilon(1e-6));
  CHECK(expected > 1.0);  // so 0.5 really clips
  for (std::size_t i = 0; i + 1 < start.size(); ++i) CHECK(at::allclose(ours[i].grad(), theirs[i].grad(), 1e-6, 0));
  CHECK_FALSE(ours.back().grad().defined());
}
