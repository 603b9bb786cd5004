// Muon (see muon.h).
#include "ablate/train/muon.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>
#include <torch/utils.h>

namespace ablate {

at::Tensor newton_schulz(const at::Tensor& g, std::int64_t steps) {
  if (g.dim() != 2) throw std::invalid_argument("Newton-Schulz needs a matrix");
  constexpr double a = 3.4445, b = -4.7750, c = 2.0315;
  const bool transposed = g.size(0) > g.size(1);
  at::Tensor x = (transposed ? g.t() : g).to(at::kBFloat16);
  x = x / (x.norm() + 1e-7);
  for (std::int64_t i = 0; i < steps; ++i) {
    const at::Tensor A = at::matmul(x, x.t());
    const at::Tensor B = b * A + c * at::matmul(A, A);
    x = a * x + at::matmul(B, x);
  }
  return (transposed ? x.t() : x).to(g.scalar_type());
}

Muon::Muon(std::vector<at::Tensor> params, MuonOptions options) : params_(std::move(params)), options_(options) {
  for (const auto& p : params_) {
    if (p.dim() != 2) throw std::invalid_argument("Muon takes 2-D matrices only");
    buffers_.push_back(at::zeros_like(p));
  }
}

void Muon::load_buffers(const std::vector<at::Tensor>& saved) {
  if (saved.size() != buffers_.size())
    throw std::invalid_argument("Muon checkpoint has " + std::to_string(saved.size()) + " momentum buffers, " +
                                std::to_string(buffers_.size()) + " expected");
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < saved.size(); ++i) {
    if (!saved[i].sizes().equals(buffers_[i].sizes()))
      throw std::invalid_argument("Muon checkpoint: momentum buffer " + std::to_string(i) + " has another shape");
    buffers_[i].copy_(saved[i]);
  }
}

void Muon::step(double lr) {
  stage_learning_rate(lr);
  apply_update();
}

void Muon::stage_learning_rate(double lr) {
  if (params_.empty()) return;
  if (!lr_.defined() || lr_.device() != params_.front().device())
    lr_ = at::empty({}, params_.front().options().dtype(at::kFloat));
  lr_.fill_(lr);  // a fill, not a copy: no synchronisation
}

void Muon::apply_update() {
  if (params_.empty()) return;
  if (!lr_.defined()) throw std::logic_error("Muon: stage_learning_rate() before apply_update()");
  torch::NoGradGuard no_grad;
  const double mu = options_.momentum;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    at::Tensor& p = params_[i];
    if (!p.grad().defined()) continue;
    const at::Tensor g = p.grad();
    buffers_[i].mul_(mu).add_(g, 1.0 - mu);
    const at::Tensor nesterov = g * (1.0 - mu) + buffers_[i] * mu;
    const double shape_scale =
        std::sqrt(std::max(1.0, static_cast<double>(p.size(0)) / static_cast<double>(p.size(1))));
    p.sub_(newton_schulz(nesterov, options_.ns_steps) * lr_, shape_scale);  // lr from the device
  }
}

}  // namespace ablate
