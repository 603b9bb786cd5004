// A tiny run with every kind of state a training step changes: dropout (a random generator), a
// DeepSeek-V3 MoE (routing-bias buffers updated after each step) and Muon beside AdamW. The resume
// test checks that a checkpoint carries all of it; the training-step test that a recorded step's
// check puts all of it back. StatefulRun holds it parsed, with its data prepared.
#pragma once

#include <filesystem>
#include <string>

#include <ATen/Parallel.h>

#include "ablate/engine/data.h"
#include "ablate/engine/plugin_registry.h"
#include "ablate/engine/sweep.h"

namespace stateful_test {

constexpr const char* kStatefulSweep = R"(
name: resume
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 16}
model:
  d_model: 32
  n_layers: 1
  dropout: 0.1
  attention: {plugin: mha, n_heads: 2}
  ffn: {plugin: deepseek_v3, n_experts: 4, top_k: 2, n_group: 2, topk_group: 1, expert: {plugin: swiglu, d_ff: 16}}
train: {steps: 12, batch_size: 4, eval_every: 4, eval_tokens: 128, log_every: 4, optimizer: {name: muon, lr: 0.003}}
)";

/// The stateful sweep's registry, parsed sweep and data, in a temp directory of its own (`name`:
/// one per test case, since ctest -j runs them side by side); one intra-op thread, for bit-exact runs.
struct StatefulRun {
  ablate::PluginRegistry registry;
  ablate::Sweep sweep;
  ablate::PreparedData data;
  std::filesystem::path tmp;
  explicit StatefulRun(const std::string& name) : tmp(std::filesystem::temp_directory_path() / name) {
    at::set_num_threads(1);
    registry.load_directory(ABLATE_PLUGIN_DIR);
    sweep = ablate::parse_sweep(kStatefulSweep, name + ".yaml", registry);
    std::filesystem::remove_all(tmp);
    data = ablate::prepare_data(sweep.runs.at(0).config.at("data"), tmp / "cache");
  }
};

}  // namespace stateful_test
