#!/usr/bin/env python3
"""Runs ablate and the PyTorch reference (eager, then torch.compile) on every arm of a benchmark sweep,
on the same device, data and steps, and writes the table into docs/benchmarks.md (between the
`<!-- results:SECTION:begin -->` / `<!-- results:SECTION:end -->` markers) and the raw numbers to OUT/compare.json.

Called by bench/gpu_compare.sh; see docs/benchmarks.md for what each column means.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_param_counts import reference_args  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, text=True, **kw)


def flops_per_token(params_active, model, seq_len):
    """The one MFU rule for every implementation: 6 N_active + 12 L d T.

    docs/benchmarks.md, "What each number means", states it.
    """
    return 6 * params_active + 12 * model["n_layers"] * model["d_model"] * seq_len


def ablate_row(impl, summary, run_info, peak_flops):
    config = run_info["config"]
    seq_len = config["data"]["seq_len"]
    tok_s = summary["tokens_per_second"]
    return {"impl": impl, "tokens_per_s": tok_s, "cuda_graph": summary.get("cuda_graph", "n/a"),
            "step_ms": 1e3 * summary["train_seconds"] / max(1, summary["steps"]),
            "mfu": tok_s * flops_per_token(run_info["params_active"], config["model"], seq_len) / peak_flops,
            "peak_memory_bytes": summary.get("peak_memory_bytes"), "final_loss": summary.get("train_loss")}


def reference_row(run_info, opts, data_file, compiled):
    config = run_info["config"]
    args = reference_args(config["model"])
    train, opt = config["train"], config["train"]["optimizer"]
    cmd = [opts.python, os.path.join(ROOT, "bench", "torch_reference.py"),
           "--vocab-size", str(args.vocab_size), "--d-model", str(args.d_model), "--n-layers", str(args.n_layers),
           "--n-heads", str(args.n_heads), "--ffn", args.ffn, "--d-ff", str(args.d_ff),
           "--seq-len", str(config["data"]["seq_len"]), "--batch-size", str(train["batch_size"] * train["grad_accum"]),
           "--steps", str(train["steps"]), "--lr", str(opt["lr"]), "--weight-decay", str(opt["weight_decay"]),
           "--warmup-fraction", str(train["warmup_fraction"]), "--min-lr-fraction", str(train["min_lr_fraction"]),
           "--grad-clip", str(train["grad_clip"]), "--seed", str(run_info["seed"]), "--device", opts.device,
           "--peak-flops", str(opts.peak_flops), "--data", data_file, "--threads", str(opts.threads)]
    if args.ffn == "moe":
        cmd += ["--n-experts", str(args.n_experts), "--top-k", str(args.top_k)]
    if compiled:
        cmd.append("--compile")
    out = run(cmd, capture_output=True).stdout
    row = json.loads(out.strip().splitlines()[-1])
    if row["params_total"] != run_info["params_total"]:
        raise SystemExit(f"{run_info['arm']}: the reference has {row['params_total']} parameters, "
                         f"ablate {run_info['params_total']}")
    return row


def fmt_bytes(b):
    return "n/a" if b is None else f"{b / 2**30:.2f} GiB"


def table(results):
    lines = ["| config | impl | tokens/s | step ms | MFU | peak memory | final loss | tokens/s vs eager | vs compile |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for arm, rows in results.items():
        by = {r["impl"]: r for r in rows}
        for r in rows:
            ratio = lambda other: (f"{r['tokens_per_s'] / by[other]['tokens_per_s']:.2f}×"  # noqa: E731
                                   if other in by else "—")
            loss = "n/a" if r["final_loss"] is None else f"{r['final_loss']:.3f}"
            lines.append(f"| {arm} | {r['impl']} | {r['tokens_per_s']:,.0f} | {r['step_ms']:.1f} | "
                         f"{100 * r['mfu']:.1f}% | {fmt_bytes(r['peak_memory_bytes'])} | {loss} | "
                         f"{ratio('torch_eager')} | {ratio('torch_compile')} |")
    graphs = [f"- {arm}, {r['impl']}: CUDA graph {r['cuda_graph']}" for arm, rows in results.items() for r in rows
              if "cuda_graph" in r]
    return "\n".join(lines + ([""] + graphs if graphs else []))


def ablate_sweep_dir(out, run_id):
    return next(d for d in glob.glob(os.path.join(out, "*")) if os.path.isdir(os.path.join(d, "runs"))
                and os.path.exists(os.path.join(d, "runs", run_id)))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sweep", default=os.path.join(ROOT, "bench", "gpu_seed_models.yaml"))
    p.add_argument("--device", default="cuda")
    p.add_argument("--out", default=os.path.join(ROOT, "bench-runs"))
    p.add_argument("--ablate", default=os.path.join(ROOT, "build", "bin", "ablate"))
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--peak-flops", type=float, default=989e12, help="device peak (H100 SXM dense bf16)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads of ablate and the reference (0: default)")
    p.add_argument("--no-compile", action="store_true", help="skip the torch.compile reference")
    p.add_argument("--no-graph-ablation", action="store_true",
                   help="on a GPU, skip the second ablate run without the CUDA graph (--cuda-graph off)")
    p.add_argument("--label", default="", help="what these numbers are, written above the table")
    p.add_argument("--doc", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    p.add_argument("--section", default="gpu", help="which results section of --doc to replace (gpu, cpu-smoke)")
    opts = p.parse_args()

    if not os.access(opts.ablate, os.X_OK):
        raise SystemExit(f"gpu_compare: {opts.ablate} not found: build ablate first (or pass --ablate)")
    cache = os.path.join(opts.out, "cache")
    # ablate as a researcher runs it (the step recorded as a CUDA graph on a GPU), and on a GPU once
    # more without the graph, to show what the graph is worth.
    variants = [("ablate", opts.out, "auto")]
    if opts.device.startswith("cuda") and not opts.no_graph_ablation:
        variants.append(("ablate_no_graph", os.path.join(opts.out, "no-graph"), "off"))
    for _, out, graph in variants:
        run([opts.ablate, "run", opts.sweep, "--device", opts.device, "--out", out, "--cache", cache,
             "--threads", str(opts.threads), "--cuda-graph", graph])
    runs = json.loads(run([opts.ablate, "expand", "--json", opts.sweep], capture_output=True).stdout)
    entries = glob.glob(os.path.join(cache, "*", "meta.json"))
    if len(entries) != 1:
        raise SystemExit(f"expected one tokenized-data entry in {cache}, found {len(entries)}")
    data_file = os.path.join(os.path.dirname(entries[0]), "train.bin")

    results = {}
    for info in runs:
        rows = []
        for impl, out, _ in variants:
            with open(os.path.join(ablate_sweep_dir(out, info["id"]), "runs", info["id"], "summary.json")) as f:
                rows.append(ablate_row(impl, json.load(f), info, opts.peak_flops))
        rows.append(reference_row(info, opts, data_file, compiled=False))
        if not opts.no_compile:
            rows.append(reference_row(info, opts, data_file, compiled=True))
        results[info["arm"]] = rows

    device = next(r["device"] for r in next(iter(results.values())) if "device" in r)
    import torch  # the wheel that provides LibTorch
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    version = f"ablate commit {commit.stdout.strip()}" if commit.returncode == 0 else "ablate"
    header = (f"{opts.label}\n\nMeasured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on "
              f"{device} ({platform.machine()}), torch {torch.__version__}, {version}; MFU over "
              f"{opts.peak_flops:.3g} FLOP/s. Reproduce: `bench/gpu_compare.sh --device {opts.device} "
              f"--sweep {os.path.relpath(opts.sweep, ROOT)} --section {opts.section}"
              f"{f' --threads {opts.threads}' if opts.threads else ''}{' --no-compile' if opts.no_compile else ''}`.\n\n")
    with open(os.path.join(opts.out, "compare.json"), "w") as f:
        json.dump({"sweep": opts.sweep, "device": device, "results": results}, f, indent=2)
    begin, end = f"<!-- results:{opts.section}:begin -->", f"<!-- results:{opts.section}:end -->"
    with open(opts.doc) as f:
        doc = f.read()
    if begin not in doc or end not in doc:
        raise SystemExit(f"{opts.doc}: no {begin} ... {end} section to write the results into")
    head, rest = doc.split(begin, 1)
    tail = rest.split(end, 1)[1]
    with open(opts.doc, "w") as f:
        f.write(f"{head}{begin}\n{header}{table(results)}\n{end}{tail}")
    print(table(results))


if __name__ == "__main__":
    main()
