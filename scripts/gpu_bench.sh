#!/usr/bin/env bash
# Runs on a lent GPU machine, in the repository root, with .gpu-bundle/ carried (scripts/gpu_bundle.sh
# made it here): first a tiny sweep on the GPU to show the CUDA path works (its CUDA graph status,
# tokens/s, MFU, memory), then bench/gpu_compare.sh, which rewrites docs/benchmarks.md. What comes
# back in $OUT: gpu.txt, smoke.txt, compare.log, compare.json and the rewritten benchmarks.md.
#   device tool: run "scripts/gpu_bench.sh" with carry [".gpu-bundle"] (about 10 minutes)
#   PYTHON=.venv/bin/python scripts/gpu_bench.sh --device cpu --sweep bench/cpu_smoke_tiny.yaml --no-compile \
#       --doc /tmp/benchmarks.md   # a dry run on this machine (leaves docs/benchmarks.md alone)
# Arguments go to bench/gpu_compare.py (--no-compile, --peak-flops F, --device, --sweep, ...).
# $ABLATE_BUNDLE_DIR: the bundle if not .gpu-bundle/; $ABLATE_BENCH_DIR: work directory (bench-runs/).
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=$(realpath -m "${ABLATE_BUNDLE_DIR:-.gpu-bundle}")
work=${ABLATE_BENCH_DIR:-bench-runs}
out=${OUT:-$work/out}
mkdir -p "$out"
ablate=$bundle/bin/ablate-run
[[ -x $ablate ]] || { echo "gpu_bench: $bundle not here: run scripts/gpu_bundle.sh and carry it" >&2; exit 2; }
device=cuda
for ((i = 1; i <= $#; ++i)); do [[ ${!i} == --device ]] && { j=$((i + 1)); device=${!j}; }; done
export PYTHONUNBUFFERED=1
export PATH="$bundle/bin:$PATH"  # the carried `bible`
python=${PYTHON:-python3}  # the one with the torch wheel (python3 on the GPU machine)
export ABLATE_PYTHON=$python

{ nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv 2>&1 || true
  "$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'; } | tee "$out/gpu.txt"
rm -rf "$work/smoke" "$work/compare"
mkdir -p "$work/compare"
cp -r "$bundle/cache" "$work/compare/cache"

# 1. tiny models on the device: does the step get recorded, checked and replayed?
"$ablate" run bench/cpu_smoke_tiny.yaml --device "$device" --out "$work/smoke" --cache "$work/compare/cache" \
  > "$out/smoke.log" 2>&1 || { tail -n 40 "$out/smoke.log"; exit 1; }
python3 - "$work/smoke" > "$out/smoke.txt" <<'PY'  # (standard library only)
import glob, json, sys
for path in sorted(glob.glob(f"{sys.argv[1]}/*/runs/*/summary.json")):
    s = json.load(open(path))
    mfu = "n/a" if s.get("mfu") is None else f"{100 * s['mfu']:.1f}%"
    print(f"{s['arm']}: {s['status']}, cuda_graph: {s.get('cuda_graph')}, {s['tokens_per_second']:,.0f} tok/s, "
          f"MFU {mfu}, peak {s['peak_memory_bytes'] / 2**30:.2f} GiB, train loss {s['train_loss']:.4f}")
PY
cat "$out/smoke.txt"

# 2. the benchmark: ablate (graph on and off) against the eager and compiled reference
PYTHON=$python bench/gpu_compare.sh --ablate "$ablate" --out "$work/compare" "$@" 2>&1 | tee "$out/compare.log"
cp "$work/compare/compare.json" docs/benchmarks.md "$out/"
