#!/usr/bin/env bash
# The GPU benchmark: ablate against the PyTorch reference (eager and torch.compile) on the seed
# baseline models, same device, data, steps; writes the table into docs/benchmarks.md.
#   bench/gpu_compare.sh                                  # the GPU run (bench/gpu_seed_models.yaml, cuda)
#   bench/gpu_compare.sh --device cpu --sweep bench/cpu_smoke_tiny.yaml --section cpu-smoke --no-compile \
#       --label "CPU smoke check, tiny models: not a speed result"
# Other options (--out, --peak-flops, --ablate, --python): bench/gpu_compare.py --help.
# Needs build/bin/ablate (built with the CUDA wheel for --device cuda) and .venv/bin/python with that wheel.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
[[ -x "$python" ]] || { echo "gpu_compare: $python not found: set PYTHON to the torch wheel's python" >&2; exit 2; }
exec "$python" "$root/bench/gpu_compare.py" --python "$python" "$@"
