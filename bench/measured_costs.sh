#!/usr/bin/env bash
# Measured against declared cost of every built-in component at the size of the seed study
# exp1 (sweeps/seeds/exp1_deepseek_attention.yaml: d_model 512, seq_len 512, 8 heads, MLA ranks
# 64/128, experts of d_ff 2048), with `ablate check-plugin` (its `flops` and `active params` lines;
# the causality proof runs too, at T = 512).
#   bench/measured_costs.sh            # one line per component: declared and measured
set -euo pipefail
cd "$(dirname "$0")/.."
ablate=${ABLATE:-build/bin/ablate}
size=(--d-model 512 --seq-len 512)
mla=(--set n_heads=8 --set q_lora_rank=64 --set kv_lora_rank=128 --set qk_nope_head_dim=0 --set qk_rope_head_dim=64)
checks=(
  "attention mha --set n_heads=8"
  "attention mla ${mla[*]} --set v_head_dim=64 --set bias=false"
  "attention mla ${mla[*]} --set v_head_dim=96 --set bias=true"
  "mlp silu --set d_ff=2048"
  "mlp swiglu --set d_ff=2048"
  "mlp gelu --set d_ff=2048"
  "moe topk --set n_experts=8 --set top_k=2 --set expert={plugin:silu,d_ff:2048}"
  "moe topk --set n_experts=8 --set top_k=2 --set expert={plugin:silu,d_ff:2048} --set dispatch=capacity"
  "moe deepseek_v3 --set n_experts=8 --set top_k=2 --set n_group=4 --set topk_group=2 --set n_shared=1 --set expert={plugin:swiglu,d_ff:1024}"
  "moe glm4 --set n_experts=8 --set top_k=2 --set expert={plugin:swiglu,d_ff:1024}"
  "norm rmsnorm"
  "norm layernorm"
)
for check in "${checks[@]}"; do
  # shellcheck disable=SC2086  # each entry is a list of arguments
  out=$("$ablate" check-plugin $check "${size[@]}" 2>&1) || true
  echo "== $check"
  grep -E "^(PASS|FAIL) (flops|active params|causal)" <<<"$out" || echo "$out"
done
