// A tiny run with every kind of state a training step changes: dropout (a random generator), a
// DeepSeek-V3 MoE (routing-bias buffers updated after each step) and Muon beside AdamW. The resume
// test checks that a checkpoint carries all of it; the training-step test that a recorded step's
// check puts all of it back.
#pragma once

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
train: {steps: 12, batch_size: 4, eval_every: 4, eval_batches: 2, log_every: 4, optimizer: {name: muon, lr: 0.003}}
)";

}  // namespace stateful_test
