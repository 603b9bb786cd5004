#!/usr/bin/env bash
# Saved weights end to end: trains two small arms, then checks that
#   - each run has model.safetensors and best.safetensors, with the metadata docs/checkpoints.md lists;
#   - `ablate eval RUN` reproduces summary.json's val_loss from the saved weights;
#   - `ablate eval --data` evaluates another corpus, and `--weights best` loads best.safetensors;
#   - `ablate sample` is deterministic (greedy, and seeded sampling);
#   - the Python snippet of docs/checkpoints.md loads the weights with `safetensors` into a plain
#     PyTorch module whose next-token argmax equals the tokens `ablate sample` generated greedily;
#   - a damaged weights file is refused with an error naming it (exit 2).
# Usage: weights_test.sh ABLATE PYTHON SOURCE_DIR
set -euo pipefail
ablate=$1 python=$2 source=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$ablate" run "$source/tests/weights/weights_sweep.yaml" --out "$work/out" --threads 1 --cache "$work/cache" >"$work/run.log"
export ABLATE_CACHE=$work/cache
n=0
for run in "$work"/out/weights/runs/*/; do
  run=${run%/}
  n=$((n + 1))
  test -s "$run/model.safetensors" && test -s "$run/best.safetensors"
  "$ablate" eval "$run" --json >"$work/eval.json"
  "$ablate" eval "$run" --weights best --json >"$work/eval_best.json"
  "$ablate" eval "$run" --data "$source/tests/weights/weights_sweep.yaml" --tokens 0 --json >"$work/eval_other.json"
  # 12 prompt bytes + 20 tokens = seq_len 32: within one window, as the plain module sees them
  "$ablate" sample "$run" --prompt "And God said" --tokens 20 --json >"$work/greedy.json"
  "$ablate" sample "$run" --prompt "And God said" --tokens 20 --json >"$work/greedy2.json"
  "$ablate" sample "$run" --prompt "And God said" --tokens 20 --temperature 0.9 --top-k 20 --seed 7 --json >"$work/s1.json"
  "$ablate" sample "$run" --prompt "And God said" --tokens 20 --temperature 0.9 --top-k 20 --seed 7 --json >"$work/s2.json"
  cmp "$work/greedy.json" "$work/greedy2.json"
  cmp "$work/s1.json" "$work/s2.json"
  "$python" -W ignore - "$run" "$work" "$source/docs/checkpoints.md" <<'PY'
import json, re, sys
from pathlib import Path
import torch
from safetensors import safe_open

run, work, doc = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
summary = json.loads((run / "summary.json").read_text())
ev = json.loads((work / "eval.json").read_text())
assert abs(ev["loss"] - summary["val_loss"]) < 1e-6, (ev["loss"], summary["val_loss"])
assert abs(ev["accuracy"] - summary["val_accuracy"]) < 1e-9, (ev, summary["val_accuracy"])
assert ev["weights_step"] == summary["steps"], ev

metrics = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
best = min((m for m in metrics if m["step"] > 0), key=lambda m: m["val_loss"])
ev_best = json.loads((work / "eval_best.json").read_text())
assert ev_best["weights_step"] == best["step"] and abs(ev_best["loss"] - best["val_loss"]) < 1e-6, (ev_best, best)

other = json.loads((work / "eval_other.json").read_text())
assert other["tokens"] > 0 and 0 < other["loss"] < 10 and "weights_sweep.yaml" in other["data"], other

with safe_open(run / "model.safetensors", "pt") as f:
    meta = f.metadata()
assert meta["format"] == "ablate-weights/1" and meta["run_id"] == summary["id"], meta
assert json.loads(meta["config"]) == json.loads((run / "config.json").read_text())

# The snippet exactly as the doc shows it (its first python block).
snippet = re.search(r"```python\n(.*?)```", doc.read_text(), re.S).group(1)
namespace = {}
exec(compile(snippet, str(doc), "exec"), namespace)
model, config = namespace["load_ablate_model"](run)

greedy = json.loads((work / "greedy.json").read_text())
ids = greedy["prompt_ids"] + greedy["generated_ids"]
assert len(greedy["generated_ids"]) > 0
with torch.no_grad():
    logits = model(torch.tensor([ids]))[0]
n = len(greedy["prompt_ids"])
predicted = logits[n - 1 : len(ids) - 1].argmax(-1).tolist()
assert predicted == greedy["generated_ids"], (predicted, greedy["generated_ids"])
# The same probabilities, not only the same argmax: log p of each generated token.
logprobs = torch.log_softmax(logits.double(), -1)[torch.arange(n - 1, len(ids) - 1), greedy["generated_ids"]]
difference = (logprobs - torch.tensor(greedy["generated_logprobs"], dtype=torch.float64)).abs().max().item()
assert difference < 1e-4, difference
assert len(set(greedy["generated_ids"])) > 2, "the model is too undertrained for this check to mean much"
print(f"{run.name} ({summary['arm']}): eval {ev['loss']:.4f} = summary; Python snippet reproduces "
      f"{len(predicted)} greedy tokens (log p within {difference:.1e}): {greedy['text']!r}")
PY
done
test "$n" -eq 2

# A damaged file: an error that names it, exit status 2.
run=$(ls -d "$work"/out/weights/runs/*/ | head -n 1)
head -c 100 "$run/model.safetensors" >"$work/cut" && mv "$work/cut" "$run/model.safetensors"
set +e
"$ablate" eval "$run" >"$work/bad.out" 2>"$work/bad.err"
status=$?
set -e
test "$status" -eq 2
grep -q "model.safetensors" "$work/bad.err"
echo "weights: 2 runs saved, evaluated, sampled and loaded in Python"
