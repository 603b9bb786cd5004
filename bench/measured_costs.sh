#!/usr/bin/env bash
# Measured against declared cost of every built-in component at the size of the seed study
# exp1 (sweeps/seeds/exp1_deepseek_attention.yaml: d_model 512, seq_len 512, 8 heads, MLA ranks
# 64/128, experts of d_ff 2048), with `ablate check-plugin` (its `flops` and `active params` lines;
# the causality proof runs too, at T = 512).
#   bench/measured_costs.sh [KIND ...]   # one block per component: declared and measured
set -euo pipefail
cd "$(dirname "$0")/.."
ablate=${ABLATE:-build/bin/ablate}
kinds=("${@:-attention mlp moe norm}")
mla=(--set n_heads=8 --set q_lora_rank=64 --set kv_lora_rank=128 --set qk_nope_head_dim=0 --set qk_rope_head_dim=64)

check() {  # KIND NAME [--set KEY=VALUE ...]
  [[ " ${kinds[*]} " == *" $1 "* ]] || return 0
  echo "== $*"
  local out
  out=$("$ablate" check-plugin "$@" --d-model 512 --seq-len 512 2>&1) || true
  grep -E "^(PASS|FAIL) (flops|active params|causal)" <<<"$out" || echo "$out"
}

check attention mha --set n_heads=8
check attention mla "${mla[@]}" --set v_head_dim=64 --set bias=false
check attention mla "${mla[@]}" --set v_head_dim=96 --set bias=true
check mlp silu --set d_ff=2048
check mlp swiglu --set d_ff=2048
check mlp gelu --set d_ff=2048
check moe topk --set n_experts=8 --set top_k=2 --set "expert={plugin: silu, d_ff: 2048}"
check moe topk --set n_experts=8 --set top_k=2 --set "expert={plugin: silu, d_ff: 2048}" --set dispatch=capacity
check moe deepseek_v3 --set n_experts=8 --set top_k=2 --set n_group=4 --set topk_group=2 --set n_shared=1 \
  --set "expert={plugin: swiglu, d_ff: 1024}"
check moe glm4 --set n_experts=8 --set top_k=2 --set "expert={plugin: swiglu, d_ff: 1024}"
check norm rmsnorm
check norm layernorm
