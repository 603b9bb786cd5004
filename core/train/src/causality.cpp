// The causality proof (see causality.h and docs/proofs.md).
#include "ablate/train/causality.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/utils.h>

#include "ablate/train/generator_lock.h"
#include "ablate/train/model.h"

namespace ablate {
namespace {

// The no-grad comparisons run the same forward twice on inputs that differ only where the output
// may not look; the two results agree bit for bit in practice (same kernels, same shapes, same
// random draws). The tolerance only absorbs kernels whose rounding depends on other rows (an MoE's
// expert blocks change size when another row routes differently). The gradient check needs none:
// there a dependence is any nonzero.
double no_grad_tolerance(const CausalityMode& mode, const CausalitySettings& settings) {
  return mode.training && settings.precision == Precision::bf16 ? 1e-2 : 1e-5;
}

// The forwards of one check draw the same random numbers (dropout masks, router noise).
void reseed(const CausalitySettings& settings) {
  seed_default_generators(settings.seed * 0x9E3779B97F4A7C15ULL + 7, settings.device);
}

// One forward in `mode`: gradients on or off, autocast in the run's precision in training mode.
at::Tensor run_forward(const SequenceMap& forward, const at::Tensor& x, const CausalityMode& mode,
                       const CausalitySettings& settings) {
  reseed(settings);
  const AutocastScope autocast(settings.device, mode.training ? settings.precision : Precision::fp32);
  if (mode.grad) {
    torch::AutoGradMode enable(true);
    return forward(x);
  }
  torch::NoGradGuard no_grad;
  return forward(x);
}

std::int64_t count_non_finite(const at::Tensor& t) { return (~at::isfinite(t)).sum().item<std::int64_t>(); }

// (rows, T) → (rows, T, 1, ...) so that it broadcasts over the output's trailing dimensions.
at::Tensor over_trailing(const at::Tensor& rows_by_position, const at::Tensor& like) {
  std::vector<std::int64_t> shape(rows_by_position.sizes().begin(), rows_by_position.sizes().end());
  shape.resize(static_cast<std::size_t>(like.dim()), 1);
  return rows_by_position.view(shape);
}

// Σ |t| over every dimension after (rows, T), in double on the CPU: (rows, T).
at::Tensor per_position(const at::Tensor& t) {
  auto a = t.detach().to(at::kDouble).abs();
  while (a.dim() > 2) a = a.sum(-1);
  return a.to(at::kCPU).contiguous();
}

// Runs the check's forward and reads the first failure it finds, or nullopt.
class SequenceCheck {
 public:
  SequenceCheck(const SequenceMap& forward, std::int64_t width, const CausalityMode& mode,
                const CausalitySettings& settings)
      : forward_(forward), width_(width), mode_(mode), settings_(settings),
        generator_(at::make_generator<at::CPUGeneratorImpl>(settings.seed)) {}

  std::optional<CausalityVerdict> other_rows() { return mode_.grad ? other_rows_by_gradient() : other_rows_by_change(); }

  /// Boundaries [first, first + count) in rows of one pass.
  std::optional<CausalityVerdict> future(std::int64_t first, std::int64_t count) {
    return mode_.grad ? future_by_gradient(first, count) : future_by_change(first, count);
  }

  /// Training mode, gradients off: the forward must be the one proven with gradients on (same
  /// input, same random draws). Perturbing inputs proves nothing here: training mode draws random
  /// numbers whose assignment to tokens may depend on other tokens (dropout over an MoE's expert
  /// blocks, whose sizes follow the routing of every token), so outputs change with other tokens'
  /// content without any token's output depending on it.
  //
  // The two forwards draw alike only if nothing else draws from the same default generator
  // meanwhile; a worker training on the same device (--runs-per-device > 1) may. So each attempt
  // brackets the gradients-off forward between two gradients-on ones: an attempt whose brackets
  // differ was disturbed and proves nothing. The first clean attempt that agrees passes; clean
  // attempts that all disagree fail; when no attempt decides, `unverified` says so.
  std::optional<CausalityVerdict> same_as_with_gradients() {
    constexpr int kAttempts = 8, kDisagreementsToFail = 4;
    const CausalityMode with_gradients{mode_.training, true};
    const auto x = inputs(4);
    int disagreements = 0;
    double change = 0.0;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      const auto before = run_forward(forward_, x, with_gradients, settings_).detach();
      const auto y = forward(x);
      const auto after = run_forward(forward_, x, with_gradients, settings_).detach();
      for (const auto* t : {&before, &y, &after})
        if (auto bad = non_finite(*t, "outputs")) return bad;
      const double scale = std::max(1e-30, per_position(before).max().item<double>());
      if (per_position(after - before).max().item<double>() / scale > no_grad_tolerance(mode_, settings_))
        continue;  // disturbed: another thread drew from the generator between the brackets
      change = per_position(y - before).max().item<double>() / scale;
      if (change <= no_grad_tolerance(mode_, settings_)) return std::nullopt;
      if (++disagreements == kDisagreementsToFail) {
        CausalityVerdict v = failure("gradients off");
        v.magnitude = change;
        v.detail = fmt::format("with gradients off it computes other outputs than with gradients on (relative "
                               "difference {:.2e}), so the proof made with gradients on does not cover it",
                               change);
        return v;
      }
    }
    unverified = fmt::format("{} not compared with gradients on: another thread drew from the default random "
                             "generator during every attempt",
                             mode_.name());
    return std::nullopt;
  }

  std::string unverified;  // a mode this check could not decide (why), else empty
  std::int64_t output_width = 0;  // learned from the first forward (the pass size depends on it)

 private:
  at::Tensor inputs(std::int64_t rows) {
    return at::randn({rows, settings_.seq_len, width_}, generator_).to(settings_.device);
  }

  CausalityVerdict failure(const std::string& test) const {
    CausalityVerdict v;
    v.passed = false;
    v.mode = mode_.name();
    v.test = test;
    return v;
  }

  std::optional<CausalityVerdict> non_finite(const at::Tensor& t, const std::string& what) {
    const std::int64_t bad = count_non_finite(t);
    if (bad == 0) return std::nullopt;
    CausalityVerdict v = failure("finite");
    v.detail = fmt::format("{} of {} {} are NaN or infinite", bad, t.numel(), what);
    return v;
  }

  at::Tensor forward(const at::Tensor& x) {
    at::Tensor y = run_forward(forward_, x, mode_, settings_);
    if (y.dim() < 2 || y.size(0) != x.size(0) || y.size(1) != x.size(1))
      throw std::runtime_error(fmt::format("output shape ({}) does not start with the input's (rows, T) = ({}, {})",
                                           fmt::join(y.sizes(), ", "), x.size(0), x.size(1)));
    output_width = y.numel() / std::max<std::int64_t>(1, y.size(0) * y.size(1));
    return y;
  }

  // Gradient of a random weighting of row 0's outputs: nonzero at another row's input is a leak.
  std::optional<CausalityVerdict> other_rows_by_gradient() {
    const auto x = inputs(3).requires_grad_(true);
    const auto y = forward(x);
    if (auto bad = non_finite(y, "outputs")) return bad;
    const auto weights = at::randn(y[0].sizes(), generator_).to(y.device());
    const auto loss = (y[0].to(at::kFloat) * weights).sum();
    const auto g = torch::autograd::grad({loss}, {x}, {}, false, false, /*allow_unused=*/true)[0];
    if (!g.defined()) return std::nullopt;
    if (auto bad = non_finite(g, "input gradients")) return bad;
    const auto by_row = per_position(g).sum(1);  // (rows,)
    for (std::int64_t row = 1; row < by_row.size(0); ++row) {
      if (by_row[row].item<double>() == 0.0) continue;
      CausalityVerdict v = failure("other rows");
      v.source = row;
      v.magnitude = by_row[row].item<double>() / std::max(1e-300, by_row[0].item<double>());
      return v;
    }
    return std::nullopt;
  }

  // Replacing row 1 must leave every other row's outputs as they were.
  std::optional<CausalityVerdict> other_rows_by_change() {
    const auto x = inputs(3);
    const auto y = forward(x);
    if (auto bad = non_finite(y, "outputs")) return bad;
    auto changed = x.clone();
    changed[1].copy_(at::randn({settings_.seq_len, width_}, generator_).to(x.device()) * 3.0);
    const auto y_changed = forward(changed);
    if (auto bad = non_finite(y_changed, "outputs")) return bad;
    const double scale = std::max(1e-30, per_position(y).max().item<double>());
    const auto diff = per_position(y_changed - y);
    for (const std::int64_t row : {std::int64_t{0}, std::int64_t{2}}) {
      const double change = diff[row].max().item<double>() / scale;
      if (change <= no_grad_tolerance(mode_, settings_)) continue;
      CausalityVerdict v = failure("other rows");
      v.source = 1;
      v.magnitude = change;
      return v;
    }
    return std::nullopt;
  }

  // Row i's boundary: first + i; rows past `count` (a pass has at least 2) see the whole sequence.
  at::Tensor past_mask(std::int64_t first, std::int64_t rows) const {
    const std::int64_t T = settings_.seq_len;
    const auto boundary = at::arange(first, first + rows, at::kLong).clamp_max(T - 1);
    return at::arange(T, at::kLong).view({1, T}) <= boundary.view({rows, 1});  // (rows, T) bool, CPU
  }

  // The earliest boundary whose future shows a dependence, as the verdict.
  std::optional<CausalityVerdict> first_leak(const at::Tensor& dependence, const at::Tensor& past, std::int64_t first,
                                             double tolerance, double scale) {
    const auto leaked = (dependence / scale > tolerance) & past.logical_not();
    if (!leaked.any().item<bool>()) return std::nullopt;
    const std::int64_t row = leaked.any(1).to(at::kLong).argmax().item<std::int64_t>();
    const std::int64_t source = leaked[row].to(at::kLong).argmax().item<std::int64_t>();
    CausalityVerdict v = failure("future positions");
    v.position = first + row;
    v.source = source;
    v.magnitude = dependence[row][source].item<double>() / scale;
    return v;
  }

  std::optional<CausalityVerdict> future_by_gradient(std::int64_t first, std::int64_t count) {
    const std::int64_t rows = std::max<std::int64_t>(count, 2);
    const auto x = inputs(rows).requires_grad_(true);
    const auto y = forward(x);
    if (auto bad = non_finite(y, "outputs")) return bad;
    const auto past = past_mask(first, rows);
    const auto weights = at::randn(y.sizes(), generator_).to(y.device()) *
                         over_trailing(past.to(y.device(), at::kFloat), y);
    const auto loss = (y.to(at::kFloat) * weights).sum();
    const auto g = torch::autograd::grad({loss}, {x}, {}, false, false, /*allow_unused=*/true)[0];
    if (!g.defined()) return std::nullopt;  // the outputs do not depend on the inputs at all
    if (auto bad = non_finite(g, "input gradients")) return bad;
    const auto dependence = per_position(g);
    // Exactly zero: any nonzero gradient across the boundary is a dependence on the future.
    const double scale = std::max(1e-300, dependence.max().item<double>());
    return first_leak(dependence, past, first, 0.0, scale);
  }

  std::optional<CausalityVerdict> future_by_change(std::int64_t first, std::int64_t count) {
    const std::int64_t rows = std::max<std::int64_t>(count, 2);
    const auto x = inputs(rows);
    const auto y = forward(x);
    if (auto bad = non_finite(y, "outputs")) return bad;
    const auto past = past_mask(first, rows);
    const auto future = over_trailing(past.logical_not().to(x.device()), x);
    const auto changed = at::where(future, at::randn(x.sizes(), generator_).to(x.device()) * 3.0, x);
    const auto y_changed = forward(changed);
    if (auto bad = non_finite(y_changed, "outputs")) return bad;
    const double scale = std::max(1e-30, per_position(y).max().item<double>());
    // The leak shows at the outputs (≤ boundary), so look there: mask the other way round.
    const auto changed_past = per_position(y_changed - y) * past.to(at::kDouble);
    const auto leaked = changed_past / scale > no_grad_tolerance(mode_, settings_);
    if (!leaked.any().item<bool>()) return std::nullopt;
    const std::int64_t row = leaked.any(1).to(at::kLong).argmax().item<std::int64_t>();
    CausalityVerdict v = failure("future positions");
    v.position = first + row;  // outputs at or before it changed when the inputs after it changed
    v.source = first + row + 1;
    v.magnitude = changed_past[row].max().item<double>() / scale;
    return v;
  }

  const SequenceMap& forward_;
  std::int64_t width_;
  CausalityMode mode_;
  const CausalitySettings& settings_;
  at::Generator generator_;
};

std::int64_t rows_per_pass(const CausalitySettings& settings, std::int64_t output_width) {
  const std::int64_t T = settings.seq_len;
  if (settings.rows_per_pass > 0) return std::max<std::int64_t>(2, settings.rows_per_pass);
  constexpr std::int64_t kOutputValuesPerPass = std::int64_t{1} << 24;
  return std::clamp<std::int64_t>(kOutputValuesPerPass / (T * std::max<std::int64_t>(1, output_width)), 2,
                                  std::max<std::int64_t>(2, T - 1));
}

// The default generators of the CPU and of the checked device, put back as they were on leaving:
// the check reseeds them, and a run checked at its end may still draw from them.
class SavedGenerators {
 public:
  explicit SavedGenerators(const c10::Device& device) {
    for (const c10::Device& d : {c10::Device(c10::kCPU), device}) {
      at::Generator gen = at::globalContext().defaultGenerator(d);
      std::lock_guard<std::mutex> lock(gen.mutex());
      saved_.emplace_back(gen, gen.get_state());
    }
  }
  ~SavedGenerators() {
    for (auto& [gen, state] : saved_) {
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(state);
    }
  }

 private:
  std::vector<std::pair<at::Generator, at::Tensor>> saved_;
};

// Puts a module's train/eval mode and its buffers back as they were (a forward in training mode
// may update running statistics).
class SavedModuleState {
 public:
  explicit SavedModuleState(torch::nn::Module& module) : module_(module), training_(module.is_training()) {
    for (const auto& b : module.buffers()) buffers_.push_back(b.detach().clone());
  }
  ~SavedModuleState() {
    torch::NoGradGuard no_grad;
    std::size_t i = 0;
    for (auto& b : module_.buffers()) b.copy_(buffers_[i++]);
    module_.train(training_);
  }

 private:
  torch::nn::Module& module_;
  bool training_;
  std::vector<at::Tensor> buffers_;
};

std::string covered(const CausalitySettings& settings) {
  return fmt::format("4 modes at T = {}: every boundary (gradient exactly zero across all {}), other rows, finite",
                     settings.seq_len, settings.seq_len - 1);
}

}  // namespace

std::string CausalityMode::name() const {
  return fmt::format("{} mode, gradients {}", training ? "training" : "evaluation", grad ? "on" : "off");
}

const std::vector<CausalityMode>& causality_modes() {
  static const std::vector<CausalityMode> modes = {{true, true}, {true, false}, {false, true}, {false, false}};
  return modes;
}

std::string CausalityVerdict::describe() const {
  if (passed) return "causal: " + checked;
  std::string what;
  if (test == "future positions")
    what = fmt::format("its output at position {} depends on the input at position {} (relative size {:.2e})",
                       position, source, magnitude);
  else if (test == "other rows")
    what = fmt::format("its outputs for one sequence of the batch depend on another sequence (row {}; relative size "
                       "{:.2e})", source, magnitude);
  else
    what = detail;
  return fmt::format("NOT causal: {} in {}: {}", component.empty() ? "the model" : component, mode, what);
}

nlohmann::json CausalityVerdict::to_json() const {
  if (passed) return {{"causal", true}, {"checked", checked}};
  nlohmann::json j = {{"causal", false}, {"component", component}, {"mode", mode}, {"test", test},
                      {"message", describe()}};
  if (layer >= -1) j["layer"] = layer;
  if (test == "future positions") {
    j["position"] = position;
    j["source"] = source;
  }
  return j;
}

CausalityVerdict check_sequence_map(torch::nn::Module& module, const SequenceMap& forward, std::int64_t width,
                                    const CausalityMode& mode, const CausalitySettings& settings) {
  if (settings.seq_len < 2) throw std::invalid_argument("the causality check needs seq_len ≥ 2");
  const bool was_training = module.is_training();
  module.train(mode.training);
  SequenceCheck check(forward, width, mode, settings);
  std::optional<CausalityVerdict> failed;
  const std::int64_t boundaries = settings.seq_len - 1;
  std::int64_t first = boundaries;  // no pass over the boundaries unless this mode has one
  if (mode.training && !mode.grad) {
    failed = check.same_as_with_gradients();
  } else {
    failed = check.other_rows();  // first: a row mixer would blur the next test
    first = 0;
  }
  while (!failed && first < boundaries) {
    const std::int64_t count = std::min(rows_per_pass(settings, check.output_width), boundaries - first);
    failed = check.future(first, count);
    first += count;
  }
  module.train(was_training);
  if (failed) return *failed;
  CausalityVerdict passed;
  passed.mode = mode.name();
  passed.checked = covered(settings);
  if (!check.unverified.empty()) passed.checked += "; " + check.unverified;
  return passed;
}

CausalityVerdict check_component_causality(sdk::ComponentImpl& component, std::int64_t d_model,
                                           const CausalitySettings& settings, const std::string& name) {
  const SavedGenerators generators(settings.device);
  const SavedModuleState state(component);
  const SequenceMap forward = [&component](const at::Tensor& x) { return component.forward(x); };
  std::string unverified;  // what a mode could not decide, after covered()
  for (const CausalityMode& mode : causality_modes()) {
    CausalityVerdict v = check_sequence_map(component, forward, d_model, mode, settings);
    if (!v.passed) {
      v.component = name;
      return v;
    }
    unverified += v.checked.substr(covered(settings).size());
  }
  CausalityVerdict passed;
  passed.checked = covered(settings) + unverified;
  return passed;
}

CausalityVerdict check_model_causality(TransformerImpl& model, const CausalitySettings& settings) {
  const SavedGenerators generators(settings.device);
  const SavedModuleState state(model);
  const std::int64_t d = model.plan.d_model;
  const SequenceMap whole = [&model](const at::Tensor& x) { return model.hidden_states(x); };
  std::string unverified;  // what a mode could not decide, after covered()
  for (const CausalityMode& mode : causality_modes()) {
    CausalityVerdict v = check_sequence_map(model, whole, d, mode, settings);
    if (v.passed) {
      unverified += v.checked.substr(covered(settings).size());
      continue;
    }
    // Which component? Each alone, in the failing mode, in forward order.
    for (const auto& placed : model.placed_components()) {
      auto& component = *placed.module;
      CausalityVerdict alone = check_sequence_map(
          component, [&component](const at::Tensor& x) { return component.forward(x); }, d, mode, settings);
      if (alone.passed) continue;
      alone.component = placed.name;
      alone.layer = placed.layer;
      alone.config_key = placed.config_key;
      return alone;
    }
    v.component = "the model (no component fails alone)";
    return v;
  }
  CausalityVerdict passed;
  passed.checked = covered(settings) + unverified;
  return passed;
}

void move_off_initialisation(torch::nn::Module& module, std::uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& p : module.parameters()) {
    const double rms = p.numel() > 0 ? p.to(at::kDouble).pow(2).mean().sqrt().item<double>() : 0.0;
    const auto noise = at::randn(p.sizes(), generator, at::TensorOptions().dtype(at::kFloat));
    p.add_(noise.to(p.device(), p.scalar_type()) * (0.5 * rms + 0.02));
  }
}

}  // namespace ablate
