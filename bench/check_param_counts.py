#!/usr/bin/env python3
"""Checks that bench/torch_reference.py builds exactly the model ablate builds: for each run of a
sweep, `ablate expand --json` gives the resolved config and ablate's parameter counts; the reference
is built from that config and its total and active parameter counts must be equal.

    .venv/bin/python bench/check_param_counts.py build/bin/ablate [SWEEP.yaml]

Without SWEEP, a tiny sweep (the MoE baseline and the dense swiglu variant) is used; exits 1 on
a mismatch. Only the architectures the reference implements are accepted (mha + rmsnorm + topk of
silu experts, or swiglu)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_reference import Transformer, active_params  # noqa: E402

TINY = """name: param_check
data: {tokenizer: {kind: byte}}
model:
  vocab_size: 512
  d_model: 64
  n_layers: 2
  attention: {plugin: mha, n_heads: 4}
  ffn: {plugin: topk, n_experts: 4, top_k: 2, expert: {plugin: silu, d_ff: 96}}
  norm: {plugin: rmsnorm}
arms:
  moe: {}
  dense: {model.ffn: {plugin: swiglu, d_ff: 160}}
"""


def reference_args(model):
    """Maps ablate's resolved model config to torch_reference's arguments; rejects what it cannot build."""
    ffn = model["ffn"]
    if model["attention"]["plugin"] != "mha" or model["norm"]["plugin"] != "rmsnorm":
        raise SystemExit("the reference implements mha + rmsnorm only")
    if not model.get("tie_embeddings", True) or model.get("first_dense_layers", 0):
        raise SystemExit("the reference implements tied embeddings and no dense-first layers only")
    attention = model["attention"]
    if attention.get("n_kv_heads", 0) not in (0, attention["n_heads"]) or attention.get("bias") or attention.get("qk_norm"):
        raise SystemExit("the reference implements plain mha (no GQA, bias or qk_norm) only")
    args = argparse.Namespace(vocab_size=model["vocab_size"], d_model=model["d_model"], n_layers=model["n_layers"],
                              n_heads=attention["n_heads"], grouped_mm=False)
    if ffn["plugin"] == "topk" and ffn["expert"]["plugin"] == "silu":
        args.ffn, args.n_experts, args.top_k, args.d_ff = "moe", ffn["n_experts"], ffn["top_k"], ffn["expert"]["d_ff"]
    elif ffn["plugin"] == "swiglu":
        args.ffn, args.d_ff = "swiglu", ffn["d_ff"]
    else:
        raise SystemExit(f"the reference has no ffn {ffn['plugin']}")
    return args


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("ablate")
    p.add_argument("sweep", nargs="?")
    opts = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sweep = opts.sweep
        if sweep is None:
            sweep = os.path.join(tmp, "param_check.yaml")
            with open(sweep, "w") as f:
                f.write(TINY)
        runs = json.loads(subprocess.run([opts.ablate, "expand", "--json", sweep], check=True,
                                         capture_output=True, text=True).stdout)
    failed = 0
    for run in runs:
        args = reference_args(run["config"]["model"])
        with torch.device("meta"):  # counts only: no memory, no initialisation cost
            total, active = active_params(Transformer(args), args)
        ok = total == run["params_total"] and active == run["params_active"]
        failed += not ok
        print(f"{run['arm']}: ablate {run['params_total']} total / {run['params_active']} active, "
              f"reference {total} / {active}: {'ok' if ok else 'MISMATCH'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
