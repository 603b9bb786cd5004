#!/usr/bin/env bash
# A researcher brings their own data and a component of their own, start to finish, timed:
#   1. their SentencePiece model (spm_train) and llm.c shards of their text (write_llmc_shards.py);
#   2. `ablate data inspect` on a shard;
#   3. two arms (swiglu vs silu MLP) x 2 seeds trained on the shards, to a report;
#   4. the weights loaded in Python with docs/checkpoints.md's snippet, and `ablate sample`;
#   5. a new plugin: `ablate new plugin`, built against the installed SDK, checked, and trained as a
#      third arm on the same data.
# Usage: examples/researcher_session/run.sh [WORK_DIR]   (after scripts/build.sh; takes minutes on a CPU)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${1:-$(mktemp -d /tmp/ablate-session.XXXXXX)}
mkdir -p "$work/data"
python=${ABLATE_PYTHON:-$repo/.venv/bin/python}
[[ -x $python ]] || python=python3
export ABLATE_CACHE=$work/cache

timings=()
step() {  # step "what" command...: runs it, prints and records its wall time
  local what=$1 start end
  shift
  echo "== $what"
  start=$(date +%s.%N)
  "$@"
  end=$(date +%s.%N)
  timings+=("$(printf '%-62s %7.1f s' "$what" "$(echo "$end - $start" | bc)")")
}

# The prefix a researcher installs ablate into (or the .deb's /usr).
step "install ablate into a prefix (cmake --install)" bash -c "cmake --install '$repo/build' --prefix '$work/prefix' >/dev/null"
ablate=$work/prefix/bin/ablate

bible -f Gen1:1-Rev22:21 | sed -E 's/^[A-Za-z0-9]+:[0-9]+ //' >"$work/kjv.txt"
step "their SentencePiece model (spm_train, BPE 2000)" \
  spm_train --input="$work/kjv.txt" --model_prefix="$work/data/kjv_sp" --vocab_size=2000 --model_type=bpe \
  --minloglevel=2 --eos_id=1 --bos_id=-1 --pad_id=-1 --unk_id=0
step "their llm.c shards (write_llmc_shards.py)" \
  "$python" "$here/write_llmc_shards.py" "$work/data/kjv_sp.model" "$work/kjv.txt" "$work/data" kjv 1 3000
step "ablate data inspect (a shard)" "$ablate" data inspect "$work/data/kjv_train_000000.bin"

cp "$here/sweep.yaml" "$work/sweep.yaml"
step "ablate run: 2 arms x 2 seeds x 300 steps on the shards" "$ablate" run "$work/sweep.yaml" --out "$work/runs" --threads 2
run_dir=$(dirname "$(grep -l '"arm": "swiglu"' "$work"/runs/researcher_session/runs/*/summary.json | head -n 1)")

cat >"$work/load.py" <<PY
import re, sys, torch
snippet = re.search(r"\`\`\`python\n(.*?)\`\`\`", open("$repo/docs/checkpoints.md").read(), re.S).group(1)
exec(snippet)
model, config = load_ablate_model("$run_dir")
print(f"loaded {sum(p.numel() for p in model.parameters())} parameters of arm swiglu into a plain PyTorch module")
PY
step "load the weights in Python (docs/checkpoints.md snippet)" "$python" -W ignore "$work/load.py"
step "ablate sample (greedy, 40 tokens)" "$ablate" sample "$run_dir" --prompt "And God said" --tokens 40
step "ablate eval on the run's own windows" "$ablate" eval "$run_dir"

step "ablate new plugin --kind mlp --name my_mlp" "$ablate" new plugin --kind mlp --name my_mlp "$work/my_mlp"
step "build it against the installed SDK" bash -c "cmake -S '$work/my_mlp' -B '$work/my_mlp/build' -G Ninja \
  -DCMAKE_PREFIX_PATH='$work/prefix' >/dev/null && cmake --build '$work/my_mlp/build'"
step "ablate check-plugin mlp my_mlp" "$ablate" --plugin-dir "$work/my_mlp/build" check-plugin mlp my_mlp
cat >>"$work/sweep.yaml" <<'YAML'
  my_mlp:
    model.ffn: {plugin: my_mlp, d_ff: 192}
YAML
step "ablate run: the new plugin as a third arm (the others are done)" \
  "$ablate" --plugin-dir "$work/my_mlp/build" run "$work/sweep.yaml" --out "$work/runs" --threads 2

echo
echo "report: $work/runs/researcher_session/report.md"
printf '%s\n' "${timings[@]}"
