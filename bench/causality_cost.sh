#!/usr/bin/env bash
# What the causality proof costs on a sweep (default: the quickstart), against the time its runs
# train: the proof before training (one per distinct model, printed by `ablate run`) and the proof
# again on every run's final weights (summary.json's causality.seconds).
#   bench/causality_cost.sh [SWEEP] [OUT]      # prints the seconds and the share of training time
set -euo pipefail
cd "$(dirname "$0")/.."
sweep=${1:-sweeps/quickstart.yaml}
out=${2:-$(mktemp -d)/causality-cost}
ablate=${ABLATE:-build/bin/ablate}
log=$out.log
mkdir -p "$(dirname "$log")"
"$ablate" run "$sweep" --out "$out" | tee "$log"
name=$(python3 -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1])).get("name") or "")' "$sweep" 2>/dev/null || true)
[[ -n $name ]] || name=$(basename "$sweep" .yaml)
python3 - "$out/$name" "$log" <<'PY'
import json, pathlib, re, sys
sweep_dir, log = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
before = sum(float(s) for s in re.findall(r"proven causal .*\(([0-9.]+) s\)", log.read_text()))
after = train = evaluation = 0.0
runs = 0
for summary in sorted(sweep_dir.glob("runs/*/summary.json")):
    s = json.loads(summary.read_text())
    if "causality" not in s:
        continue
    runs += 1
    after += s["causality"].get("seconds", 0.0)
    train += s.get("train_seconds", 0.0)
    evaluation += s.get("eval_seconds", 0.0)
total = train + evaluation
print(f"runs: {runs}; training {train:.1f} s + evaluation {evaluation:.1f} s = {total:.1f} s")
print(f"causality proof before training: {before:.2f} s; on the final weights: {after:.2f} s")
print(f"proof / (training + evaluation): {100 * (before + after) / max(total, 1e-9):.2f} %")
PY
