// The causality proof: a language model may use, for its output at position t, only the inputs at
// positions ≤ t of the same sequence. The seed experiments trained a "DeepSeek attention" that
// could read its own targets; this is the check that catches such a model, whatever plugin it is
// built from, before it trains and again on its final weights (docs/proofs.md).
//
// What is checked, for a map f from a batch of sequences (B, T, d) to (B, T, *), in each of four
// modes (training / evaluation × gradients on / off):
//   - future positions, gradients on: for every boundary m in [0, T-2], the gradient of a random
//     weighting of the outputs at positions ≤ m with respect to the inputs at positions > m is
//     exactly zero. Each batch row carries its own boundary, so T-1 boundaries cost ⌈(T-1)/R⌉
//     backward passes of R rows: every position is covered, none is sampled.
//   - future positions, gradients off: row i's inputs after its boundary m_i are replaced; its
//     outputs at positions ≤ m_i must not change (same random seed for both forwards, so dropout
//     masks and router noise agree), again for every boundary;
//   - other rows: the gradient of one row's outputs reaches no other row's inputs (gradients on),
//     and replacing one row changes no other row's outputs (gradients off). Evaluation batches
//     hold consecutive windows, so a component that mixes rows can read the text after a window;
//   - finite: a NaN or infinite output or gradient is a failure, never a pass.
// Training mode runs in the run's precision (autocast, as the training step does); evaluation
// mode in float32, as evaluate() does.
//
//   CausalitySettings settings{.seq_len = 64, .device = device, .precision = Precision::fp32};
//   CausalityVerdict v = check_model_causality(*model, registry_names, settings);
//   if (!v.passed) throw Error(v.describe());
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>
#include <torch/nn/module.h>

#include "ablate/train/precision.h"
#include "ablate/sdk/component.h"

namespace ablate {

class TransformerImpl;

/// One of the four ways a model is run: in training or evaluation mode, with gradients on or off.
struct CausalityMode {
  bool training = true;
  bool grad = true;
  std::string name() const;  // "training mode, gradients on"
};
/// The four modes, in the order they are checked.
const std::vector<CausalityMode>& causality_modes();

struct CausalitySettings {
  std::int64_t seq_len = 0;                // the run's T: the check runs at exactly this length
  c10::Device device{c10::kCPU};
  Precision precision = Precision::fp32;   // of training-mode forwards; evaluation is float32
  std::uint64_t seed = 0x5eed;             // inputs, output weights and the forwards' random draws
  /// Rows per pass (≥ 2). 0: chosen so that one pass holds about 16M output values.
  std::int64_t rows_per_pass = 0;
};

struct CausalityVerdict {
  bool passed = true;
  std::string component;       // what failed: "block 1 attention (attention 'late_leak')", "the model"
  std::int64_t layer = -2;     // its block (0-based), -1 for the final norm, -2 when not one component
  std::string config_key;      // the sweep key that chose it: "model.attention", "model.norm", "model.ffn"...
  std::string mode;            // CausalityMode::name()
  std::string test;            // "future positions" | "other rows" | "finite"
  std::int64_t position = -1;  // future positions: the last position whose output saw a later input
  std::int64_t source = -1;    // future positions: the first later input it saw; other rows: that row
  double magnitude = 0.0;      // size of the dependence relative to the outputs' (or gradients') scale
  std::string detail;          // the numbers behind a finite failure
  std::string checked;         // on a pass: what was covered ("4 modes, T = 64, 63 boundaries, ...")

  /// One line: "causal: ..." or "NOT causal: block 1 attention ... in evaluation mode, gradients off: ...".
  std::string describe() const;
  nlohmann::json to_json() const;
};

/// A map from (B, T, d) inputs to (B, T, *) outputs: a component, or a whole model from its
/// embedding output on.
using SequenceMap = std::function<at::Tensor(const at::Tensor&)>;

/// Checks `forward` in one mode; `module` is the module it runs (its train/eval mode is set here
/// and restored). `width` is the input's last dimension.
CausalityVerdict check_sequence_map(torch::nn::Module& module, const SequenceMap& forward, std::int64_t width,
                                    const CausalityMode& mode, const CausalitySettings& settings);

/// One component alone in all four modes (check-plugin, and the search for the culprit of a
/// failing model). `name` goes into the verdict's `component`.
CausalityVerdict check_component_causality(sdk::ComponentImpl& component, std::int64_t d_model,
                                           const CausalitySettings& settings, const std::string& name = "component");

/// The whole model as built, every block and the final norm, from the embedding output to the
/// final norm's (the LM head is a Linear per position), in all four modes. On a failure, every component is checked alone in the failing mode
/// and the first that fails is named (with its block); if none fails alone, "the model" is.
/// The model's mode, its parameters' gradients and the default generators' states are restored.
CausalityVerdict check_model_causality(TransformerImpl& model, const CausalitySettings& settings);

/// Moves every parameter away from its initialisation (adds Gaussian noise of 0.5 × its RMS + 0.02),
/// so that a gate initialised at zero cannot hide what it gates. For freshly built models only.
void move_off_initialisation(torch::nn::Module& module, std::uint64_t seed);

}  // namespace ablate
